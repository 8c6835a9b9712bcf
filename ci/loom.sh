#!/usr/bin/env bash
# Model-checks the registry's lock-free core (publish / read / reclaim) with loom.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg sigmux_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom" \
    cargo test -p sigmux-registry --test loom --release
