#!/usr/bin/env bash
# The stress program: a short run (10 s of signals) and its self-check, under an external
# watchdog (`timeout`): a hang fails the step instead of stalling CI.
#   STRESS_DURATION=4m ci/stress.sh     a longer run
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
duration="${STRESS_DURATION:-10s}"
cargo build --release -p sigmux-stress
bin="$CARGO_TARGET_DIR/release/sigmux-stress"
echo "+ sigmux-stress --self-check"
timeout 120 "$bin" --self-check
echo "+ sigmux-stress --duration $duration"
timeout --signal=KILL "${STRESS_TIMEOUT:-300}" "$bin" --duration "$duration"
