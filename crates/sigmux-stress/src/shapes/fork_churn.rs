//! Shape `fork-iterator-churn`: a fork while another thread is inside an iterator's
//! registration.
//!
//! A churner thread adds and removes a signal on a [`Signals`] through its [`Handle`] without
//! pause; the main thread forks again and again. Each child, under its own `alarm`, adds and
//! removes a signal through the inherited handle, drops its inherited `Signals`, then makes a
//! new one, adds and removes a signal on it, and receives a signal it raises — and exits. The
//! parent waits for it with an absolute deadline. Invariant: every child exits promptly with
//! status 0 (a lock held by the churner at the fork must not stay held in the child).
//!
//! Negative control (faults injected): nothing churns, and the 20th child, then every 100th, hangs on
//! purpose
//! (it must be reported as hung).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;
use sigmux::iterator::{Handle, Signals};

use super::{nap, publish, wait_until, Ctx, Ending, COUNTERS};

const FORKS: usize = 0;
const OK: usize = 1;
const HUNG: usize = 2;
const FAILED: usize = 3;
const CHURNS: usize = 4;
const LAST_FAILURE: usize = 5;
/// Where the last hung child was (copied by the parent from [`STAGE`]).
const HUNG_AT: usize = 6;
/// Where the current child is (written by the child).
const STAGE: usize = 7;

/// The inherited iterator's signal, the churned one, and the one the child adds.
const S1: c_int = libc::SIGUSR1;
const S2: c_int = libc::SIGUSR2;
const S3: c_int = libc::SIGWINCH;

/// The child's watchdog, and how long the parent waits for a child.
const CHILD_ALARM_SECS: u32 = 2;
const CHILD_DEADLINE: Duration = Duration::from_secs(5);

static CHURNED: AtomicU64 = AtomicU64::new(0);

pub(super) fn run(ctx: &Ctx) -> i32 {
    let Ok(signals) = Signals::new([S1]) else {
        return 2;
    };
    let mut signals = Some(signals);
    let handle = match &signals {
        Some(s) => s.handle(),
        None => return 2,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let churner = {
        let (handle, stop) = (handle.clone(), Arc::clone(&stop));
        let churn_off = ctx.faults;
        thread::spawn(move || {
            while !stop.load(SeqCst) {
                if churn_off {
                    nap(1000);
                    continue;
                }
                for _ in 0..100 {
                    let _ = handle.add_signal(S2);
                    handle.remove_signal(S2);
                }
                CHURNED.fetch_add(100, SeqCst);
                // Bursts, not a spinning core: the flood shares the machine.
                nap(100);
            }
        })
    };
    let mut counts = [0u64; 4];
    let mut n = 0u64;
    while Instant::now() < ctx.end {
        n += 1;
        let plant = ctx.faults && n % 100 == 20;
        // Let the churner get going between forks.
        thread::sleep(Duration::from_micros(500));
        // SAFETY: the child uses sigmux (which must be fork-safe: that is what is tested) and
        // the allocator (fork-safe in the C library), under an alarm, then `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            ctx.row[FAILED].fetch_add(1, SeqCst);
            break;
        }
        if pid == 0 {
            // SAFETY: alarm has no preconditions; the child's own watchdog.
            unsafe { libc::alarm(CHILD_ALARM_SECS) };
            let code = child(&mut signals, &handle, ctx, plant);
            // SAFETY: leave without running exit handlers.
            unsafe { libc::_exit(code) };
        }
        counts[FORKS] += 1;
        match wait_until(pid, Instant::now() + CHILD_DEADLINE) {
            Ending::Exited(0) => counts[OK] += 1,
            Ending::Signaled(libc::SIGALRM) | Ending::Overran => {
                counts[HUNG] += 1;
                ctx.row[HUNG_AT].store(ctx.row[STAGE].load(SeqCst), SeqCst);
            }
            Ending::Exited(code) => {
                counts[FAILED] += 1;
                ctx.row[LAST_FAILURE].store(code as u64, SeqCst);
            }
            Ending::Signaled(sig) => {
                counts[FAILED] += 1;
                ctx.row[LAST_FAILURE].store(1000 + sig as u64, SeqCst);
            }
        }
        publish(
            ctx.row,
            &[
                (FORKS, counts[FORKS]),
                (OK, counts[OK]),
                (HUNG, counts[HUNG]),
                (FAILED, counts[FAILED]),
                (CHURNS, CHURNED.load(SeqCst)),
            ],
        );
    }
    stop.store(true, SeqCst);
    let _ = churner.join();
    publish(ctx.row, &[(CHURNS, CHURNED.load(SeqCst))]);
    0
}

/// The forked child's body; its exit status. Records in the shared row how far it got, so a
/// hang can be located (1: inherited handle, 2: drop of the inherited iterator, 3: a new one).
fn child(signals: &mut Option<Signals>, handle: &Handle, ctx: &Ctx, plant: bool) -> i32 {
    let stage = |s: u64| ctx.row[STAGE].store(s, SeqCst);
    stage(0);
    if plant {
        loop {
            // The planted fault: this child never exits (its alarm ends it).
            // SAFETY: pause has no preconditions.
            unsafe { libc::pause() };
        }
    }
    stage(1);
    if handle.add_signal(S3).is_err() || !handle.remove_signal(S3) {
        return 3;
    }
    stage(2);
    drop(signals.take());
    stage(3);
    let Ok(mut fresh) = Signals::new([S2]) else {
        return 4;
    };
    let h = fresh.handle();
    if h.add_signal(S3).is_err() || !h.remove_signal(S3) {
        return 5;
    }
    if sigmux::low_level::raise(S2).is_err() || fresh.forever().next() != Some(S2) {
        return 6;
    }
    stage(0);
    0
}

pub(super) fn judge(c: &[u64; COUNTERS], ending: Ending) -> (String, Vec<String>) {
    let summary = format!(
        "{} children forked while {} add/remove pairs churned, {} exited cleanly, {} hung, {} failed",
        c[FORKS], c[CHURNS], c[OK], c[HUNG], c[FAILED]
    );
    let mut v = Vec::new();
    if c[HUNG] > 0 {
        let at = match c[HUNG_AT] {
            1 => " (last one in add/remove on the inherited handle)",
            2 => " (last one dropping the inherited iterator)",
            3 => " (last one using a new iterator)",
            _ => "",
        };
        v.push(format!(
            "{} of {} forked children hung{}",
            c[HUNG], c[FORKS], at
        ));
    }
    if c[FAILED] > 0 {
        let last = c[LAST_FAILURE];
        v.push(format!(
            "{} forked children failed (last: {})",
            c[FAILED],
            if last >= 1000 {
                format!("killed by {}", super::sig_name((last - 1000) as c_int))
            } else {
                format!("status {}", last)
            }
        ));
    }
    if c[FORKS] == 0 {
        v.push("no child was forked".into());
    }
    v.extend(ending.violation());
    (summary, v)
}
