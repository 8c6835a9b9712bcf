//! Shape `close-after-drop`: [`Handle::close`](sigmux::iterator::Handle::close) called after
//! the delivery it belongs to was dropped, in a process where `SIGPIPE` has its default action
//! (as in a C program, or a Rust one that resets it).
//!
//! Each round creates a delivery watching `SIGUSR1` — in turn the adapters' machinery
//! (`iterator::backend::SignalDelivery` over `backend::self_pipe`), `sigmux_mio::v1_0::Signals`
//! and the blocking `iterator::Signals` —, receives a raised `SIGUSR1`, keeps a [`Handle`],
//! drops the delivery, then calls `close()` on the handle; the handle must report closed and
//! refuse `add_signal`. Meanwhile a thread sends `SIGUSR1` to the process. Invariant: the
//! process survives (a `close` must not write into a pipe nobody reads any more).
//!
//! Negative control (faults injected): `close()` comes before the drop, and after 50 rounds
//! the process writes into a pipe whose read end is closed (it must then be reported killed by
//! `SIGPIPE`).

use std::os::unix::io::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;
use sigmux::iterator::backend::{self, Handle, SignalDelivery};
use sigmux::iterator::exfiltrator::SignalOnly;
use sigmux::iterator::Signals;

use super::{Ctx, Ending, COUNTERS};

const ROUNDS: usize = 0;
/// Rounds per kind of delivery (1 + kind).
const PER_KIND: usize = 1;
/// The kind of delivery of the round in progress, plus one (0: between rounds).
const IN_CLOSE: usize = 4;
const WRONG: usize = 5;

const KINDS: [&str; 3] = [
    "backend::SignalDelivery over self_pipe",
    "sigmux_mio::v1_0::Signals",
    "iterator::Signals",
];

const SIG: c_int = libc::SIGUSR1;

/// Makes a delivery of `kind`, receives one raised signal through it, and returns a handle to
/// it after dropping it (closed before the drop if `close_first`).
fn dropped_delivery(kind: usize, close_first: bool) -> Option<Handle> {
    let raise = || sigmux::low_level::raise(SIG).ok();
    let keep = |h: Handle| {
        if close_first {
            h.close();
        }
        Some(h)
    };
    match kind {
        0 => {
            let (read, write) = backend::self_pipe().ok()?;
            let mut d =
                SignalDelivery::<OwnedFd, SignalOnly>::with_pipe(read, write, SignalOnly, [SIG])
                    .ok()?;
            raise()?;
            let _ = d.pending().count();
            keep(d.handle())
        }
        1 => {
            let mut s = sigmux_mio::v1_0::Signals::new([SIG]).ok()?;
            raise()?;
            let _ = s.pending().count();
            keep(s.handle())
        }
        _ => {
            let mut s = Signals::new([SIG]).ok()?;
            raise()?;
            let _ = s.pending().count();
            keep(s.handle())
        }
    }
}

/// Writes into a pipe whose read end is closed: `SIGPIPE`, the planted fault.
fn planted_sigpipe() {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return;
    }
    // SAFETY: both descriptors were just created and belong to nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    // SAFETY: a one-byte buffer on a descriptor we own.
    unsafe { libc::write(fds[1], [0u8].as_ptr().cast(), 1) };
    drop(write);
}

pub(super) fn run(ctx: &Ctx) -> i32 {
    // Rust programs start with SIGPIPE ignored; C programs, and many others, do not.
    // SAFETY: nothing in this process has a handler for SIGPIPE.
    if unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) } == libc::SIG_ERR {
        return 2;
    }
    // sigmux's handler is installed (and kept) before the sender starts, so a stray SIGUSR1
    // never meets its default action.
    if dropped_delivery(0, true).is_none() {
        return 3;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            while !stop.load(SeqCst) {
                // SAFETY: kill and getpid have no memory-safety preconditions.
                unsafe { libc::kill(libc::getpid(), SIG) };
                thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let mut rounds = 0u64;
    let mut code = 0;
    while Instant::now() < ctx.end {
        let kind = (rounds % KINDS.len() as u64) as usize;
        let Some(handle) = dropped_delivery(kind, ctx.faults) else {
            code = 4;
            break;
        };
        if !ctx.faults {
            ctx.row[IN_CLOSE].store(kind as u64 + 1, SeqCst);
            handle.close();
            ctx.row[IN_CLOSE].store(0, SeqCst);
        }
        if !handle.is_closed() || handle.add_signal(SIG).is_ok() {
            ctx.row[WRONG].fetch_add(1, SeqCst);
        }
        rounds += 1;
        ctx.row[ROUNDS].store(rounds, SeqCst);
        ctx.row[PER_KIND + kind].fetch_add(1, SeqCst);
        if ctx.faults && rounds == 50 {
            planted_sigpipe();
        }
        thread::sleep(Duration::from_micros(200));
    }
    stop.store(true, SeqCst);
    let _ = sender.join();
    code
}

pub(super) fn judge(c: &[u64; COUNTERS], ending: Ending) -> (String, Vec<String>) {
    let summary =
        format!(
        "{} rounds of close() after drop ({}: {}, {}: {}, {}: {}), SIGPIPE at its default action",
        c[ROUNDS], KINDS[0], c[PER_KIND], KINDS[1], c[PER_KIND + 1], KINDS[2], c[PER_KIND + 2]
    );
    let mut v = Vec::new();
    if let Ending::Signaled(sig) = ending {
        let during = match c[IN_CLOSE] {
            0 => " (outside close())".to_string(),
            k => format!(
                " in close() after dropping a {}",
                KINDS.get(k as usize - 1).unwrap_or(&"?")
            ),
        };
        v.push(format!(
            "the process died by {} after {} rounds{}",
            super::sig_name(sig),
            c[ROUNDS],
            during
        ));
    } else {
        v.extend(ending.violation());
    }
    if c[WRONG] > 0 {
        v.push(format!(
            "{} handles not closed, or accepting add_signal, after close()",
            c[WRONG]
        ));
    }
    (summary, v)
}
