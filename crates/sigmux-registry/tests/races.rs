//! Races with other threads on the promises of `unregister` and of chaining:
//!
//! * When `unregister` returns, the action is not running on any thread, will not run again,
//!   and has been dropped (its docs, the crate docs, `Registration`). An action is caught in
//!   the middle of a run — delivered to a helper thread with `pthread_kill`, it spins in the
//!   handler until the test lets it go — while another thread calls `unregister`, which must
//!   not return while the action is inside, and must have dropped it by the time it returns.
//! * Another library calling `sigaction` on the same signal *while* sigmux installs or
//!   restores (the registry docs, "Chaining" and "Options, restore and inherited ignores"): a
//!   first registration chains to the handler `sigaction` reports it actually replaced, not to
//!   one it read a moment before; and a restore never loses the other library's handler —
//!   whatever that library installed last is what stays installed. A thread ("the other
//!   library") installs handlers of its own on SIGUSR1 in short bursts timed to overlap the
//!   test thread's registrations and unregistrations (with `restore`); after each step the
//!   burst is over, and the outcome is judged against the last handler it installed.
//!
//! Each scenario runs in a forked child with an `alarm` watchdog (`in_child`).
#![cfg(unix)]

use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use libc::{c_int, SIGUSR1};
use sigmux_registry::{disposition, try_register, unregister, Options};
use sigmux_testkit::in_child;

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
    in_child(60, unregister_against_a_running_action).assert_success();
}

fn unregister_against_a_running_action() -> i32 {
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
    0
}

static X_RUNS: AtomicUsize = AtomicUsize::new(0);
static Y_RUNS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn handler_x(_: c_int) {
    X_RUNS.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn handler_y(_: c_int) {
    Y_RUNS.fetch_add(1, Ordering::SeqCst);
}

fn address(handler: extern "C" fn(c_int)) -> usize {
    handler as *const () as usize
}

/// The flags the other library varies, so that no two of its installs close together look
/// the same to `sigaction` (the registry tells dispositions apart by handler and flags).
const VARIED: c_int = libc::SA_RESTART | libc::SA_NODEFER;

/// One of the other library's eight dispositions: X or Y, with one of four flag sets.
fn variant(n: usize) -> (usize, c_int) {
    let handler = if n % 2 == 0 {
        address(handler_x)
    } else {
        address(handler_y)
    };
    let flags = [0, libc::SA_RESTART, libc::SA_NODEFER, VARIED][(n / 2) % 4];
    (handler, flags)
}

/// Installs `handler` (one-argument form) with `flags`.
fn install((handler, flags): (usize, c_int)) {
    // SAFETY: all-zero is a valid sigaction; then filled in.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler;
    sa.sa_flags = flags;
    // SAFETY: valid pointers; `handler` is a one-argument handler.
    let r = unsafe { libc::sigaction(SIGUSR1, &sa, std::ptr::null_mut()) };
    assert_eq!(r, 0);
}

/// The installed disposition as the other library's variants are told apart.
fn current() -> (usize, c_int) {
    let now = query();
    (now.sa_sigaction, now.sa_flags as c_int & VARIED)
}

fn query() -> libc::sigaction {
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null `act` only reads.
    let r = unsafe { libc::sigaction(SIGUSR1, std::ptr::null(), &mut old) };
    assert_eq!(r, 0);
    old
}

/// The other library: for each burst the test starts, it waits a few hundred spins or fewer,
/// then installs the next variants a few times (from none to three, varying from burst to
/// burst, so sigmux's install lands before, between and after them). `installs` numbers every
/// install (the test's own included), so neighbours are different variants; `last` is the
/// number of the last one. The test waits for the burst to end.
struct Other {
    started: AtomicUsize,
    finished: AtomicUsize,
    stop: AtomicBool,
    last: AtomicUsize,
    installs: AtomicUsize,
}

impl Other {
    fn run(&self) {
        let mut done = 0;
        while !self.stop.load(Ordering::SeqCst) {
            let burst = self.started.load(Ordering::SeqCst);
            if burst == done {
                thread::yield_now();
                continue;
            }
            // A delay and a count that vary from burst to burst, mixed so that the bursts of
            // registrations and of unregistrations (which alternate) each get every count.
            let mixed = burst.wrapping_mul(2_654_435_761) >> 8;
            for _ in 0..mixed % 400 {
                std::hint::spin_loop();
            }
            for _ in 0..(mixed >> 9) % 4 {
                self.install_next();
            }
            done = burst;
            self.finished.store(done, Ordering::SeqCst);
        }
    }

    /// Installs the next variant and records it as the last.
    fn install_next(&self) {
        let n = self.installs.fetch_add(1, Ordering::SeqCst);
        install(variant(n));
        self.last.store(n, Ordering::SeqCst);
    }

    /// The variant installed last.
    fn last(&self) -> (usize, c_int) {
        variant(self.last.load(Ordering::SeqCst))
    }

    fn start(&self) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }

    /// Waits for the burst started last to end.
    fn pause(&self) {
        let burst = self.started.load(Ordering::SeqCst);
        while self.finished.load(Ordering::SeqCst) < burst {
            thread::yield_now();
        }
    }
}

#[test]
#[cfg_attr(
    sigmux_tsan,
    ignore = "ThreadSanitizer answers `sigaction` from a table of its own, which two threads \
              calling it at once can leave out of step with what each call replaced (seen: a \
              put-back told it displaced a handler that was not the installed one)"
)]
fn installs_and_restores_racing_another_librarys_sigaction() {
    const ROUNDS: usize = 1_000;
    in_child(120, || {
        let restore = Options::new().restore(true);
        // sigmux's handler as the kernel reports it, to put back after the other library
        // displaced it (so the registry can finish a restore it had to put off).
        // SAFETY: empty action.
        let id = unsafe { try_register(SIGUSR1, restore, || ()) }.unwrap();
        let sigmux = query();
        assert!(unregister(id));

        let other = Arc::new(Other {
            started: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            last: AtomicUsize::new(0),
            installs: AtomicUsize::new(0),
        });
        let runner = {
            let other = Arc::clone(&other);
            thread::spawn(move || other.run())
        };
        let action_runs = Arc::new(AtomicUsize::new(0));
        let (mut chained_to_a_racing_install, mut displaced, mut restore_raced) = (0, 0, 0);
        for round in 0..ROUNDS {
            // A clean start: if a restore was put off last round, sigmux's handler goes back
            // and `disposition` completes it; then X is the handler in place.
            // SAFETY: putting back exactly what the kernel reported for sigmux.
            let r = unsafe { libc::sigaction(SIGUSR1, &sigmux, std::ptr::null_mut()) };
            assert_eq!(r, 0);
            disposition(SIGUSR1).unwrap();
            other.install_next();

            // 1. The first registration, racing.
            let before = other.installs.load(Ordering::SeqCst);
            other.start();
            // A delay of our own, varying too, so the burst may also end before we install.
            for _ in 0..(round.wrapping_mul(2_654_435_761) >> 6) % 20_000 {
                std::hint::spin_loop();
            }
            let runs = Arc::clone(&action_runs);
            // SAFETY: the action only increments an atomic.
            let id = unsafe {
                try_register(SIGUSR1, restore, move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                })
            }
            .unwrap();
            other.pause();
            let last = other.last();
            if query().sa_sigaction == sigmux.sa_sigaction {
                // sigmux's install came after every install of the other library this round:
                // what it replaced, and chains to, is the last of them.
                let (x, y, a) = (
                    X_RUNS.load(Ordering::SeqCst),
                    Y_RUNS.load(Ordering::SeqCst),
                    action_runs.load(Ordering::SeqCst),
                );
                // SAFETY: raising a signal with a handler installed.
                assert_eq!(unsafe { libc::raise(SIGUSR1) }, 0);
                let ran_x = X_RUNS.load(Ordering::SeqCst) - x;
                let ran_y = Y_RUNS.load(Ordering::SeqCst) - y;
                assert_eq!(action_runs.load(Ordering::SeqCst) - a, 1, "round {}", round);
                let expected = (last.0 == address(handler_x), last.0 == address(handler_y));
                assert_eq!(
                    (ran_x == 1, ran_y == 1),
                    expected,
                    "round {}: chained to the wrong handler ({} X, {} Y runs)",
                    round,
                    ran_x,
                    ran_y
                );
                if other.installs.load(Ordering::SeqCst) > before {
                    chained_to_a_racing_install += 1;
                }
            } else {
                // The other library installed over sigmux: its last handler is in place.
                assert_eq!(current(), last, "round {}", round);
                displaced += 1;
            }

            // 2. The restore, racing.
            let before = other.installs.load(Ordering::SeqCst);
            other.start();
            assert!(unregister(id));
            other.pause();
            let now = current();
            if other.installs.load(Ordering::SeqCst) > before {
                // Whatever the order, the other library's last handler is what stays.
                assert_eq!(now, other.last(), "round {}", round);
                restore_raced += 1;
            } else {
                // No race: the restore put back what sigmux replaced.
                assert_eq!(now, last, "round {}", round);
            }
        }
        other.stop.store(true, Ordering::SeqCst);
        runner.join().unwrap();
        // The races happened (otherwise the rounds proved nothing).
        eprintln!(
            "{} rounds: chained to a racing install {}, displaced {}, restore raced {}",
            ROUNDS, chained_to_a_racing_install, displaced, restore_raced
        );
        assert!(restore_raced > 0 && displaced + chained_to_a_racing_install > 0);
        0
    })
    .assert_success();
}
