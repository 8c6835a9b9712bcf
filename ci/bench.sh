#!/usr/bin/env bash
# Builds the side-by-side benchmark and runs its smoke mode. CI never judges the timings:
# this only proves that every measurement still runs (each child process succeeds) and the
# report comes out. So it is the unoptimised build, whose dependencies the test step has
# built already (a release build of them cost this step some 40 CPU seconds); the figures in
# the README come from `cargo run --release -p sigmux-bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
cargo build -p sigmux-bench
timeout 300 cargo run -q -p sigmux-bench -- --quick | tee "$out"
if grep -q "failed" "$out"; then
    echo "ci/bench.sh: a measurement failed (see the tables above)" >&2
    exit 1
fi
tail -n 1 "$out" | grep -q '^{"meta":' || { echo "ci/bench.sh: no JSON line" >&2; exit 1; }
