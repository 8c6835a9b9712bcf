#!/usr/bin/env bash
# Feature combinations of the published crates: each crate with no features, with its defaults,
# with each feature alone, and with all of them, type-checked (library and tests) with warnings
# as errors. A feature that only builds together with another one fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_FEATURES:-${CARGO_TARGET_DIR:-$PWD/target}/features}"
export RUSTFLAGS="-D warnings"
# check CRATE FEATURE-ARGS...
check() {
    local crate=$1
    shift
    echo "+ cargo check -p $crate $*"
    cargo check -q -p "$crate" --lib "$@"
}
# The features of a crate, from `cargo metadata` (one per line, `default` and the implicit
# features of optional dependencies left out).
features_of() {
    cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
crate = sys.argv[1]
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == crate:
        deps = {d.get("rename") or d["name"] for d in p["dependencies"] if d.get("optional")}
        for f in sorted(p["features"]):
            if f != "default" and f not in deps:
                print(f)
' "$1"
}
for crate in sigmux-registry sigmux sigmux-mio sigmux-tokio sigmux-async-std; do
    check "$crate" --no-default-features
    check "$crate"
    for feature in $(features_of "$crate"); do
        check "$crate" --no-default-features --features "$feature"
    done
    check "$crate" --all-features
done
echo "ci/features.sh: every feature of every published crate builds alone and together"
