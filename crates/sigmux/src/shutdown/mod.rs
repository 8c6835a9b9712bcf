//! Shutting down on `SIGTERM`/`SIGINT` the right way: graceful first, forced on the second
//! signal or after a deadline, and dying *by* the signal at the end.
//!
//! # Exit status or death by a signal
//!
//! A process ends either by exiting with a status (`exit(0)`, `exit(1)`) or by being killed
//! by a signal, and its parent can tell which (`WIFEXITED` / `WIFSIGNALED` in C, or
//! [`ExitStatus::signal`](std::os::unix::process::ExitStatusExt::signal) in Rust). Shells and
//! supervisors act on the difference: `bash` stops a whole loop or script when a command
//! *dies by* `SIGINT`, but carries on when it merely exits with status 130. So a program that
//! catches a termination signal to clean up should, once done, die by that same signal:
//! [`Shutdown::finish`] does exactly that.
//!
//! # The pattern
//!
//! [`Shutdown::new`] installs handlers for `SIGTERM` and `SIGINT` (more with
//! [`ShutdownBuilder::signal`]) at once, when it is created. Then:
//!
//! 1. the first termination signal *requests* a graceful shutdown. The program notices it as
//!    a flag ([`is_requested`](Shutdown::is_requested)), by blocking
//!    ([`wait`](Shutdown::wait), [`wait_timeout`](Shutdown::wait_timeout)), or by awaiting
//!    a [`Future`] ([`wait_async`](Shutdown::wait_async)) that works
//!    under any async runtime (tokio, async-std, smol, …) and may be awaited by many tasks;
//! 2. a second termination signal while the program cleans up kills it at once, by that
//!    second signal (the user pressed Ctrl-C twice: skip the cleanup);
//! 3. if a [deadline](ShutdownBuilder::deadline) is set and the cleanup overruns it, the
//!    process is killed by the first signal when it passes;
//! 4. when the cleanup is done, [`finish`](Shutdown::finish) ends the process: by the signal
//!    that asked for the shutdown, or with a normal exit status if none did.
//!
//! Dropping the [`Shutdown`] instead puts back the dispositions it replaced (typically the
//! default action, so a later `SIGTERM` terminates the process again rather than being
//! silently ignored).
//!
//! ```no_run
//! # fn do_some_work() {}
//! # fn clean_up() {}
//! use sigmux::shutdown::Shutdown;
//!
//! let shutdown = Shutdown::new()?;
//! while !shutdown.is_requested() {
//!     do_some_work();
//! }
//! clean_up(); // a second Ctrl-C now ends the process at once
//! shutdown.finish(0) // dies by SIGTERM/SIGINT, as the parent expects
//! # ; Ok::<(), std::io::Error>(())
//! ```
//!
//! With a deadline, more signals, and async tasks:
//!
//! ```no_run
//! # #[cfg(unix)] {
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use sigmux::shutdown::Shutdown;
//!
//! let shutdown = Arc::new(
//!     Shutdown::builder()
//!         .signal(libc::SIGHUP)
//!         .deadline(Duration::from_secs(10))
//!         .install()?,
//! );
//! // In any number of async tasks (any runtime):
//! let task = {
//!     let shutdown = Arc::clone(&shutdown);
//!     async move {
//!         let cause = shutdown.wait_async().await;
//!         println!("stopping: {:?}", cause);
//!     }
//! };
//! # drop(task);
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Details
//!
//! * **Signals ignored at start stay ignored.** A signal the parent arranged to be ignored
//!   (`nohup` ignores `SIGHUP`; a non-interactive shell ignores `SIGINT` and `SIGQUIT` for
//!   background jobs) is not taken over, unless asked for with
//!   [`take_ignored`](ShutdownBuilder::take_ignored).
//! * **Restoring on drop** needs this `Shutdown` to be the one that installed sigmux's
//!   handler for the signal (the usual case). If other sigmux registrations for the signal
//!   exist, they keep it handled; if the signal was first installed without
//!   [`Options::restore`](sigmux_registry::Options::restore), it stays caught with no
//!   action, as before.
//! * **Cost.** On Unix: one pipe (two descriptors) that the handler writes a byte to on the
//!   first signal; a blocking [`wait`](Shutdown::wait) `poll`s it. [`wait_async`] starts
//!   one helper thread, the first time a future has to wait; the thread turns the pipe into
//!   `Waker` calls (a signal handler may not call a `Waker`: wakers may lock or allocate) and
//!   ends after the shutdown request or when the `Shutdown` is dropped. A deadline on Linux
//!   and Android costs one POSIX timer per signal (`timer_create` at installation, armed
//!   from the handler with the async-signal-safe `timer_settime`), no thread; on other Unix
//!   systems one thread, started at installation only when a deadline is configured, that
//!   sleeps until the shutdown request and then until the deadline.
//! * **In the handler** only atomics, `write` to the pipe, `timer_settime` and, for a second
//!   signal, [`die_by_signal`](crate::low_level::die_by_signal) run: all async-signal-safe.
//! * **Core dumps.** Dying by a signal whose default action dumps core (`SIGQUIT` if you add
//!   it) dumps core as an unhandled one would, if the system's limits allow it.
//! * **Other sources.** [`request`](Shutdown::request) asks for a shutdown from the program
//!   itself (for example after a fatal error); [`finish`](Shutdown::finish) then exits with
//!   the status given. A termination signal after that is a "second" one.
//! * **fork.** A forked child shares the pipe with its parent; a parent that finds the pipe
//!   readable without a request of its own empties it and keeps waiting. Call
//!   [`finish`](Shutdown::finish) or exit in the child as usual.
//!
//! # Windows
//!
//! On Windows `Shutdown` listens to console events, through `SetConsoleCtrlHandler`:
//!
//! * `CTRL_C_EVENT` and `CTRL_BREAK_EVENT` request a shutdown (a second one ends the process
//!   at once);
//! * `CTRL_CLOSE_EVENT`, `CTRL_LOGOFF_EVENT` and `CTRL_SHUTDOWN_EVENT` request it too, and
//!   sigmux's console handler then holds the process open until [`finish`](Shutdown::finish)
//!   ends it, the [deadline](ShutdownBuilder::deadline) passes, or Windows gives up
//!   waiting (about 5 seconds after a close, configurable by the system for logoff and
//!   shutdown) and kills the process; without holding it, the process would be killed as
//!   soon as the handler returned, before any cleanup.
//!
//! The console handler is the crate's only one, shared with the blocking
//! [iterator](crate::iterator#windows): when both take a closing event, the process is held
//! until both are done (the `Shutdown` finished or dropped, the iterator dropped or closed).
//!
//! Windows has no "killed by a signal" status. A process that the default console handler
//! ends exits with status `STATUS_CONTROL_C_EXIT` (`0xC000013A`, `-1073741510` as an `i32`),
//! and that is what [`finish`](Shutdown::finish), a second Ctrl-C and the deadline give after
//! a console event. A shutdown [`request`](Shutdown::request)ed by the program exits with the
//! status given to `finish`.
//!
//! [`wait_async`]: Shutdown::wait_async
//!
//! (Over 500 lines on purpose: some 200 are this guide; the rest is `Shutdown` and its builder,
//! which belong together. The platform halves are `unix.rs` and `windows.rs`.)

use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use libc::c_int;

#[cfg(not(windows))]
#[path = "unix.rs"]
mod sys;
#[cfg(windows)]
#[path = "windows.rs"]
mod sys;

#[cfg(windows)]
pub use crate::console::ConsoleEvent;

/// Runs sigmux's console control handler for the event `code` on a new thread, as Windows
/// does for a real event; returns the thread, whose result is what the handler returned.
/// Only for tests: wine cannot produce close, logoff and shutdown events.
#[cfg(windows)]
#[doc(hidden)]
pub fn __simulate_console_event(code: u32) -> std::thread::JoinHandle<bool> {
    sys::simulate(code)
}

/// Why a shutdown was requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// This signal arrived (Unix).
    Signal(c_int),
    /// This console event arrived (Windows).
    #[cfg(windows)]
    Console(ConsoleEvent),
    /// The program called [`Shutdown::request`].
    Program,
}

// The request, as one atomic: 0 = none; > 0 = that signal; PROGRAM; console events below
// CONSOLE_BASE. Written once (compare-and-swap from 0), in a handler or a normal thread.
const NONE: i32 = 0;
const PROGRAM: i32 = -1;
#[cfg(windows)]
const CONSOLE_BASE: i32 = -0x100;

fn encode(cause: Cause) -> i32 {
    match cause {
        Cause::Signal(sig) => sig,
        #[cfg(windows)]
        Cause::Console(event) => CONSOLE_BASE - event as i32,
        Cause::Program => PROGRAM,
    }
}

fn decode(value: i32) -> Option<Cause> {
    match value {
        NONE => None,
        PROGRAM => Some(Cause::Program),
        sig if sig > 0 => Some(Cause::Signal(sig)),
        #[cfg(windows)]
        other => sys::ConsoleEvent::from_code(CONSOLE_BASE - other).map(Cause::Console),
        #[cfg(not(windows))]
        _ => None,
    }
}

/// The state shared by the `Shutdown`, its handler actions and its helper threads.
pub(crate) struct Inner {
    /// The request, encoded (see `encode`). Set once, by compare-and-swap from `NONE`.
    /// `SeqCst` so that the store is visible before the wake-up the setter sends afterwards.
    state: AtomicI32,
    /// Set when the `Shutdown` is dropped: helper threads end.
    closed: AtomicBool,
    /// Wakers of pending futures. Only ever locked by normal threads, never in a handler.
    waiters: Mutex<Waiters>,
    /// What the platform needs (pipe, timers, console handler state).
    sys: sys::Shared,
}

#[derive(Default)]
struct Waiters {
    /// The wakers of pending futures, by future id.
    list: Vec<(u64, Waker)>,
    next_id: u64,
    /// Whether the platform's waking machinery has been started.
    started: bool,
}

impl Inner {
    /// Records the request if it is the first; returns whether it was. Async-signal-safe
    /// (one compare-and-swap).
    fn try_request(&self, cause: Cause) -> bool {
        self.state
            .compare_exchange(NONE, encode(cause), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    fn cause(&self) -> Option<Cause> {
        decode(self.state.load(Ordering::SeqCst))
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        // A waker that panicked cannot leave the list inconsistent: go on with it.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every pending future. Normal threads only.
    fn wake_all(&self) {
        let list = std::mem::take(&mut self.waiters().list);
        for (_, waker) in list {
            waker.wake();
        }
    }
}

/// A graceful-shutdown request handler: see the [module docs](self).
///
/// Created with [`Shutdown::new`] or [`Shutdown::builder`]; the handlers are installed when it
/// is created. Share it between threads or tasks with an `Arc`.
pub struct Shutdown {
    inner: Arc<Inner>,
    sys: sys::Installed,
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("cause", &self.cause())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Shutdown`] before installing it: [`Shutdown::builder`].
#[derive(Clone, Debug)]
pub struct ShutdownBuilder {
    signals: Vec<c_int>,
    deadline: Option<Duration>,
    take_ignored: bool,
}

impl ShutdownBuilder {
    /// Also treats `signal` as a termination signal (besides `SIGTERM` and `SIGINT`), e.g.
    /// `SIGHUP` or `SIGQUIT`. Only signals whose default action terminates the process are
    /// accepted by [`install`](Self::install). Unix only.
    #[cfg(not(windows))]
    pub fn signal(mut self, signal: c_int) -> Self {
        if !self.signals.contains(&signal) {
            self.signals.push(signal);
        }
        self
    }

    /// Kills the process by the first termination signal (on Windows: ends it as after a
    /// console event) when the cleanup has not finished `deadline` after that signal. Does
    /// not apply to a shutdown [`request`](Shutdown::request)ed by the program. See the
    /// [module docs](self#details) for what it costs.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Whether to take over signals that were ignored when the process started (as `nohup`
    /// arranges for `SIGHUP`). Default `false`: they stay ignored. No effect on Windows,
    /// where nothing is inherited.
    pub fn take_ignored(mut self, take: bool) -> Self {
        self.take_ignored = take;
        self
    }

    /// Installs the handlers, now.
    ///
    /// # Errors
    ///
    /// `InvalidInput`, naming the signal, for a signal that cannot be handled or whose
    /// default action does not terminate the process (`SIGCHLD`, `SIGTSTP`, …); the
    /// operating system's error if a handler, the pipe or a timer cannot be created.
    pub fn install(self) -> io::Result<Shutdown> {
        for &signal in &self.signals {
            sigmux_registry::check_signal(signal)?;
            if !crate::low_level::terminates_by_default(signal) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "signal {} does not terminate the process by default, so it cannot \
                         be a shutdown signal",
                        signal
                    ),
                ));
            }
        }
        let inner = Arc::new(Inner {
            state: AtomicI32::new(NONE),
            closed: AtomicBool::new(false),
            waiters: Mutex::new(Waiters::default()),
            sys: sys::Shared::new(&self.signals, self.deadline)?,
        });
        let sys = sys::Installed::install(&inner, &self.signals, self.deadline, self.take_ignored)?;
        Ok(Shutdown { inner, sys })
    }
}

impl Shutdown {
    /// Installs the handlers for `SIGTERM` and `SIGINT` (on Windows: the console events), with
    /// no deadline. The same as `Shutdown::builder().install()`.
    ///
    /// # Errors
    ///
    /// As for [`ShutdownBuilder::install`].
    pub fn new() -> io::Result<Shutdown> {
        Shutdown::builder().install()
    }

    /// A builder, to add signals or a deadline before installing.
    pub fn builder() -> ShutdownBuilder {
        ShutdownBuilder {
            #[cfg(not(windows))]
            signals: vec![libc::SIGTERM, libc::SIGINT],
            #[cfg(windows)]
            signals: Vec::new(),
            deadline: None,
            take_ignored: false,
        }
    }

    /// Whether a shutdown was requested. Cheap (one atomic load): check it in loops.
    pub fn is_requested(&self) -> bool {
        self.inner.cause().is_some()
    }

    /// What requested the shutdown, if anything did.
    pub fn cause(&self) -> Option<Cause> {
        self.inner.cause()
    }

    /// Requests a shutdown from the program itself. Returns `false` if one was requested
    /// already (the first cause is kept). Wakes every waiter.
    pub fn request(&self) -> bool {
        let first = self.inner.try_request(Cause::Program);
        if first {
            sys::notify(&self.inner);
        }
        first
    }

    /// Blocks until a shutdown is requested and returns its cause.
    pub fn wait(&self) -> Cause {
        loop {
            if let Some(cause) = sys::wait(&self.inner, None) {
                return cause;
            }
        }
    }

    /// Blocks until a shutdown is requested or `timeout` passes; returns the cause, or `None`
    /// on timeout. The timeout is measured against an absolute deadline, so signals that
    /// interrupt the wait do not stretch it.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Cause> {
        let deadline = Instant::now().checked_add(timeout);
        match deadline {
            Some(deadline) => sys::wait(&self.inner, Some(deadline)),
            None => Some(self.wait()),
        }
    }

    /// A future that completes with the cause when a shutdown is requested.
    ///
    /// It needs no particular runtime: any executor (tokio, async-std, smol, a hand-written
    /// one) can poll it, and any number of futures may wait at once. See the
    /// [module docs](self#details) for the helper thread it starts on Unix.
    pub fn wait_async(&self) -> WaitAsync<'_> {
        WaitAsync {
            inner: &self.inner,
            id: None,
        }
    }

    /// Ends the process after the cleanup: by the signal that requested the shutdown, so the
    /// parent sees `WIFSIGNALED` (on Windows, after a console event, with the status the
    /// default handler gives: `STATUS_CONTROL_C_EXIT`); with `status`, like
    /// [`std::process::exit`], when no signal did (nothing was requested, or the program
    /// called [`request`](Self::request)).
    ///
    /// Standard output and standard error are flushed first. No destructors run, as with
    /// `std::process::exit`.
    pub fn finish(self, status: i32) -> ! {
        let _ = io::stdout().flush();
        let _ = io::stderr().flush();
        match self.cause() {
            #[cfg(not(windows))]
            Some(Cause::Signal(signal)) => crate::low_level::die_by_signal(signal),
            #[cfg(windows)]
            Some(Cause::Console(_)) => sys::exit_as_console_event(),
            _ => std::process::exit(status),
        }
    }
}

impl Drop for Shutdown {
    fn drop(&mut self) {
        // Handlers first: when this returns, no handler action of ours runs any more.
        self.sys.uninstall();
        self.inner.closed.store(true, Ordering::SeqCst);
        sys::notify_closed(&self.inner);
    }
}

/// The future of [`Shutdown::wait_async`]: completes with the [`Cause`] of the shutdown.
#[must_use = "futures do nothing unless polled"]
pub struct WaitAsync<'a> {
    inner: &'a Arc<Inner>,
    /// Our entry in the waker list, once registered.
    id: Option<u64>,
}

impl fmt::Debug for WaitAsync<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitAsync")
            .field("cause", &self.inner.cause())
            .finish_non_exhaustive()
    }
}

impl WaitAsync<'_> {
    fn forget(&mut self, waiters: &mut Waiters) {
        if let Some(id) = self.id.take() {
            waiters.list.retain(|(other, _)| *other != id);
        }
    }
}

impl Future for WaitAsync<'_> {
    type Output = Cause;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Cause> {
        let this = self.get_mut();
        if let Some(cause) = this.inner.cause() {
            if this.id.is_some() {
                this.forget(&mut this.inner.waiters());
            }
            return Poll::Ready(cause);
        }
        let inner = this.inner;
        let mut waiters = inner.waiters();
        match this.id {
            Some(id) => {
                if let Some((_, waker)) = waiters.list.iter_mut().find(|(other, _)| *other == id) {
                    if !waker.will_wake(cx.waker()) {
                        *waker = cx.waker().clone();
                    }
                } else {
                    waiters.list.push((id, cx.waker().clone()));
                }
            }
            None => {
                let id = waiters.next_id;
                waiters.next_id += 1;
                waiters.list.push((id, cx.waker().clone()));
                this.id = Some(id);
            }
        }
        // Checked again under the lock: whoever wakes takes the list under this lock after
        // storing the request, so either it sees our waker or we see the request.
        if let Some(cause) = inner.cause() {
            this.forget(&mut waiters);
            return Poll::Ready(cause);
        }
        if !waiters.started {
            waiters.started = true;
            if !sys::start_waking(inner) {
                // No helper thread could be started: fall back to polling again soon.
                waiters.started = false;
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }
}

impl Drop for WaitAsync<'_> {
    fn drop(&mut self) {
        if self.id.is_some() {
            let inner = self.inner;
            self.forget(&mut inner.waiters());
        }
    }
}
