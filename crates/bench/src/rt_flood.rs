//! Real-time flood: another process `sigqueue`s payloads `0..N` of one real-time signal,
//! paced in bursts, while the receiver reads. Who gets every payload, in order, and at what
//! cost per delivery?
//!
//! * `sigmux`: the blocking iterator with the `Lossless` exfiltrator (capacity = N, so at
//!   least any burst);
//! * `raw`: the floor, a hand-written `SA_SIGINFO` handler pushing `si_value` into a static
//!   ring that the reader drains;
//! * `signalfd`: the signal blocked and read from a `signalfd` (the kernel's own queue);
//! * `signal-hook`: `SignalsInfo<WithRawSiginfo>` of signal-hook 0.4.6 (keeps a few
//!   `siginfo_t` per signal between two looks, drops the rest).
//!
//! Each runs in a fresh pinned child; the sender is its forked grandchild (same CPU). The
//! cost is the receiving thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`: handler runs, kernel
//! delivery and reading) from the first send to the last item, per payload received.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use libc::c_int;

use serde_json::{json, Map, Value};

use crate::child::{self, arg};
use crate::report::{self, num, SectionResult, Table};
use crate::{sys, Opts};

/// The implementations, as named in the JSON object.
const IMPLS: [&str; 4] = ["sigmux", "raw", "signalfd", "signal-hook"];

/// Signals per burst, and the pause between bursts.
const BURST: usize = 256;
const PAUSE_US: u64 = 100;

/// How long the reader waits for more after the sender has finished.
const IDLE_MS: u64 = 200;

fn signal() -> c_int {
    libc::SIGRTMIN() + 2
}

pub(crate) fn run(opts: &Opts) -> SectionResult {
    let count: usize = if opts.quick { 20_000 } else { 100_000 };
    let mut table = Table::new(
        format!(
            "Real-time flood: {} sigqueue payloads from another process, bursts of {BURST}",
            report::count(count)
        ),
        vec![
            "implementation",
            "received",
            "lost",
            "out of order",
            "CPU per delivery",
        ],
    );
    let mut json = Map::new();
    let mut cost = std::collections::HashMap::new();
    let mut losses = Vec::new();
    for name in IMPLS {
        let args = child::args(&[&"rt_flood", &name, &count]);
        let (row, value) = match child::run(opts, &args) {
            Ok(v) if v.len() == 5 => {
                cost.insert(name, v[4]);
                losses.push(format!("{name} {}", v[2]));
                (
                    vec![
                        name.to_string(),
                        format!("{}", v[1]),
                        format!("{}", v[2]),
                        format!("{}", v[3]),
                        report::ns(v[4]),
                    ],
                    json!({
                        "sent": num(v[0]),
                        "received": num(v[1]),
                        "lost": num(v[2]),
                        "out_of_order": num(v[3]),
                        "ns_per_delivery": num(v[4]),
                    }),
                )
            }
            other => {
                let why = format!("{other:?}");
                (
                    vec![
                        name.to_string(),
                        format!("failed: {why}"),
                        String::new(),
                        String::new(),
                        String::new(),
                    ],
                    json!({ "error": why }),
                )
            }
        };
        table.rows.push(row);
        json.insert(name.to_string(), value);
    }
    let ratio = match (cost.get("sigmux"), cost.get("raw")) {
        (Some(s), Some(r)) if *r > 0.0 => s / r,
        _ => f64::NAN,
    };
    table.notes.push(format!(
        "One fresh pinned child per implementation; the sender is its forked grandchild on the \
         same CPU, sending payloads 0..N with sigqueue (retrying on EAGAIN) in bursts of {BURST} \
         with {PAUSE_US} µs pauses. \"lost\" is sent − received (sigmux also reports its losses \
         itself); \"out of order\" counts payloads smaller than one received before. CPU per \
         delivery is the receiving thread's CPU time from the first send to the last item, per \
         payload received. sigmux/raw: {}.",
        report::ratio(ratio)
    ));
    let highlight = format!(
        "Real-time flood of {} sigqueue payloads: lost {}; sigmux's lossless mode costs {} the \
         raw SA_SIGINFO ring floor per delivery.",
        report::count(count),
        losses.join(", "),
        report::ratio(ratio)
    );
    SectionResult {
        tables: vec![table],
        json: Value::Object(json),
        highlights: vec![highlight],
    }
}

/// Forks the sender: payloads `0..count` of `sig` to `to`, paced. Only async-signal-safe
/// calls in the child.
fn fork_sender(to: libc::pid_t, sig: c_int, count: usize) -> io::Result<libc::pid_t> {
    // SAFETY: the child only calls async-signal-safe functions and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid > 0 {
        return Ok(pid);
    }
    let pause = libc::timespec {
        tv_sec: 0,
        tv_nsec: (PAUSE_US * 1000) as libc::c_long,
    };
    for i in 0..count {
        let value = libc::sigval {
            sival_ptr: i as *mut libc::c_void,
        };
        // SAFETY: sigqueue has no memory-safety preconditions.
        while unsafe { libc::sigqueue(to, sig, value) } != 0 {
            // SAFETY: errno is this thread's and always readable.
            if unsafe { *libc::__errno_location() } != libc::EAGAIN {
                // SAFETY: leaving the forked child.
                unsafe { libc::_exit(2) };
            }
            // SAFETY: sched_yield has no preconditions.
            unsafe { libc::sched_yield() };
        }
        if i % BURST == BURST - 1 {
            // SAFETY: `pause` is a valid timespec.
            unsafe { libc::nanosleep(&pause, std::ptr::null_mut()) };
        }
    }
    // SAFETY: leaving the forked child without running the parent's destructors.
    unsafe { libc::_exit(0) }
}

/// Whether the sender has exited (reaps it).
fn exited(pid: libc::pid_t) -> bool {
    let mut status = 0;
    // SAFETY: polling our own child.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) == pid }
}

/// What the reader saw.
#[derive(Default)]
struct Tally {
    received: usize,
    reported_lost: usize,
    out_of_order: usize,
    highest: Option<usize>,
    cpu_at_last: u64,
}

impl Tally {
    fn got(&mut self, payload: usize) {
        self.received += 1;
        match self.highest {
            Some(h) if payload < h => self.out_of_order += 1,
            _ => self.highest = Some(payload),
        }
        self.cpu_at_last = sys::thread_cpu_ns();
    }
}

/// Child: `IMPL COUNT` → `[sent, received, lost, out of order, ns per delivery]`.
pub(crate) fn child(args: &[String]) -> io::Result<Vec<f64>> {
    let name: String = arg(args, 0)?;
    let count: usize = arg(args, 1)?;
    let sig = signal();
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    let mut tally = Tally::default();
    let start;
    match name.as_str() {
        "sigmux" => {
            use sigmux::iterator::exfiltrator::lossless::{Lossless, Record};
            let mut signals =
                sigmux::iterator::SignalsInfo::with_exfiltrator([sig], Lossless::new(count))?;
            start = sys::thread_cpu_ns();
            let sender = fork_sender(me, sig, count)?;
            let mut done = false;
            let mut idle_since = None;
            while !done {
                let mut any = false;
                for record in signals.pending() {
                    any = true;
                    match record {
                        Record::Delivered(d) => tally.got(d.value.map_or(0, |v| v.ptr)),
                        Record::Lost(l) => tally.reported_lost += l.count,
                        _ => {}
                    }
                }
                if tally.received + tally.reported_lost >= count {
                    break;
                }
                if !any {
                    done = wait_or_idle(sender, &mut idle_since);
                    if !done && idle_since.is_none() {
                        // Sleep until the next delivery (or the idle check).
                        for record in signals.wait() {
                            match record {
                                Record::Delivered(d) => tally.got(d.value.map_or(0, |v| v.ptr)),
                                Record::Lost(l) => tally.reported_lost += l.count,
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        "raw" => {
            sys::install(sig, raw_ring_handler)?;
            start = sys::thread_cpu_ns();
            let sender = fork_sender(me, sig, count)?;
            let mut idle_since = None;
            loop {
                let mut any = false;
                while let Some(payload) = raw_ring_pop() {
                    any = true;
                    tally.got(payload);
                }
                if tally.received + RAW_LOST.load(Ordering::SeqCst) >= count {
                    break;
                }
                if !any {
                    if wait_or_idle(sender, &mut idle_since) {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
            tally.reported_lost = RAW_LOST.load(Ordering::SeqCst);
        }
        "signalfd" => {
            sys::block(&[sig])?;
            let fd = sys::signalfd(&[sig])?;
            start = sys::thread_cpu_ns();
            let sender = fork_sender(me, sig, count)?;
            // SAFETY: an all-zero signalfd_siginfo is a valid value.
            let mut buf: [libc::signalfd_siginfo; 64] = unsafe { std::mem::zeroed() };
            while tally.received < count {
                // SAFETY: the buffer is valid for its whole size.
                let n =
                    unsafe { libc::read(fd, buf.as_mut_ptr().cast(), std::mem::size_of_val(&buf)) };
                if n < 0 {
                    let err = io::Error::last_os_error();
                    if err.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(err);
                }
                let items = n as usize / std::mem::size_of::<libc::signalfd_siginfo>();
                for info in &buf[..items] {
                    tally.got(info.ssi_ptr as usize);
                }
            }
            while !exited(sender) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        "signal-hook" => {
            use signal_hook::iterator::exfiltrator::WithRawSiginfo;
            let mut signals = signal_hook::iterator::SignalsInfo::<WithRawSiginfo>::new([sig])?;
            start = sys::thread_cpu_ns();
            let sender = fork_sender(me, sig, count)?;
            let mut idle_since = None;
            loop {
                let mut any = false;
                for info in signals.pending() {
                    any = true;
                    // SAFETY: a sigqueue'd siginfo_t has si_value filled in.
                    let payload = unsafe { info.si_value() }.sival_ptr as usize;
                    tally.got(payload);
                }
                if tally.received >= count {
                    break;
                }
                if !any {
                    if wait_or_idle(sender, &mut idle_since) {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown implementation {other:?}"),
            ))
        }
    }
    let cpu = tally.cpu_at_last.saturating_sub(start) as f64;
    let lost = count.saturating_sub(tally.received);
    if tally.reported_lost != 0 && tally.reported_lost != lost {
        return Err(io::Error::other(format!(
            "reported {} lost, missing {}",
            tally.reported_lost, lost
        )));
    }
    Ok(vec![
        count as f64,
        tally.received as f64,
        lost as f64,
        tally.out_of_order as f64,
        cpu / tally.received.max(1) as f64,
    ])
}

/// True once the sender has exited and nothing came for [`IDLE_MS`].
fn wait_or_idle(sender: libc::pid_t, idle_since: &mut Option<std::time::Instant>) -> bool {
    match idle_since {
        Some(since) => since.elapsed() >= Duration::from_millis(IDLE_MS),
        None => {
            if exited(sender) {
                *idle_since = Some(std::time::Instant::now());
            }
            false
        }
    }
}

/// The floor's ring: one producer (the handler, on the receiving thread), one consumer.
const RAW_CAP: usize = 1 << 17;
static RAW_RING: [AtomicUsize; RAW_CAP] = [const { AtomicUsize::new(0) }; RAW_CAP];
static RAW_HEAD: AtomicUsize = AtomicUsize::new(0);
static RAW_TAIL: AtomicUsize = AtomicUsize::new(0);
static RAW_LOST: AtomicUsize = AtomicUsize::new(0);

/// The hand-written floor: pushes `si_value` into the static ring. Async-signal-safe
/// (atomics only, index reduced modulo the length and read with `get`).
extern "C" fn raw_ring_handler(_: c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t for an SA_SIGINFO handler, and a
    // sigqueue'd one has si_value filled in.
    let payload = unsafe { (*info).si_value().sival_ptr } as usize;
    let tail = RAW_TAIL.load(Ordering::Relaxed);
    if tail.wrapping_sub(RAW_HEAD.load(Ordering::Acquire)) >= RAW_CAP {
        RAW_LOST.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if let Some(cell) = RAW_RING.get(tail % RAW_CAP) {
        cell.store(payload, Ordering::Relaxed);
    }
    RAW_TAIL.store(tail.wrapping_add(1), Ordering::Release);
}

fn raw_ring_pop() -> Option<usize> {
    let head = RAW_HEAD.load(Ordering::Relaxed);
    if head == RAW_TAIL.load(Ordering::Acquire) {
        return None;
    }
    let value = RAW_RING.get(head % RAW_CAP)?.load(Ordering::Relaxed);
    RAW_HEAD.store(head.wrapping_add(1), Ordering::Release);
    Some(value)
}
