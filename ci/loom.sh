#!/usr/bin/env bash
# Model-checks with loom: the registry's lock-free core (publish / read / reclaim), and the
# blocking iterator's parker (a waker against a parking reader: no lost wake-up, news
# visible). Each has its own cfg, as each swaps its own atomics for loom's.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
base="${CARGO_TARGET_DIR:-target}"
RUSTFLAGS="--cfg sigmux_loom" CARGO_TARGET_DIR="$base/loom" \
    cargo test -p sigmux-registry --test loom --release
RUSTFLAGS="--cfg sigmux_park_loom" CARGO_TARGET_DIR="$base/loom-park" \
    cargo test -p sigmux --lib --release iterator::wake::park::model
