//! Child processes: how long from a child's exit until the watcher learns it, and what
//! watching costs per child, for N children that exit at the same moment.
//!
//! Every child is this binary re-executed as an *exiter*: it blocks reading its stdin (one
//! pipe shared by all N), and when the measuring process closes the write end they all
//! wake, each writes its `CLOCK_MONOTONIC` time into a shared memfd at its own slot and
//! `_exit`s with a known status. The watcher notes the time it learns each exit; the
//! difference is the latency (it includes the kernel's process teardown, the same for
//! every implementation). The exiters run pinned to another CPU than the watcher, so the
//! watcher's CPU is its own. Cost is the measuring process's CPU time (all its threads) from
//! just before the watching starts until every exit is known, divided by N; spawning the
//! children is not counted (tokio::process registers a child inside its `spawn`, so its
//! registration is not counted either).
//!
//! Implementations: `sigmux::child::Children` (pidfd, the SIGCHLD fallback, pidfd driven by
//! a tokio `AsyncFd`, and its runtime-agnostic `exit()` future awaited on tokio), `tokio::process::Child::wait` (one task per child,
//! current-thread runtime), std's `Child::wait` on a thread per child, and a raw
//! `SIGCHLD` handler + self-pipe + `waitpid(-1, WNOHANG)` loop (which a library must not do,
//! shown as the floor).
//!
//! (Over 500 lines: one section of the benchmark, its four implementations side by side so
//! that they are measured the same way.)

use std::collections::HashMap;
use std::io;
use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Command, Stdio};
use std::sync::Arc;

use sigmux::child::{Children, Mechanism, Options};

use serde_json::{json, Value};

use crate::child::{self, arg};
use crate::report::{self, num, SectionResult, Table};
use crate::stats::{self, Spread};
use crate::{sys, Opts};

/// One way of learning children's exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watcher {
    SigmuxPidfd,
    SigmuxSigchld,
    SigmuxTokio,
    SigmuxFuture,
    TokioProcess,
    StdThreads,
    RawSigchld,
}

impl Watcher {
    const ALL: [Watcher; 7] = [
        Watcher::SigmuxPidfd,
        Watcher::SigmuxSigchld,
        Watcher::SigmuxTokio,
        Watcher::SigmuxFuture,
        Watcher::TokioProcess,
        Watcher::StdThreads,
        Watcher::RawSigchld,
    ];

    fn name(self) -> &'static str {
        match self {
            Watcher::SigmuxPidfd => "sigmux::child (pidfd)",
            Watcher::SigmuxSigchld => "sigmux::child (SIGCHLD)",
            Watcher::SigmuxTokio => "sigmux::child + tokio AsyncFd",
            Watcher::SigmuxFuture => "sigmux::child exit() on tokio",
            Watcher::TokioProcess => "tokio::process",
            Watcher::StdThreads => "std, thread per child",
            Watcher::RawSigchld => "raw SIGCHLD + waitpid(-1)",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Watcher::SigmuxPidfd => "sigmux-pidfd",
            Watcher::SigmuxSigchld => "sigmux-sigchld",
            Watcher::SigmuxTokio => "sigmux-tokio-asyncfd",
            Watcher::SigmuxFuture => "sigmux-future",
            Watcher::TokioProcess => "tokio-process",
            Watcher::StdThreads => "std-thread-per-child",
            Watcher::RawSigchld => "raw-sigchld-waitpid",
        }
    }

    fn parse(s: &str) -> Option<Watcher> {
        Watcher::ALL.into_iter().find(|w| w.key() == s)
    }
}

/// Values a measuring child prints.
const P50: usize = 0;
const P99: usize = 1;
const CPU: usize = 2;
const WALL: usize = 3;
const REPORTED: usize = 4;
const CORRECT: usize = 5;

pub(crate) fn run(opts: &Opts) -> SectionResult {
    let sizes: &[usize] = if opts.quick {
        &[1, 10, 50]
    } else {
        &[1, 100, 1000]
    };
    let rounds = if opts.quick { 1 } else { 5 };
    // Enough exits per measuring child for a p99 at small N.
    let samples = if opts.quick { 20 } else { 300 };
    let mut table = Table::new(
        "Child exits: N children exit at once; time until the watcher learns each, and cost",
        vec![
            "N",
            "implementation",
            "exit → learned p50",
            "p99",
            "CPU per child",
            "all learned after",
            "p50 vs tokio",
            "CPU vs thread-per-child",
            "reported / right status",
        ],
    );
    let mut json = Vec::new();
    let mut highlights = Vec::new();
    let mut target_tokio = Vec::new();
    let mut target_threads = None;
    for &n in sizes {
        let reps = (samples / n).max(1);
        let runs = child::Runs::interleaved(opts, rounds, Watcher::ALL.len(), |k| {
            child::args(&[&"children", &Watcher::ALL[k].key(), &n, &reps])
        });
        let med = |k: usize, v: usize| stats::median(&runs.series(k, v));
        let idx = |w: Watcher| Watcher::ALL.iter().position(|&x| x == w).unwrap_or(0);
        let tokio_p50 = runs.series(idx(Watcher::TokioProcess), P50);
        let threads_cpu = runs.series(idx(Watcher::StdThreads), CPU);
        for (k, w) in Watcher::ALL.into_iter().enumerate() {
            let error = runs.error(k);
            let p50 = Spread::of(&runs.series(k, P50));
            let vs_tokio = Spread::of(&stats::ratios(&runs.series(k, P50), &tokio_p50));
            let vs_threads = Spread::of(&stats::ratios(&runs.series(k, CPU), &threads_cpu));
            let reported = med(k, REPORTED);
            let correct = med(k, CORRECT);
            table.rows.push(vec![
                report::count(n),
                w.name().to_string(),
                report::ns_spread(p50, error.as_ref()),
                report::ns(med(k, P99)),
                report::ns(med(k, CPU)),
                format!("{:.2} ms", med(k, WALL)),
                report::spread(vs_tokio),
                report::spread(vs_threads),
                format!("{} / {}", reported, correct),
            ]);
            json.push(json!({
                "n": n,
                "impl": w.key(),
                "latency_p50_ns": report::spread_json(p50),
                "latency_p99_ns": num(med(k, P99)),
                "cpu_per_child_ns": num(med(k, CPU)),
                "all_learned_ms": num(med(k, WALL)),
                "p50_vs_tokio": report::spread_json(vs_tokio),
                "cpu_vs_thread_per_child": report::spread_json(vs_threads),
                "reported": num(reported),
                "right_status": num(correct),
                "error": error,
            }));
            if w == Watcher::SigmuxPidfd {
                target_tokio.push((n, vs_tokio.med));
                if n == *sizes.last().unwrap_or(&n) {
                    target_threads = Some((n, vs_threads.med));
                }
            }
        }
    }
    table.notes.push(format!(
        "{rounds} round(s) of fresh pinned processes per implementation and N, interleaved \
         (the exiting children pinned to another CPU); \
         each runs max(1, {samples} / N) batches and reports its own p50/p99. Latency: the \
         exiting child's clock just before `_exit` to the watcher's clock when it learns the \
         exit (includes process teardown). CPU: the watcher process, all threads, from before \
         watching to the last exit, per child (spawning not counted; tokio's registration \
         happens inside its spawn and is therefore not counted). Ratios per round, median \
         (min–max)."
    ));
    let tokio_ok = target_tokio.iter().all(|(_, r)| *r <= 1.0);
    highlights.push(format!(
        "Child exits, sigmux::child (pidfd) exit → learned p50 vs tokio::process at N = {}: \
         target ≤ 1.00× at every N — {}.{}",
        target_tokio
            .iter()
            .map(|(n, r)| format!("{} {}", report::count(*n), report::ratio(*r)))
            .collect::<Vec<_>>()
            .join(", "),
        if tokio_ok { "met" } else { "NOT met" },
        match target_threads {
            Some((n, r)) => format!(
                " CPU per child vs std thread-per-child at N = {}: {} (target < 1.00× — {}).",
                report::count(n),
                report::ratio(r),
                if r < 1.0 { "met" } else { "NOT met" }
            ),
            None => String::new(),
        }
    ));
    SectionResult {
        tables: vec![table],
        json: Value::Array(json),
        highlights,
    }
}

fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out- and in-pointers.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max.min(1 << 16);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// The expected exit status of exiter `i`.
fn code_of(i: usize) -> i32 {
    (i % 200) as i32
}

/// The exiter's command (this binary, hidden subcommand), reading the gate on stdin.
/// The CPU the exiters pin themselves to: the one after the watcher's, so the watcher does
/// not share its CPU with a thousand exiting processes (the latency would then measure the
/// scheduler's share more than the watcher); `-` (unpinned) on a single-CPU machine.
fn exiter_cpu() -> &'static str {
    static CPU: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CPU.get_or_init(|| {
        // SAFETY: sysconf has no memory-safety preconditions.
        let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        match (sys::first_allowed_cpu(), usize::try_from(online)) {
            (Some(watcher), Ok(online)) if online > 1 => ((watcher + 1) % online).to_string(),
            _ => "-".to_string(),
        }
    })
}

fn exiter(memfd: RawFd, i: usize, gate: &OwnedFd) -> io::Result<Command> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([
        child::SUBCOMMAND,
        exiter_cpu(),
        "children-exit",
        &memfd.to_string(),
        &i.to_string(),
    ])
    .stdin(Stdio::from(gate.try_clone()?))
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    Ok(cmd)
}

/// Exiter: `MEMFD INDEX`. Waits for end of file on stdin, writes its exit time into slot
/// INDEX of the memfd and exits with `code_of(INDEX)`.
pub(crate) fn exit_child(args: &[String]) -> io::Result<Vec<f64>> {
    let fd: RawFd = arg(args, 0)?;
    let i: usize = arg(args, 1)?;
    let mut buf = [0u8; 16];
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let r = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        if r == 0 || (r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted) {
            break;
        }
    }
    let t = sys::mono_ns().to_ne_bytes();
    // SAFETY: writes 8 valid bytes; then leaves at once.
    unsafe {
        libc::pwrite(fd, t.as_ptr().cast(), 8, (i * 8) as libc::off_t);
        libc::_exit(code_of(i));
    }
}

/// Measuring child: `WATCHER N REPS` → `[p50 ns, p99 ns, CPU ns per child, ms until all
/// learned (median batch), exits reported per batch, with the right status]`.
pub(crate) fn child(args: &[String]) -> io::Result<Vec<f64>> {
    let w: String = arg(args, 0)?;
    let w = Watcher::parse(&w)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unknown watcher"))?;
    let n: usize = arg(args, 1)?;
    let reps: usize = arg(args, 2)?;
    raise_nofile();
    // SAFETY: a name and no flags: the descriptor is inherited by the exiters on purpose.
    let memfd = cvt(unsafe { libc::memfd_create(c"exits".as_ptr(), 0) })?;
    // SAFETY: a new descriptor owned by nobody else.
    let memfd = unsafe { OwnedFd::from_raw_fd(memfd) };
    // SAFETY: plain system call on our descriptor.
    cvt(unsafe { libc::ftruncate(memfd.as_raw_fd(), (n * 8) as libc::off_t) })?;
    if w == Watcher::RawSigchld {
        raw::install()?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Made once per process, like the runtime: a program keeps one watcher.
    let watcher = match w {
        Watcher::SigmuxPidfd => Some(Arc::new(Children::with_options(
            Options::new().mechanism(Mechanism::Pidfd),
        )?)),
        Watcher::SigmuxSigchld => Some(Arc::new(Children::with_options(
            Options::new().mechanism(Mechanism::Sigchld),
        )?)),
        Watcher::SigmuxTokio | Watcher::SigmuxFuture => Some(Arc::new(Children::new()?)),
        _ => None,
    };
    let async_fd = match (&watcher, w) {
        (Some(c), Watcher::SigmuxTokio) => {
            let _in_runtime = rt.enter();
            // SAFETY: a `Children` keeps its descriptor open, and the same, while it lives;
            // the `AsyncFd` keeps it alive through the `Arc`.
            Some(
                unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        Arc::clone(c),
                        tokio::io::Interest::READABLE,
                    )
                }
                .map_err(io::Error::from)?,
            )
        }
        _ => None,
    };
    let (mut lat, mut cpu, mut wall) = (Vec::new(), Vec::new(), Vec::new());
    let (mut reported, mut correct) = (0usize, 0usize);
    for _ in 0..reps {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
        // SAFETY: fresh descriptors owned by nobody else.
        let (gate_r, gate_w) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let batch = match w {
            Watcher::TokioProcess => {
                rt.block_on(tokio_batch(memfd.as_raw_fd(), n, gate_r, gate_w))?
            }
            Watcher::SigmuxFuture => match &watcher {
                Some(c) => {
                    rt.block_on(sigmux_future_batch(c, memfd.as_raw_fd(), n, gate_r, gate_w))?
                }
                None => return Err(io::Error::other("no watcher")),
            },
            Watcher::SigmuxTokio => match &async_fd {
                Some(fd) => {
                    rt.block_on(sigmux_tokio_batch(fd, memfd.as_raw_fd(), n, gate_r, gate_w))?
                }
                None => return Err(io::Error::other("no AsyncFd")),
            },
            _ => blocking_batch(w, watcher.as_deref(), memfd.as_raw_fd(), n, gate_r, gate_w)?,
        };
        let mut exits = vec![0u8; n * 8];
        // SAFETY: `exits` is valid for writes of its length.
        let got = unsafe { libc::pread(memfd.as_raw_fd(), exits.as_mut_ptr().cast(), n * 8, 0) };
        if got != (n * 8) as isize {
            return Err(io::Error::other("short read of the exit times"));
        }
        let exit_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&exits[i * 8..i * 8 + 8]);
            u64::from_ne_bytes(b)
        };
        for &(i, code, learned) in &batch.learned {
            lat.push(learned.saturating_sub(exit_at(i)) as f64);
            reported += 1;
            if code == Some(code_of(i)) {
                correct += 1;
            }
        }
        cpu.push(batch.cpu_ns as f64 / n as f64);
        wall.push(batch.wall_ns as f64 / 1e6);
    }
    Ok(vec![
        stats::quantile(&lat, 0.5),
        stats::quantile(&lat, 0.99),
        stats::median(&cpu),
        stats::median(&wall),
        (reported / reps) as f64,
        (correct / reps) as f64,
    ])
}

/// One batch's results: `(index, exit code, learned at)` per child.
struct Batch {
    learned: Vec<(usize, Option<i32>, u64)>,
    cpu_ns: u64,
    wall_ns: u64,
}

fn spawn_all(memfd: RawFd, n: usize, gate: &OwnedFd) -> io::Result<Vec<std::process::Child>> {
    (0..n).map(|i| exiter(memfd, i, gate)?.spawn()).collect()
}

fn blocking_batch(
    w: Watcher,
    children: Option<&Children>,
    memfd: RawFd,
    n: usize,
    gate_r: OwnedFd,
    gate_w: OwnedFd,
) -> io::Result<Batch> {
    let kids = spawn_all(memfd, n, &gate_r)?;
    drop(gate_r);
    let index: HashMap<u32, usize> = kids.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    let mut learned = Vec::with_capacity(n);
    let cpu0 = process_cpu_ns();
    let (t0, cpu1);
    match w {
        Watcher::SigmuxPidfd | Watcher::SigmuxSigchld => {
            let children = children.ok_or_else(|| io::Error::other("no watcher"))?;
            for kid in kids {
                children.watch(kid)?;
            }
            t0 = sys::mono_ns();
            drop(gate_w);
            for exit in children {
                let exit = exit?;
                let at = sys::mono_ns();
                learned.push((index[&exit.pid()], exit.status().code(), at));
            }
            cpu1 = process_cpu_ns();
        }
        Watcher::StdThreads => {
            let threads: Vec<_> = kids
                .into_iter()
                .map(|mut kid| {
                    let i = index[&kid.id()];
                    std::thread::Builder::new()
                        .stack_size(64 * 1024)
                        .spawn(move || {
                            let status = kid.wait();
                            (i, status.ok().and_then(|s| s.code()), sys::mono_ns())
                        })
                })
                .collect::<io::Result<_>>()?;
            t0 = sys::mono_ns();
            drop(gate_w);
            for t in threads {
                learned.push(t.join().map_err(|_| io::Error::other("waiter panicked"))?);
            }
            cpu1 = process_cpu_ns();
        }
        Watcher::RawSigchld => {
            // std's `Child` never waits on drop: the raw loop reaps them.
            drop(kids);
            t0 = sys::mono_ns();
            drop(gate_w);
            while learned.len() < n {
                raw::wait_ready()?;
                while let Some((pid, code)) = raw::reap_any()? {
                    let at = sys::mono_ns();
                    if let Some(&i) = index.get(&pid) {
                        learned.push((i, code, at));
                    }
                }
            }
            cpu1 = process_cpu_ns();
        }
        Watcher::SigmuxTokio | Watcher::SigmuxFuture | Watcher::TokioProcess => {
            unreachable!("async batches")
        }
    }
    let wall = learned.iter().map(|l| l.2).max().unwrap_or(t0) - t0;
    Ok(Batch {
        learned,
        cpu_ns: cpu1 - cpu0,
        wall_ns: wall,
    })
}

async fn tokio_batch(
    memfd: RawFd,
    n: usize,
    gate_r: OwnedFd,
    gate_w: OwnedFd,
) -> io::Result<Batch> {
    let mut kids = Vec::with_capacity(n);
    for i in 0..n {
        let cmd = exiter(memfd, i, &gate_r)?;
        kids.push((i, tokio::process::Command::from(cmd).spawn()?));
    }
    drop(gate_r);
    let cpu0 = process_cpu_ns();
    let mut set = tokio::task::JoinSet::new();
    for (i, mut kid) in kids {
        set.spawn(async move {
            let status = kid.wait().await;
            (i, status.ok().and_then(|s| s.code()), sys::mono_ns())
        });
    }
    let t0 = sys::mono_ns();
    drop(gate_w);
    let mut learned = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        learned.push(r.map_err(io::Error::other)?);
    }
    let cpu1 = process_cpu_ns();
    let wall = learned.iter().map(|l| l.2).max().unwrap_or(t0) - t0;
    Ok(Batch {
        learned,
        cpu_ns: cpu1 - cpu0,
        wall_ns: wall,
    })
}

async fn sigmux_tokio_batch(
    fd: &tokio::io::unix::AsyncFd<Arc<Children>>,
    memfd: RawFd,
    n: usize,
    gate_r: OwnedFd,
    gate_w: OwnedFd,
) -> io::Result<Batch> {
    let children = fd.get_ref();
    let kids = spawn_all(memfd, n, &gate_r)?;
    drop(gate_r);
    let index: HashMap<u32, usize> = kids.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    let cpu0 = process_cpu_ns();
    for kid in kids {
        children.watch(kid)?;
    }
    let t0 = sys::mono_ns();
    drop(gate_w);
    let mut learned = Vec::with_capacity(n);
    while learned.len() < n {
        while let Some(exit) = children.try_wait()? {
            let at = sys::mono_ns();
            learned.push((index[&exit.pid()], exit.status().code(), at));
        }
        if learned.len() == n {
            break;
        }
        let mut ready = fd.readable().await?;
        match children.try_wait()? {
            Some(exit) => {
                let at = sys::mono_ns();
                learned.push((index[&exit.pid()], exit.status().code(), at));
            }
            None => ready.clear_ready(),
        }
    }
    let cpu1 = process_cpu_ns();
    let wall = learned.iter().map(|l| l.2).max().unwrap_or(t0) - t0;
    Ok(Batch {
        learned,
        cpu_ns: cpu1 - cpu0,
        wall_ns: wall,
    })
}

async fn sigmux_future_batch(
    children: &Children,
    memfd: RawFd,
    n: usize,
    gate_r: OwnedFd,
    gate_w: OwnedFd,
) -> io::Result<Batch> {
    let kids = spawn_all(memfd, n, &gate_r)?;
    drop(gate_r);
    let index: HashMap<u32, usize> = kids.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    let cpu0 = process_cpu_ns();
    for kid in kids {
        children.watch(kid)?;
    }
    let t0 = sys::mono_ns();
    drop(gate_w);
    let mut learned = Vec::with_capacity(n);
    while let Some(exit) = children.exit().await? {
        let at = sys::mono_ns();
        learned.push((index[&exit.pid()], exit.status().code(), at));
    }
    let cpu1 = process_cpu_ns();
    let wall = learned.iter().map(|l| l.2).max().unwrap_or(t0) - t0;
    Ok(Batch {
        learned,
        cpu_ns: cpu1 - cpu0,
        wall_ns: wall,
    })
}

/// The hand-written floor: a `SIGCHLD` handler writing to a self-pipe, and a
/// `waitpid(-1, WNOHANG)` loop (fine in a program that owns every child; a library must not).
mod raw {
    use std::io;
    use std::sync::atomic::{AtomicI32, Ordering};

    static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
    static READ_FD: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn on_sigchld(_: libc::c_int) {
        let b = 0u8;
        // SAFETY: one valid byte; errors (a full pipe) ignored. Async-signal-safe.
        unsafe {
            libc::write(
                WRITE_FD.load(Ordering::Relaxed),
                (&b as *const u8).cast(),
                1,
            )
        };
    }

    pub(super) fn install() -> io::Result<()> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        super::cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
        READ_FD.store(fds[0], Ordering::Relaxed);
        WRITE_FD.store(fds[1], Ordering::Relaxed);
        // SAFETY: an all-zero sigaction is a valid value; we fill in the handler and flags.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_sigchld as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        // SAFETY: a valid sigaction; the handler is async-signal-safe.
        super::cvt(unsafe { libc::sigaction(libc::SIGCHLD, &sa, std::ptr::null_mut()) })?;
        Ok(())
    }

    /// Blocks until the pipe is readable, then drains it.
    pub(super) fn wait_ready() -> io::Result<()> {
        let fd = READ_FD.load(Ordering::Relaxed);
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 1000) };
        let mut buf = [0u8; 256];
        // SAFETY: `buf` is valid for writes of its length (non-blocking read).
        while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
        Ok(())
    }

    /// One `waitpid(-1, WNOHANG)`.
    pub(super) fn reap_any() -> io::Result<Option<(u32, Option<i32>)>> {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return Ok(None);
        }
        let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        Ok(Some((pid as u32, code)))
    }
}
