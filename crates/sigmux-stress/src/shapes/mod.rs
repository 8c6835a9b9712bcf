//! Attack shapes: scenarios that each found a bug, run in their own forked process.
//!
//! The flood (the rest of the program) checks what holds on average under load. A shape
//! instead builds one precise, hostile situation over and over — a signal frame stacked under
//! another while the last action is restored away, a fork while another thread is inside the
//! iterator's registration, a `close` after the delivery is gone, a chained handler with its
//! own flags — and checks the promise that situation once broke.
//!
//! Each shape runs in a child forked while the program is still single-threaded (so the child
//! starts with a clean sigmux and may run any code), under its own `alarm`; it writes its
//! counts into a shared mapping as it goes, so they survive a child that is killed. The parent
//! waits for it with an absolute deadline (and kills it if it overruns), then judges the counts
//! and how the child ended: a shape can fail by its counts, by dying (e.g. by `SIGPIPE`) or by
//! hanging.
//!
//! With faults injected (`--self-check`), a shape runs as a *negative control*: its attack is
//! left out, so sigmux's bugs cannot break its invariant, and a fault of the kind it must catch
//! is planted instead. The self-check passes only if every shape reports its planted fault: the
//! checks work, whether or not the bugs they hunt are fixed.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;

mod chained_flags;
mod close_after_drop;
mod fork_churn;
mod nested_restore;

/// Counters per shape.
pub(crate) const COUNTERS: usize = 16;
/// One shape's counters in the shared mapping.
pub(crate) type Row = [AtomicU64; COUNTERS];

/// How long the parent waits for a shape beyond the run's duration before killing it.
const GRACE: Duration = Duration::from_secs(40);
/// The `alarm` of a shape's process, beyond the run's duration (less than [`GRACE`], so a
/// hang shows as `SIGALRM`, the child's own watchdog).
const ALARM_SLACK_SECS: u64 = 30;

/// What a shape's process is given.
pub(crate) struct Ctx {
    /// Its counters, shared with the parent.
    pub(crate) row: &'static Row,
    /// When to stop starting new rounds.
    pub(crate) end: Instant,
    /// Run as a negative control: no attack, a planted fault (see the module docs).
    pub(crate) faults: bool,
}

/// How a shape's process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It exited with this status (0: it ran to its end).
    Exited(i32),
    /// A signal killed it (`SIGALRM`: its own watchdog, a hang).
    Signaled(c_int),
    /// It overran the parent's deadline and was killed.
    Overran,
}

impl Ending {
    /// A violation for any ending but a clean exit (each judge adds it, or a more precise one).
    pub(crate) fn violation(self) -> Option<String> {
        match self {
            Ending::Exited(0) => None,
            Ending::Exited(code) => Some(format!("its process exited with status {}", code)),
            Ending::Signaled(libc::SIGALRM) => {
                Some("its process hung (its alarm watchdog fired)".into())
            }
            Ending::Signaled(sig) => Some(format!("its process was killed by {}", sig_name(sig))),
            Ending::Overran => Some("its process hung (killed at the parent's deadline)".into()),
        }
    }
}

/// What the report says about one shape.
#[derive(Debug)]
pub(crate) struct Verdict {
    pub(crate) name: &'static str,
    /// One line of counts.
    pub(crate) summary: String,
    /// Broken invariants (empty: the shape passed).
    pub(crate) violations: Vec<String>,
}

/// A shape: its name (as `--only`/`--skip`/`--xfail` take it), its body (run in the child; its
/// exit status) and its judge (run in the parent on the counts and the ending: a summary line
/// and the violations, including one for an unclean ending).
pub(crate) struct Shape {
    pub(crate) name: &'static str,
    /// The negative control run under `--self-check`: the fault planted in place of the
    /// attack.
    pub(crate) planted: &'static str,
    run: fn(&Ctx) -> i32,
    judge: fn(&[u64; COUNTERS], Ending) -> (String, Vec<String>),
}

/// Every shape, in the order they are reported.
pub(crate) const SHAPES: [Shape; 4] = [
    Shape {
        name: "nested-restore",
        planted: "no nesting; a restored handler that forgets every 50th delivery",
        run: nested_restore::run,
        judge: nested_restore::judge,
    },
    Shape {
        name: "fork-iterator-churn",
        planted: "no churn; the 20th forked child (then every 100th) hangs",
        run: fork_churn::run,
        judge: fork_churn::judge,
    },
    Shape {
        name: "close-after-drop",
        planted: "close() before drop; a write into a pipe nobody reads",
        run: close_after_drop::run,
        judge: close_after_drop::judge,
    },
    Shape {
        name: "chained-flags",
        planted: "no sigmux; the handler without SA_RESETHAND and sa_mask",
        run: chained_flags::run,
        judge: chained_flags::judge,
    },
];

/// The shared counters of every shape.
struct Board {
    rows: [Row; SHAPES.len()],
}

/// Shapes started and not yet judged.
pub(crate) struct Running {
    board: &'static Board,
    children: Vec<(usize, libc::pid_t)>,
    deadline: Instant,
}

/// Forks one process per selected shape (`selected(name)`), each running for `duration`.
/// Call while the program has a single thread.
pub(crate) fn start(duration: Duration, faults: bool, selected: impl Fn(&str) -> bool) -> Running {
    let board = map_board().expect("mmap of the shapes' board");
    let started = Instant::now();
    let alarm = u32::try_from(duration.as_secs() + ALARM_SLACK_SECS).unwrap_or(u32::MAX);
    let mut children = Vec::new();
    for (i, shape) in SHAPES.iter().enumerate() {
        if !selected(shape.name) {
            continue;
        }
        let Some(row) = board.rows.get(i) else {
            continue;
        };
        // SAFETY: the program is single-threaded here (caller contract), so the child is an
        // ordinary copy that may run any code; it leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: alarm has no preconditions; it is this process's watchdog.
            unsafe { libc::alarm(alarm) };
            let ctx = Ctx {
                row,
                end: Instant::now() + duration,
                faults,
            };
            let code = (shape.run)(&ctx);
            // SAFETY: leave without running the parent's exit handlers or flushing its buffers.
            unsafe { libc::_exit(code) };
        }
        children.push((i, pid));
    }
    Running {
        board,
        children,
        deadline: started + duration + GRACE,
    }
}

impl Running {
    /// Waits for every shape (killing those that overrun) and judges them.
    pub(crate) fn finish(self) -> Vec<Verdict> {
        self.children
            .iter()
            .filter_map(|&(i, pid)| {
                let ending = wait_until(pid, self.deadline);
                let shape = SHAPES.get(i)?;
                let row = self.board.rows.get(i)?;
                let counts: [u64; COUNTERS] = std::array::from_fn(|k| row[k].load(SeqCst));
                let (summary, violations) = (shape.judge)(&counts, ending);
                Some(Verdict {
                    name: shape.name,
                    summary,
                    violations,
                })
            })
            .collect()
    }
}

fn map_board() -> io::Result<&'static Board> {
    // SAFETY: an anonymous shared mapping of the board's size, no address hint.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            std::mem::size_of::<Board>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: page-aligned, large enough, zeroed (a valid value of every atomic), never
    // unmapped.
    Ok(unsafe { &*ptr.cast::<Board>() })
}

/// Waits for `pid` until the absolute `deadline`; past it, kills and reaps it.
pub(crate) fn wait_until(pid: libc::pid_t, deadline: Instant) -> Ending {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return if libc::WIFSIGNALED(status) {
                Ending::Signaled(libc::WTERMSIG(status))
            } else {
                Ending::Exited(libc::WEXITSTATUS(status))
            };
        }
        if r < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Ending::Exited(-1);
        }
        if Instant::now() >= deadline {
            // SAFETY: kill and waitpid on our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Ending::Overran;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// The name of a signal, for messages.
pub(crate) fn sig_name(sig: c_int) -> String {
    let name = match sig {
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGKILL => "SIGKILL",
        libc::SIGWINCH => "SIGWINCH",
        _ => return format!("signal {}", sig),
    };
    name.into()
}

/// Nanoseconds of the monotonic clock. Async-signal-safe (`clock_gettime`).
pub(crate) fn now_ns() -> u64 {
    // SAFETY: an all-zero timespec is a valid out-value.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Sleeps about `micros` microseconds. Async-signal-safe (`nanosleep`).
pub(crate) fn nap(micros: u32) {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: libc::c_long::from(micros.min(999_999)) * 1000,
    };
    // SAFETY: a valid timespec; no remainder wanted.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

/// A signal set of `signals`.
pub(crate) fn sigset(signals: &[c_int]) -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is valid storage; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t; the numbers are valid signals.
    unsafe {
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
    }
    set
}

/// Blocks (`how = SIG_BLOCK`) or unblocks (`SIG_UNBLOCK`) `signals` in the calling thread, in
/// one call.
pub(crate) fn thread_mask(how: c_int, signals: &[c_int]) {
    let set = sigset(signals);
    // SAFETY: a valid set; no old mask wanted.
    unsafe { libc::pthread_sigmask(how, &set, std::ptr::null_mut()) };
}

/// Installs a raw handler (not through sigmux) for `sig`: `handler` is the address of an
/// `extern "C" fn(c_int)`, or of a three-argument one when `flags` has `SA_SIGINFO`; `mask` is
/// its `sa_mask`. Returns the disposition it replaced.
///
/// # Safety
///
/// `handler` has the signature `flags` says and is async-signal-safe; nothing else in the
/// process relies on `sig`'s disposition.
pub(crate) unsafe fn install_raw(
    sig: c_int,
    handler: usize,
    flags: c_int,
    mask: &[c_int],
) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero sigaction is a valid value of this plain C struct.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler;
    sa.sa_flags = flags;
    sa.sa_mask = sigset(mask);
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers; the handler's signature matches its flags (caller contract).
    if unsafe { libc::sigaction(sig, &sa, &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// Copies `values` into `row` (counts a shape keeps in its own statics, published as it goes
/// so they survive its death).
pub(crate) fn publish(row: &Row, values: &[(usize, u64)]) {
    for &(k, v) in values {
        if let Some(cell) = row.get(k) {
            cell.store(v, SeqCst);
        }
    }
}
