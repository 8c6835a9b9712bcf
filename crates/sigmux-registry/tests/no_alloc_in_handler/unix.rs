//! Unix: several actions on several signals, previous handlers chained (one-shot, masked),
//! while other threads register and unregister actions on the same signals (so the handler
//! walks lists that are being changed and nodes are being freed); the negative control; and,
//! on Linux, the path that hands a late delivery on after sigmux let go of the signal. The
//! trampoline is installed over sigmux's handler with `sigaction`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use libc::{c_int, c_void, siginfo_t};

use super::IN_HANDLER;

/// The first three are `handler_path_does_not_allocate`'s, which keeps actions on them for the
/// rest of the process; the last is the late-delivery test's own, so a child it forks after
/// the other test ran does not inherit those actions.
const SIGNALS: [c_int; 4] = [libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH, libc::SIGPROF];
/// How many of `SIGNALS` the handler-path test uses.
const PATH_SIGNALS: usize = 3;
#[allow(clippy::declare_interior_mutable_const)] // a template for the array below (MSRV 1.70)
const NO_HANDLER: AtomicUsize = AtomicUsize::new(0);
static SIGMUX_HANDLER: [AtomicUsize; 4] = [NO_HANDLER; 4];

extern "C" fn trampoline(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let i = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
    let h = SIGMUX_HANDLER[i].load(Ordering::SeqCst);
    IN_HANDLER.with(|c| c.set(c.get() + 1));
    // SAFETY: `h` is sigmux's SA_SIGINFO handler, read back from sigaction.
    let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) = unsafe { std::mem::transmute(h) };
    f(sig, info, ctx);
    IN_HANDLER.with(|c| c.set(c.get() - 1));
}

fn wrap_handler(i: usize) {
    let sig = SIGNALS[i];
    // SAFETY: reading and replacing a disposition with a same-flags trampoline.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut sa), 0);
        SIGMUX_HANDLER[i].store(sa.sa_sigaction, Ordering::SeqCst);
        sa.sa_sigaction = trampoline as *const () as usize;
        assert_eq!(libc::sigaction(sig, &sa, std::ptr::null_mut()), 0);
    }
}

#[test]
fn handler_path_does_not_allocate() {
    // The control below forks: keep it from forking while this test holds sigmux's locks.
    let _serial = sigmux_testkit::lock();
    let hits = Arc::new(AtomicUsize::new(0));
    static PATH: [c_int; PATH_SIGNALS] = [SIGNALS[0], SIGNALS[1], SIGNALS[2]];
    let signals: &'static [c_int] = &PATH;
    // Previous handlers, so the chained call (leaving and re-entering the grace period, the
    // one-shot claim, blocking the handler's mask) runs under the guard too.
    install_prev(signals[1], libc::SA_RESETHAND, &[]);
    install_prev(signals[2], 0, &[signals[0]]);
    // Permanent actions: closures owning an Arc (whose count the handler must not touch) and
    // reading siginfo.
    for (i, &sig) in signals.iter().enumerate() {
        for _ in 0..3 {
            let h = Arc::clone(&hits);
            // SAFETY: atomics only.
            unsafe {
                sigmux_registry::register_sigaction(sig, move |info: &siginfo_t| {
                    if info.si_signo == sig {
                        h.fetch_add(1, Ordering::Relaxed);
                    }
                })
            }
            .unwrap();
        }
        wrap_handler(i);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let churners: Vec<_> = (0..3)
        .map(|t| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let sig = signals[(n as usize + t) % signals.len()];
                    let payload = Arc::new(vec![0u8; 64]);
                    // SAFETY: reads a length (no allocation) and stores to an atomic.
                    let id = unsafe {
                        sigmux_registry::register(sig, move || {
                            std::hint::black_box(payload.len());
                        })
                    }
                    .unwrap();
                    assert!(sigmux_registry::unregister(id));
                    n += 1;
                }
                n
            })
        })
        .collect();

    let raisers: Vec<_> = (0..2)
        .map(|t| {
            thread::spawn(move || {
                for n in 0..3000usize {
                    // SAFETY: raising signals we handle.
                    unsafe { libc::raise(signals[(n + t) % signals.len()]) };
                }
            })
        })
        .collect();
    for r in raisers {
        r.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let churned: u64 = churners.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(churned > 0);
    // Every raise reached the three permanent actions of its signal.
    assert_eq!(hits.load(Ordering::Relaxed), 2 * 3000 * 3);
    // The one-shot ran once, the masked one at every delivery of its signal.
    assert_eq!(PREV_HITS.load(Ordering::Relaxed), 1 + 2 * 1000);
}

static PREV_HITS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn counting_prev(_sig: c_int) {
    PREV_HITS.fetch_add(1, Ordering::Relaxed);
}

/// Installs `counting_prev` for `sig` with `flags` and `mask`, before sigmux's handler.
fn install_prev(sig: c_int, flags: c_int, mask: &[c_int]) {
    // SAFETY: all-zero is a valid sigaction, filled in below; valid pointers throughout.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = counting_prev as *const () as usize;
        sa.sa_flags = flags;
        libc::sigemptyset(&mut sa.sa_mask);
        for &m in mask {
            libc::sigaddset(&mut sa.sa_mask, m);
        }
        assert_eq!(libc::sigaction(sig, &sa, std::ptr::null_mut()), 0);
    }
}

/// Negative control: the guard does fire when an action allocates.
#[test]
fn guard_catches_an_allocating_action() {
    let outcome = sigmux_testkit::in_child(10, || {
        // SAFETY: deliberately NOT async-signal-safe: this is the control.
        unsafe {
            sigmux_registry::register(libc::SIGUSR1, || {
                std::hint::black_box(Box::new(1u64));
            })
        }
        .unwrap();
        wrap_handler(0);
        // SAFETY: raising a handled signal.
        unsafe { libc::raise(libc::SIGUSR1) };
        0
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Signaled(libc::SIGABRT));
}

static A_RUNNING: AtomicBool = AtomicBool::new(false);
static RELEASED: AtomicBool = AtomicBool::new(false);

extern "C" fn hold_until_released(_sig: c_int) {
    A_RUNNING.store(true, Ordering::SeqCst);
    while !RELEASED.load(Ordering::SeqCst) {
        std::hint::spin_loop();
    }
}

/// The path that hands a late delivery on after sigmux let go of the signal (`forward`)
/// runs under the guard too: a frame of sigmux's handler for SIGPROF waits under SIGIO's
/// handler (kernel frame order: lower number first) while the main thread lets go of SIGPROF
/// (`set_default_action` with no actions); the late frame then hands the delivery to `SIG_DFL`,
/// which kills the child with SIGPROF (an allocation would abort it with SIGABRT instead).
#[cfg(target_os = "linux")] // the kernel's frame order
#[test]
fn forwarding_a_late_delivery_does_not_allocate() {
    // `b` below `a`: the kernel builds the lower number's frame first, so `b`'s waits under
    // `a`'s.
    let (b, a) = (SIGNALS[3], libc::SIGIO);
    let outcome = sigmux_testkit::in_child(10, move || {
        // SAFETY: a plain one-argument handler.
        unsafe { libc::signal(a, hold_until_released as *const () as libc::sighandler_t) };
        sigmux_testkit::rt::block(&[a, b]);
        // SAFETY: an empty action.
        let id = unsafe { sigmux_registry::register(b, || ()) }.unwrap();
        wrap_handler(3);
        let t = thread::spawn(move || {
            // SAFETY: signalling this very thread while both signals are blocked.
            unsafe {
                libc::pthread_kill(libc::pthread_self(), b);
                libc::pthread_kill(libc::pthread_self(), a);
            }
            sigmux_testkit::rt::unblock(&[a, b]);
        });
        assert!(sigmux_testkit::wait_until(
            std::time::Duration::from_secs(5),
            || A_RUNNING.load(Ordering::SeqCst)
        ));
        assert!(sigmux_registry::unregister(id));
        sigmux_registry::set_default_action(b).unwrap();
        RELEASED.store(true, Ordering::SeqCst);
        t.join().unwrap();
        0
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Signaled(SIGNALS[3]));
}
