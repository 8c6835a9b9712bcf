#!/usr/bin/env bash
# Installs, where rustup can, what the later steps need beside the stable toolchain: the
# standard libraries of the type-checked targets (ci/xcheck.sh), nightly's rust-src (the
# sanitizers and the OpenBSD check) and the minimum Rust version (ci/msrv.sh). Run once, before
# `.ci/run` starts steps side by side: rustup does not lock a toolchain against two
# concurrent changes. Best effort: each step that then lacks something says so and skips it.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v rustup >/dev/null 2>&1; then
    echo "ci/toolchains.sh: no rustup; the steps use what is installed"
    exit 0
fi
installed=$(rustup target list --installed 2>/dev/null)
for target in aarch64-linux-android x86_64-unknown-linux-musl aarch64-apple-darwin \
    x86_64-unknown-freebsd x86_64-unknown-illumos x86_64-unknown-netbsd \
    x86_64-pc-windows-gnu; do
    if ! grep -qx "$target" <<<"$installed"; then
        timeout 180 rustup target add "$target" >/dev/null 2>&1 ||
            echo "ci/toolchains.sh: cannot install the $target standard library"
    fi
done
if sysroot=$(rustup run nightly rustc --print sysroot 2>/dev/null); then
    if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
        timeout 180 rustup component add rust-src --toolchain nightly >/dev/null 2>&1 ||
            echo "ci/toolchains.sh: cannot install nightly's rust-src"
    fi
else
    echo "ci/toolchains.sh: no nightly toolchain"
fi
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' crates/sigmux-registry/Cargo.toml)
if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
    timeout 300 rustup toolchain install "$msrv" --profile minimal >/dev/null 2>&1 ||
        echo "ci/toolchains.sh: cannot install Rust $msrv"
fi
echo "ci/toolchains.sh: done"
