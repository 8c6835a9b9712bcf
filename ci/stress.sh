#!/usr/bin/env bash
# The stress program: its self-check, then a short run (10 s of signals: the flood and the
# attack shapes side by side), under an external watchdog (`timeout`): a hang fails the step
# instead of stalling CI.
#   STRESS_DURATION=4m ci/stress.sh     a longer run
#   STRESS_XFAIL= ci/stress.sh          no shape expected to fail
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
duration="${STRESS_DURATION:-10s}"
# Attack shapes expected to fail (none: the bugs they found, issue #11, are fixed). A listed
# shape still runs and reports; its violations do not fail the step, but a listed shape that
# passes does (XPASS).
xfail="${STRESS_XFAIL-}"
cargo build --release -p sigmux-stress
bin="$CARGO_TARGET_DIR/release/sigmux-stress"
echo "+ sigmux-stress --self-check"
timeout 120 "$bin" --self-check
echo "+ sigmux-stress --duration $duration${xfail:+ --xfail $xfail}"
timeout --signal=KILL "${STRESS_TIMEOUT:-300}" "$bin" --duration "$duration" ${xfail:+--xfail "$xfail"}
