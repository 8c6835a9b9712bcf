#!/usr/bin/env bash
# Type-checks the published crates for systems this machine cannot run: FreeBSD and macOS
# (their own code paths: kqueue-era libc calls, `__error`, no futex, the self-pipe iterator).
# Nothing is linked or run. A target that is not installed is added with rustup; where that
# is impossible (no network), the step says so and skips the target rather than failing.
# The mio 0.6/0.7 adapters are left out on FreeBSD: those old mio releases no longer build
# there with a current libc (a mio matter, not ours).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_XCHECK:-$PWD/target/xcheck}"
export RUSTFLAGS="-D warnings"
for target in x86_64-unknown-freebsd aarch64-apple-darwin; do
    echo "--- $target"
    if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        if ! timeout 180 rustup target add "$target"; then
            echo "ci/xcheck.sh: cannot install the $target standard library here; skipped"
            continue
        fi
    fi
    cargo check --target "$target" -p sigmux-registry -p sigmux --all-features \
        --lib --tests --examples
    cargo check --target "$target" -p sigmux-tokio -p sigmux-async-std --all-features \
        --lib --tests
    case "$target" in
        *freebsd*) mio_features="support-v0_8,support-v1_0" ;;
        *) mio_features="support-v0_6,support-v0_7,support-v0_8,support-v1_0" ;;
    esac
    cargo check --target "$target" -p sigmux-mio --features "$mio_features" --lib
done
