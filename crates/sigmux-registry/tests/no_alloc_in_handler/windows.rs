//! Windows: the C runtime resets a signal to `SIG_DFL` before it calls the handler and
//! sigmux's handler installs itself again, so the trampoline goes back in front before every
//! `raise` — which also checks that what it finds there is sigmux's handler, re-installed.
//! The previous handler is one written for the C runtime, which re-installs itself, so the
//! chained call and sigmux's taking its place back run under the guard at every delivery.
//! Actions churn on another thread meanwhile. The negative control re-runs this test binary
//! with only itself and a variable that makes an action allocate.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use libc::{c_int, sighandler_t};

use super::IN_HANDLER;

/// sigmux's handler, as `signal()` reported it when the trampoline first went in front.
static SIGMUX_HANDLER: AtomicUsize = AtomicUsize::new(0);
/// How many deliveries went through the trampoline.
static TRAMPOLINED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn trampoline(sig: c_int) {
    let handler = SIGMUX_HANDLER.load(Ordering::SeqCst);
    IN_HANDLER.with(|c| c.set(c.get() + 1));
    // SAFETY: `handler` is sigmux's one-argument handler, read from `signal()` (checked
    // non-zero before the first raise).
    let sigmux: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
    sigmux(sig);
    IN_HANDLER.with(|c| c.set(c.get() - 1));
    TRAMPOLINED.fetch_add(1, Ordering::SeqCst);
}

/// How many times the previous handler ran.
static PREVIOUS_RUNS: AtomicUsize = AtomicUsize::new(0);

/// A previous handler as written for the C runtime: it installs itself again first thing.
extern "C" fn previous(sig: c_int) {
    // SAFETY: re-installing this very handler for the signal it runs for.
    unsafe { libc::signal(sig, previous as *const () as sighandler_t) };
    PREVIOUS_RUNS.fetch_add(1, Ordering::SeqCst);
}

/// Puts the trampoline in front of whatever handles `sig`; returns what was there.
fn put_trampoline_in_front(sig: c_int) -> sighandler_t {
    // SAFETY: `trampoline` is a valid one-argument handler for the whole process lifetime.
    let previous = unsafe { libc::signal(sig, trampoline as *const () as sighandler_t) };
    assert_ne!(previous, !0, "signal() refused");
    previous
}

#[test]
fn handler_path_does_not_allocate_while_actions_churn() {
    const ROUNDS: usize = 2_000;
    const CYCLES: usize = 500;
    let sig = libc::SIGTERM;
    // SAFETY: installing a one-argument handler, before sigmux's (which will chain to it).
    let before = unsafe { libc::signal(sig, previous as *const () as sighandler_t) };
    assert_ne!(before, !0, "signal() refused");
    let runs = Arc::new(AtomicUsize::new(0));
    let mut permanent = Vec::new();
    for _ in 0..3 {
        let runs = Arc::clone(&runs);
        // SAFETY: the action only increments an atomic.
        let id = unsafe {
            sigmux_registry::register(sig, move || {
                runs.fetch_add(1, Ordering::Relaxed);
            })
        }
        .unwrap();
        permanent.push(id);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let cycles = Arc::new(AtomicUsize::new(0));
    let churn = {
        let stop = Arc::clone(&stop);
        let cycles = Arc::clone(&cycles);
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let hits = Arc::new(AtomicUsize::new(0));
                let counted = Arc::clone(&hits);
                // SAFETY: the action only increments an atomic.
                let id = unsafe {
                    sigmux_registry::register(sig, move || {
                        counted.fetch_add(1, Ordering::Relaxed);
                    })
                }
                .unwrap();
                assert!(sigmux_registry::unregister(id));
                cycles.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let first = put_trampoline_in_front(sig);
    assert_ne!(first, 0, "sigmux's handler was not installed");
    SIGMUX_HANDLER.store(first, Ordering::SeqCst);
    // At least ROUNDS deliveries, and on until the other thread has changed the list often.
    let mut round = 0;
    while round < ROUNDS || cycles.load(Ordering::Relaxed) < CYCLES {
        if round > 0 {
            // sigmux's handler re-installed itself during the last delivery.
            assert_eq!(put_trampoline_in_front(sig), first, "round {}", round);
        }
        // SAFETY: raising a signal the test handles (through the trampoline).
        assert_eq!(unsafe { libc::raise(sig) }, 0);
        round += 1;
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();

    assert_eq!(TRAMPOLINED.load(Ordering::SeqCst), round);
    assert_eq!(runs.load(Ordering::Relaxed), 3 * round);
    // Chained to at every delivery, and never left in sigmux's place (checked before each
    // raise above).
    assert_eq!(PREVIOUS_RUNS.load(Ordering::SeqCst), round);
    // The last delivery left sigmux's handler installed, not the trampoline.
    // SAFETY: reading the disposition by setting it and putting it back at once.
    let now = unsafe { libc::signal(sig, first) };
    assert_eq!(now, first);
    for id in permanent {
        assert!(sigmux_registry::unregister(id));
    }
}

#[test]
fn the_guard_itself_fires_on_an_allocation_in_the_handler() {
    // The negative control, in a child process: the same test binary re-run with only this
    // test and a variable that makes the body allocate inside the handler; it must abort.
    if std::env::var_os("SIGMUX_ALLOC_GUARD_CHILD").is_some() {
        let sig = libc::SIGINT;
        // SAFETY: the action allocates on purpose: the guard must stop the process.
        let id = unsafe {
            sigmux_registry::register(sig, || {
                std::hint::black_box(Box::new(1u8));
            })
        }
        .unwrap();
        let sigmux = put_trampoline_in_front(sig);
        SIGMUX_HANDLER.store(sigmux, Ordering::SeqCst);
        // SAFETY: raising a signal the test handles.
        unsafe { libc::raise(sig) };
        sigmux_registry::unregister(id);
        // Not reached if the guard works.
        std::process::exit(0);
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "windows::the_guard_itself_fires_on_an_allocation_in_the_handler",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SIGMUX_ALLOC_GUARD_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the child exited normally");
    assert!(
        stderr.contains("allocation inside a signal handler"),
        "stderr: {}",
        stderr
    );
}
