//! Behaviour that must hold on every platform, Windows included (CI runs this file under
//! wine): actions run in order on each delivery, unregister stops them, the previous handler
//! is chained, forbidden signals panic in the checked functions, bad numbers are errors.
//!
//! The tests share one signal's process-wide state, so they take the file's lock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use libc::c_int;
use sigmux_registry::{register, register_signal_unchecked, unregister, FORBIDDEN};

static LOCK: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn raise(sig: c_int) {
    // SAFETY: raising a signal the test handles.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

#[test]
fn actions_run_in_order_and_stop_after_unregister() {
    let _serial = serial();
    let trace = Arc::new(AtomicUsize::new(0));
    let mut ids = Vec::new();
    for digit in 1..=3usize {
        let t = Arc::clone(&trace);
        // SAFETY: atomics only. The update appends a decimal digit: the value spells the order.
        let id = unsafe {
            register(libc::SIGTERM, move || {
                let old = t.load(Ordering::SeqCst);
                t.store(old * 10 + digit, Ordering::SeqCst);
            })
        }
        .unwrap();
        ids.push(id);
    }
    raise(libc::SIGTERM);
    assert_eq!(trace.load(Ordering::SeqCst), 123);
    // The handler must still be there on the second delivery (Windows resets it each time).
    raise(libc::SIGTERM);
    assert_eq!(trace.load(Ordering::SeqCst), 123_123);

    assert!(unregister(ids[1]));
    assert!(!unregister(ids[1]));
    trace.store(0, Ordering::SeqCst);
    raise(libc::SIGTERM);
    assert_eq!(trace.load(Ordering::SeqCst), 13);
    for id in [ids[0], ids[2]] {
        assert!(unregister(id));
    }
    // No action left; our handler stays installed, so SIGTERM's default does not kill us.
    raise(libc::SIGTERM);
    assert_eq!(trace.load(Ordering::SeqCst), 13);
}

static PREV: AtomicUsize = AtomicUsize::new(0);

extern "C" fn previous(_sig: c_int) {
    PREV.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn previous_handler_runs_first() {
    let _serial = serial();
    // SAFETY: a one-argument handler, the form `signal` installs.
    let old = unsafe { libc::signal(libc::SIGINT, previous as *const () as libc::sighandler_t) };
    assert_ne!(old, libc::SIG_ERR);
    let ours = Arc::new(AtomicUsize::new(0));
    let o = Arc::clone(&ours);
    // SAFETY: atomics only; the action sees the previous handler's count already bumped.
    let id = unsafe {
        register(libc::SIGINT, move || {
            o.store(PREV.load(Ordering::SeqCst), Ordering::SeqCst);
        })
    }
    .unwrap();
    raise(libc::SIGINT);
    assert_eq!(PREV.load(Ordering::SeqCst), 1);
    assert_eq!(ours.load(Ordering::SeqCst), 1);
    raise(libc::SIGINT);
    assert_eq!(PREV.load(Ordering::SeqCst), 2);
    assert_eq!(ours.load(Ordering::SeqCst), 2);
    assert!(unregister(id));
}

#[test]
fn forbidden_signals_panic_in_checked_register() {
    let _serial = serial();
    for &sig in FORBIDDEN {
        // SAFETY: never installed: registration panics first.
        let r = std::panic::catch_unwind(|| unsafe { register(sig, || ()) });
        assert!(r.is_err(), "signal {}", sig);
    }
}

#[test]
fn bad_numbers_are_errors() {
    let _serial = serial();
    for sig in [-1, 0, 3, 1000, c_int::MAX, c_int::MIN] {
        #[cfg(unix)]
        if sig == 3 {
            continue; // SIGQUIT: valid on Unix.
        }
        // SAFETY: never installed.
        let e = unsafe { register_signal_unchecked(sig, || ()) }.expect_err("must fail");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{}", sig);
        assert!(e.to_string().contains(&sig.to_string()), "{}", e);
    }
}
