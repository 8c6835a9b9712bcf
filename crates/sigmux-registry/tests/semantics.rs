//! The compatible semantics, each scenario in a forked child with an alarm watchdog (the
//! dispositions they set up must not leak into one another).
#![cfg(unix)]

use std::io::ErrorKind;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use libc::{c_int, c_void, siginfo_t};
use sigmux_registry::{register, register_sigaction, register_unchecked, unregister, FORBIDDEN};
use sigmux_testkit::{in_child, Outcome};

/// A tiny async-signal-safe log of who ran, in order.
#[allow(clippy::declare_interior_mutable_const)] // a template for the array below (MSRV 1.70)
const EMPTY: AtomicI32 = AtomicI32::new(0);
static LOG: [AtomicI32; 16] = [EMPTY; 16];
static LOG_LEN: AtomicUsize = AtomicUsize::new(0);

fn log(v: i32) {
    let i = LOG_LEN.fetch_add(1, Ordering::SeqCst);
    if let Some(slot) = LOG.get(i) {
        slot.store(v, Ordering::SeqCst);
    }
}

fn logged() -> Vec<i32> {
    let n = LOG_LEN.load(Ordering::SeqCst).min(LOG.len());
    LOG[..n].iter().map(|a| a.load(Ordering::SeqCst)).collect()
}

fn raw_install(sig: c_int, handler: usize, flags: c_int) {
    // SAFETY: all-zero sigaction is valid; we fill in a handler of the right form.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = flags;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(sig, &sa, std::ptr::null_mut()), 0);
    }
}

fn current(sig: c_int) -> libc::sigaction {
    // SAFETY: query only.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut sa), 0);
        sa
    }
}

fn raise(sig: c_int) {
    // SAFETY: raising a signal the scenario handles.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

extern "C" fn one_arg_prev(_sig: c_int) {
    log(100);
}

extern "C" fn three_arg_prev(sig: c_int, info: *mut siginfo_t, _ctx: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO.
    let signo = unsafe { (*info).si_signo };
    log(if signo == sig { 200 } else { -200 });
}

#[test]
fn actions_run_in_registration_order_after_one_arg_previous_handler() {
    in_child(10, || {
        raw_install(libc::SIGUSR1, one_arg_prev as *const () as usize, 0);
        for i in 1..=3 {
            // SAFETY: logging to atomics is async-signal-safe.
            unsafe { register(libc::SIGUSR1, move || log(i)) }.unwrap();
        }
        raise(libc::SIGUSR1);
        assert_eq!(logged(), vec![100, 1, 2, 3]);
        0
    })
    .assert_success();
}

#[test]
fn three_arg_previous_handler_gets_siginfo() {
    in_child(10, || {
        raw_install(
            libc::SIGUSR2,
            three_arg_prev as *const () as usize,
            libc::SA_SIGINFO,
        );
        // SAFETY: async-signal-safe action.
        unsafe { register_sigaction(libc::SIGUSR2, |i: &siginfo_t| log(i.si_signo)) }.unwrap();
        raise(libc::SIGUSR2);
        assert_eq!(logged(), vec![200, libc::SIGUSR2]);
        0
    })
    .assert_success();
}

#[test]
fn default_and_ignore_are_not_called() {
    in_child(10, || {
        // SIGUSR1's default would kill us; SIGWINCH's default ignores; explicit SIG_IGN too.
        raw_install(libc::SIGHUP, libc::SIG_IGN, 0);
        for sig in [libc::SIGUSR1, libc::SIGWINCH, libc::SIGHUP] {
            // SAFETY: async-signal-safe action.
            unsafe { register(sig, move || log(sig)) }.unwrap();
            raise(sig);
        }
        assert_eq!(logged(), vec![libc::SIGUSR1, libc::SIGWINCH, libc::SIGHUP]);
        0
    })
    .assert_success();
}

#[test]
fn installs_with_siginfo_and_restart() {
    in_child(10, || {
        // SAFETY: empty action.
        unsafe { register(libc::SIGUSR1, || ()) }.unwrap();
        let sa = current(libc::SIGUSR1);
        assert_eq!(
            sa.sa_flags & (libc::SA_SIGINFO | libc::SA_RESTART),
            libc::SA_SIGINFO | libc::SA_RESTART
        );
        // Empty mask: nothing but the signal itself is blocked while the handler runs.
        for s in 1..=64 {
            // SAFETY: `sa_mask` is a valid sigset_t read from the OS.
            let member = unsafe { libc::sigismember(&sa.sa_mask, s) };
            assert_ne!(member, 1, "signal {}", s);
        }
        0
    })
    .assert_success();
}

/// The calling thread's `errno`.
fn errno() -> *mut libc::c_int {
    // SAFETY: these functions only return the address of the calling thread's errno.
    unsafe {
        #[cfg(any(target_os = "linux", target_os = "emscripten"))]
        return libc::__errno_location();
        #[cfg(target_os = "android")]
        return libc::__errno();
        #[cfg(any(
            target_vendor = "apple",
            target_os = "freebsd",
            target_os = "dragonfly"
        ))]
        return libc::__error();
        #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
        return libc::__errno();
        #[cfg(any(target_os = "illumos", target_os = "solaris"))]
        return libc::___errno();
    }
}

#[test]
fn errno_is_preserved() {
    in_child(10, || {
        // SAFETY: setting errno is async-signal-safe (the handler must undo it).
        unsafe { register(libc::SIGUSR1, || *errno() = libc::EBADF) }.unwrap();
        // SAFETY: our thread's errno.
        unsafe { *errno() = libc::ENOENT };
        // SAFETY: raising a handled signal; `raise` itself does not touch errno on success.
        unsafe { libc::raise(libc::SIGUSR1) };
        // SAFETY: as above.
        assert_eq!(unsafe { *errno() }, libc::ENOENT);
        0
    })
    .assert_success();
}

#[test]
fn unregister_stops_the_action_but_keeps_the_handler() {
    in_child(10, || {
        // SAFETY: async-signal-safe actions.
        let a = unsafe { register(libc::SIGUSR1, || log(1)) }.unwrap();
        // SAFETY: as above.
        let b = unsafe { register(libc::SIGUSR1, || log(2)) }.unwrap();
        assert!(unregister(a));
        assert!(!unregister(a));
        raise(libc::SIGUSR1);
        assert!(unregister(b));
        // No actions left, but the handler stays: SIGUSR1's default (terminate) does not run.
        raise(libc::SIGUSR1);
        assert_eq!(logged(), vec![2]);
        assert_ne!(current(libc::SIGUSR1).sa_sigaction, libc::SIG_DFL);
        0
    })
    .assert_success();
}

#[test]
#[allow(deprecated)]
fn unregister_signal_removes_all_of_one_signal() {
    in_child(10, || {
        // SAFETY: async-signal-safe actions.
        unsafe { register(libc::SIGUSR1, || log(1)) }.unwrap();
        // SAFETY: as above.
        unsafe { register(libc::SIGUSR1, || log(2)) }.unwrap();
        // SAFETY: as above.
        unsafe { register(libc::SIGUSR2, || log(3)) }.unwrap();
        assert!(sigmux_registry::unregister_signal(libc::SIGUSR1));
        assert!(!sigmux_registry::unregister_signal(libc::SIGUSR1));
        raise(libc::SIGUSR1);
        raise(libc::SIGUSR2);
        assert_eq!(logged(), vec![3]);
        0
    })
    .assert_success();
}

#[test]
fn forbidden_signals_panic_in_checked_functions() {
    for &sig in FORBIDDEN {
        let outcome = in_child(10, || {
            // SAFETY: never runs: registration panics first.
            let r = std::panic::catch_unwind(|| unsafe { register(sig, || ()) });
            let msg = r.expect_err("must panic");
            let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(msg.contains(&sig.to_string()), "{}", msg);
            // SAFETY: as above.
            let r =
                std::panic::catch_unwind(|| unsafe { register_sigaction(sig, |_: &siginfo_t| ()) });
            assert!(r.is_err());
            0
        });
        assert_eq!(outcome, Outcome::Exited(0), "signal {}", sig);
    }
}

#[test]
fn bad_numbers_are_errors_not_panics() {
    in_child(10, || {
        for sig in [-1, 0, 32, 33, 65, 129, 1000, c_int::MAX, c_int::MIN] {
            // SAFETY: never installed.
            let e = unsafe { register(sig, || ()) }.expect_err("must fail");
            {
                assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", sig);
                assert!(e.to_string().contains(&sig.to_string()), "{}", e);
            }
            // SAFETY: as above.
            assert!(unsafe { register_unchecked(sig, |_: &siginfo_t| ()) }.is_err());
        }
        // SIGKILL and SIGSTOP: the OS refuses even the unchecked form.
        for sig in [libc::SIGKILL, libc::SIGSTOP] {
            // SAFETY: as above.
            assert!(unsafe { register_unchecked(sig, |_: &siginfo_t| ()) }.is_err());
        }
        0
    })
    .assert_success();
}

#[test]
fn null_siginfo_does_not_crash() {
    in_child(10, || {
        static SIGNO: AtomicI32 = AtomicI32::new(-1);
        // SAFETY: async-signal-safe action.
        unsafe {
            register_sigaction(libc::SIGUSR1, |i: &siginfo_t| {
                SIGNO.store(i.si_signo, Ordering::SeqCst)
            })
        }
        .unwrap();
        let handler = current(libc::SIGUSR1).sa_sigaction;
        // SAFETY: the installed handler has the SA_SIGINFO form; calling it by hand with a
        // NULL siginfo is the (broken-platform) case under test.
        unsafe {
            let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) = std::mem::transmute(handler);
            f(libc::SIGUSR1, std::ptr::null_mut(), std::ptr::null_mut());
        }
        assert_eq!(SIGNO.load(Ordering::SeqCst), libc::SIGUSR1);
        0
    })
    .assert_success();
}

static PREV_HITS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn counting_prev(_sig: c_int) {
    PREV_HITS.fetch_add(1, Ordering::SeqCst);
}

/// A signal that arrives while the first action is being installed still reaches the
/// previous handler: a sender interrupts the registering thread over and over, one signal at
/// a time, and waits until the previous handler has counted each one.
#[test]
fn signal_during_first_install_reaches_previous_handler() {
    for _ in 0..20 {
        in_child(20, || {
            raw_install(libc::SIGUSR2, counting_prev as *const () as usize, 0);
            // SAFETY: pthread_self is always safe.
            let target = unsafe { libc::pthread_self() } as usize;
            let sender = std::thread::spawn(move || {
                for n in 1..=200usize {
                    // SAFETY: the main thread is alive until we are joined.
                    unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR2) };
                    let ok = sigmux_testkit::wait_until(std::time::Duration::from_secs(5), || {
                        PREV_HITS.load(Ordering::SeqCst) >= n
                    });
                    assert!(ok, "signal {} was lost", n);
                }
            });
            // SAFETY: empty action.
            let id = unsafe { register(libc::SIGUSR2, || ()) }.unwrap();
            sender.join().unwrap();
            assert!(unregister(id));
            0
        })
        .assert_success();
    }
}
