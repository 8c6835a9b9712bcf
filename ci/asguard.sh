#!/usr/bin/env bash
# The async-signal-safety audit from outside the process: ../shared/tools/asguard.c, preloaded,
# wraps every handler installed with sigaction() and reports malloc/calloc/realloc/free,
# pthread_mutex_lock and futex waits made while a handler runs. This script
#   1. runs the stress program's flood (5 s) under it and requires "asguard: violations=0"
#      (the attack shapes run in children that leave by _exit, which asguard does not report
#      from; ci/stress.sh runs them);
#   2. runs the test suite of the registry, sigmux, the adapters and the stress crate under it
#      — under nextest, one process per test, which is also the suite's nextest pass (the
#      in-process pass is ci/test.sh) — with ASGUARD_ABORT=1 (a violation in a forked test
#      child aborts it, which fails the test), and requires every process that reports to
#      report 0.
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
    "$CARGO_TARGET_DIR/release/sigmux-stress" --only flood \
    --duration "${ASGUARD_STRESS_DURATION:-5s}" 2>&1) || rc=$?
echo "$out" | grep -E '^(signals sent|wake-ups missed|handler allocations|RESULT|asguard)' || true
[ "$rc" -eq 0 ] || { echo "ci/asguard.sh: stress program failed (exit $rc)" >&2; fail=1; }
verdict "stress program" "$out"

# The tests that cannot run under asguard, by name: the negative controls of the in-process
# guards allocate inside a handler on purpose; a_panicking_action_aborts formats its panic
# message inside the handler (on purpose: it proves the process aborts); and
# no_restore_over_another_librarys_handler asserts the exact handler address another library
# installed (under asguard every handler is asguard's trampoline); and
# previous_handler_leaving_with_siglongjmp, whose C handler jumps out of asguard's trampoline,
# so asguard never sees the handler end and counts everything after it as inside a handler;
# and installs_and_restores_racing_another_librarys_sigaction, which races two threads'
# sigaction calls and judges each by what sigaction reported it replaced: asguard answers from
# a table of its own that two concurrent calls can leave out of step with the kernel (as
# ThreadSanitizer's does; the test says so too).
skips=(guard_catches guard_fires guard_counts the_guard_itself a_panicking_action_aborts
    no_restore_over_another_librarys_handler previous_handler_leaving_with_siglongjmp
    installs_and_restores_racing_another_librarys_sigaction)
crates=(-p sigmux-registry -p sigmux -p sigmux-mio -p sigmux-tokio -p sigmux-async-std
    -p sigmux-stress)
if command -v cargo-nextest >/dev/null 2>&1; then
    # The whole suite of these crates under nextest, one process per test, each started by
    # the target runner with asguard preloaded; every test's output is kept so each process's
    # report can be read.
    echo "+ test suite under nextest, asguard preloaded"
    filter="all()"
    for skip in "${skips[@]}"; do
        filter="$filter - test(/$skip/)"
    done
    host=$(rustc -vV | sed -n 's/^host: //p')
    runner_var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUNNER"
    rc=0
    out=$(env "$runner_var=env LD_PRELOAD=$lib ASGUARD_REPORT=1 ASGUARD_ABORT=1" \
        timeout --signal=KILL 900 cargo nextest run --all-features "${crates[@]}" \
        --no-fail-fast --success-output final --failure-output final --no-output-indent --status-level fail \
        -E "$filter" 2>&1) || rc=$?
    echo "$out" | grep -E '^ *(Summary|PASS|FAIL|SIGSEGV|SIGABRT|TIMEOUT)' | tail -n 20 || true
    if [ "$rc" -ne 0 ]; then
        echo "ci/asguard.sh: tests failed under asguard (exit $rc):" >&2
        echo "$out" | grep -vE "^asguard: violations=0" | tail -60 >&2
        fail=1
    fi
    verdict "test suite" "$out"
    # The tests left out above still run under nextest, without the preload, so the whole
    # suite is proved under both runners.
    only="none()"
    for skip in "${skips[@]}"; do
        only="$only | test(/$skip/)"
    done
    echo "+ the tests asguard cannot watch, under nextest without it"
    timeout --signal=KILL 600 cargo nextest run --all-features "${crates[@]}" --no-fail-fast \
        --status-level fail -E "$only" || fail=1
else
    # Without nextest: each test binary in one process.
    echo "+ test binaries under asguard (cargo-nextest not installed)"
    args=()
    for skip in "${skips[@]}"; do
        args+=(--skip "$skip")
    done
    bins=$(cargo test --all-features "${crates[@]}" --no-run 2>&1 \
        | sed -n 's/^ *Executable .*(\(.*\))$/\1/p')
    for bin in $bins; do
        name=$(basename "$bin")
        rc=0
        out=$(LD_PRELOAD="$lib" ASGUARD_REPORT=1 ASGUARD_ABORT=1 timeout --signal=KILL 600 \
            "$bin" "${args[@]}" 2>&1) || rc=$?
        if [ "$rc" -ne 0 ]; then
            echo "ci/asguard.sh: $name failed under asguard (exit $rc):" >&2
            echo "$out" | tail -30 >&2
            fail=1
        fi
        verdict "$name" "$out"
    done
fi
if [ "$fail" -ne 0 ]; then
    echo "ci/asguard.sh: FAILED" >&2
    exit 1
fi
echo "ci/asguard.sh: no allocation, lock or futex wait inside any signal handler"
