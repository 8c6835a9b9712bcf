#!/usr/bin/env bash
# The test command from README.md: the whole suite, doc tests included, in one pass (the
# tests of a binary share its process, on several threads). The suite runs a second time,
# one process per test under nextest, in ci/asguard.sh (with the async-signal-safety checker
# preloaded), so every test is proved under both runners without a third pass.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features
# `Shutdown`'s deadline thread, which Unix systems without POSIX timers use, exercised here.
RUSTFLAGS="--cfg sigmux_shutdown_deadline_thread" \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/shutdown-deadline-thread" \
    cargo test -p sigmux --test shutdown_example --test shutdown_process
# The portable blocking iterator (self-pipe; the only one on macOS and the BSDs) runs the
# whole iterator suite on Linux too.
RUSTFLAGS="--cfg sigmux_force_pipe" \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/force-pipe" \
    cargo test -p sigmux --all-features
