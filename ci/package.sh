#!/usr/bin/env bash
# The published crates package and build from their packaged sources (together, so the path
# dependencies between them resolve to the packaged versions).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo package --allow-dirty \
    -p sigmux-registry -p sigmux -p sigmux-mio -p sigmux-tokio -p sigmux-async-std
