//! The machinery under [`Signals`](super::Signals), generic over the read end of the
//! self-pipe, for the async adapter crates (sigmux-mio, sigmux-tokio, sigmux-async-std).
//!
//! An adapter creates a pipe ([`self_pipe`]) or socket pair, hands both ends to
//! [`SignalDelivery::with_pipe`], registers the read end with its reactor and, when it is
//! readable, calls [`SignalDelivery::pending`] or [`SignalIterator::poll_signal`].
//!
//! An async adapter needs less: [`AsyncCore`] is the whole stream (polling loop, ending,
//! errors, fork inheritance), over a small [`ReactorPipe`] implementation that registers the
//! read end with the adapter's reactor, polls it for readability and clears its readiness.
//! On Windows, `ThreadDelivery` is the whole stream (a helper thread instead of a reactor),
//! with the same methods. An adapter wraps either in the same few lines.
//!
//! After `fork`, the child's delivery has a private pipe at the same descriptor numbers, but a
//! reactor registration of the read end does not follow it: an adapter tied to a reactor checks
//! [`SignalDelivery::is_inherited`] and ends its stream in the child.
//!
//! Applications normally use [`Signals`](super::Signals) or an adapter instead.
//!
//! (Over 500 lines on purpose: this is signal-hook's `backend` surface — `Handle`,
//! `SignalDelivery`, `Pending`, `SignalIterator` — kept in one module as users know it; the
//! async stream cores are in `async_core.rs` (Unix) and `thread_delivery.rs` (Windows), the
//! adapters' shared surface in `surface.rs`.)

use std::borrow::Borrow;
#[cfg(unix)]
use std::borrow::BorrowMut;
use std::fmt;
use std::io::Error;
#[cfg(unix)]
use std::os::unix::io::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
#[cfg(unix)]
use std::sync::OnceLock;

use libc::c_int;

use super::exfiltrator::Exfiltrator;
#[cfg(unix)]
use super::fork::{self, Tracked};
#[cfg(unix)]
use super::shared::Wake;
use super::shared::{Control, Shared};
#[cfg(unix)]
use crate::low_level::pipe::WakeFd;
#[cfg(unix)]
use crate::sys;

#[cfg(unix)]
mod async_core;
mod surface;
#[cfg(windows)]
mod thread_delivery;
#[cfg(unix)]
pub use self::async_core::{AsyncCore, ReactorPipe};
#[cfg(windows)]
pub use self::thread_delivery::ThreadDelivery;

/// Creates the self-pipe an adapter hands to [`SignalDelivery::with_pipe`]: returns `(read,
/// write)`, both ends close-on-exec and non-blocking, ready for a reactor. New in sigmux.
///
/// A pipe rather than a socket pair: one byte written and read back costs about a third of
/// `send` plus `recv` on a Unix socket, and both sit on the path of every signal.
///
/// ```
/// let (read, write) = sigmux::iterator::backend::self_pipe()?;
/// # drop((read, write));
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub fn self_pipe() -> Result<(OwnedFd, OwnedFd), Error> {
    let (read, write) = sys::pipe()?;
    sys::set_nonblocking(read.as_raw_fd())?;
    Ok((read, write))
}

/// How many `fork`s separate this process from the one it started as (counted by the
/// registry's fork hooks, installed before `main` where the platform has a constructor list).
#[cfg(unix)]
fn fork_epoch() -> usize {
    sigmux_registry::__fork::forks()
}

/// Controls a signal delivery from any thread: add or remove signals, close it.
///
/// Cheap to [`clone`](Clone::clone); all clones control the same delivery.
#[derive(Debug, Clone)]
pub struct Handle {
    control: Arc<dyn Control>,
    /// For a [`SignalDelivery`] (a pipe): where it leaves a duplicate of its read end when it
    /// is dropped while handles remain, so a [`close`](Handle::close) after that never writes
    /// into a pipe without a reader (which raises `SIGPIPE`). Closed with the last handle.
    ///
    /// Fork: only the delivery's drop sets it, once. A child forked while another thread was
    /// in that `set` never waits on it (nothing in the child sets or reads it; dropping an
    /// unfinished `OnceLock` just skips its value).
    #[cfg(unix)]
    reader: Option<Arc<OnceLock<OwnedFd>>>,
}

impl Handle {
    /// Starts reporting `signal` too.
    ///
    /// * Safe to call from any thread, concurrently; *not* from a signal handler.
    /// * Adding a signal that is already reported does nothing (idempotent).
    /// * On error, the set of signals is unchanged.
    ///
    /// # Errors
    ///
    /// Unlike signal-hook (which panics, and aborts the process for numbers like 1000), an
    /// error of kind `InvalidInput` whose message names the signal, for:
    /// * -1, 0, or numbers above the largest signal of the platform (e.g. 65, 1000,
    ///   `i32::MAX` on Linux);
    /// * [`FORBIDDEN`](crate::consts::FORBIDDEN) signals;
    /// * numbers the C library keeps for itself (32 and 33 on Linux with glibc: everything
    ///   between the classic signals and `SIGRTMIN()`).
    ///
    /// Also the registration's own errors, and an error if the
    /// [`SignalDelivery`]/[`Signals`](super::Signals) of this handle was dropped.
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use sigmux::iterator::Signals;
    ///
    /// let signals = Signals::new([libc::SIGUSR1])?;
    /// let handle = signals.handle();
    /// handle.add_signal(libc::SIGUSR2)?;
    /// handle.add_signal(libc::SIGUSR2)?; // no-op
    /// let err = handle.add_signal(1000).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("1000"));
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add_signal(&self, signal: c_int) -> Result<(), Error> {
        Arc::clone(&self.control).add_signal(signal)
    }

    /// Stops reporting `signal`; returns whether it was being reported. New in sigmux.
    ///
    /// When this returns, the delivery's action for `signal` is unregistered and nothing of
    /// `signal` is reported by this delivery any more — including arrivals not yet read.
    /// Other signals are unaffected. It may be [added](Handle::add_signal) again later.
    ///
    /// Like every unregistration, this leaves the process's signal disposition in place:
    /// with no other action registered, the signal is then caught and ignored, not given its
    /// default action back.
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use sigmux::iterator::Signals;
    /// use sigmux::low_level::raise;
    ///
    /// let mut signals = Signals::new([libc::SIGUSR1, libc::SIGUSR2])?;
    /// raise(libc::SIGUSR1)?;
    /// raise(libc::SIGUSR2)?;
    /// assert!(signals.handle().remove_signal(libc::SIGUSR1));
    /// assert_eq!(signals.pending().collect::<Vec<_>>(), [libc::SIGUSR2]);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn remove_signal(&self, signal: c_int) -> bool {
        self.control.remove_signal(signal)
    }

    /// Closes the delivery: meant for shutting down a thread that only handles signals.
    ///
    /// Afterwards [`is_closed`](Handle::is_closed) is `true`, iterators in
    /// [`forever`](super::SignalsInfo::forever) end, blocked calls return at once and later
    /// calls do not block. Signals may or may not still be reported; any that are, really
    /// arrived.
    ///
    /// Harmless once the delivery (or the adapter stream) is gone, even with `SIGPIPE` at its
    /// default action: a pipe-based delivery dropped while handles remain leaves them a
    /// duplicate of its read end (one descriptor, closed with the last handle), so this never
    /// writes into a pipe without a reader.
    pub fn close(&self) {
        self.control.close()
    }

    /// Whether [`close`](Handle::close) was called.
    pub fn is_closed(&self) -> bool {
        self.control.is_closed()
    }
}

/// What every delivery has, whatever its reader waits on: the state shared with the
/// handlers, and a [`Handle`] to it. Dropping it unregisters every action.
pub(super) struct Core<E: Exfiltrator> {
    handle: Handle,
    shared: Arc<Shared<E>>,
}

impl<E: Exfiltrator> Core<E> {
    /// Wraps `shared` and registers `signals`; on error nothing stays registered.
    pub(super) fn new<I, S>(shared: Shared<E>, signals: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        let shared = Arc::new(shared);
        let core = Core {
            handle: Handle {
                control: Arc::clone(&shared) as Arc<dyn Control>,
                #[cfg(unix)]
                reader: None,
            },
            shared,
        };
        for signal in signals {
            // On error, dropping `core` unregisters what was added so far.
            core.handle.add_signal(*signal.borrow())?;
        }
        Ok(core)
    }

    /// The batch of what is pending now (nothing is drained).
    pub(super) fn batch(&self) -> Pending<E> {
        Pending::new(Arc::clone(&self.shared))
    }

    pub(super) fn shared(&self) -> &Shared<E> {
        &self.shared
    }

    pub(super) fn handle(&self) -> Handle {
        self.handle.clone()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }
}

impl<E: Exfiltrator> Drop for Core<E> {
    fn drop(&mut self) {
        // Nobody reads any more: stop the handlers.
        self.shared.shut_down();
    }
}

impl<E: Exfiltrator> fmt::Debug for Core<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

/// Delivers the signals caught by the handlers to ordinary code, through a self-pipe whose
/// read end is of type `R`.
///
/// Registers its signals when created (and through its [`Handle`]s), unregisters them all
/// when dropped.
#[cfg(unix)]
pub struct SignalDelivery<R, E: Exfiltrator> {
    /// First, so it is dropped (and the handlers stopped) before the read end is closed.
    core: Core<E>,
    read: R,
    /// Whether `read` is a socket (drained with `recv`) or something else (`poll` + `read`).
    read_is_socket: bool,
    /// The pipe ends' entry in the fork-isolation list.
    fork: Tracked,
    /// [`read_fd_of::<R>`](read_fd_of), for [`Drop`] (whose `R` has no bounds): the read
    /// end's descriptor now (an adapter may have given it up; then `-1`). Type-erased so that
    /// `SignalDelivery` stays covariant in `R`.
    read_fd: unsafe fn(*const ()) -> RawFd,
    /// [`fork_epoch`] when this was made.
    epoch: usize,
}

#[cfg(unix)]
impl<R, E: Exfiltrator> SignalDelivery<R, E>
where
    R: 'static + AsRawFd + Send + Sync,
{
    /// Creates a delivery from both ends of a pipe and registers `signals`.
    ///
    /// `write` is owned from now on and written by the handlers: `FD_CLOEXEC` is set on it;
    /// a socket is written with `send(MSG_DONTWAIT)`, anything else is made non-blocking.
    /// The read end may be a socket (drained with `recv(MSG_DONTWAIT)`) or a pipe/FIFO
    /// (drained with `poll` and `read`); [`self_pipe`] is the usual choice, a
    /// [`UnixStream`](std::os::unix::net::UnixStream) pair works too.
    ///
    /// # Errors
    ///
    /// As for [`Handle::add_signal`]; on error nothing stays registered.
    pub fn with_pipe<I, S, W>(read: R, write: W, exfiltrator: E, signals: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
        W: 'static + Into<OwnedFd> + fmt::Debug + Send + Sync,
    {
        let epoch = fork_epoch();
        let read_is_socket = sys::is_socket(read.as_raw_fd())?;
        let wake = WakeFd::new(write.into())?;
        let fork = fork::track(read.as_raw_fd(), wake.raw(), wake.is_socket());
        let mut core = Core::new(Shared::new(exfiltrator, Wake::Fd(wake)), signals)?;
        // No clone of the core's handle exists yet: every later one shares the slot.
        core.handle.reader = Some(Arc::new(OnceLock::new()));
        Ok(SignalDelivery {
            core,
            read,
            read_is_socket,
            fork,
            read_fd: read_fd_of::<R>,
            epoch,
        })
    }

    /// The read end of the self-pipe, e.g. to register it with `epoll` or a runtime. When it
    /// is readable, call [`pending`](SignalDelivery::pending).
    pub fn get_read(&self) -> &R {
        &self.read
    }

    /// The read end of the self-pipe, mutably. See [`get_read`](SignalDelivery::get_read).
    pub fn get_read_mut(&mut self) -> &mut R {
        &mut self.read
    }

    /// Drains the self-pipe without blocking, then returns the batch of signals that arrived
    /// since the last batch.
    ///
    /// Never blocks; the batch may be empty. Signals come in increasing order of their
    /// number; with [`SignalOnly`](super::exfiltrator::SignalOnly), each one at most once even
    /// if it arrived several times. The batch is read lazily: a signal arriving while you
    /// iterate may still be included.
    pub fn pending(&mut self) -> Pending<E> {
        sys::drain(self.read.as_raw_fd(), self.read_is_socket);
        self.core.batch()
    }

    /// Asks `has_signals` whether the read end has data (it may block) and, if so, returns
    /// the [`pending`](SignalDelivery::pending) batch — possibly empty.
    ///
    /// Returns `Ok(None)` without calling `has_signals` once the delivery is closed, and
    /// `Ok(None)` when `has_signals` says `false`.
    pub fn poll_pending<F>(&mut self, has_signals: &mut F) -> Result<Option<Pending<E>>, Error>
    where
        F: FnMut(&mut R) -> Result<bool, Error>,
    {
        if self.core.is_closed() {
            return Ok(None);
        }
        if has_signals(&mut self.read)? {
            Ok(Some(self.pending()))
        } else {
            Ok(None)
        }
    }

    /// A [`Handle`] to add signals to this delivery or close it, from any thread.
    pub fn handle(&self) -> Handle {
        self.core.handle()
    }

    /// Whether this process is a forked child of the one that created this delivery. New in
    /// sigmux.
    ///
    /// The delivery itself keeps working in the child (it has a private self-pipe there, at
    /// the same descriptor number), but a *reactor registration* of its read end does not:
    /// epoll (mio, tokio, async-io) watches the open pipe, not the number, so the child's
    /// registration still points at the parent's pipe, in an epoll instance shared with the
    /// parent. An adapter whose stream is tied to a reactor checks this and ends the stream
    /// in the child instead of waiting forever. One atomic load.
    pub fn is_inherited(&self) -> bool {
        fork_epoch() != self.epoch
    }

    /// Unregisters every signal of this delivery for good (later
    /// [`add_signal`](Handle::add_signal)s fail), as dropping it does. New in sigmux.
    ///
    /// For an adapter whose stream ended with an error: the signals stop being taken away
    /// from other handlers and their default actions for a reader that will never read.
    pub fn shut_down(&self) {
        self.core.shared.shut_down();
    }
}

#[cfg(unix)]
impl<R, E: Exfiltrator> SignalDelivery<R, E> {
    pub(super) fn core(&self) -> &Core<E> {
        &self.core
    }

    fn is_closed(&self) -> bool {
        self.core.is_closed()
    }
}

/// The descriptor of the `R` that `read` points to.
///
/// # Safety
///
/// `read` must point to a live `R`.
#[cfg(unix)]
unsafe fn read_fd_of<R: AsRawFd>(read: *const ()) -> RawFd {
    // SAFETY: the caller's contract.
    unsafe { &*read.cast::<R>() }.as_raw_fd()
}

#[cfg(unix)]
impl<R, E: Exfiltrator> Drop for SignalDelivery<R, E> {
    fn drop(&mut self) {
        // Before any of the pipe's descriptors can be closed (the fields, the handlers' write
        // end among them, are dropped right after this), so a later fork does not touch a
        // reused number.
        self.fork.untrack();
        // Handles outlive the delivery: leave them a reader, so their `close` (a write into
        // the pipe) can never raise SIGPIPE. Not needed for the handlers: dropping the core
        // (next) unregisters them, and `unregister` returns only once none is running.
        // SAFETY: `read_fd` is `read_fd_of::<R>` (set in `with_pipe`, the only constructor) and
        // gets a pointer to our live `R`.
        let read_fd = unsafe { (self.read_fd)((&self.read as *const R).cast()) };
        if let Some(slot) = &self.core.handle.reader {
            if Arc::strong_count(slot) > 1 && read_fd >= 0 {
                // SAFETY: `read_fd` is the read end `self.read` holds now, open until the
                // fields are dropped after this function.
                let read = unsafe { BorrowedFd::borrow_raw(read_fd) };
                // On failure (no descriptor left) a late `close` may still meet SIGPIPE.
                if let Ok(dup) = read.try_clone_to_owned() {
                    let _ = slot.set(dup);
                }
            }
        }
    }
}

#[cfg(unix)]
impl<R: fmt::Debug, E: Exfiltrator> fmt::Debug for SignalDelivery<R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalDelivery")
            .field("read", &self.read)
            .field("shared", &self.core)
            .finish()
    }
}

/// One batch of arrived signals, as an iterator. Returned by
/// [`pending`](SignalDelivery::pending) and [`wait`](super::SignalsInfo::wait).
///
/// It reads lazily: signals arriving while you iterate may still be included. It never
/// blocks. Dropped part-way, it leaves what it has not yielded for the next batch.
pub struct Pending<E: Exfiltrator> {
    shared: Arc<Shared<E>>,
    /// Where to look for the next pending signal.
    next_from: usize,
}

impl<E: Exfiltrator> Pending<E> {
    fn new(shared: Arc<Shared<E>>) -> Self {
        Pending {
            shared,
            next_from: 0,
        }
    }

    /// Starts over as a fresh batch of the same delivery, without touching the reference
    /// count (the blocking iterator's wake-up path reuses one batch).
    pub(super) fn restart(&mut self) {
        self.next_from = 0;
    }
}

impl<E: Exfiltrator> Iterator for Pending<E> {
    type Item = E::Output;

    fn next(&mut self) -> Option<E::Output> {
        self.shared.next_delivery(&mut self.next_from)
    }
}

impl<E: Exfiltrator> fmt::Debug for Pending<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("shared", &self.shared)
            .field("next_from", &self.next_from)
            .finish()
    }
}

/// What [`SignalIterator::poll_signal`] found.
#[cfg(unix)]
pub enum PollResult<O> {
    /// A signal arrived.
    Signal(O),
    /// Nothing now; more may come later.
    Pending,
    /// The delivery was [closed](Handle::close); nothing more will be reported.
    Closed,
    /// Polling the read end failed.
    Err(Error),
}

#[cfg(unix)]
impl<O: fmt::Debug> fmt::Debug for PollResult<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollResult::Signal(output) => f.debug_tuple("Signal").field(output).finish(),
            PollResult::Pending => f.write_str("Pending"),
            PollResult::Closed => f.write_str("Closed"),
            PollResult::Err(err) => f.debug_tuple("Err").field(err).finish(),
        }
    }
}

/// An endless iterator of signals over a [`SignalDelivery`] that it owns or borrows (`SD`),
/// for adapters: [`poll_signal`](SignalIterator::poll_signal) yields signals one at a time.
#[cfg(unix)]
pub struct SignalIterator<SD, E: Exfiltrator> {
    signals: SD,
    iter: Pending<E>,
}

#[cfg(unix)]
impl<SD, E: Exfiltrator> SignalIterator<SD, E> {
    /// Creates the iterator; starts with the [`pending`](SignalDelivery::pending) batch.
    pub fn new<R>(mut signals: SD) -> Self
    where
        SD: BorrowMut<SignalDelivery<R, E>>,
        R: 'static + AsRawFd + Send + Sync,
    {
        let iter = signals.borrow_mut().pending();
        SignalIterator { signals, iter }
    }

    /// Returns the next signal, or says why there is none.
    ///
    /// When the current batch is used up, calls `has_signals` with the read end (it may block
    /// or not, as the caller likes; it may be called several times). If it says `true`, a new
    /// batch is taken; if `false`, [`PollResult::Pending`] is returned and this may be called
    /// again later. After [`close`](Handle::close), [`PollResult::Closed`].
    pub fn poll_signal<R, F>(&mut self, has_signals: &mut F) -> PollResult<E::Output>
    where
        SD: BorrowMut<SignalDelivery<R, E>>,
        R: 'static + AsRawFd + Send + Sync,
        F: FnMut(&mut R) -> Result<bool, Error>,
    {
        // A batch may turn out empty (its signals taken by an earlier batch), hence the loop.
        while !self.signals.borrow_mut().is_closed() {
            if let Some(output) = self.iter.next() {
                return PollResult::Signal(output);
            }
            match self.signals.borrow_mut().poll_pending(has_signals) {
                Ok(Some(batch)) => self.iter = batch,
                // Closed while we looked (the pipe was not consulted, so no wake-up is
                // registered): report it now rather than a `Pending` nobody would end.
                Ok(None) if self.signals.borrow_mut().is_closed() => return PollResult::Closed,
                Ok(None) => return PollResult::Pending,
                Err(err) => return PollResult::Err(err),
            }
        }
        PollResult::Closed
    }

    /// A [`Handle`] of the underlying delivery.
    pub fn handle<R>(&self) -> Handle
    where
        SD: Borrow<SignalDelivery<R, E>>,
        R: 'static + AsRawFd + Send + Sync,
    {
        self.signals.borrow().handle()
    }

    /// See [`SignalDelivery::is_inherited`]. New in sigmux.
    pub fn is_inherited<R>(&self) -> bool
    where
        SD: Borrow<SignalDelivery<R, E>>,
        R: 'static + AsRawFd + Send + Sync,
    {
        self.signals.borrow().is_inherited()
    }

    /// See [`SignalDelivery::shut_down`]. New in sigmux.
    pub fn shut_down<R>(&self)
    where
        SD: Borrow<SignalDelivery<R, E>>,
        R: 'static + AsRawFd + Send + Sync,
    {
        self.signals.borrow().shut_down()
    }

    /// The read end of the underlying delivery, mutably. See
    /// [`SignalDelivery::get_read_mut`]. New in sigmux.
    pub fn get_read_mut<R>(&mut self) -> &mut R
    where
        SD: BorrowMut<SignalDelivery<R, E>>,
        R: 'static + AsRawFd + Send + Sync,
    {
        self.signals.borrow_mut().get_read_mut()
    }
}

#[cfg(unix)]
impl<SD: fmt::Debug, E: Exfiltrator> fmt::Debug for SignalIterator<SD, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalIterator")
            .field("signals", &self.signals)
            .finish()
    }
}

/// A [`SignalIterator`] that owns its [`SignalDelivery`].
#[cfg(unix)]
pub type OwningSignalIterator<R, E> = SignalIterator<SignalDelivery<R, E>, E>;

/// A [`SignalIterator`] that borrows its [`SignalDelivery`] mutably.
#[cfg(unix)]
pub type RefSignalIterator<'a, R, E> = SignalIterator<&'a mut SignalDelivery<R, E>, E>;

#[cfg(unix)]
impl<E: Exfiltrator> SignalDelivery<OwnedFd, E> {
    /// Makes a [`self_pipe`] and a delivery over it that registers `signals`, for an adapter
    /// that registers the read end itself (sigmux-mio). New in sigmux.
    ///
    /// # Errors
    ///
    /// As for [`with_pipe`](SignalDelivery::with_pipe).
    pub fn open<I, S>(signals: I, exfiltrator: E) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        let (read, write) = self_pipe()?;
        SignalDelivery::with_pipe(read, write, exfiltrator, signals)
    }
}
