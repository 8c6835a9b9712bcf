//! Unix signals as an asynchronous stream for [async-std](https://docs.rs/async-std),
//! [smol](https://docs.rs/smol) and anything else driven by the
//! [async-io](https://docs.rs/async-io) reactor.
//!
//! # The problem
//!
//! An async program wants to `await` signals beside its other work: reload on `SIGHUP`, shut
//! down on `SIGTERM`. A signal handler cannot wake a task by itself (it may not lock or
//! allocate), so the signal has to reach the reactor some other way.
//!
//! # Anatomy
//!
//! [`SignalsInfo`] (usually through its alias [`Signals`]) owns a pipe whose read end is
//! registered with async-io's reactor. The signals are registered with the operating
//! system before [`Signals::new`] returns. The handler, installed through
//! [`sigmux::iterator::backend`], marks the signal in a per-signal slot and writes one byte
//! into the pipe; the reactor wakes the task waiting on the stream, which empties the pipe
//! without blocking and takes the marked signals. One readiness event per wake-up, no extra
//! task, and no allocation of this crate's own (async-io's reactor makes one per turn that
//! wakes tasks, for its list of wakers).
//!
//! The stream ends (yields `None`) once [`Handle::close`] was called on its handle. An I/O
//! error of the reactor also ends it — as does being polled in a forked child (see
//! [After `fork`](#after-fork)) — and [`SignalsInfo::take_error`] tells what happened. A
//! stream that ended with an error has unregistered its signals. Polling never panics.
//! (async-io itself panics where it cannot create its epoll instance, at the reactor's first
//! use — in [`Signals::new`] if that is the program's first use of async-io.)
//!
//! # Example
//!
//! ```
//! use async_std::prelude::*;
//! use sigmux::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
//! use sigmux_async_std::Signals;
//!
//! async fn handle_signals(mut signals: Signals) {
//!     while let Some(signal) = signals.next().await {
//!         match signal {
//!             SIGHUP => { /* reload the configuration, reopen the log */ }
//!             SIGTERM | SIGINT | SIGQUIT => { /* start a graceful shutdown */ }
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//!
//! #[async_std::main]
//! async fn main() -> std::io::Result<()> {
//!     let signals = Signals::new([SIGHUP, SIGTERM, SIGINT, SIGQUIT])?;
//!     let handle = signals.handle();
//!     let signals_task = async_std::task::spawn(handle_signals(signals));
//!
//!     // ... the program's real work ...
//!
//!     // Ends the stream, and so the task.
//!     handle.close();
//!     signals_task.await;
//!     Ok(())
//! }
//! ```
//!
//! The same on smol, waiting for one signal with the inherent [`recv`](SignalsInfo::recv):
//!
//! ```
//! use sigmux::consts::signal::SIGUSR1;
//! use sigmux_async_std::Signals;
//!
//! fn main() -> std::io::Result<()> {
//!     smol::block_on(async {
//!         let mut signals = Signals::new([SIGUSR1])?;
//!         sigmux::low_level::raise(SIGUSR1)?;
//!         assert_eq!(signals.recv().await, Some(SIGUSR1));
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # Who sent it
//!
//! With an exfiltrator such as `WithOrigin` (from `sigmux::iterator::exfiltrator`, with sigmux's
//! `extended-siginfo` feature), each item also tells which process sent the signal:
//!
//! ```
//! use futures_lite::StreamExt;
//! use sigmux::consts::signal::SIGUSR1;
//! use sigmux::iterator::exfiltrator::WithOrigin;
//! use sigmux_async_std::SignalsInfo;
//!
//! fn main() -> std::io::Result<()> {
//!     smol::block_on(async {
//!         let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1])?;
//!         sigmux::low_level::raise(SIGUSR1)?;
//!         let origin = signals.next().await.expect("the stream is open");
//!         let sender = origin.process.expect("raise tells who sent it");
//!         assert_eq!(sender.pid as u32, std::process::id());
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # Limitations
//!
//! * With the default exfiltrator, signals of one kind that arrive close together are
//!   reported once, and one batch is reported in ascending numeric order rather than arrival
//!   order. (With `sigmux`'s `Lossless` exfiltrator every delivery is reported, in the order
//!   the handler stored it.)
//! * The signals are registered for the whole process; other handlers of the same signal keep
//!   running.
//! * One stream is meant to be polled by one task at a time; for several consumers, create
//!   several `Signals` (each gets every signal).
//! * A [`Handle`] that outlives its stream keeps one descriptor open (a duplicate of the
//!   pipe's read end, so that a late [`Handle::close`] never raises `SIGPIPE`) until the last
//!   handle is dropped.
//!
//! # After `fork`
//!
//! async-io has one reactor per process, created on first use, and a forked child inherits
//! it: the same epoll instance as the parent's (epoll watches open files, so the child's
//! stream, whose pipe sigmux replaced by a private one at the same descriptor number, is not
//! watched by it, and anything the child registers or waits for there is mixed up with the
//! parent's, whose wake-ups the child could take). A child of a program that used async-io
//! (async-std, smol) must therefore not use async-io at all; to wait for signals there, use
//! the blocking [`sigmux::iterator::Signals`] (or `exec` a new program).
//!
//! An inherited stream notices it is in a child: its first poll there ends it with an error
//! (see [`take_error`](SignalsInfo::take_error)) and unregisters its signals in the child,
//! touching no reactor, and dropping it does not touch the reactor either (its registration
//! and descriptor are leaked instead). The parent's stream is unaffected: the child's signals
//! never wake it, and it still gets its own.
//!
//! # Portability
//!
//! Unix only, as the crate it replaces: the wake-up channel is a pipe.
// Unix only, like the crates it replaces: elsewhere the crate is empty (and the workspace builds).
#![cfg(unix)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

use std::borrow::Borrow;
use std::fmt;
use std::fs::File;
use std::future::poll_fn;
use std::io::{Error, ErrorKind};
use std::os::unix::io::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_io::Async;
use futures_lite::io::AsyncRead;
use futures_lite::stream::Stream;
use libc::c_int;
use sigmux::iterator::backend::{OwningSignalIterator, PollResult, SignalDelivery};
use sigmux::iterator::exfiltrator::{Exfiltrator, SignalOnly};

pub use sigmux::iterator::backend::Handle;

/// An asynchronous stream of arriving signals, with what the exfiltrator `E` extracts from
/// each.
///
/// Signals of one kind that arrive in quick succession may be merged into one item; the items
/// of one batch come in ascending signal-number order. Dropping the value unregisters its
/// signals.
pub struct SignalsInfo<E: Exfiltrator = SignalOnly> {
    inner: OwningSignalIterator<ReadEnd, E>,
    /// Kept so the closed flag is one load away on every poll.
    handle: Handle,
    /// Set once the stream has yielded `None`; it never yields anything again.
    ended: bool,
    /// The error that ended the stream, if one did.
    error: Option<Error>,
}

/// [`SignalsInfo`] that yields just the signal numbers; what most programs want.
pub type Signals = SignalsInfo<SignalOnly>;

/// The read end of the self-pipe, registered with async-io's reactor.
///
/// `None` only once abandoned in a forked child (see [`ReadEnd::abandon`]).
#[derive(Debug)]
struct ReadEnd(Option<Async<File>>);

impl ReadEnd {
    /// In a forked child, lets go of the read end without touching the reactor: dropping an
    /// `Async` would lock the reactor's state (possibly held by a parent thread at the fork,
    /// for ever) and deregister from the epoll instance the child shares with the parent.
    /// The descriptor (the child's private pipe) and the registration are leaked instead.
    fn abandon(&mut self) {
        std::mem::forget(self.0.take());
    }
}

impl AsRawFd for ReadEnd {
    fn as_raw_fd(&self) -> RawFd {
        // -1 once abandoned: the backend's drain then fails with EBADF and stops.
        self.0.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }
}

/// Why a stream inherited through `fork` ended.
const INHERITED: &str = "sigmux-async-std: this Signals was created before fork() and cannot \
                         be used in the child, nor can async-io's reactor (its epoll instance \
                         is shared with the parent); use sigmux::iterator::Signals there";

/// Whether the pipe held wake-up bytes; registers `cx` for the next wake-up if not.
///
/// Reads first and asks the reactor only when the pipe is empty: a woken task finds its byte
/// with one `read`, without waiting for the reactor to have turned since the interest was
/// registered (async-io only reports readiness seen in a later reactor tick, which costs a
/// wake-up about a microsecond). The backend's non-blocking drain takes whatever this read
/// left. End of file cannot happen while the delivery holds the write end; should it, it is
/// reported as an error rather than leaving the stream waiting forever.
fn poll_has_signals(read: &mut ReadEnd, cx: &mut Context<'_>) -> Result<bool, Error> {
    let read = match &mut read.0 {
        Some(read) => read,
        None => return Err(Error::new(ErrorKind::Other, INHERITED)),
    };
    let mut buf = [0u8; 64];
    match AsyncRead::poll_read(Pin::new(read), cx, &mut buf) {
        Poll::Ready(Ok(0)) => Err(Error::new(
            ErrorKind::UnexpectedEof,
            "sigmux-async-std: the self-pipe was closed",
        )),
        Poll::Ready(Ok(_)) => Ok(true),
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => Ok(false),
    }
}

impl<E: Exfiltrator> SignalsInfo<E> {
    /// Creates a stream of `signals`, with a default-constructed exfiltrator.
    ///
    /// Every signal is registered before this returns (no signal is lost between here and the
    /// first poll). The errors are those of [`Handle::add_signal`]; on error nothing stays
    /// registered.
    pub fn new<I, S>(signals: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
        E: Default,
    {
        Self::with_exfiltrator(signals, E::default())
    }

    /// Creates a stream of `signals`, taking information out of the signal handler with
    /// `exfiltrator`.
    ///
    /// See [`new`](SignalsInfo::new).
    pub fn with_exfiltrator<I, S>(signals: I, exfiltrator: E) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        // Non-blocking both ways: the handler never waits on a full pipe and the reads stop
        // when the pipe is empty. (`File` is only the read end's owner, for `AsyncRead`.)
        let (read, write) = sigmux::iterator::backend::self_pipe()?;
        let read = ReadEnd(Some(Async::new(File::from(read))?));
        let delivery = SignalDelivery::with_pipe(read, write, exfiltrator, signals)?;
        let inner = OwningSignalIterator::new(delivery);
        let handle = inner.handle();
        Ok(Self {
            inner,
            handle,
            ended: false,
            error: None,
        })
    }

    /// A cloneable handle to add signals to this stream from anywhere, or to close it.
    ///
    /// After [`Handle::close`] the stream yields `None` (waking a task waiting on it).
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Polls for the next signal: `Ready(Some(_))` with one, `Ready(None)` once the stream has
    /// ended, `Pending` (with `cx` registered for a wake-up) otherwise.
    ///
    /// This is what the `Stream` implementation calls. An addition to the
    /// `signal-hook-async-std` interface.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.inner.is_inherited() {
            return self.end(Error::new(ErrorKind::Other, INHERITED));
        }
        loop {
            match self
                .inner
                .poll_signal(&mut |read| poll_has_signals(read, cx))
            {
                PollResult::Signal(signal) => return Poll::Ready(Some(signal)),
                PollResult::Closed => break,
                PollResult::Pending => return Poll::Pending,
                PollResult::Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                PollResult::Err(e) => return self.end(e),
            }
        }
        self.ended = true;
        Poll::Ready(None)
    }

    /// Ends the stream with `error`: unregisters its signals (nobody will read them) and keeps
    /// the error for [`take_error`](SignalsInfo::take_error).
    fn end(&mut self, error: Error) -> Poll<Option<E::Output>> {
        self.inner.shut_down();
        self.error = Some(error);
        self.ended = true;
        Poll::Ready(None)
    }

    /// Waits for the next signal; `None` once the stream has ended (after [`Handle::close`] or
    /// an I/O error, see [`take_error`](SignalsInfo::take_error)).
    ///
    /// Cancel-safe: dropping the future loses no signal. An addition to the
    /// `signal-hook-async-std` interface.
    pub async fn recv(&mut self) -> Option<E::Output> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The I/O error that ended the stream, if one did (taken out, so a second call returns
    /// `None`).
    ///
    /// Where `signal-hook-async-std` panics on such an error, this stream ends and keeps the
    /// error here. An addition to the `signal-hook-async-std` interface.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}

impl<E: Exfiltrator> Drop for SignalsInfo<E> {
    fn drop(&mut self) {
        if self.inner.is_inherited() {
            self.inner.get_read_mut().abandon();
        }
    }
}

impl<E: Exfiltrator> fmt::Debug for SignalsInfo<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalsInfo")
            .field("handle", &self.handle)
            .field("ended", &self.ended)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<E: Exfiltrator> Stream for SignalsInfo<E> {
    type Item = E::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<E: Exfiltrator> futures_core::stream::FusedStream for SignalsInfo<E> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}
