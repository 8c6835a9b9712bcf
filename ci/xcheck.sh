#!/usr/bin/env bash
# Type-checks the published crates for systems this machine cannot run, each through its own
# code paths (libc differences, errno locations, the constructor list, futex or no futex, the
# pipe-backed iterator): Android, musl, FreeBSD, NetBSD, OpenBSD, illumos and macOS; and lints
# the Windows code with clippy. Nothing is linked or run.
#
# A target whose standard library rustup can install is checked with the stable toolchain.
# OpenBSD has no prebuilt standard library (a tier 3 target): it is checked with the nightly
# toolchain building `core`/`std` from `rust-src` where both can be had. Where a target's
# standard library cannot be had (no network, no nightly), the step says so and skips that
# target rather than failing.
#
# Old mio releases no longer build everywhere with a current libc (a mio matter, not ours):
# the mio 0.6/0.7 adapters are left out on the BSDs and illumos, and 0.8 on NetBSD and OpenBSD.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_XCHECK:-$PWD/target/xcheck}"
export RUSTFLAGS="-D warnings"
checked=()
skipped=()

# The libraries are checked for every target; their tests and examples (which bring the
# heavy dev-dependencies: tokio with every feature, async-std, smol) only for the targets in
# this list, one Apple and one BSD system, where the Unix test code's portability shows (a
# `pthread_t` that is a pointer, other `sigaction` field types). Checking them everywhere cost
# more than the rest of the step.
with_tests="aarch64-apple-darwin x86_64-unknown-freebsd"

# check "TARGETS" [cargo options...]: for every target of the list at once (one cargo run,
# so the work of all of them is scheduled together), the registry, sigmux and the async
# adapters (with tests and examples where `with_tests` says so); then sigmux-mio with the mio
# versions that build there (the same for every target of a list).
check() {
    local targets=() tested=() target
    for target in $1; do
        targets+=(--target "$target")
        if [[ " $with_tests " == *" $target "* ]]; then
            tested+=(--target "$target")
        fi
    done
    shift
    echo "--- ${targets[*]}"
    cargo "$@" check -q "${targets[@]}" -p sigmux-registry -p sigmux -p sigmux-tokio \
        -p sigmux-async-std --all-features --lib
    if [ "${#tested[@]}" -gt 0 ]; then
        echo "--- tests and examples: ${tested[*]}"
        cargo "$@" check -q "${tested[@]}" -p sigmux-registry -p sigmux -p sigmux-tokio \
            -p sigmux-async-std --all-features --lib --tests --examples
    fi
    local mio_features
    case "${targets[1]}" in
        *freebsd* | *illumos*) mio_features="support-v0_8,support-v1_0" ;;
        *netbsd* | *openbsd*) mio_features="support-v1_0" ;;
        *) mio_features="support-v0_6,support-v0_7,support-v0_8,support-v1_0" ;;
    esac
    cargo "$@" check -q "${targets[@]}" -p sigmux-mio --features "$mio_features" --lib
}

# In groups (one cargo run each) whose members build the same mio versions; a target whose
# standard library cannot be installed leaves its group.
groups=("aarch64-linux-android x86_64-unknown-linux-musl aarch64-apple-darwin"
    "x86_64-unknown-freebsd x86_64-unknown-illumos" "x86_64-unknown-netbsd")
for group in "${groups[@]}"; do
    ready=()
    for target in $group; do
        if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
            if ! timeout 180 rustup target add "$target" >/dev/null 2>&1; then
                echo "ci/xcheck.sh: cannot install the $target standard library here; skipped"
                skipped+=("$target")
                continue
            fi
        fi
        ready+=("$target")
    done
    if [ "${#ready[@]}" -gt 0 ]; then
        check "${ready[*]}"
        checked+=("${ready[@]}")
    fi
done

# OpenBSD: tier 3, std built from source with nightly.
target=x86_64-unknown-openbsd
if sysroot=$(rustup run nightly rustc --print sysroot 2>/dev/null); then
    if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
        timeout 180 rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || true
    fi
    if [ -d "$sysroot/lib/rustlib/src/rust/library" ]; then
        CARGO_TARGET_DIR="$CARGO_TARGET_DIR/build-std" check "$target" +nightly -Zbuild-std
        checked+=("$target")
    else
        echo "ci/xcheck.sh: $target needs nightly's rust-src, which cannot be had here; skipped"
        skipped+=("$target")
    fi
else
    echo "ci/xcheck.sh: $target needs a nightly toolchain, which is not installed; skipped"
    skipped+=("$target")
fi

# Windows: wine runs its tests (ci/windows.sh), but nothing else lints the Windows-only code
# (the C runtime's signal(), console events, the adapters' helper-thread stream): clippy does
# here, as ci/clippy.sh does for this machine's code.
target=x86_64-pc-windows-gnu
if rustup target list --installed 2>/dev/null | grep -qx "$target" ||
    timeout 180 rustup target add "$target" >/dev/null 2>&1; then
    echo "--- clippy --target $target"
    cargo clippy -q --target "$target" -p sigmux-registry -p sigmux -p sigmux-tokio \
        -p sigmux-async-std -p sigmux-stress --all-features --all-targets -- -D warnings
    checked+=("$target (clippy)")
else
    echo "ci/xcheck.sh: cannot install the $target standard library here; skipped"
    skipped+=("$target")
fi

echo "ci/xcheck.sh: checked ${checked[*]:-nothing}"
if [ "${#skipped[@]}" -gt 0 ]; then
    echo "ci/xcheck.sh: SKIPPED (standard library unavailable): ${skipped[*]}"
fi
