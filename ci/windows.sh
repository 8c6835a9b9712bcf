#!/usr/bin/env bash
# Builds the tests of the crates that support Windows (sigmux-registry, sigmux, and the
# portable bad-input test of sigmux-stress) for
# x86_64-pc-windows-gnu and runs them under wine, with the shared tool (it installs Debian's
# rustc-web, mingw-w64 and wine on first use). The adapters, like their signal-hook
# counterparts, are Unix-only.
set -euo pipefail
cd "$(dirname "$0")/.."
tool="${SIGMUX_WINE_TOOL:-../shared/tools/windows-tests-under-wine.sh}"
# A git worktree under /work/wt/ has no ../shared: fall back on the machine's copy.
if [ ! -f "$tool" ] && [ -f /work/shared/tools/windows-tests-under-wine.sh ]; then
    tool=/work/shared/tools/windows-tests-under-wine.sh
fi
if [ ! -f "$tool" ]; then
    echo "ci/windows.sh: $tool not found; cannot run the Windows tests" >&2
    exit 1
fi
export CARGO_TARGET_DIR_WINE="${CARGO_TARGET_DIR_WINE:-$PWD/target/wine}"
for crate in crates/sigmux-registry crates/sigmux crates/sigmux-stress; do
    echo "--- $crate"
    if [ "$crate" = crates/sigmux ]; then
        # A real console, for the Ctrl-C test of tests/shutdown_windows.rs.
        WINE_PTY=1 bash "$tool" "$crate"
    else
        bash "$tool" "$crate"
    fi
done
