//! A blocking iterator over arriving signals — the pattern most programs want.
//!
//! [`Signals`] registers a set of signals when created and unregisters them when dropped. In
//! between it reports the signals that arrived, in batches ([`pending`](SignalsInfo::pending)
//! never blocks, [`wait`](SignalsInfo::wait) blocks until something arrives) or one by one
//! ([`forever`](SignalsInfo::forever), also `for sig in &mut signals`). Your code runs in an
//! ordinary thread, not in a signal handler, so it may do anything.
//!
//! [`SignalsInfo`] is the general form, parametrised by an [`Exfiltrator`] choosing what is
//! reported: the number ([`SignalOnly`], which [`Signals`] uses), the raw `siginfo_t`, or the
//! sender's pid/uid ([`WithOrigin`](exfiltrator::WithOrigin), feature `extended-siginfo`).
//!
//! # Examples
//!
//! A loop that picks up signals between pieces of work:
//!
//! ```
//! # #[cfg(unix)] {
//! use sigmux::consts::signal::*;
//! use sigmux::iterator::Signals;
//!
//! let mut signals = Signals::new([SIGHUP, SIGTERM, SIGINT, SIGQUIT])?;
//! # sigmux::low_level::raise(SIGTERM)?; // stands for `kill -TERM <pid>` from outside
//! 'work: loop {
//!     for signal in signals.pending() {
//!         match signal {
//!             SIGHUP => { /* reload the configuration */ }
//!             _ => break 'work, // a termination signal
//!         }
//!     }
//!     // one bounded piece of work
//! }
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! A thread dedicated to signals, shut down through its [`Handle`]:
//!
//! ```
//! # #[cfg(unix)] {
//! use std::thread;
//!
//! use sigmux::consts::{SIGUSR1, SIGUSR2};
//! use sigmux::iterator::Signals;
//!
//! let mut signals = Signals::new([SIGUSR1, SIGUSR2])?;
//! let handle = signals.handle();
//! let thread = thread::spawn(move || {
//!     let mut seen = Vec::new();
//!     for signal in &mut signals {
//!         seen.push(signal); // handle it
//!     }
//!     seen // the loop ends when the handle is closed
//! });
//! // … the program runs; at shutdown:
//! handle.close();
//! thread.join().unwrap();
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Wake-up path
//!
//! The handler stores into a per-signal slot and sets a bit, then wakes the reader; the reader
//! looks only at the signals whose bits are set.
//!
//! * **Linux and Android:** there is no pipe. The handler bumps a counter and, only when the
//!   reader is asleep, posts a semaphore (one `FUTEX_WAKE` system call); the reader sleeps in
//!   `sem_wait`.
//!   That is fewer system calls than a hand-written `sigaction` + self-pipe (a `write` in the
//!   handler, a `read` in the reader), no descriptors, and nothing a forked child could share
//!   with its parent. A wake-up the reader has not consumed yet makes the next
//!   [`wait`](SignalsInfo::wait) return at once, exactly as an unread byte in a pipe would.
//! * **Elsewhere:** the handler writes one byte into a pipe whose write end is non-blocking,
//!   and a waiting reader is blocked in a single `read` of that pipe, which also drains it.
//!
//! The adapters' [`backend`] always uses a pipe (or socket), since that is what an event loop
//! can wait on.
//!
//! # Windows
//!
//! The iterator exists on Windows too, for [`SignalOnly`] (the C runtime passes no
//! `siginfo_t`). It reports the C runtime's signals (`SIGINT`, `SIGTERM`, `SIGBREAK`,
//! `SIGABRT`, …, through `signal`) *and* the console control events, each under a signal
//! number, so one `match` serves both systems:
//!
//! | console event | reported as |
//! | --- | --- |
//! | Ctrl-C (`CTRL_C_EVENT`) | [`SIGINT`](crate::consts::SIGINT) |
//! | Ctrl-Break (`CTRL_BREAK_EVENT`) | `SIGBREAK` |
//! | console closed (`CTRL_CLOSE_EVENT`) | `SIGCLOSE` (24) |
//! | log-off (`CTRL_LOGOFF_EVENT`, services) | `SIGLOGOFF` (25) |
//! | system shutdown (`CTRL_SHUTDOWN_EVENT`, services) | `SIGSHUTDOWN` (26) |
//!
//! `SIGCLOSE`, `SIGLOGOFF` and `SIGSHUTDOWN` are sigmux's numbers, above the C runtime's
//! (which end at 22); only the iterator knows them (not [`flag`](crate::flag) nor
//! [`low_level`](crate::low_level)). An iterator that reports `SIGINT` or `SIGBREAK` also
//! takes the console event, so the process is not killed by it, as on Unix.
//!
//! **Closing events do not kill before the cleanup.** Windows kills a process as soon as its
//! console handlers return from a close, log-off or shutdown event. So after an iterator has
//! been given such an event, sigmux's console handler keeps the process alive until the
//! iterator is *done* with it: dropped (the [`Signals`] value itself, not a [`Handle`]),
//! [closed](Handle::close), or the signal [removed](Handle::remove_signal) — whichever comes
//! first — or the program ends the process itself (returning from `main`,
//! `std::process::exit`), or Windows stops waiting (about 5 seconds after a close;
//! configurable by the system for log-off and shutdown). It then passes the event on, and the
//! default handler ends the process. An iterator that does not report the event, or is
//! already closed, does not hold anything: the default behaviour is unchanged. The console
//! handler is the one [`Shutdown`](crate::Shutdown) uses; when both take a closing event, the
//! process is held until both are done.
//!
//! The wake-up is the parker of Linux over a Windows semaphore object (`ReleaseSemaphore` in
//! the handler, `WaitForSingleObject` in the reader): no pipe, no socket.
//!
//! ```no_run
//! use sigmux::consts::*;
//! use sigmux::iterator::Signals;
//!
//! #[cfg(unix)]
//! let watched = [SIGTERM, SIGINT, SIGHUP];
//! #[cfg(windows)]
//! let watched = [SIGTERM, SIGINT, SIGBREAK, SIGCLOSE];
//! let mut signals = Signals::new(watched)?;
//! for signal in &mut signals {
//!     match signal {
//!         SIGINT | SIGTERM => break, // Ctrl-C on both systems
//!         #[cfg(windows)]
//!         SIGCLOSE => break, // the console is closing: Windows waits for the cleanup
//!         _ => { /* reload */ }
//!     }
//! }
//! // clean up, then drop `signals` (or end the process)
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod backend;
pub mod exfiltrator;
#[cfg(unix)]
mod fork;
mod shared;
mod wake;

use std::borrow::Borrow;
use std::fmt;
use std::io::Error;
#[cfg(unix)]
use std::os::unix::io::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use libc::c_int;

use self::backend::Core;
#[cfg(unix)]
use self::backend::SignalDelivery;
pub use self::backend::{Handle, Pending};
use self::exfiltrator::{Exfiltrator, SignalOnly};
use self::shared::Shared;
use self::wake::{Parker, Wake};
#[cfg(unix)]
use crate::sys;

/// Interest in a set of signals, reporting what the exfiltrator `E` extracts from each.
///
/// Registers the signals when created, unregisters them when dropped; in between, reports
/// the arrived signals in batches or one by one. Most code uses the alias [`Signals`].
///
/// # Threads
///
/// It can be [sent](Send) to another thread, typically one dedicated to signals. Take a
/// [`Handle`] first ([`handle`](SignalsInfo::handle)): it can add or remove signals and
/// [close](Handle::close) the iterator from any thread.
///
/// # Example
///
/// ```
/// # #[cfg(unix)] {
/// use sigmux::iterator::Signals;
/// use sigmux::low_level::raise;
///
/// let mut signals = Signals::new([libc::SIGUSR1])?;
/// raise(libc::SIGUSR1)?;
/// raise(libc::SIGUSR1)?; // coalesced with the first
/// assert_eq!(signals.wait().collect::<Vec<_>>(), [libc::SIGUSR1]);
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SignalsInfo<E: Exfiltrator = SignalOnly>(Inner<E>);

/// What the blocked reader sleeps on (chosen in [`wake`]).
enum Inner<E: Exfiltrator> {
    /// Linux, Android, Windows: a semaphore the handler posts directly (see [`wake`]).
    Park(Core<E>),
    /// Other Unix systems: a self-pipe, read with one blocking `read` per wake-up.
    #[cfg(unix)]
    Pipe(SignalDelivery<OwnedFd, E>),
}

impl<E: Exfiltrator> SignalsInfo<E> {
    /// Registers `signals` and starts reporting them.
    ///
    /// # Errors
    ///
    /// As for [`Handle::add_signal`]: bad numbers (-1, 0, forbidden, reserved, too large —
    /// e.g. `Signals::new([1000])`, which aborts the process with signal-hook) give an error
    /// of kind `InvalidInput` naming the signal, and nothing stays registered.
    ///
    /// ```
    /// use sigmux::iterator::Signals;
    ///
    /// let err = Signals::new([sigmux::consts::SIGTERM, 1000]).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("1000"));
    /// ```
    pub fn new<I, S>(signals: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
        E: Default,
    {
        Self::with_exfiltrator(signals, E::default())
    }

    /// Like [`new`](SignalsInfo::new), with an explicit [`Exfiltrator`] value.
    pub fn with_exfiltrator<I, S>(signals: I, exfiltrator: E) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        #[cfg(unix)]
        if let Ok(parker) = Parker::new() {
            let shared = Shared::new(exfiltrator, Wake::Park(parker));
            return Ok(SignalsInfo(Inner::Park(Core::new(shared, signals)?)));
        }
        #[cfg(unix)]
        return Self::with_self_pipe(signals, exfiltrator);
        #[cfg(windows)]
        {
            let shared = Shared::new(exfiltrator, Wake::Park(Parker::new()?));
            Ok(SignalsInfo(Inner::Park(Core::new(shared, signals)?)))
        }
    }

    /// The portable form, waiting on a self-pipe: the only one on systems other than Linux
    /// and Android (and Windows, which has no pipe a signal handler could write to).
    #[cfg(unix)]
    fn with_self_pipe<I, S>(signals: I, exfiltrator: E) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        let (read, write) = sys::pipe()?;
        let delivery = SignalDelivery::with_pipe(read, write, exfiltrator, signals)?;
        Ok(SignalsInfo(Inner::Pipe(delivery)))
    }

    fn core(&self) -> &Core<E> {
        match &self.0 {
            Inner::Park(core) => core,
            #[cfg(unix)]
            Inner::Pipe(delivery) => delivery.core(),
        }
    }

    /// Starts reporting `signal` too. See [`Handle::add_signal`] (idempotent; errors instead
    /// of panics).
    pub fn add_signal(&self, signal: c_int) -> Result<(), Error> {
        self.handle().add_signal(signal)
    }

    /// Stops reporting `signal`; returns whether it was reported. New in sigmux; see
    /// [`Handle::remove_signal`].
    pub fn remove_signal(&self, signal: c_int) -> bool {
        self.handle().remove_signal(signal)
    }

    /// The signals that arrived since the last batch, without blocking.
    ///
    /// The batch may be empty. Signals come in increasing order of their number; with
    /// [`SignalOnly`] each is reported at most once per batch however often it arrived.
    /// Deliveries an earlier batch did not yield (it was dropped part-way) are reported
    /// again, as in signal-hook.
    pub fn pending(&mut self) -> Pending<E> {
        match &mut self.0 {
            Inner::Park(core) => {
                core.shared().consume_wake_ups();
                core.batch()
            }
            #[cfg(unix)]
            Inner::Pipe(delivery) => delivery.pending(),
        }
    }

    /// Blocks until something arrives, then returns the batch, like
    /// [`pending`](SignalsInfo::pending).
    ///
    /// The batch can still be empty (a wake-up whose signals an earlier batch already
    /// reported), so call it in a loop. Returns at once if the iterator is
    /// [closed](Handle::close), and a blocked call returns when it gets closed. Also returns
    /// at once while deliveries an earlier batch did not yield are queued (signal-hook would
    /// block until the next signal).
    ///
    /// # Panics
    ///
    /// Where a self-pipe is used (not on Linux and Android), if reading it fails, which only
    /// happens if its descriptor was closed behind this crate's back.
    pub fn wait(&mut self) -> Pending<E> {
        if self.is_closed() {
            return self.pending();
        }
        self.block(None);
        self.core().batch()
    }

    /// Like [`wait`](SignalsInfo::wait), but blocks for at most `timeout`: returns the batch
    /// (empty if nothing arrived) once something arrives, the iterator is
    /// [closed](Handle::close) or the time is up. New in sigmux (signal-hook has no way to
    /// bound a wait).
    ///
    /// Returns at once, like `wait`, when something is pending already or the iterator is
    /// closed. The deadline is measured on the monotonic clock. On Linux and Android the
    /// sleep is a `sem_timedwait`, which POSIX defines against the wall clock: setting the
    /// wall clock back during the wait lengthens it by as much (setting it forward does not
    /// shorten it). A `timeout` too large to represent waits for ever.
    ///
    /// # Panics
    ///
    /// As for [`wait`](SignalsInfo::wait).
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use std::time::Duration;
    /// use sigmux::iterator::Signals;
    ///
    /// let mut signals = Signals::new([libc::SIGUSR1])?;
    /// assert_eq!(signals.wait_timeout(Duration::from_millis(10)).count(), 0);
    /// sigmux::low_level::raise(libc::SIGUSR1)?;
    /// let got: Vec<_> = signals.wait_timeout(Duration::from_secs(60)).collect();
    /// assert_eq!(got, [libc::SIGUSR1]);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> Pending<E> {
        if self.is_closed() {
            return self.pending();
        }
        self.block(Instant::now().checked_add(timeout));
        self.core().batch()
    }

    /// Waits for news, or until `deadline` if there is one: on the semaphore until a signal
    /// is pending or the iterator is closed, or on the pipe until it has a byte (then one
    /// `read` drains some).
    fn block(&self, deadline: Option<Instant>) {
        match &self.0 {
            Inner::Park(core) => {
                core.shared().park(deadline);
            }
            // Deliveries left by a batch dropped part-way have no byte in the pipe any more.
            #[cfg(unix)]
            Inner::Pipe(delivery) if delivery.core().shared().has_pending() => {}
            #[cfg(unix)]
            Inner::Pipe(delivery) => {
                if let Err(err) = wake::pipe::wait(delivery.get_read().as_raw_fd(), deadline) {
                    // Only possible if someone closed our private descriptor.
                    panic!("reading the signal self-pipe failed: {}", err);
                }
            }
        }
    }

    /// Whether the iterator was [closed](Handle::close).
    pub fn is_closed(&self) -> bool {
        self.core().is_closed()
    }

    /// An endless iterator of arriving signals, blocking as needed; ends only when
    /// [closed](Handle::close). Also what `for sig in &mut signals` uses.
    ///
    /// Signals arriving together come in increasing order of their number; repeated
    /// arrivals of one signal may be coalesced.
    pub fn forever(&mut self) -> Forever<'_, E> {
        let batch = self.core().batch();
        Forever {
            signals: self,
            batch,
        }
    }

    /// A [`Handle`] to add or remove signals and to close this iterator from other threads.
    pub fn handle(&self) -> Handle {
        self.core().handle()
    }
}

impl<E: Exfiltrator> fmt::Debug for SignalsInfo<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Park(core) => f.debug_tuple("Signals").field(core).finish(),
            #[cfg(unix)]
            Inner::Pipe(delivery) => f.debug_tuple("Signals").field(delivery).finish(),
        }
    }
}

impl<'a, E: Exfiltrator> IntoIterator for &'a mut SignalsInfo<E> {
    type Item = E::Output;
    type IntoIter = Forever<'a, E>;

    fn into_iter(self) -> Forever<'a, E> {
        self.forever()
    }
}

/// The endless iterator of [`SignalsInfo::forever`].
pub struct Forever<'a, E: Exfiltrator> {
    signals: &'a mut SignalsInfo<E>,
    batch: Pending<E>,
}

impl<E: Exfiltrator> Iterator for Forever<'_, E> {
    type Item = E::Output;

    fn next(&mut self) -> Option<E::Output> {
        loop {
            if self.signals.is_closed() {
                return None;
            }
            if let Some(output) = self.batch.next() {
                return Some(output);
            }
            self.signals.block(None);
            self.batch.restart();
        }
    }
}

impl<E: Exfiltrator> fmt::Debug for Forever<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forever")
            .field("signals", &self.signals)
            .finish()
    }
}

/// [`SignalsInfo`] reporting just signal numbers: the simple, common case.
pub type Signals = SignalsInfo<SignalOnly>;

#[cfg(all(test, unix))]
mod tests;
