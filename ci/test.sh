#!/usr/bin/env bash
# The test command from README.md: the whole suite, doc tests included, in one pass (the
# tests of a binary share its process, on several threads). The suite runs a second time,
# one process per test under nextest, in ci/asguard.sh (with the async-signal-safety checker
# preloaded), so every test is proved under both runners without a third pass.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features
# The portable forms that Linux would otherwise never run, both in one build: the
# pipe-backed blocking iterator (the only one on macOS and the BSDs) and `Shutdown`'s deadline
# thread (Unix systems without POSIX timers), under the whole sigmux suite. In CI that is the
# AddressSanitizer run of ci/sanitizers.sh (the same suite, one build less); here only where
# that step cannot run (no nightly toolchain), or when asked with SIGMUX_PORTABLE_PASS=1.
if [ "${SIGMUX_PORTABLE_PASS:-}" = 1 ] || ! rustup run nightly rustc --version >/dev/null 2>&1; then
    RUSTFLAGS="--cfg sigmux_force_pipe --cfg sigmux_shutdown_deadline_thread" \
        CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/portable" \
        cargo test -p sigmux --all-features
else
    echo "ci/test.sh: the portable forms run under AddressSanitizer (ci/sanitizers.sh)"
fi
