#!/usr/bin/env bash
# Builds the tests of the crates that support Windows (sigmux-registry, sigmux with its
# iterator and Shutdown, sigmux-tokio, sigmux-async-std, and the portable bad-input test of
# sigmux-stress) for x86_64-pc-windows-gnu and runs them under wine, with the shared tool (it
# installs Debian's rustc-web, mingw-w64 and wine on first use). sigmux-mio, like its
# signal-hook counterpart, is Unix-only.
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
# A wine prefix of this checkout's own, not the machine-wide default: the tool ends every run
# with `wineserver -k`, which kills every wine process of the prefix. With one prefix shared
# by concurrent runs (other checkouts, other jobs on the machine), one run's end killed the
# other's tests mid-flight: a test binary exiting with status 1 and no output, or a test's
# CreateProcess failing with "internal error" 1359 (reproduced: `wineserver -k` during a
# loop of CreateProcess calls). Made on first use (wineboot, about 20 s), reused afterwards.
export WINEPREFIX="${WINEPREFIX:-$CARGO_TARGET_DIR_WINE/prefix}"
# wineboot cannot make a prefix whose parent folder is missing (as in a fresh clone).
mkdir -p "$(dirname "$WINEPREFIX")"
# A fresh prefix is made and left to settle before the tests start processes in it: on a
# prefix still finishing its first boot, a test's CreateProcess once failed with "internal
# error" 1359.
if [ ! -d "$WINEPREFIX" ] && [ -x /usr/lib/wine/wine64 ]; then
    WINEDEBUG=-all /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1 || true
    /usr/lib/wine/wineserver -w || true
fi
# Two runs, each one cargo invocation (so each dependency is built once per feature set):
# 1. the registry, sigmux (iterator, Shutdown, the `signals` example) and the stress crate's
#    portable test, with their doc tests; sigmux needs a real console (WINE_PTY=1) for its
#    GenerateConsoleCtrlEvent tests;
# 2. the adapters' test targets (--tests): their doc examples are written for Unix signals.
echo "--- sigmux-registry, sigmux, sigmux-stress"
WINE_PTY=1 bash "$tool" . -p sigmux-registry -p sigmux -p sigmux-stress
echo "--- sigmux-tokio, sigmux-async-std"
bash "$tool" . -p sigmux-tokio -p sigmux-async-std --all-features --tests
