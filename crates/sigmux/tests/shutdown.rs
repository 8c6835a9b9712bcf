//! Termination patterns, each in a forked child (they end the process for good): the
//! double-signal shutdown, the conditional default action (dying *by* the signal), and the
//! default-action emulation.
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use libc::{SIGINT, SIGTERM, SIGUSR1};
use sigmux::flag;
use sigmux::low_level::{emulate_default_handler, raise};
use sigmux_testkit::{in_child, Outcome};

#[test]
fn second_termination_signal_exits_immediately() {
    let outcome = in_child(10, || {
        let term_now = Arc::new(AtomicBool::new(false));
        flag::register_conditional_shutdown(SIGINT, 3, Arc::clone(&term_now)).unwrap();
        flag::register(SIGINT, Arc::clone(&term_now)).unwrap();
        raise(SIGINT).unwrap();
        // First one only armed the shutdown.
        assert!(term_now.load(Ordering::SeqCst));
        raise(SIGINT).unwrap();
        unreachable!("the second SIGINT exits inside the handler");
    });
    assert_eq!(outcome, Outcome::Exited(3));
}

#[test]
fn conditional_default_dies_by_the_signal() {
    let outcome = in_child(10, || {
        let armed = Arc::new(AtomicBool::new(false));
        flag::register_conditional_default(SIGTERM, Arc::clone(&armed)).unwrap();
        raise(SIGTERM).unwrap(); // disarmed: survives
        armed.store(true, Ordering::SeqCst);
        raise(SIGTERM).unwrap();
        unreachable!("the armed SIGTERM kills the process");
    });
    assert_eq!(outcome, Outcome::Signaled(SIGTERM));
}

#[test]
fn emulated_default_of_a_handled_signal_terminates_by_it() {
    let outcome = in_child(10, || {
        // SIGUSR1 is caught (its default disposition replaced)…
        let flag = Arc::new(AtomicBool::new(false));
        flag::register(SIGUSR1, Arc::clone(&flag)).unwrap();
        raise(SIGUSR1).unwrap();
        assert!(flag.load(Ordering::SeqCst));
        // …and still its default action can be had.
        emulate_default_handler(libc::SIGCHLD).unwrap(); // ignore: returns
        let _ = emulate_default_handler(SIGUSR1);
        unreachable!("terminated by SIGUSR1");
    });
    assert_eq!(outcome, Outcome::Signaled(SIGUSR1));
}

#[test]
fn unknown_signal_has_no_emulated_default() {
    let err = emulate_default_handler(1000).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
