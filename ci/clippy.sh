#!/usr/bin/env bash
# Lints, all targets and features, warnings are errors. MSRV is enforced by clippy's `msrv`
# (each crate's `rust-version`, and `clippy.toml` for the registry).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy --workspace --all-targets --all-features -- -D warnings
