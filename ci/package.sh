#!/usr/bin/env bash
# The published crates package and build from their packaged sources (together, so the path
# dependencies between them resolve to the packaged versions).
#
# Packaging and verifying asks the registry's index once per crate, five times over the network;
# a CI run failed in this step, in seconds, where it passes on the same commit here (its output
# was not kept). The step checks the crates, not the network: the dependencies are fetched
# first (a no-op after the other steps) and the packaging runs offline.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fetch --locked
cargo package --offline --allow-dirty \
    -p sigmux-registry -p sigmux -p sigmux-mio -p sigmux-tokio -p sigmux-async-std
