//! Behaviour that must hold on every platform, Windows included (CI runs this file under
//! wine): actions run in order on each delivery, unregister stops them, the previous handler
//! is chained, forbidden signals panic in the checked functions, bad numbers are errors.
//!
//! The tests share one signal's process-wide state, so they take the file's lock.

#[cfg(windows)]
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use libc::c_int;
use sigmux_registry::{register, register_signal_unchecked, unregister, FORBIDDEN};

static LOCK: Mutex<()> = Mutex::new(());

/// `signal()`'s error value (libc types it differently on Windows).
#[cfg(unix)]
const SIG_ERR: libc::sighandler_t = libc::SIG_ERR;
#[cfg(windows)]
const SIG_ERR: libc::sighandler_t = !0;

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
    assert_ne!(old, SIG_ERR);
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

static RESTORED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn restored_handler(_sig: c_int) {
    RESTORED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn restore_puts_the_previous_handler_back() {
    use sigmux_registry::{disposition, try_register, Disposition, Options, Registration};
    let _serial = serial();
    let sig = libc::SIGABRT;
    let prev = restored_handler as *const () as libc::sighandler_t;
    // SAFETY: a one-argument handler, the form `signal` installs.
    assert_ne!(unsafe { libc::signal(sig, prev) }, SIG_ERR);
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    // SAFETY: atomics only.
    let id = unsafe {
        try_register(sig, Options::new().restore(true), move || {
            h.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    assert!(matches!(
        disposition(sig).unwrap(),
        Disposition::Sigmux { actions: 1, .. }
    ));
    raise(sig);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(RESTORED.load(Ordering::SeqCst), 1);
    drop(Registration::from(id));
    assert!(matches!(
        disposition(sig).unwrap(),
        Disposition::Handler { address, .. } if address == prev as usize
    ));
    raise(sig);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(RESTORED.load(Ordering::SeqCst), 2);
    // Leave SIGABRT as the test harness expects it.
    sigmux_registry::set_default_action(sig).unwrap();
}

#[test]
fn checked_registration_and_disposition_control() {
    use sigmux_registry::{
        disposition, ignore, set_default_action, try_register, Disposition, Options,
    };
    let _serial = serial();
    for sig in [-1, 0, 1000, c_int::MAX] {
        // SAFETY: never installed.
        let e = unsafe { try_register(sig, Options::new(), || ()) }.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{}", sig);
    }
    for &sig in FORBIDDEN {
        // SAFETY: never installed.
        let e = unsafe { try_register(sig, Options::new(), || ()) }.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{}", sig);
    }
    #[cfg(windows)]
    {
        // SAFETY: never installed.
        let e =
            unsafe { try_register(libc::SIGINT, Options::new().onstack(true), || ()) }.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::Unsupported);
    }
    // SIGBREAK on Windows (21), SIGWINCH's neighbour SIGTTIN on Unix: unused by the harness.
    #[cfg(windows)]
    let sig = 21;
    #[cfg(unix)]
    let sig = libc::SIGTTIN;
    ignore(sig).unwrap();
    assert_eq!(disposition(sig).unwrap(), Disposition::Ignore);
    raise(sig);
    set_default_action(sig).unwrap();
    assert_eq!(disposition(sig).unwrap(), Disposition::Default);
}

#[cfg(windows)]
static REINSTALLING: AtomicUsize = AtomicUsize::new(0);
#[cfg(windows)]
static HAND_OVER: AtomicBool = AtomicBool::new(false);
#[cfg(windows)]
static OTHER: AtomicUsize = AtomicUsize::new(0);

/// A handler as written for the C runtime, which resets a signal to `SIG_DFL` before each call:
/// it installs itself again first thing — or, once `HAND_OVER` is set, hands the signal to
/// `other` from then on.
#[cfg(windows)]
extern "C" fn reinstalling(sig: c_int) {
    let next = if HAND_OVER.load(Ordering::SeqCst) {
        other as *const () as libc::sighandler_t
    } else {
        reinstalling as *const () as libc::sighandler_t
    };
    // SAFETY: installing a one-argument handler.
    unsafe { libc::signal(sig, next) };
    REINSTALLING.fetch_add(1, Ordering::SeqCst);
}

#[cfg(windows)]
extern "C" fn other(_sig: c_int) {
    OTHER.fetch_add(1, Ordering::SeqCst);
}

/// Windows: a previous handler that re-installs itself, as handlers for the C runtime do, must
/// not take sigmux's place when sigmux chains to it: every later delivery still runs it and
/// then sigmux's action. (Before, the second delivery went to it alone.) One that installs
/// something else on purpose is left with its choice, as any foreign install over sigmux is.
#[cfg(windows)]
#[test]
fn a_previous_handler_that_reinstalls_itself_stays_behind_sigmux() {
    // SIGBREAK; `bad_numbers_are_errors` only ignores it and sets it back to the default.
    const SIGBREAK: c_int = 21;
    let _serial = serial();
    // SAFETY: a one-argument handler, the form `signal` installs.
    let old = unsafe { libc::signal(SIGBREAK, reinstalling as *const () as libc::sighandler_t) };
    assert_ne!(old, SIG_ERR);
    let ours = Arc::new(AtomicUsize::new(0));
    let o = Arc::clone(&ours);
    // SAFETY: atomics only.
    let id = unsafe {
        register(SIGBREAK, move || {
            o.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    let before = REINSTALLING.load(Ordering::SeqCst);
    for n in 1..=3 {
        raise(SIGBREAK);
        assert_eq!(
            REINSTALLING.load(Ordering::SeqCst) - before,
            n,
            "the previous handler"
        );
        assert_eq!(ours.load(Ordering::SeqCst), n, "sigmux's action");
    }
    // Now it installs `other` on purpose: that delivery still runs sigmux's action, the next
    // one is `other`'s alone.
    HAND_OVER.store(true, Ordering::SeqCst);
    raise(SIGBREAK);
    assert_eq!(ours.load(Ordering::SeqCst), 4);
    raise(SIGBREAK);
    assert_eq!(OTHER.load(Ordering::SeqCst), 1);
    assert_eq!(ours.load(Ordering::SeqCst), 4);
    assert!(unregister(id));
}
