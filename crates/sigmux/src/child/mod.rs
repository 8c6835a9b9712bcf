//! Watch the child processes you started and learn each one's exit exactly once, without
//! stealing anybody else's children.
//!
//! # SIGCHLD and child processes
//!
//! ## Why not `waitpid(-1)`
//!
//! A process has one set of children and any thread may reap any of them. A library that
//! reaps "whatever exited" (`waitpid(-1)`, or a wait on a process group) takes exit statuses
//! that belong to other parts of the program: std's [`Child::wait`](std::process::Child::wait)
//! on another thread then fails with `ECHILD`, and so do tokio::process and async-process.
//! [`Children`] never does that: it only ever waits on the pids it was given (one pidfd or
//! one `waitpid(pid, WNOHANG)` per watched pid). The one exception is the orphan reaper, which
//! you have to ask for ([`Options::reap_orphans`]) and which steals by design.
//!
//! ## Why SIGCHLD is not a count of exits
//!
//! `SIGCHLD` is a classic signal: while one is pending, more exits add nothing. When fifty
//! children exit together a handler may run only a few times, and a
//! [`WithOrigin`](crate::iterator::exfiltrator::WithOrigin) iterator reports only a few of
//! the senders.
//! A `SIGCHLD` therefore only means "some child changed state, look"; the looking has to be
//! done by waiting on each candidate pid. (It is also sent for stopped and continued
//! children, and for children of other components.)
//!
//! ## What [`Children`] does
//!
//! You hand it a [`std::process::Child`] (by value: it now owns the child) or the pid of a
//! child you promise not to wait for yourself, and it reports each one's
//! [`ExitStatus`] exactly once, as an [`Exit`]:
//!
//! * blocking: [`wait`](Children::wait) (any), [`wait_timeout`](Children::wait_timeout),
//!   [`wait_pid`](Children::wait_pid) (one), or [`iter`](Children::iter);
//! * without blocking: [`try_wait`](Children::try_wait);
//! * async on any runtime: [`exit`](Children::exit) is a future that needs no reactor (a
//!   helper thread wakes it); or, without the thread, the [`Children`] is a descriptor
//!   ([`AsFd`]) that becomes readable when a watched child exits: register it with your
//!   reactor (tokio's `AsyncFd`, async-io's `Async`, mio, …) and call
//!   [`try_wait`](Children::try_wait) until it returns `None` each time it is readable.
//!
//! Two mechanisms ([`Mechanism`]), chosen when the [`Children`] is made:
//!
//! * **pidfd** (Linux 5.4 and later, the default there): each watched child gets a pidfd,
//!   opened when it is watched — while we own it, so before anybody could reap it. The pidfd
//!   becomes readable when the child exits, and the status is collected with
//!   `waitid(P_PIDFD)`, which cannot be confused by a recycled pid. The pidfds sit in one
//!   epoll instance, so a wake-up only looks at the children that exited. It costs one
//!   descriptor per watched child; a child whose pidfd cannot be opened because the process
//!   is out of descriptors (`EMFILE`, `ENFILE`) is watched the SIGCHLD way instead, so
//!   nothing is lost when `RLIMIT_NOFILE` is low.
//! * **SIGCHLD** (every Unix, and the fallback on Linux): a `SIGCHLD` action registered
//!   through [`sigmux-registry`](sigmux_registry) — so it coexists with every other `SIGCHLD`
//!   listener — writes one byte into a pipe (async-signal-safe, nothing else); ordinary code
//!   then calls `waitpid(pid, WNOHANG)` for each watched pid. Force it with
//!   [`Options::mechanism`] or the environment variable `SIGMUX_CHILDREN=sigchld` (read the
//!   first time [`Mechanism::Auto`] is resolved in the process), e.g. to test it on Linux.
//!
//! ```
//! use std::process::Command;
//! use sigmux::child::Children;
//!
//! let children = Children::new()?;
//! let a = children.watch(Command::new("true").spawn()?)?;
//! let b = children.watch(Command::new("false").spawn()?)?;
//! let mut seen = Vec::new();
//! for exit in &children {
//!     let exit = exit?;
//!     seen.push((exit.pid(), exit.status().code()));
//! }
//! seen.sort();
//! let mut want = vec![(a, Some(0)), (b, Some(1))];
//! want.sort();
//! assert_eq!(seen, want);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ### Async
//!
//! The simplest is `while let Some(exit) = children.exit().await? { … }` on any executor
//! ([`exit`](Children::exit)). To do without its helper thread, register the descriptor with your runtime's reactor; each time it is readable, take
//! exits with [`try_wait`](Children::try_wait) until it returns `None`, and only then wait
//! for readiness again. With tokio (the `Arc` keeps the `Children`, and so its descriptor,
//! alive as long as the `AsyncFd`):
//!
//! ```ignore
//! use std::sync::Arc;
//! use tokio::io::{unix::AsyncFd, Interest};
//!
//! let children = Arc::new(sigmux::child::Children::new()?);
//! children.watch(std::process::Command::new("true").spawn()?)?;
//! // SAFETY: a `Children` keeps its descriptor open, and the same, while it lives.
//! let fd = unsafe { AsyncFd::register_with_interest(Arc::clone(&children), Interest::READABLE) }?;
//! while !children.is_empty() {
//!     while let Some(exit) = children.try_wait()? {
//!         println!("{} {}", exit.pid(), exit.status());
//!     }
//!     if !children.is_empty() {
//!         let mut ready = fd.readable().await?;
//!         if let Some(exit) = children.try_wait()? {
//!             println!("{} {}", exit.pid(), exit.status());
//!         } else {
//!             ready.clear_ready();
//!         }
//!     }
//! }
//! ```
//!
//! With async-std or smol, `async_io::Async::new(children.as_fd())?` and
//! `readable().await` in the same loop. The tests run both, on both mechanisms, beside
//! tokio::process and async-process.
//!
//! ## Rules
//!
//! * **Whoever reaps a pid owns its status.** Once watched, a child must not be waited for by
//!   anything else: pass the [`Child`] by value (the [`Children`] keeps it, and drops it
//!   after reporting the exit, closing the pipes you did not `take()`), or call
//!   [`watch_pid`](Children::watch_pid) only for a pid you will never wait for yourself.
//!   If somebody else reaps it anyway, its exit is never reported (it stops being watched).
//! * **A watched child that has already exited is reported** (it stays a zombie until
//!   reaped, and the pidfd of a zombie is readable at once).
//! * **One style per [`Children`]:** blocking waits from any number of threads are fine, and
//!   so are any number of [`exit`](Children::exit) futures, or one task driving the
//!   descriptor through a reactor; do not mix a reactor-registered descriptor with other
//!   waits on the same set (they may consume the readiness the reactor's task needed).
//! * **fork.** Watched children belong to the process that started them: a forked child
//!   cannot wait for its parent's children. Every method of a [`Children`] inherited through
//!   `fork` that watches or waits returns an error in the child ([`len`](Children::len) says
//!   0), checked with `getpid` before the [`Children`]'s lock is taken, so a lock held by
//!   another thread of the parent at the fork cannot hang the child; the child can make its
//!   own [`Children`] for its own children, and neither steals from the other. (With the
//!   SIGCHLD mechanism, a `SIGCHLD` in the child may wake the parent's [`Children`] once,
//!   which then finds nothing new: harmless.) [`Mechanism::Auto`] reads the environment
//!   only once per process, so a child forked after the parent made a [`Children`] does not
//!   touch the environment's lock either.
//! * **`SIGCHLD` ignored.** In a process whose `SIGCHLD` disposition is `SIG_IGN` (or that
//!   set `SA_NOCLDWAIT`), the kernel reaps children itself and keeps no status: such a
//!   child leaves the set without an [`Exit`] (as std's `Child::wait` gets `ECHILD` there).
//!   With pidfds it leaves as soon as it ends; the SIGCHLD mechanism, which no signal wakes
//!   then, notices at its next look (a [`try_wait`](Children::try_wait), or a wait's
//!   timeout).
//! * **Dropping** a [`Children`] stops watching: children still running are neither killed
//!   nor waited for (they stay zombies after exiting, unless the process ends or an orphan
//!   reaper takes them).
//!
//! ## Orphans, supervisors and PID 1
//!
//! With [`Options::reap_orphans`] a [`Children`] also reaps every exited child of the
//! process that it does not watch, and on Linux makes the process a *child subreaper*
//! (`PR_SET_CHILD_SUBREAPER`, which stays on for the life of the process), so orphaned
//! descendants are re-parented to it and reaped there instead of by init. It is for
//! supervisors and PID 1, and **steals by design**: a child of this process that another
//! component waits for (std's `Child::wait`, tokio::process, another [`Children`]) may be
//! reaped by it, and the other component then gets `ECHILD`. Its own watched children are
//! still reported to their watchers. Reaped orphans are counted by
//! [`orphans_reaped`](Children::orphans_reaped). With it on, [`wait`](Children::wait) and
//! [`iter`](Children::iter) keep waiting when no watched child is left (the reaper must keep
//! running).
//!
//! (Over 500 lines on purpose: the guide above, then `Children`, whose waits, mechanisms and
//! orphan reaping share one state under one lock; the OS calls are in `sys.rs`, the future
//! in `future.rs`.)

mod future;
mod sys;

pub use future::ExitFuture;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use libc::pid_t;

use sigmux_registry::SigId;

/// How a [`Children`] learns that a watched child exited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// pidfd where the kernel has it (Linux 5.4+), SIGCHLD elsewhere. The environment
    /// variable `SIGMUX_CHILDREN=sigchld` turns it into [`Sigchld`](Mechanism::Sigchld).
    Auto,
    /// One pidfd per child in an epoll set, reaped with `waitid(P_PIDFD)` (Linux 5.4+).
    /// Asking for it where it is missing is an error of kind `Unsupported`.
    Pidfd,
    /// A `SIGCHLD` action through the registry that wakes a pipe, then
    /// `waitpid(pid, WNOHANG)` for each watched pid. Works on every Unix. Each wake-up
    /// looks at every watched child (a `SIGCHLD` does not say which one ended, and peeking
    /// with `waitid(P_ALL)` would be a wait on other components' children), so N children
    /// ending one after another cost about N²/2 `waitpid` calls; pidfd costs O(1) per exit.
    Sigchld,
}

/// How to make a [`Children`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    mechanism: Mechanism,
    reap_orphans: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

impl Options {
    /// [`Mechanism::Auto`], no orphan reaping.
    pub const fn new() -> Self {
        Options {
            mechanism: Mechanism::Auto,
            reap_orphans: false,
        }
    }

    /// Chooses the mechanism (default [`Mechanism::Auto`]).
    pub const fn mechanism(mut self, mechanism: Mechanism) -> Self {
        self.mechanism = mechanism;
        self
    }

    /// Opt-in orphan reaping for supervisors and PID 1 (default off). **Steals by design**:
    /// see [the module docs](self#orphans-supervisors-and-pid-1).
    pub const fn reap_orphans(mut self, on: bool) -> Self {
        self.reap_orphans = on;
        self
    }
}

/// One watched child's exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pid: u32,
    status: ExitStatus,
}

impl Exit {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How it ended: [`code`](ExitStatus::code), or with
    /// [`ExitStatusExt`](std::os::unix::process::ExitStatusExt) the
    /// [`signal`](std::os::unix::process::ExitStatusExt::signal) and
    /// [`core_dumped`](std::os::unix::process::ExitStatusExt::core_dumped).
    pub fn status(&self) -> ExitStatus {
        self.status
    }
}

/// The resolved mechanism, with what it needs.
#[derive(Debug)]
enum Kind {
    #[cfg(target_os = "linux")]
    Pidfd {
        epoll: OwnedFd,
    },
    Sigchld,
}

/// The token of the wake-up pipe in the epoll set (pids are positive `pid_t`s).
#[cfg(target_os = "linux")]
const WAKE_TOKEN: u64 = u64::MAX;

#[derive(Debug)]
struct Watched {
    #[cfg(target_os = "linux")]
    pidfd: Option<OwnedFd>,
    /// Kept until the exit is reported, then dropped (closing its remaining pipes). Only
    /// held, never read: owning it is what keeps anyone else from waiting for it.
    #[allow(dead_code)]
    child: Option<Child>,
}

#[derive(Debug, Default)]
struct State {
    watched: HashMap<pid_t, Watched>,
    ready: VecDeque<Exit>,
    /// A thread is blocked in `poll` on the descriptor (the others wait on the condvar).
    polling: bool,
    /// Threads waiting on the condvar.
    followers: usize,
    /// Scratch space for epoll tokens.
    #[cfg(target_os = "linux")]
    tokens: Vec<u64>,
    /// The `SIGCHLD` action, if registered (the SIGCHLD mechanism, orphan reaping, or a
    /// pidfd that could not be opened).
    sigchld: Option<SigId>,
    /// Watched children without a pidfd on the pidfd path (`pidfd_open` ran out of
    /// descriptors): they are looked at with `waitpid(pid, WNOHANG)` on each look.
    #[cfg(target_os = "linux")]
    pidless: usize,
}

/// A set of watched child processes; see [the module docs](self).
///
/// It is `Send` and `Sync`: share it by reference or in an `Arc` between threads.
pub struct Children {
    /// The process that made it; every method refuses to run in another (a forked child).
    owner: pid_t,
    kind: Kind,
    reap_orphans: bool,
    wake_read: OwnedFd,
    wake_write: OwnedFd,
    state: Mutex<State>,
    /// Wakes blocking waiters that are not the one polling the descriptor.
    turn: Condvar,
    orphans: AtomicU64,
    /// Serves the futures of [`exit`](Self::exit).
    helper: future::Helper,
}

impl fmt::Debug for Children {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Children")
            .field("mechanism", &self.mechanism())
            .field("reap_orphans", &self.reap_orphans)
            .field("fd", &self.as_raw_fd())
            .finish_non_exhaustive()
    }
}

fn getpid() -> pid_t {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

/// Resolves [`Mechanism::Auto`] (and checks [`Mechanism::Pidfd`]).
fn resolve(mechanism: Mechanism) -> io::Result<Mechanism> {
    match mechanism {
        Mechanism::Sigchld => Ok(Mechanism::Sigchld),
        Mechanism::Pidfd => {
            if pidfd_supported() {
                Ok(Mechanism::Pidfd)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "pidfd (pidfd_open and waitid(P_PIDFD), Linux 5.4+) is not available",
                ))
            }
        }
        Mechanism::Auto => Ok(if !sigchld_forced() && pidfd_supported() {
            Mechanism::Pidfd
        } else {
            Mechanism::Sigchld
        }),
    }
}

/// Whether `SIGMUX_CHILDREN=sigchld`, read once per process (and inherited by forked
/// children, so a child never takes the environment's lock, which another thread may have
/// held at the fork, if its parent resolved `Auto` before).
fn sigchld_forced() -> bool {
    // 0 unknown, 1 yes, 2 no. A race only reads the variable twice.
    static CACHE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
    match CACHE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let yes = std::env::var_os("SIGMUX_CHILDREN").as_deref() == Some("sigchld".as_ref());
            CACHE.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

#[cfg(target_os = "linux")]
fn pidfd_supported() -> bool {
    // 0 unknown, 1 yes, 2 no. A race only repeats the probe.
    static CACHE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
    match CACHE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let yes = sys::pidfd::supported();
            CACHE.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
            yes
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn pidfd_supported() -> bool {
    false
}

fn check_pid(pid: u32) -> io::Result<pid_t> {
    match pid_t::try_from(pid) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a process id (must be 1..=pid_t::MAX)", pid),
        )),
    }
}

impl Children {
    /// A new, empty set with [`Options::new`]: pidfd where available, no orphan reaping.
    pub fn new() -> io::Result<Self> {
        Self::with_options(Options::new())
    }

    /// A new, empty set.
    ///
    /// # Errors
    ///
    /// `Unsupported` for [`Mechanism::Pidfd`] where the kernel lacks it; descriptor
    /// exhaustion; the registry's errors for `SIGCHLD`; `prctl` errors for orphan reaping.
    pub fn with_options(options: Options) -> io::Result<Self> {
        let mechanism = resolve(options.mechanism)?;
        let (wake_read, wake_write) = crate::sys::pipe()?;
        crate::sys::set_nonblocking(wake_read.as_raw_fd())?;
        let kind = match mechanism {
            #[cfg(target_os = "linux")]
            Mechanism::Pidfd => {
                let epoll = sys::pidfd::epoll()?;
                sys::pidfd::add(&epoll, wake_read.as_raw_fd(), WAKE_TOKEN, false)?;
                Kind::Pidfd { epoll }
            }
            _ => Kind::Sigchld,
        };
        if options.reap_orphans {
            sys::become_subreaper()?;
        }
        let children = Children {
            owner: getpid(),
            kind,
            reap_orphans: options.reap_orphans,
            wake_read,
            wake_write,
            state: Mutex::new(State::default()),
            turn: Condvar::new(),
            orphans: AtomicU64::new(0),
            helper: future::Helper::default(),
        };
        if matches!(children.kind, Kind::Sigchld) || options.reap_orphans {
            children.listen_sigchld(&mut children.lock())?;
        }
        Ok(children)
    }

    /// Registers the `SIGCHLD` action that wakes the pipe, once.
    fn listen_sigchld(&self, st: &mut State) -> io::Result<()> {
        if st.sigchld.is_none() {
            let fd = self.wake_write.as_raw_fd();
            // SAFETY: the action only writes one byte to a non-blocking descriptor
            // (`write_byte`: async-signal-safe, no allocation, no lock, no panic) and captures
            // a plain integer. The descriptor stays open until the action is unregistered
            // (in `drop`, before the fields are dropped), and `unregister` waits for
            // running handlers.
            let id = unsafe {
                sigmux_registry::register(libc::SIGCHLD, move || crate::sys::write_byte(fd))
            }?;
            st.sigchld = Some(id);
        }
        Ok(())
    }

    /// The mechanism in use ([`Mechanism::Pidfd`] or [`Mechanism::Sigchld`], never `Auto`).
    pub fn mechanism(&self) -> Mechanism {
        match self.kind {
            #[cfg(target_os = "linux")]
            Kind::Pidfd { .. } => Mechanism::Pidfd,
            Kind::Sigchld => Mechanism::Sigchld,
        }
    }

    /// Watches `child`, taking ownership of it; returns its pid. Take its `stdin`, `stdout`
    /// and `stderr` first if you need them; the rest is dropped once the exit is reported.
    ///
    /// A `Child` that std has already waited for (a `wait` or `try_wait` that returned its
    /// status) is accepted too: that status is reported at once.
    ///
    /// # Errors
    ///
    /// As for [`watch_pid`](Self::watch_pid) (except for the child std already waited for,
    /// above); the child is then dropped (not killed, not waited for).
    pub fn watch(&self, child: Child) -> io::Result<u32> {
        let pid = child.id();
        self.watch_inner(pid, Some(child))?;
        Ok(pid)
    }

    /// Watches the child process `pid`. The caller promises that nothing else waits for it
    /// (not std's `Child::wait`, not another watcher): whoever reaps it first gets its status.
    /// A child that already exited (but was not reaped) is reported.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for 0, a number above `pid_t::MAX`, or a pid that is not an unreaped
    /// child of this process; `AlreadyExists` if it is watched already; an error in a forked
    /// child of the process that made this `Children`.
    pub fn watch_pid(&self, pid: u32) -> io::Result<()> {
        self.watch_inner(pid, None)
    }

    fn watch_inner(&self, pid: u32, mut child: Option<Child>) -> io::Result<()> {
        self.check_owner()?;
        let pid = check_pid(pid)?;
        let not_child = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not an unreaped child of this process", pid),
            )
        };
        // A `Child` is ours and nobody else may wait for it. One `waitpid(pid, WNOHANG)`
        // (through std, which also knows whether it was waited for already) tells whether it
        // has ended; if not, it stays unreaped until we reap it, so the pid cannot be reused
        // before the pidfd is open and no `WNOWAIT` check is needed.
        let owned = match child.as_mut() {
            // ECHILD: reaped by the kernel already (SIGCHLD ignored): no status to report.
            Some(c) => match c.try_wait().or_else(|e| gone_or(e, None))? {
                Some(status) => {
                    let mut st = self.lock();
                    if st.watched.contains_key(&pid) {
                        return Err(already(pid));
                    }
                    st.ready.push_back(Exit {
                        pid: pid as u32,
                        status,
                    });
                    self.turn.notify_all();
                    drop(st);
                    crate::sys::write_byte(self.wake_write.as_raw_fd());
                    return Ok(());
                }
                None => true,
            },
            None => false,
        };
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::Pidfd { epoll } => {
                // Opened first, while the child is ours: from here on a recycled pid cannot
                // be mistaken for it.
                let pidfd = match sys::pidfd::open(pid) {
                    Ok(fd) => Some(fd),
                    // Our own child, gone already: reaped by the kernel (SIGCHLD ignored).
                    Err(e) if owned && e.raw_os_error() == Some(libc::ESRCH) => return Ok(()),
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Err(not_child()),
                    // Out of descriptors: watch this one the SIGCHLD way.
                    Err(e)
                        if matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE)) =>
                    {
                        None
                    }
                    Err(e) => return Err(e),
                };
                let is_child = match &pidfd {
                    _ if owned => true,
                    Some(fd) => sys::pidfd::is_unreaped_child(fd)?,
                    None => sys::is_unreaped_child(pid)?,
                };
                if !is_child {
                    return Err(not_child());
                }
                let mut st = self.lock();
                if st.watched.contains_key(&pid) {
                    return Err(already(pid));
                }
                match &pidfd {
                    Some(fd) => sys::pidfd::add(epoll, fd.as_raw_fd(), pid as u64, true)?,
                    None => {
                        self.listen_sigchld(&mut st)?;
                        st.pidless += 1;
                    }
                }
                let pidless = pidfd.is_none();
                st.watched.insert(pid, Watched { pidfd, child });
                drop(st);
                if pidless {
                    // It may have exited already: make the next look scan.
                    crate::sys::write_byte(self.wake_write.as_raw_fd());
                }
            }
            Kind::Sigchld => {
                if !owned && !sys::is_unreaped_child(pid)? {
                    return Err(not_child());
                }
                let mut st = self.lock();
                if st.watched.contains_key(&pid) {
                    return Err(already(pid));
                }
                st.watched.insert(
                    pid,
                    Watched {
                        #[cfg(target_os = "linux")]
                        pidfd: None,
                        child,
                    },
                );
                drop(st);
                // It may have exited already (its SIGCHLD long gone): make the next look scan.
                crate::sys::write_byte(self.wake_write.as_raw_fd());
            }
        }
        Ok(())
    }

    /// How many watched children have not been reported yet (running, exited but not yet
    /// collected, or collected and queued).
    pub fn len(&self) -> usize {
        match self.check_owner() {
            Ok(()) => {
                let st = self.lock();
                st.watched.len() + st.ready.len()
            }
            Err(_) => 0,
        }
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many unwatched children the orphan reaper has reaped (0 unless
    /// [`Options::reap_orphans`]).
    pub fn orphans_reaped(&self) -> u64 {
        self.orphans.load(Ordering::Relaxed)
    }

    /// One exit if a watched child has exited, without blocking.
    pub fn try_wait(&self) -> io::Result<Option<Exit>> {
        self.check_owner()?;
        let mut st = self.lock();
        let result = match take(&mut st, None) {
            Some(exit) => Ok(Some(exit)),
            None => self.collect(&mut st).map(|()| take(&mut st, None)),
        };
        let futures = self.nudge(&st);
        drop(st);
        if futures {
            self.helper.wake_all();
        }
        result
    }

    /// Blocks until a watched child exits and returns its exit; `None` once no watched child
    /// is left (never with [`Options::reap_orphans`]: it then waits for the next one).
    pub fn wait(&self) -> io::Result<Option<Exit>> {
        self.wait_inner(None, None)
    }

    /// Like [`wait`](Self::wait), giving up after `timeout` (then `None`; use
    /// [`is_empty`](Self::is_empty) to tell the two `None`s apart).
    pub fn wait_timeout(&self, timeout: Duration) -> io::Result<Option<Exit>> {
        let deadline = Instant::now().checked_add(timeout);
        match deadline {
            Some(d) => self.wait_inner(Some(d), None),
            None => self.wait(),
        }
    }

    /// Blocks until the watched child `pid` exits (or `timeout`, if any, passes: `Ok(None)`) and
    /// returns its status. Exits of other children seen meanwhile stay queued for the other
    /// waits.
    ///
    /// # Errors
    ///
    /// `NotFound` if `pid` is not watched (or its exit was already reported, or another
    /// thread's [`wait`](Self::wait) took it first: each exit is reported once).
    pub fn wait_pid(&self, pid: u32, timeout: Option<Duration>) -> io::Result<Option<ExitStatus>> {
        let pid = check_pid(pid)?;
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        self.wait_inner(deadline, Some(pid))
            .map(|e| e.map(|e| e.status))
    }

    /// The next exit, as a future that works on any executor (tokio, async-std, smol,
    /// `futures::executor`, …): `None` once no watched child is left (never with
    /// [`Options::reap_orphans`]).
    ///
    /// No reactor is needed: the first time a future of this set has to wait, the set
    /// starts one helper thread (named `sigmux-children`, stopped when the set is dropped)
    /// that sleeps in `poll` on the set's descriptor and wakes the waiting futures. Any
    /// number of futures may wait at once; each exit goes to exactly one of them. To save
    /// the thread, register the descriptor with your reactor instead (see the
    /// [module docs](self#async)).
    ///
    /// ```
    /// # use std::process::Command;
    /// # use sigmux::child::Children;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     // A minimal executor: park until woken.
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark {
    /// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
    /// #     }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = Box::pin(f);
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
    /// #         std::thread::park();
    /// #     }
    /// # }
    /// let children = Children::new()?;
    /// let pid = children.watch(Command::new("sh").args(["-c", "exit 7"]).spawn()?)?;
    /// block_on(async {
    ///     while let Some(exit) = children.exit().await? {
    ///         assert_eq!((exit.pid(), exit.status().code()), (pid, Some(7)));
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn exit(&self) -> ExitFuture<'_> {
        ExitFuture { children: self }
    }

    /// Whether a waiter has something to act on now: a queued exit, or nothing left to
    /// watch (see [`nudge`](Self::nudge)).
    fn has_news(&self) -> bool {
        let st = self.lock();
        !st.ready.is_empty() || (st.watched.is_empty() && !self.reap_orphans)
    }

    /// The descriptor futures and pollers wait on.
    fn ready_fd(&self) -> RawFd {
        self.as_raw_fd()
    }

    /// A blocking iterator over the exits, in the order they are collected; it ends when no
    /// watched child is left (never with [`Options::reap_orphans`]).
    pub fn iter(&self) -> Iter<'_> {
        Iter { children: self }
    }

    fn wait_inner(
        &self,
        deadline: Option<Instant>,
        pid: Option<pid_t>,
    ) -> io::Result<Option<Exit>> {
        self.check_owner()?;
        let (st, result) = self.wait_locked(self.lock(), deadline, pid);
        let futures = self.nudge(&st);
        drop(st);
        if futures {
            self.helper.wake_all();
        }
        result
    }

    /// The blocking wait. One waiter at a time polls the descriptor (the leader); the others
    /// (followers) sleep on the condvar and are woken after each of the leader's looks, and
    /// by [`nudge`](Self::nudge) whenever someone leaves with exits queued or nothing watched.
    fn wait_locked<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        pid: Option<pid_t>,
    ) -> (MutexGuard<'a, State>, io::Result<Option<Exit>>) {
        loop {
            if let Some(exit) = take(&mut st, pid) {
                return (st, Ok(Some(exit)));
            }
            if let Err(e) = self.collect(&mut st) {
                return (st, Err(e));
            }
            if let Some(exit) = take(&mut st, pid) {
                return (st, Ok(Some(exit)));
            }
            match pid {
                Some(p) if !st.watched.contains_key(&p) => {
                    let err = io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{} is not watched (or its exit was already reported)", p),
                    );
                    return (st, Err(err));
                }
                None if st.watched.is_empty() && !self.reap_orphans => return (st, Ok(None)),
                _ => {}
            }
            let timeout = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left == Duration::ZERO {
                        return (st, Ok(None));
                    }
                    Some(left)
                }
                None => None,
            };
            if st.polling {
                // The leader polls; it wakes us after each look.
                st.followers += 1;
                st = match timeout {
                    Some(t) => {
                        self.turn
                            .wait_timeout(st, t)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                    None => self.turn.wait(st).unwrap_or_else(|e| e.into_inner()),
                };
                st.followers -= 1;
            } else {
                st.polling = true;
                drop(st);
                let polled = sys::poll_readable(self.as_raw_fd(), timeout);
                st = self.lock();
                st.polling = false;
                // Whatever happened, let the others look (and one of them poll next).
                if st.followers > 0 {
                    self.turn.notify_all();
                }
                if let Err(e) = polled {
                    return (st, Err(e));
                }
            }
        }
    }

    /// Called when a thread leaves with the lock: if other waiters have something to act on
    /// (a queued exit, or nothing left to watch), wake them — the followers through the
    /// condvar, the leader through the pipe (it may be asleep in `poll` on a descriptor
    /// someone else just drained). Returns whether the pending [`exit`](Self::exit) futures
    /// must be woken too (for the same reason: their helper thread may have missed the
    /// readiness); the caller does that after releasing the lock, as a waker may run code.
    fn nudge(&self, st: &State) -> bool {
        if st.ready.is_empty() && !st.watched.is_empty() {
            return false;
        }
        if st.followers > 0 {
            self.turn.notify_all();
        }
        if st.polling {
            crate::sys::write_byte(self.wake_write.as_raw_fd());
        }
        true
    }

    /// Collects every exit there is into `ready`. Called with the lock held.
    ///
    /// The wake-up pipe is emptied before anything is looked at, so a `SIGCHLD` (or a
    /// wake-up) that comes after the look leaves a byte for the next one.
    fn collect(&self, st: &mut State) -> io::Result<()> {
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::Pidfd { epoll } => {
                let mut tokens = std::mem::take(&mut st.tokens);
                let result: io::Result<()> = (|| loop {
                    tokens.clear();
                    let full = sys::pidfd::ready(epoll, &mut tokens)?;
                    let mut progress = false;
                    if tokens.contains(&WAKE_TOKEN) {
                        sys::drain(self.wake_read.as_raw_fd());
                    }
                    for &token in &tokens {
                        if token == WAKE_TOKEN {
                            continue;
                        }
                        let pid = token as pid_t;
                        if self.reap_pidfd(st, epoll, pid)? {
                            progress = true;
                        }
                    }
                    if !full || !progress {
                        return Ok(());
                    }
                })();
                st.tokens = tokens;
                result?;
                if st.pidless > 0 {
                    self.scan_pidless(st)?;
                }
            }
            Kind::Sigchld => {
                sys::drain(self.wake_read.as_raw_fd());
                let State { watched, ready, .. } = st;
                let mut error = None;
                watched.retain(|&pid, _| keep_watching(pid, ready, &mut error));
                if let Some(e) = error {
                    return Err(e);
                }
            }
        }
        if self.reap_orphans {
            self.reap_orphans(st)?;
        }
        Ok(())
    }

    /// The watched children without a pidfd, one `waitpid(pid, WNOHANG)` each.
    #[cfg(target_os = "linux")]
    fn scan_pidless(&self, st: &mut State) -> io::Result<()> {
        let State {
            watched,
            ready,
            pidless,
            ..
        } = st;
        let mut error = None;
        watched.retain(|&pid, w| {
            if w.pidfd.is_some() || keep_watching(pid, ready, &mut error) {
                return true;
            }
            *pidless -= 1;
            false
        });
        error.map_or(Ok(()), Err)
    }

    /// Reaps watched `pid` through its pidfd if it exited; whether it did (or is gone).
    ///
    /// Each pidfd is registered one-shot: its event disables it, so once it is reaped and
    /// closed nothing is left armed — even where a forked child still holds a copy of the
    /// pidfd (which keeps the registration alive and the pidfd readable); no
    /// `EPOLL_CTL_DEL` is needed. An early event (not exited after all) re-arms it.
    #[cfg(target_os = "linux")]
    fn reap_pidfd(&self, st: &mut State, epoll: &OwnedFd, pid: pid_t) -> io::Result<bool> {
        let outcome = match st.watched.get(&pid).and_then(|w| w.pidfd.as_ref()) {
            Some(fd) => match sys::pidfd::wait_nohang(fd) {
                Ok(Some(status)) => Some(Some(status)),
                Ok(None) => {
                    sys::pidfd::rearm(epoll, fd.as_raw_fd(), pid as u64)?;
                    None
                }
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Some(None),
                Err(e) => return Err(e),
            },
            None => return Ok(false),
        };
        match outcome {
            None => Ok(false),
            Some(status) => {
                st.watched.remove(&pid);
                if let Some(status) = status {
                    st.ready.push_back(Exit {
                        pid: pid as u32,
                        status,
                    });
                }
                Ok(true)
            }
        }
    }

    /// The opt-in orphan pass: every exited child is reaped; watched ones are reported.
    fn reap_orphans(&self, st: &mut State) -> io::Result<()> {
        // Each round reaps the child it peeked at (or someone else did); the bound only
        // guards against a kernel that keeps reporting one we cannot reap.
        for _ in 0..4096 {
            let pid = match sys::peek_any_exited()? {
                Some(pid) => pid,
                None => break,
            };
            let with_pidfd = match st.watched.get(&pid) {
                None => None,
                #[cfg(target_os = "linux")]
                Some(w) => Some(w.pidfd.is_some()),
                #[cfg(not(target_os = "linux"))]
                Some(_) => Some(false),
            };
            match with_pidfd {
                #[cfg(target_os = "linux")]
                Some(true) => {
                    if let Kind::Pidfd { epoll } = &self.kind {
                        self.reap_pidfd(st, epoll, pid)?;
                    }
                }
                Some(_) => {
                    if let Some(status) = sys::waitpid_nohang(pid)? {
                        st.watched.remove(&pid);
                        #[cfg(target_os = "linux")]
                        if matches!(self.kind, Kind::Pidfd { .. }) {
                            st.pidless -= 1;
                        }
                        st.ready.push_back(Exit {
                            pid: pid as u32,
                            status,
                        });
                    }
                }
                None => {
                    if sys::waitpid_nohang(pid)?.is_some() {
                        self.orphans.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        Ok(())
    }

    fn check_owner(&self) -> io::Result<()> {
        if getpid() == self.owner {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::Other,
                "this Children belongs to the parent process (inherited through fork); \
                 make a new one in the child",
            ))
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update keeps the state consistent, so a panic elsewhere does not matter.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `Ok(value)` for `ECHILD` (the child is gone without a status), the error otherwise.
fn gone_or<T>(e: io::Error, value: T) -> io::Result<T> {
    if e.raw_os_error() == Some(libc::ECHILD) {
        Ok(value)
    } else {
        Err(e)
    }
}

fn already(pid: pid_t) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} is already watched", pid),
    )
}

/// One `waitpid(pid, WNOHANG)` for a watched child: queues its exit if it has one. Whether to
/// keep watching it: yes while it runs, and after an error (kept in `error`, the first one
/// only); no once it exited or was reaped by somebody else (`ECHILD`: its status is gone).
fn keep_watching(pid: pid_t, ready: &mut VecDeque<Exit>, error: &mut Option<io::Error>) -> bool {
    match sys::waitpid_nohang(pid) {
        Ok(Some(status)) => {
            ready.push_back(Exit {
                pid: pid as u32,
                status,
            });
            false
        }
        Ok(None) => true,
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => false,
        Err(e) => {
            error.get_or_insert(e);
            true
        }
    }
}

/// Takes the first queued exit (of `pid`, if given). The `Child` was already dropped.
fn take(st: &mut State, pid: Option<pid_t>) -> Option<Exit> {
    match pid {
        None => st.ready.pop_front(),
        Some(p) => {
            let at = st.ready.iter().position(|e| e.pid == p as u32)?;
            st.ready.remove(at)
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        // The helper thread polls our descriptor: stop it before anything is closed. A
        // forked child has no such thread (only the forking thread is copied).
        let wake = self.wake_write.as_raw_fd();
        let forked = getpid() != self.owner;
        self.helper
            .stop(move || crate::sys::write_byte(wake), forked);
        // Then the SIGCHLD action, so no handler writes to the pipe once it is closed.
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = st.sigchld.take() {
            sigmux_registry::unregister(id);
        }
    }
}

/// Readable when a watched child may have exited (or, with [`Mechanism::Sigchld`], on any
/// `SIGCHLD`): register it with a reactor, then call [`try_wait`](Children::try_wait) until
/// it returns `None` before waiting for readiness again. Do not read from it.
impl AsFd for Children {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.kind {
            #[cfg(target_os = "linux")]
            Kind::Pidfd { epoll } => epoll.as_fd(),
            Kind::Sigchld => self.wake_read.as_fd(),
        }
    }
}

impl AsRawFd for Children {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// The blocking iterator of [`Children::iter`].
#[derive(Debug)]
pub struct Iter<'a> {
    children: &'a Children,
}

impl Iterator for Iter<'_> {
    type Item = io::Result<Exit>;

    fn next(&mut self) -> Option<Self::Item> {
        self.children.wait().transpose()
    }
}

impl<'a> IntoIterator for &'a Children {
    type Item = io::Result<Exit>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
