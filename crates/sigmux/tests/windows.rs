//! The portable part of the crate on Windows (C runtime `signal`): flags, raise, validation.
#![cfg(windows)]

use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sigmux::consts::{SIGINT, SIGTERM};
use sigmux::{flag, low_level};

#[test]
fn flags_are_set_by_raised_signals() {
    let term = Arc::new(AtomicBool::new(false));
    let which = Arc::new(AtomicUsize::new(0));
    let a = flag::register(SIGTERM, Arc::clone(&term)).unwrap();
    let b = flag::register_usize(SIGINT, Arc::clone(&which), 2).unwrap();
    low_level::raise(SIGTERM).unwrap();
    low_level::raise(SIGINT).unwrap();
    // The CRT's handlers are one-shot: a second delivery must work too.
    term.store(false, Ordering::SeqCst);
    low_level::raise(SIGTERM).unwrap();
    assert!(term.load(Ordering::SeqCst));
    assert_eq!(which.load(Ordering::SeqCst), 2);
    assert!(low_level::unregister(a));
    assert!(low_level::unregister(b));
}

#[test]
fn unknown_numbers_are_refused() {
    for sig in [-1, 0, 10, 1000, i32::MAX] {
        let err = flag::register(sig, Arc::new(AtomicBool::new(false))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains(&sig.to_string()));
    }
    assert_eq!(low_level::signal_name(SIGTERM), Some("SIGTERM"));
}
