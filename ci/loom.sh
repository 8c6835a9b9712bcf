#!/usr/bin/env bash
# Model-checks with loom: the registry's lock-free core (publish / read / reclaim), and the
# blocking iterator's parker (a waker against a parking reader: no lost wake-up, news
# visible), and the lossless exfiltrator's ring (pushers against a reader: every record once,
# in order, the carried word taken once). Each has its own cfg, as each swaps its own atomics
# for loom's; the parker's and the ring's are both in sigmux and share one build. The ring's
# model was checked against deliberate bugs (publishing before writing, a load without
# acquire): both are reported as causality violations.
#
# The `loom` profile (Cargo.toml) optimises loom and the checked crates only: every test build
# of a crate also compiles its test-only dependencies, which need no optimising here.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
base="${CARGO_TARGET_DIR:-target}"
RUSTFLAGS="--cfg sigmux_loom" CARGO_TARGET_DIR="$base/loom" \
    cargo test --profile loom -p sigmux-registry --test loom
RUSTFLAGS="--cfg sigmux_park_loom --cfg sigmux_ring_loom" CARGO_TARGET_DIR="$base/loom-sigmux" \
    cargo test --profile loom -p sigmux --features extended-siginfo --lib -- \
    iterator::wake::park::model iterator::exfiltrator::ring::model
