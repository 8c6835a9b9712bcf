#!/usr/bin/env bash
# Builds and tests sigmux-registry and sigmux with the oldest Rust they claim to support (the
# `rust-version` of sigmux-registry, 1.70), for real rather than through clippy's `msrv` lint.
# The toolchain is installed with rustup if missing; where that is impossible (no network),
# the step says so and skips. It works on a copy of the two crates (and the test kit) in a
# workspace of their own, without the lockfile: Cargo 1.70 cannot read today's lockfile
# format, and resolves the one dependency, libc, itself.
set -euo pipefail
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' crates/sigmux-registry/Cargo.toml)
if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
    if ! timeout 300 rustup toolchain install "$msrv" --profile minimal; then
        echo "ci/msrv.sh: SKIPPED: cannot install Rust $msrv here"
        exit 0
    fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/crates"
cp -R crates/sigmux-registry crates/sigmux crates/sigmux-testkit "$work/crates/"
cp LICENSE-* "$work/"
sed '/^members = \[/,/^\]/c\members = ["crates/sigmux-registry", "crates/sigmux", "crates/sigmux-testkit"]' \
    Cargo.toml > "$work/Cargo.toml"
cd "$work"
# The async tests of `sigmux::child` need tokio and async-std, which need a newer Rust: drop
# them and their dev-dependencies (marked `# not-msrv`) from the copy.
sed -i '/# not-msrv$/d' crates/sigmux/Cargo.toml
rm -f crates/sigmux/tests/children_async.rs
export CARGO_TARGET_DIR="$work/target"
# Rust 1.70 does not know `line-tables-only` (.ci/run sets it for every other step).
unset CARGO_PROFILE_DEV_DEBUG
# `lints` tables are newer than 1.70, which warns that it ignores them; nothing else.
cargo "+$msrv" test -p sigmux-registry -p sigmux --all-features
echo "ci/msrv.sh: sigmux-registry and sigmux build and pass their tests with Rust $msrv"
