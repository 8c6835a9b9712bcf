//! Shape `nested-restore`: a delivery whose handler frame is built but has not yet reached
//! sigmux's grace period while another thread removes the signal's last action with
//! [`Options::restore`].
//!
//! How the frame gets stuck: the main thread blocks `SIGUSR1` (A) and `SIGUSR2` (B), sends
//! both to itself, and unblocks both in one call. On the way back from that system call the
//! kernel builds A's frame (the lower number first) and then B's on top of it, so B's handler
//! runs first — as when two signals arrive during a system call. B's handler (a raw one, not
//! sigmux's) lets a remover thread drop A's last sigmux action, registered with `restore`,
//! and waits until the removal has returned; only then does A's frame enter sigmux's handler.
//!
//! The disposition restored is a raw counting handler installed before sigmux's first
//! registration (while sigmux is installed, sigmux also chains to it, as to any handler it
//! replaced). Each round sends A once, to this thread, so its handlers have run when the
//! sending call returns (a late one gets 50 ms more). Invariant: every A sent reaches the
//! sigmux action or the restored handler — *lost = 0*. One round in four does not nest:
//! A is sent before the removal (every other time; the action must get it) or after it (the
//! restored handler must).
//!
//! Negative control (faults injected): no round nests, and the restored handler forgets every
//! 50th delivery.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;
use sigmux_registry::{Options, Registration};

use super::{nap, now_ns, publish, thread_mask, Ctx, Ending, COUNTERS};

/// The signal whose last action is removed. Must be lower than [`B`]: the kernel builds the
/// lower-numbered frame first, so it runs last.
const A: c_int = libc::SIGUSR1;
/// The signal whose frame is stacked on top of A's.
const B: c_int = libc::SIGUSR2;

const ROUNDS: usize = 0;
const NESTED: usize = 1;
const SENT: usize = 2;
/// Rounds whose A reached the action, the restored (or chained-to) handler, neither.
const VIA_ACTION: usize = 3;
const VIA_RESTORED: usize = 4;
const LOST: usize = 6;
const TIMEOUTS: usize = 5;

static C_VIA_ACTION: AtomicU64 = AtomicU64::new(0);
static C_VIA_RESTORED: AtomicU64 = AtomicU64::new(0);
static C_SEEN_RESTORED: AtomicU64 = AtomicU64::new(0);
static C_TIMEOUTS: AtomicU64 = AtomicU64::new(0);
/// The round being played, the round B's handler is in, the last round whose removal returned.
static ROUND: AtomicU64 = AtomicU64::new(0);
static IN_B: AtomicU64 = AtomicU64::new(0);
static REMOVED: AtomicU64 = AtomicU64::new(0);
static FAULTS: AtomicBool = AtomicBool::new(false);

/// The disposition sigmux replaces and must restore: counts A.
///
/// Async-signal-safe: atomics only.
extern "C" fn restored(_: c_int) {
    let n = C_SEEN_RESTORED.fetch_add(1, SeqCst) + 1;
    if FAULTS.load(SeqCst) && n % 50 == 0 {
        return; // the planted fault: a delivery forgotten
    }
    C_VIA_RESTORED.fetch_add(1, SeqCst);
}

/// B's handler: holds A's frame back until the removal of A's last action has returned.
///
/// Async-signal-safe: atomics, `clock_gettime`, `nanosleep`.
extern "C" fn hold(_: c_int) {
    let round = ROUND.load(SeqCst);
    IN_B.store(round, SeqCst);
    let deadline = now_ns().saturating_add(2_000_000_000);
    while REMOVED.load(SeqCst) < round {
        if now_ns() > deadline {
            C_TIMEOUTS.fetch_add(1, SeqCst);
            return;
        }
        nap(20);
    }
}

/// Waits for `cond` with an absolute deadline; returns whether it held.
fn wait(timeout: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() >= deadline {
            return false;
        }
        nap(20);
    }
    true
}

pub(super) fn run(ctx: &Ctx) -> i32 {
    FAULTS.store(ctx.faults, SeqCst);
    let sig_restored = restored as extern "C" fn(c_int) as usize;
    let sig_hold = hold as extern "C" fn(c_int) as usize;
    // SAFETY: both handlers are async-signal-safe and one-argument (no SA_SIGINFO); nothing
    // else in this process uses A or B.
    let installed = unsafe {
        super::install_raw(A, sig_restored, libc::SA_RESTART, &[]).and(super::install_raw(
            B,
            sig_hold,
            libc::SA_RESTART,
            &[],
        ))
    };
    if installed.is_err() {
        return 2;
    }
    let (tx, rx) = mpsc::channel::<(u64, bool, Registration)>();
    let remover = thread::spawn(move || {
        thread_mask(libc::SIG_BLOCK, &[A, B]);
        for (round, nested, reg) in rx {
            if nested && !wait(Duration::from_secs(2), || IN_B.load(SeqCst) >= round) {
                C_TIMEOUTS.fetch_add(1, SeqCst);
            }
            drop(reg); // the last action of A goes, and A's raw handler comes back
            REMOVED.store(round, SeqCst);
        }
    });
    let (mut rounds, mut nested_rounds, mut sent) = (0u64, 0u64, 0u64);
    // Rounds whose A reached the action, the raw handler, neither.
    let mut reached = [0u64; 3];
    let publish_all = |rounds: u64, nested: u64, sent: u64, reached: [u64; 3]| {
        publish(
            ctx.row,
            &[
                (ROUNDS, rounds),
                (NESTED, nested),
                (SENT, sent),
                (VIA_ACTION, reached[0]),
                (VIA_RESTORED, reached[1]),
                (LOST, reached[2]),
                (TIMEOUTS, C_TIMEOUTS.load(SeqCst)),
            ],
        )
    };
    let mut code = 0;
    while Instant::now() < ctx.end {
        let round = rounds + 1;
        ROUND.store(round, SeqCst);
        let action = || {
            C_VIA_ACTION.fetch_add(1, SeqCst);
        };
        // SAFETY: the action only adds to an atomic: async-signal-safe.
        let id =
            match unsafe { sigmux_registry::try_register(A, Options::new().restore(true), action) }
            {
                Ok(id) => id,
                Err(_) => {
                    code = 3;
                    break;
                }
            };
        let reg = Registration::from(id);
        // Three rounds in four nest; of the others, one sends A before the removal (the action
        // must get it) and one after (the restored handler must).
        let nested = !ctx.faults && round % 4 != 0;
        let before = !nested && round % 8 == 4;
        let counts = || (C_VIA_ACTION.load(SeqCst), C_VIA_RESTORED.load(SeqCst));
        let (action0, raw0) = counts();
        // SAFETY: pthread_self and pthread_kill on this very thread.
        let to_self = |sig| unsafe { libc::pthread_kill(libc::pthread_self(), sig) };
        if nested {
            thread_mask(libc::SIG_BLOCK, &[A, B]);
            to_self(A);
            to_self(B);
            sent += 1;
            if tx.send((round, true, reg)).is_err() {
                code = 4;
                break;
            }
            // A's frame, then B's on top: B's handler waits for the removal, then A's runs.
            thread_mask(libc::SIG_UNBLOCK, &[A, B]);
        } else {
            if before {
                to_self(A);
                sent += 1;
            }
            if tx.send((round, false, reg)).is_err() {
                code = 4;
                break;
            }
            if !wait(Duration::from_secs(2), || REMOVED.load(SeqCst) >= round) {
                C_TIMEOUTS.fetch_add(1, SeqCst);
            }
            if !before {
                to_self(A);
                sent += 1;
            }
        }
        if !wait(Duration::from_secs(2), || REMOVED.load(SeqCst) >= round) {
            C_TIMEOUTS.fetch_add(1, SeqCst);
        }
        let seen = || {
            let (action, raw) = counts();
            action > action0 || raw > raw0
        };
        if seen() || wait(Duration::from_millis(50), seen) {
            let (action, raw) = counts();
            reached[0] += u64::from(action > action0);
            reached[1] += u64::from(raw > raw0);
        } else {
            reached[2] += 1;
        }
        rounds = round;
        nested_rounds += u64::from(nested);
        publish_all(rounds, nested_rounds, sent, reached);
        nap(50);
    }
    drop(tx);
    let _ = remover.join();
    publish_all(rounds, nested_rounds, sent, reached);
    code
}

pub(super) fn judge(c: &[u64; COUNTERS], ending: Ending) -> (String, Vec<String>) {
    let summary = format!(
        "{} rounds ({} nested), A sent {}: reached the action {}, the restored (or chained-to) \
         handler {}, neither {}{}",
        c[ROUNDS],
        c[NESTED],
        c[SENT],
        c[VIA_ACTION],
        c[VIA_RESTORED],
        c[LOST],
        if c[TIMEOUTS] > 0 {
            format!(", {} waits timed out", c[TIMEOUTS])
        } else {
            String::new()
        }
    );
    let mut v = Vec::new();
    if c[LOST] > 0 {
        v.push(format!(
            "{} of {} deliveries reached neither the action nor the restored handler \
             (the last action removed with restore)",
            c[LOST], c[SENT]
        ));
    }
    if c[ROUNDS] == 0 {
        v.push("no round completed".into());
    }
    v.extend(ending.violation());
    (summary, v)
}
