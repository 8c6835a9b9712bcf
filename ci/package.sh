#!/usr/bin/env bash
# The published crates package and build from their packaged sources (together, so the path
# dependencies between them resolve to the packaged versions).
set -euo pipefail
cd "$(dirname "$0")/.."

# Cargo verifies a crate against its siblings' packages through a temporary local registry
# (target/package/tmp-registry), whose crates it unpacks under $CARGO_HOME/registry/src/-HASH/,
# HASH depending only on that registry's path. An unpacked copy is reused if it is there: a
# second run in the same checkout path after the code changed (same name and version) built
# against the old sources and failed (CI's machine does exactly that). So the copies of our own
# crates from earlier runs go first. Only `-HASH` directories (local registries) are touched;
# crates.io's own are named after it.
registry="${CARGO_HOME:-$HOME/.cargo}/registry"
for crate in sigmux-registry sigmux sigmux-mio sigmux-tokio sigmux-async-std; do
    rm -rf "$registry"/src/-*/"$crate"-[0-9]* "$registry"/cache/-*/"$crate"-[0-9]*.crate
done

# The dependencies are fetched first (a no-op after the other steps), so the packaging itself
# needs no network.
cargo fetch --locked
cargo package --offline --allow-dirty \
    -p sigmux-registry -p sigmux -p sigmux-mio -p sigmux-tokio -p sigmux-async-std
