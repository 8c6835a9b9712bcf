#!/usr/bin/env bash
# ThreadSanitizer and AddressSanitizer over the tests of sigmux-registry and sigmux, and over a
# short run of the stress program (threads, child processes and a signal flood). The
# AddressSanitizer run uses the portable forms (`--cfg sigmux_force_pipe --cfg
# sigmux_shutdown_deadline_thread`, see below).
#
# Both need a nightly toolchain. ThreadSanitizer also needs its `rust-src` component, because
# std must be rebuilt instrumented (-Zbuild-std): with the prebuilt std, every std Mutex,
# channel and the test harness itself hide their synchronisation from TSan, which then reports
# false races by the dozen (seen here). AddressSanitizer does not: it intercepts malloc/free
# and instruments our crates, which is what matters here, so it always uses the prebuilt std
# (one build-std less keeps this step within a few minutes on 2 cores). So:
#   * nightly with rust-src  -> TSan (std rebuilt and instrumented) and ASan;
#   * nightly without it     -> rust-src is fetched with rustup if possible; else TSan
#                               SKIPPED (said plainly), ASan;
#   * no nightly             -> both SKIPPED, exit 0.
#
# Sanitizer options, and why:
#   ASan detect_leaks=0           forked test children leave by _exit; tests keep some memory
#                                 for the life of the process on purpose (sigaltstacks,
#                                 registrations, the stress program's shared board).
#   ASan detect_stack_use_after_return=0
#                                 otherwise locals whose address is taken live on a heap "fake
#                                 stack", and the registry's test that an SA_ONSTACK handler
#                                 runs on the alternate stack sees a heap address.
#   ASan handle_segv/bus/fpe/ill=0
#                                 tests raise these on purpose and expect the process to die
#                                 by them; ASan's handlers would report a crash instead.
#   TSan die_after_fork=0         tests fork from the multi-threaded harness and the children
#                                 start threads (allowed here: they only run the scenario).
#   TSan halt_on_error=1, exitcode=66: the first report fails the test (also in a child).
# No suppressions: none has been needed. Add one only with a written reason beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${CARGO_TARGET_DIR:-$PWD/target}/sanitizers"
crates=(-p sigmux-registry -p sigmux)

if ! command -v rustup >/dev/null 2>&1 || ! sysroot=$(rustup run nightly rustc --print sysroot 2>/dev/null); then
    echo "ci/sanitizers.sh: SKIPPED: no nightly toolchain (rustup toolchain install nightly --component rust-src)"
    exit 0
fi
host=$(rustup run nightly rustc -vV | sed -n 's/^host: //p')
have_src=0
if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    # Worth a try: where rustup can reach its server, ThreadSanitizer runs too.
    timeout 180 rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || true
fi
[ -d "$sysroot/lib/rustlib/src/rust/library" ] && have_src=1
# Newer nightlies refuse to link sanitized crates against an unsanitized std unless told so.
abi_flag=""
if rustup run nightly rustc -C help 2>/dev/null | grep -q unsafe-allow-abi-mismatch; then
    abi_flag="-Cunsafe-allow-abi-mismatch=sanitizer"
fi

asan_env="detect_leaks=0:detect_stack_use_after_return=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0"
tsan_env="die_after_fork=0:halt_on_error=1:exitcode=66:report_signal_unsafe=1:second_deadlock_stack=1"

# run NAME SANITIZER BUILD_STD(0/1) [TEST HARNESS ARGS...]
run() {
    local name=$1 san=$2 std=$3
    shift 3
    local flags="-Zsanitizer=$san${SANITIZER_EXTRA_CFG:+ $SANITIZER_EXTRA_CFG}"
    # Tests that cannot work under ThreadSanitizer's deferred signal delivery leave themselves
    # out with `cfg(sigmux_tsan)` (each says why) or are skipped by name below.
    [ "$san" = thread ] && flags="$flags --cfg sigmux_tsan"
    local extra=()
    if [ "$std" = 1 ]; then
        extra=(-Zbuild-std)
    else
        flags="$flags $abi_flag"
    fi
    export CARGO_TARGET_DIR="$base/$name"
    export RUSTFLAGS="$flags" RUSTDOCFLAGS="$flags"
    export ASAN_OPTIONS="$asan_env" TSAN_OPTIONS="$tsan_env"
    echo "+ $name: tests of ${crates[*]}"
    if command -v cargo-nextest >/dev/null 2>&1; then
        # One process per test (nextest): a scenario that forks then never shares its process
        # with another test's thread being started, which can leave the sanitizer runtime's
        # thread registry locked in the child (an ASan run hung so, in a child that then
        # started a thread). The `--skip NAME` arguments become a filter.
        local filter="all()"
        while [ $# -gt 0 ]; do
            if [ "$1" = --skip ]; then
                filter="$filter - test(/$2/)"
                shift 2
            else
                shift
            fi
        done
        timeout --signal=KILL 1200 cargo +nightly nextest run "${extra[@]}" --target "$host" \
            "${crates[@]}" --no-fail-fast --status-level fail -E "$filter"
    else
        # Without nextest, one test at a time for the same reason.
        timeout --signal=KILL 1200 cargo +nightly test "${extra[@]}" --target "$host" \
            "${crates[@]}" --tests --no-fail-fast -- --test-threads=1 "$@"
    fi
    echo "+ $name: stress program, 3 s"
    cargo +nightly build "${extra[@]}" --target "$host" -p sigmux-stress --bin sigmux-stress
    # The flood only: the attack shapes build exact kernel frame orders and handler flags
    # that a sanitizer's own signal interception changes (ci/stress.sh runs them).
    timeout --signal=KILL 300 "$CARGO_TARGET_DIR/$host/debug/sigmux-stress" --only flood \
        --duration 3s --threads 1 --children 1 --no-memory-check "${stress_extra[@]}"
    unset RUSTFLAGS RUSTDOCFLAGS CARGO_TARGET_DIR
}

stress_extra=()
# The AddressSanitizer run is also the whole suite's run with the portable forms that Linux
# would otherwise never use — the pipe-backed blocking iterator (the only one on macOS and the
# BSDs) and `Shutdown`'s deadline thread (Unix systems without POSIX timers) — so they get a
# run of their own without another build of the suite (ci/test.sh runs them only where this
# step cannot). ThreadSanitizer runs the forms Linux uses.
SANITIZER_EXTRA_CFG="--cfg sigmux_force_pipe --cfg sigmux_shutdown_deadline_thread" \
    run asan address 0
if [ "$have_src" = 1 ]; then
    # ThreadSanitizer runs an asynchronous signal's handler late: at the next function it
    # intercepts, on the thread's ordinary stack. Two tests check what that deferral cannot
    # give, and are skipped under it (both run in every other step):
    #   onstack_runs_on_the_alternate_stack  - the handler is no longer on the SA_ONSTACK stack;
    #   guard_catches_an_allocating_action   - the child leaves by _exit before the handler
    #                                          (the allocation the control expects) runs.
    # Its queue of deferred signals also keeps one instance per signal number, so real-time
    # signals queued faster than that thread reaches an interceptor are lost under it: the
    # stress run sends none there.
    # The same deferral replaces the kernel's delivery order and nesting, which these attacks
    # on the chaining rules build on (they run in every other step):
    #   late_frame_after_restore_*, forwarding_a_late_delivery_does_not_allocate
    #       - need sigmux's frame to wait under another signal's frame, as the kernel stacks
    #         them; under TSan the deferred handlers run one after the other instead;
    #   one_shot_previous_handler_runs_once  - three raises in a row become one deferred call;
    #   previous_handler_leaving_with_siglongjmp_does_not_block_unregister
    #                                        - the deferred handler's jump does not land;
    #   previous_handlers_nodefer_needs_sigmux_nodefer
    #                                        - deferred handlers never nest.
    # Tests that count deliveries of one signal raised twice in a row (the deferral queue keeps
    # one instance per signal number, so two become one): the leftover-delivery tests
    #   a_batch_dropped_after_one_item_*, breaking_out_of_forever_keeps_the_second_delivery,
    #   forever_returns_a_queued_delivery_*, wait_returns_at_once_while_a_delivery_is_queued
    #   (also the self-pipe unit test of that name), the_adapters_delivery_keeps_*.
    # Tests whose process must die by a signal before it leaves (a deferred handler never runs
    # when the process `_exit`s or aborts first, or never reaches an interceptor):
    #   a_pipe_without_reader_kills_the_process_* (a synchronous SIGPIPE deferred past the
    #   exit), a_panicking_action_aborts_*, and the shutdown example's process tests
    #   (term_runs_the_cleanup_*, int_dies_by_int_*, second_int_during_the_cleanup_*,
    #   second_signal_of_another_kind_*, deadline_kills_*, cleanup_within_the_deadline_*:
    #   the re-executed example never ran its handler for the first TERM/INT in those runs).
    # Tests that send a signal to the whole process from the test harness's process (not a
    # forked child) are ignored under `cfg(sigmux_tsan)`: the kernel may pick the harness's
    # main thread, which waits in a plain futex call, so the deferred handler never runs.
    # forbidden_signals_panic_in_checked_functions panics in a forked child of the
    # multi-threaded, instrumented harness, whose panic machinery then waited on a lock another
    # thread held at the fork (the alarm watchdog fired).
    stress_extra=(--rt-burst 0)
    run tsan thread 1 --skip onstack_runs_on_the_alternate_stack \
        --skip guard_catches_an_allocating_action \
        --skip late_frame_after_restore_ --skip forwarding_a_late_delivery_does_not_allocate \
        --skip one_shot_previous_handler_runs_once \
        --skip previous_handler_leaving_with_siglongjmp_does_not_block_unregister \
        --skip previous_handlers_nodefer_needs_sigmux_nodefer \
        --skip a_batch_dropped_after_one_item_ --skip breaking_out_of_forever_keeps_the_second \
        --skip forever_returns_a_queued_delivery_ \
        --skip wait_returns_at_once_while_a_delivery_is_queued \
        --skip the_adapters_delivery_keeps_ --skip a_pipe_without_reader_kills_the_process_ \
        --skip a_panicking_action_aborts_ --skip term_runs_the_cleanup_ --skip int_dies_by_int_ \
        --skip second_int_during_the_cleanup_ --skip second_signal_of_another_kind_ \
        --skip deadline_kills_ --skip cleanup_within_the_deadline_ \
        --skip forbidden_signals_panic_in_checked_functions
    echo "ci/sanitizers.sh: AddressSanitizer and ThreadSanitizer (instrumented std) passed"
else
    echo "ci/sanitizers.sh: AddressSanitizer passed."
    echo "ci/sanitizers.sh: ThreadSanitizer SKIPPED: the nightly toolchain has no rust-src"
    echo "  (rustup component add rust-src --toolchain nightly); with the prebuilt std it only"
    echo "  reports false races."
fi
