#!/usr/bin/env bash
# Model-checks with loom: the registry's lock-free core (publish / read / reclaim), and the
# blocking iterator's parker (a waker against a parking reader: no lost wake-up, news
# visible), and the lossless exfiltrator's ring (pushers against a reader: every record once,
# in order, the carried word taken once). Each has its own cfg, as each swaps its own atomics
# for loom's. The ring's model was checked against deliberate bugs (publishing before writing,
# a load without acquire): both are reported as causality violations.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
base="${CARGO_TARGET_DIR:-target}"
RUSTFLAGS="--cfg sigmux_loom" CARGO_TARGET_DIR="$base/loom" \
    cargo test -p sigmux-registry --test loom --release
RUSTFLAGS="--cfg sigmux_park_loom" CARGO_TARGET_DIR="$base/loom-park" \
    cargo test -p sigmux --lib --release iterator::wake::park::model
RUSTFLAGS="--cfg sigmux_ring_loom" CARGO_TARGET_DIR="$base/loom-ring" \
    cargo test -p sigmux --features extended-siginfo --lib --release iterator::exfiltrator::ring::model
