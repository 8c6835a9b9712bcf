#!/usr/bin/env bash
# The test command from README.md, then the same suite under nextest (one process per test).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features
if command -v cargo-nextest >/dev/null 2>&1; then
    cargo nextest run --workspace --all-features
else
    echo "ci/test.sh: cargo-nextest not installed; skipped the nextest pass"
fi
# `Shutdown`'s deadline thread, which Unix systems without POSIX timers use, exercised here.
RUSTFLAGS="--cfg sigmux_shutdown_deadline_thread" \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/shutdown-deadline-thread" \
    cargo test -p sigmux --test shutdown_example --test shutdown_process
