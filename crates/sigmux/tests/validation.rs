//! Bad signal numbers are refused with `InvalidInput` naming the signal, by every
//! `Result`-returning registration — never a panic or an abort (signal-hook aborts the process
//! for `Signals::new([1000])`).
#![cfg(all(unix, feature = "iterator"))]

use std::io::ErrorKind;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;

use libc::c_int;
use sigmux::consts::FORBIDDEN;
use sigmux::iterator::exfiltrator::WithRawSiginfo;
use sigmux::iterator::{Signals, SignalsInfo};
use sigmux::{flag, low_level};

fn bad_numbers() -> Vec<c_int> {
    let mut bad = vec![-1, 0, 65, 128, 1000, c_int::MAX, c_int::MIN];
    bad.extend_from_slice(FORBIDDEN);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    bad.extend_from_slice(&[32, 33]);
    #[cfg(target_os = "linux")]
    bad.push(libc::SIGRTMAX() + 1);
    bad
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(sig: c_int, result: std::io::Result<T>) {
    let err = result.expect_err("bad signal accepted");
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "signal {}: {}",
        sig,
        err
    );
    assert!(
        err.to_string().contains(&sig.to_string()),
        "message does not name signal {}: {}",
        sig,
        err
    );
}

#[test]
fn iterator_constructors_and_add_signal_refuse_bad_numbers() {
    let _lock = sigmux_testkit::lock();
    let signals = Signals::new([libc::SIGUSR1]).unwrap();
    let handle = signals.handle();
    for sig in bad_numbers() {
        assert_invalid(sig, Signals::new([sig]));
        assert_invalid(sig, Signals::new([libc::SIGUSR2, sig]));
        assert_invalid(sig, SignalsInfo::<WithRawSiginfo>::new([sig]));
        assert_invalid(sig, handle.add_signal(sig));
        assert_invalid(sig, signals.add_signal(sig));
        assert!(!handle.remove_signal(sig));
    }
}

#[test]
fn flag_functions_refuse_bad_numbers() {
    let _lock = sigmux_testkit::lock();
    for sig in bad_numbers() {
        let b = Arc::new(AtomicBool::new(false));
        assert_invalid(sig, flag::register(sig, Arc::clone(&b)));
        assert_invalid(
            sig,
            flag::register_usize(sig, Arc::new(AtomicUsize::new(0)), 1),
        );
        assert_invalid(
            sig,
            flag::register_conditional_shutdown(sig, 1, Arc::clone(&b)),
        );
        assert_invalid(sig, flag::register_conditional_default(sig, Arc::clone(&b)));
        // Nothing of the flag was kept by a failed registration.
        assert_eq!(Arc::strong_count(&b), 1);
    }
}

#[test]
fn pipe_register_refuses_bad_numbers() {
    let _lock = sigmux_testkit::lock();
    for sig in bad_numbers() {
        let (_read, write) = UnixStream::pair().unwrap();
        assert_invalid(sig, low_level::pipe::register(sig, write));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn realtime_signals_are_accepted_and_delivered() {
    let _lock = sigmux_testkit::lock();
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let mut signals = Signals::new([min, max]).unwrap();
    low_level::raise(min).unwrap();
    low_level::raise(max).unwrap();
    assert_eq!(signals.pending().collect::<Vec<_>>(), [min, max]);
}

#[test]
fn a_failed_constructor_leaves_the_good_signals_unregistered() {
    let _lock = sigmux_testkit::lock();
    let flag = Arc::new(AtomicBool::new(false));
    // Keep SIGUSR2 caught (so raising it is harmless) and observe our own flag only.
    let id = flag::register(libc::SIGUSR2, Arc::clone(&flag)).unwrap();
    assert!(Signals::new([libc::SIGUSR2, 1000]).is_err());
    let mut probe = Signals::new([libc::SIGUSR2]).unwrap();
    low_level::raise(libc::SIGUSR2).unwrap();
    assert_eq!(probe.pending().collect::<Vec<_>>(), [libc::SIGUSR2]);
    low_level::unregister(id);
}
