//! `unregister`'s promise (its docs, the crate docs, `Registration`): when it returns, the
//! action is not running on any thread, will not run again, and has been dropped.
//!
//! An action is caught in the middle of a run — delivered to a helper thread with
//! `pthread_kill`, it spins in the handler until the test lets it go — while another thread
//! calls `unregister`. That call must not return while the action is still inside, and by the
//! time it returns the action's captured state must have been dropped. Own test binary (it
//! owns SIGUSR1 for its whole process), with an `alarm` watchdog against a hang.
#![cfg(unix)]

use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use libc::SIGUSR1;

static INSIDE: AtomicBool = AtomicBool::new(false);
static LET_GO: AtomicBool = AtomicBool::new(false);
static RUNS: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);

/// Owned by the action: its drop is what `unregister` promises to have happened.
struct Witness;

impl Drop for Witness {
    fn drop(&mut self) {
        DROPPED.store(true, Ordering::SeqCst);
    }
}

#[test]
fn unregister_returns_only_after_a_running_action_left_and_was_dropped() {
    // SAFETY: alarm has no preconditions; SIGALRM's default action ends a hung run.
    unsafe { libc::alarm(60) };
    let witness = Witness;
    // SAFETY: atomics and a spin loop only; `witness` is only kept alive by the closure.
    let id = unsafe {
        sigmux_registry::register(SIGUSR1, move || {
            let _keep = &witness;
            RUNS.fetch_add(1, Ordering::SeqCst);
            if !LET_GO.load(Ordering::SeqCst) {
                INSIDE.store(true, Ordering::SeqCst);
                while !LET_GO.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
                INSIDE.store(false, Ordering::SeqCst);
            }
        })
    }
    .unwrap();

    // A thread for the handler to run on, in ordinary code. It sleeps in short steps: under
    // ThreadSanitizer a signal is run when its thread leaves a call TSan intercepts.
    let target = thread::spawn(|| {
        while !STOP.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(1));
        }
    });
    let tid = target.as_pthread_t() as libc::pthread_t;
    // SAFETY: `tid` is a live thread (it runs until STOP); SIGUSR1 has sigmux's handler.
    assert_eq!(unsafe { libc::pthread_kill(tid, SIGUSR1) }, 0);
    while !INSIDE.load(Ordering::SeqCst) {
        thread::yield_now();
    }

    let (done_tx, done_rx) = mpsc::channel();
    let unregistering = thread::spawn(move || {
        let removed = sigmux_registry::unregister(id);
        // What holds the instant it returned.
        done_tx
            .send((
                removed,
                INSIDE.load(Ordering::SeqCst),
                DROPPED.load(Ordering::SeqCst),
            ))
            .unwrap();
    });
    // While the action is inside, `unregister` waits (a wrong one returns at once; a right
    // one is never early, so the pause cannot make this test fail spuriously).
    assert!(
        done_rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "unregister returned while the action was still running"
    );
    assert!(INSIDE.load(Ordering::SeqCst));
    assert!(!DROPPED.load(Ordering::SeqCst), "dropped while running");

    LET_GO.store(true, Ordering::SeqCst);
    let (removed, inside_at_return, dropped_at_return) =
        done_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    unregistering.join().unwrap();
    assert!(removed);
    assert!(!inside_at_return, "returned with the action still inside");
    assert!(dropped_at_return, "returned before the action was dropped");

    // It never runs again, on any thread.
    let runs = RUNS.load(Ordering::SeqCst);
    for _ in 0..100 {
        // SAFETY: as above; the handler stays installed (no restore) and has no actions.
        assert_eq!(unsafe { libc::pthread_kill(tid, SIGUSR1) }, 0);
        // SAFETY: raise has no memory-safety preconditions.
        assert_eq!(unsafe { libc::raise(SIGUSR1) }, 0);
    }
    assert_eq!(RUNS.load(Ordering::SeqCst), runs);
    STOP.store(true, Ordering::SeqCst);
    target.join().unwrap();
}
