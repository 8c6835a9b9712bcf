//! Shape `chained-flags`: sigmux chaining to a foreign handler that was installed with flags
//! of its own — `SA_RESETHAND` (a one-shot handler) and a non-empty `sa_mask`.
//!
//! Each round runs in a fresh forked process (a one-shot handler fires once per process):
//!
//! 1. a raw handler F is installed for `SIGUSR1` with `SA_RESETHAND` and `SIGUSR2` in its
//!    `sa_mask`; F raises `SIGUSR2` on its own thread while it runs;
//! 2. sigmux registers an action on `SIGUSR1` (so it replaces F and chains to it);
//! 3. every other round, another raw handler G is installed over sigmux's afterwards and
//!    chains to it (as crash reporters and runtimes do);
//! 4. `SIGUSR1` is raised four times.
//!
//! Invariants: F runs exactly once per round (it is one-shot, and the first delivery must
//! reach it); `SIGUSR2`, in F's mask, never interrupts F — it is delivered after F returns;
//! the process survives (sigmux owns `SIGUSR1`). sigmux's action is counted too.
//!
//! Negative control (faults injected): every round installs F *without* `SA_RESETHAND` and
//! with an empty mask, and no sigmux: the kernel itself then runs F four times and `SIGUSR2`
//! interrupts it — what the checks must see.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use libc::{c_int, c_void, siginfo_t};

use super::{install_raw, nap, wait_until, Ctx, Ending, COUNTERS};

/// The chained signal, and the one in F's mask.
const S: c_int = libc::SIGUSR1;
const M: c_int = libc::SIGUSR2;
/// Deliveries of `S` per round.
const K: u64 = 4;

const ROUNDS: usize = 0;
const UNDER_LATER: usize = 1;
const PLANTED: usize = 2;
const F_RUNS: usize = 3;
const RERUN_ROUNDS: usize = 4;
const MAX_RUNS: usize = 5;
const NEVER_RAN: usize = 6;
const INTERRUPTED: usize = 7;
const MASKED_SENT: usize = 8;
const MASKED_GOT: usize = 9;
const SENT: usize = 10;
const ACTION_RUNS: usize = 11;
const FAILED: usize = 12;
const LAST_FAILURE: usize = 13;

static C_F_RUNS: AtomicU64 = AtomicU64::new(0);
static IN_F: AtomicBool = AtomicBool::new(false);
static C_INTERRUPTED: AtomicU64 = AtomicU64::new(0);
static C_MASKED_GOT: AtomicU64 = AtomicU64::new(0);
static C_ACTION: AtomicU64 = AtomicU64::new(0);
/// The handler G chains to (sigmux's), as read when G was installed.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// F: the one-shot handler installed before sigmux. Raises `M`, which its mask holds back.
///
/// Async-signal-safe: atomics, `raise`, `nanosleep`.
extern "C" fn one_shot(_: c_int, _: *mut siginfo_t, _: *mut c_void) {
    C_F_RUNS.fetch_add(1, SeqCst);
    IN_F.store(true, SeqCst);
    // SAFETY: raise has no memory-safety preconditions.
    unsafe { libc::raise(M) };
    nap(10);
    IN_F.store(false, SeqCst);
}

/// `M`'s handler: did it interrupt F?
///
/// Async-signal-safe: atomics only.
extern "C" fn probe(_: c_int) {
    C_MASKED_GOT.fetch_add(1, SeqCst);
    if IN_F.load(SeqCst) {
        C_INTERRUPTED.fetch_add(1, SeqCst);
    }
}

/// G: installed over sigmux's handler, chains to it.
///
/// Async-signal-safe: an atomic load and the chained handler's call.
extern "C" fn later(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let next = NEXT.load(SeqCst);
    if next != 0 {
        // SAFETY: `next` was read from sigaction with SA_SIGINFO set (checked when stored),
        // so it is a three-argument handler; we pass the kernel's arguments on.
        let f = unsafe {
            std::mem::transmute::<usize, extern "C" fn(c_int, *mut siginfo_t, *mut c_void)>(next)
        };
        f(sig, info, ctx);
    }
}

/// One round, in a fresh process; the counts go into the shared row.
fn round(ctx: &Ctx, with_later: bool, plant: bool) -> i32 {
    let f = one_shot as extern "C" fn(c_int, *mut siginfo_t, *mut c_void) as usize;
    let p = probe as extern "C" fn(c_int) as usize;
    let (flags, mask): (c_int, &[c_int]) = if plant {
        (libc::SA_SIGINFO, &[])
    } else {
        (libc::SA_SIGINFO | libc::SA_RESETHAND, &[M])
    };
    // SAFETY: both handlers are async-signal-safe, of the signature their flags say, and
    // nothing else in this process uses S or M.
    if unsafe { install_raw(M, p, libc::SA_RESTART, &[]).and(install_raw(S, f, flags, mask)) }
        .is_err()
    {
        return 2;
    }
    if !plant {
        let action = || {
            C_ACTION.fetch_add(1, SeqCst);
        };
        // SAFETY: the action only adds to an atomic: async-signal-safe.
        if unsafe { sigmux_registry::register(S, action) }.is_err() {
            return 3;
        }
        if with_later {
            let g = later as extern "C" fn(c_int, *mut siginfo_t, *mut c_void) as usize;
            // SAFETY: G is async-signal-safe and three-argument (SA_SIGINFO). NEXT is zero
            // until stored below, so a delivery in between does not chain (none is sent).
            let Ok(old) = (unsafe { install_raw(S, g, libc::SA_SIGINFO | libc::SA_RESTART, &[]) })
            else {
                return 4;
            };
            if old.sa_flags & libc::SA_SIGINFO == 0
                || old.sa_sigaction == libc::SIG_DFL
                || old.sa_sigaction == libc::SIG_IGN
            {
                return 5;
            }
            NEXT.store(old.sa_sigaction, SeqCst);
        }
    }
    for _ in 0..K {
        // SAFETY: raise has no memory-safety preconditions; S has a handler.
        unsafe { libc::raise(S) };
    }
    let runs = C_F_RUNS.load(SeqCst);
    let row = ctx.row;
    row[ROUNDS].fetch_add(1, SeqCst);
    row[UNDER_LATER].fetch_add(u64::from(with_later && !plant), SeqCst);
    row[PLANTED].fetch_add(u64::from(plant), SeqCst);
    row[F_RUNS].fetch_add(runs, SeqCst);
    row[RERUN_ROUNDS].fetch_add(u64::from(runs > 1), SeqCst);
    row[MAX_RUNS].fetch_max(runs, SeqCst);
    row[NEVER_RAN].fetch_add(u64::from(runs == 0), SeqCst);
    row[INTERRUPTED].fetch_add(C_INTERRUPTED.load(SeqCst), SeqCst);
    row[MASKED_SENT].fetch_add(runs, SeqCst);
    row[MASKED_GOT].fetch_add(C_MASKED_GOT.load(SeqCst), SeqCst);
    row[SENT].fetch_add(K, SeqCst);
    row[ACTION_RUNS].fetch_add(C_ACTION.load(SeqCst), SeqCst);
    0
}

pub(super) fn run(ctx: &Ctx) -> i32 {
    let mut n = 0u64;
    while Instant::now() < ctx.end {
        n += 1;
        let plant = ctx.faults;
        // SAFETY: this process is single-threaded, so the child is an ordinary copy; it
        // `_exit`s under its own alarm.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return 2;
        }
        if pid == 0 {
            // SAFETY: alarm and _exit have no preconditions.
            unsafe { libc::alarm(5) };
            let code = round(ctx, n % 2 == 0, plant);
            // SAFETY: as above.
            unsafe { libc::_exit(code) };
        }
        match wait_until(pid, Instant::now() + Duration::from_secs(10)) {
            Ending::Exited(0) => {}
            Ending::Exited(code) => {
                ctx.row[FAILED].fetch_add(1, SeqCst);
                ctx.row[LAST_FAILURE].store(code as u64, SeqCst);
            }
            Ending::Signaled(sig) => {
                ctx.row[FAILED].fetch_add(1, SeqCst);
                ctx.row[LAST_FAILURE].store(1000 + sig as u64, SeqCst);
            }
            Ending::Overran => {
                ctx.row[FAILED].fetch_add(1, SeqCst);
                ctx.row[LAST_FAILURE].store(1000 + libc::SIGKILL as u64, SeqCst);
            }
        }
        nap(2000);
    }
    0
}

pub(super) fn judge(c: &[u64; COUNTERS], ending: Ending) -> (String, Vec<String>) {
    let summary = format!(
        "{} rounds ({} with a chaining handler over sigmux{}), SIGUSR1 sent {}: sigmux action \
         {}, one-shot handler {} (max {} in a round), masked signal {} sent / {} received, {} \
         of them inside the handler",
        c[ROUNDS],
        c[UNDER_LATER],
        if c[PLANTED] > 0 {
            format!(", {} planted", c[PLANTED])
        } else {
            String::new()
        },
        c[SENT],
        c[ACTION_RUNS],
        c[F_RUNS],
        c[MAX_RUNS],
        c[MASKED_SENT],
        c[MASKED_GOT],
        c[INTERRUPTED]
    );
    let mut v = Vec::new();
    if c[RERUN_ROUNDS] > 0 {
        v.push(format!(
            "the SA_RESETHAND handler ran more than once in {} of {} rounds (up to {} times)",
            c[RERUN_ROUNDS], c[ROUNDS], c[MAX_RUNS]
        ));
    }
    if c[NEVER_RAN] > 0 {
        v.push(format!(
            "the chained handler never ran in {} rounds",
            c[NEVER_RAN]
        ));
    }
    if c[INTERRUPTED] > 0 {
        v.push(format!(
            "a signal in the handler's sa_mask interrupted it {} times",
            c[INTERRUPTED]
        ));
    }
    if c[MASKED_GOT] < c[MASKED_SENT] {
        v.push(format!(
            "{} masked signals never delivered",
            c[MASKED_SENT] - c[MASKED_GOT]
        ));
    }
    if c[FAILED] > 0 {
        let last = c[LAST_FAILURE];
        v.push(format!(
            "{} round processes failed (last: {})",
            c[FAILED],
            if last >= 1000 {
                format!("killed by {}", super::sig_name((last - 1000) as c_int))
            } else {
                format!("status {}", last)
            }
        ));
    }
    if c[ROUNDS] == 0 {
        v.push("no round completed".into());
    }
    v.extend(ending.violation());
    (summary, v)
}
