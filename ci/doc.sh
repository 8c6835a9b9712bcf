#!/usr/bin/env bash
# Docs build without warnings (broken links, missing docs).
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
