//! A panic inside an action aborts the process (unwinding out of a signal handler would be
//! undefined behaviour), whatever the code around the interrupted instruction would catch.
//! Judged by `waitpid` in a forked child with an alarm watchdog.
#![cfg(unix)]

use std::time::{Duration, Instant};

use sigmux_registry::register;
use sigmux_testkit::{in_child, Outcome};

#[test]
fn a_panicking_action_aborts_the_process_instead_of_unwinding() {
    let outcome = in_child(10, || {
        // SAFETY: deliberately not async-signal-safe: the action panics, which is the case
        // under test; the child is thrown away.
        unsafe { register(libc::SIGUSR1, || panic!("action panicked")) }.unwrap();
        // `in_child` catches panics of the scenario (exit status 101): if the panic unwound
        // out of the handler into this frame, the child would exit instead of dying.
        // SAFETY: raising a signal we handle.
        unsafe { libc::raise(libc::SIGUSR1) };
        // The handler has normally run (and aborted) inside `raise`. ThreadSanitizer defers it
        // to the next call it intercepts: give it sleeps, up to an absolute deadline.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        0
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGABRT));
}
