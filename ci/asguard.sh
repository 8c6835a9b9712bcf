#!/usr/bin/env bash
# The async-signal-safety audit from outside the process: ../shared/tools/asguard.c, preloaded,
# wraps every handler installed with sigaction() and reports malloc/calloc/realloc/free,
# pthread_mutex_lock and futex waits made while a handler runs. This script
#   1. runs the stress program (5 s) under it and requires "asguard: violations=0";
#   2. runs the test binaries of the registry, sigmux, the adapters and the suite under it,
#      with ASGUARD_ABORT=1 (a violation in a forked test child aborts it, which fails the
#      test) and requires every process that reports to report 0.
# Skipped by name: the tests that deliberately allocate inside a handler (the negative
# controls of the in-process guards), and the registry's no_restore_over_another_librarys_handler,
# which asserts the exact handler address another library installed — under asguard every
# installed handler is asguard's trampoline, so that check does not apply (it is not an
# async-signal-safety matter); and previous_handler_leaving_with_siglongjmp, whose C handler
# jumps out of asguard's trampoline, so asguard never sees the handler end and counts
# everything after it as inside a handler.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
src=../shared/tools/asguard.c
if [ ! -f "$src" ]; then
    echo "ci/asguard.sh: $src not found" >&2
    exit 1
fi
lib="$CARGO_TARGET_DIR/asguard/libasguard.so"
mkdir -p "$(dirname "$lib")"
gcc -O2 -fPIC -shared -o "$lib" "$src" -ldl -pthread

fail=0
# Checks a captured output: no violation line, and every report says 0 (at least one report).
verdict() {
    local what=$1 out=$2
    local reports bad
    reports=$(grep -c '^asguard: violations=' <<<"$out" || true)
    bad=$(grep -E '^asguard: (violations=[1-9]|.* inside signal handler)' <<<"$out" || true)
    if [ "$reports" -eq 0 ]; then
        echo "ci/asguard.sh: $what: no asguard report (was the library preloaded?)" >&2
        fail=1
    elif [ -n "$bad" ]; then
        echo "ci/asguard.sh: $what: violations:" >&2
        echo "$bad" | sort | uniq -c >&2
        fail=1
    else
        echo "ci/asguard.sh: $what: $reports process(es) reported violations=0"
    fi
}

echo "+ stress program under asguard"
cargo build --release -p sigmux-stress
rc=0
out=$(LD_PRELOAD="$lib" ASGUARD_REPORT=1 timeout --signal=KILL 180 \
    "$CARGO_TARGET_DIR/release/sigmux-stress" --duration "${ASGUARD_STRESS_DURATION:-5s}" 2>&1) || rc=$?
echo "$out" | grep -E '^(signals sent|wake-ups missed|handler allocations|RESULT|asguard)' || true
[ "$rc" -eq 0 ] || { echo "ci/asguard.sh: stress program failed (exit $rc)" >&2; fail=1; }
verdict "stress program" "$out"

echo "+ test binaries under asguard"
crates=(-p sigmux-registry -p sigmux -p sigmux-mio -p sigmux-tokio -p sigmux-async-std -p sigmux-stress)
bins=$(cargo test --all-features "${crates[@]}" --no-run 2>&1 \
    | sed -n 's/^ *Executable .*(\(.*\))$/\1/p')
for bin in $bins; do
    name=$(basename "$bin")
    rc=0
    out=$(LD_PRELOAD="$lib" ASGUARD_REPORT=1 ASGUARD_ABORT=1 timeout --signal=KILL 600 "$bin" \
        --skip guard_catches --skip guard_fires --skip guard_counts --skip the_guard_itself \
        --skip no_restore_over_another_librarys_handler \
        --skip previous_handler_leaving_with_siglongjmp 2>&1) || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "ci/asguard.sh: $name failed under asguard (exit $rc):" >&2
        echo "$out" | tail -30 >&2
        fail=1
    fi
    verdict "$name" "$out"
done
if [ "$fail" -ne 0 ]; then
    echo "ci/asguard.sh: FAILED" >&2
    exit 1
fi
echo "ci/asguard.sh: no allocation, lock or futex wait inside any signal handler"
