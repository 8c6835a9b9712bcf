#!/usr/bin/env bash
# Builds the side-by-side benchmark and runs its smoke mode. CI never judges the timings:
# this only proves that every measurement still runs (each child process succeeds).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
cargo build --release -p sigmux-bench
timeout 300 cargo run --release -q -p sigmux-bench -- --quick | tee "$out"
if grep -q "failed" "$out"; then
    echo "ci/bench.sh: a measurement failed (see the tables above)" >&2
    exit 1
fi
tail -n 1 "$out" | grep -q '^{"meta":' || { echo "ci/bench.sh: no JSON line" >&2; exit 1; }
