//! The harness itself: it tells the two libraries apart, reports how a side ended (returned,
//! panicked, aborted, hung), keeps the lines noted before, and runs each side alone in a
//! single-threaded process.
#![cfg(target_os = "linux")]

use sigmux_conformance::{differs, note, observe_sides, same};

fn one(function: &str, side: fn()) -> String {
    observe_sides(module_path!(), function, &[("only", side)]).remove(0)
}

differs!(each_side_runs_its_own_library {
    note(std::any::type_name::<lib::iterator::Signals>());
}, |signal_hook, sigmux| {
    assert_eq!(
        signal_hook,
        "signal_hook::iterator::SignalsInfo\nend: exited(0)"
    );
    assert_eq!(sigmux, "sigmux::iterator::SignalsInfo\nend: exited(0)");
});

#[test]
fn a_panic_is_reported_with_the_lines_before_it() {
    fn side() {
        // Quiet: the message would show in the test's output.
        std::panic::set_hook(Box::new(|_| {}));
        note("before");
        panic!("on purpose");
    }
    assert_eq!(
        one("a_panic_is_reported_with_the_lines_before_it", side),
        "before\nend: exited(101)"
    );
}

#[test]
fn an_abort_is_reported_with_the_lines_before_it() {
    fn side() {
        note("before");
        std::process::abort();
    }
    assert_eq!(
        one("an_abort_is_reported_with_the_lines_before_it", side),
        "before\nend: killed(6 SIGABRT)"
    );
}

#[test]
fn a_hang_ends_by_the_watchdog() {
    fn side() {
        note("before");
        // Shortens this side's watchdog (WATCHDOG_SECS) to keep the test fast.
        // SAFETY: alarm and pause have no memory-safety preconditions.
        unsafe {
            libc::alarm(1);
            libc::pause();
        }
        note("not reached");
    }
    assert_eq!(
        one("a_hang_ends_by_the_watchdog", side),
        "before\nend: killed(14 SIGALRM)"
    );
}

#[test]
fn a_side_runs_alone_in_a_single_threaded_process() {
    fn side() {
        let threads = std::fs::read_dir("/proc/self/task").unwrap().count();
        note(format!("threads: {}", threads));
        // A signal sent to the process therefore runs its handler in this thread, before
        // `kill` returns.
        // SAFETY: kill and getpid have no memory-safety preconditions.
        unsafe { libc::kill(libc::getpid(), 0) };
    }
    assert_eq!(
        one("a_side_runs_alone_in_a_single_threaded_process", side),
        "threads: 1\nend: exited(0)"
    );
}

same!(
    #[should_panic(expected = "did not run to its end")]
    sides_failing_alike_fail_the_comparison {
    // Quiet: the message would show in the test's output.
    std::panic::set_hook(Box::new(|_| {}));
    let _ = lib::iterator::Signals::new([libc::SIGUSR1]);
    note("the same in both");
    panic!("in both sides alike");
});
