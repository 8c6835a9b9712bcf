//! Unix signals as an asynchronous stream for the [tokio](https://docs.rs/tokio) runtime.
//!
//! # The problem
//!
//! A tokio program wants to `await` signals beside its other work: reload on `SIGHUP`, shut
//! down on `SIGTERM`. A signal handler cannot wake a task by itself (it may not lock or
//! allocate). tokio's own `tokio::signal::ctrl_c()` is an `async fn` that registers `SIGINT`
//! only when its future is first polled, so a signal sent right after start-up can hit the
//! default action and kill the process; `tokio::signal::unix::signal` registers when called,
//! but only inside a runtime (outside one it panics), and tells nothing about the sender.
//!
//! # Anatomy
//!
//! [`SignalsInfo`] (usually through its alias [`Signals`]) owns a pipe. The signals are
//! registered with the operating system before [`Signals::new`] returns. The handler,
//! installed through [`sigmux::iterator::backend`], marks the signal in a per-signal slot and
//! writes one byte into the pipe; the read end sits in the tokio reactor, which wakes the one
//! task waiting on the stream. That task then empties the pipe without blocking and takes the
//! marked signals. One readiness event per wake-up, no extra task, no allocation.
//!
//! The stream ends (yields `None`) once [`Handle::close`] was called on its handle. An I/O
//! error of the reactor also ends it — as does being polled outside a runtime, on a runtime
//! without I/O, or in a forked child (see [After `fork`](#after-fork)) — and
//! [`SignalsInfo::take_error`] tells what happened. A stream that ended with an error has
//! unregistered its signals. Polling does not panic. (tokio offers no way to ask whether a
//! runtime has I/O, and registering with one that has none panics: the first registration a
//! thread makes with a runtime is tried on a duplicate descriptor under `catch_unwind`. So
//! each stream that meets a runtime without I/O still makes tokio print its panic message,
//! and with `panic = "abort"` that aborts the process.)
//!
//! A `Signals` may be created outside a runtime, or inside one without I/O: its signals are
//! registered at once, and its pipe joins the reactor of the runtime that first polls it.
//! Created inside a runtime with I/O, it joins that runtime's reactor at once.
//!
//! # Example
//!
//! ```
//! use sigmux::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
//! use sigmux_tokio::Signals;
//!
//! async fn handle_signals(mut signals: Signals) {
//!     while let Some(signal) = signals.recv().await {
//!         match signal {
//!             SIGHUP => { /* reload the configuration, reopen the log */ }
//!             SIGTERM | SIGINT | SIGQUIT => { /* start a graceful shutdown */ }
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let signals = Signals::new([SIGHUP, SIGTERM, SIGINT, SIGQUIT])?;
//!     let handle = signals.handle();
//!     let signals_task = tokio::spawn(handle_signals(signals));
//!
//!     // ... the program's real work ...
//!
//!     // Ends the stream, and so the task.
//!     handle.close();
//!     signals_task.await?;
//!     Ok(())
//! }
//! ```
//!
//! With the `futures-v0_3` feature, [`SignalsInfo`] is also a `futures_core::Stream` (and a
//! `FusedStream`), so `StreamExt` and `select!` work on it:
//!
//! ```
//! # #[cfg(feature = "futures-v0_3")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use futures::stream::StreamExt;
//! use sigmux::consts::signal::SIGUSR1;
//! use sigmux_tokio::Signals;
//!
//! let mut signals = Signals::new([SIGUSR1])?;
//! sigmux::low_level::raise(SIGUSR1)?;
//! assert_eq!(signals.next().await, Some(SIGUSR1));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "futures-v0_3"))]
//! # fn main() {}
//! ```
//!
//! # Who sent it
//!
//! With an exfiltrator such as `WithOrigin` (from `sigmux::iterator::exfiltrator`, with sigmux's
//! `extended-siginfo` feature), each item also tells which process sent the signal — on the
//! stream, where `tokio::signal` has no such information:
//!
//! ```
//! use sigmux::consts::signal::SIGUSR1;
//! use sigmux::iterator::exfiltrator::WithOrigin;
//! use sigmux_tokio::SignalsInfo;
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1])?;
//!     sigmux::low_level::raise(SIGUSR1)?;
//!     let origin = signals.recv().await.expect("the stream is open");
//!     let sender = origin.process.expect("raise tells who sent it");
//!     assert_eq!(sender.pid as u32, std::process::id());
//!     Ok(())
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
//! A forked child inherits the parent's runtime and streams, but neither works there: the
//! runtime's threads are gone, and its epoll instance is *shared* with the parent (epoll
//! watches open files, so the child's stream, whose pipe sigmux replaced by a private one at
//! the same descriptor number, is not watched by it, and a child polling it could take the
//! parent's wake-ups). So, in the child:
//!
//! 1. leave the parent's runtime alone: do not use it, do not drop it (leak it with
//!    `std::mem::forget`, or leave with `_exit`/`exec`);
//! 2. build a new runtime, and inside it make new `Signals`.
//!
//! An inherited stream notices it is in a child: its first poll there ends it with an error
//! (see [`take_error`](SignalsInfo::take_error)) and unregisters its signals in the child, and
//! dropping it does not touch the parent's reactor (its registration and descriptor are
//! leaked instead). The parent's stream is unaffected: the child's signals never wake it, and
//! it still gets its own.
//!
//! ```
//! use sigmux::consts::signal::SIGUSR1;
//! use sigmux_tokio::Signals;
//!
//! /// In a freshly forked child of a tokio program (before `exec`, if any).
//! fn in_the_child() -> std::io::Result<()> {
//!     let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//!     rt.block_on(async {
//!         let mut signals = Signals::new([SIGUSR1])?;
//!         sigmux::low_level::raise(SIGUSR1)?;
//!         assert_eq!(signals.recv().await, Some(SIGUSR1));
//!         Ok(())
//!     })
//! }
//! # in_the_child().unwrap();
//! ```
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

mod read_end;

use std::borrow::Borrow;
use std::fmt;
use std::future::poll_fn;
use std::io::{Error, ErrorKind};
use std::task::{Context, Poll};

use libc::c_int;
use sigmux::iterator::backend::{OwningSignalIterator, PollResult, SignalDelivery};
use sigmux::iterator::exfiltrator::{Exfiltrator, SignalOnly};

pub use sigmux::iterator::backend::Handle;

use read_end::ReadEnd;

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

impl<E: Exfiltrator> SignalsInfo<E> {
    /// Creates a stream of `signals`, with a default-constructed exfiltrator.
    ///
    /// Every signal is registered before this returns (no signal is lost between here and the
    /// first poll). The errors are those of [`Handle::add_signal`]; on error nothing stays
    /// registered. Unlike `signal-hook-tokio`, this does not panic outside a runtime, nor
    /// inside one without I/O (the stream then joins the runtime that first polls it).
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
        // Non-blocking both ways: the handler never waits on a full pipe and the drain stops
        // when the pipe is empty.
        let (read, write) = sigmux::iterator::backend::self_pipe()?;
        let delivery = SignalDelivery::with_pipe(ReadEnd::new(read)?, write, exfiltrator, signals)?;
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
    /// This is what the `Stream` implementation calls; it is available without the
    /// `futures-v0_3` feature. An addition to the `signal-hook-tokio` interface.
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
                .poll_signal(&mut |read| read.poll_has_signals(cx))
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
    /// Cancel-safe: dropping the future loses no signal. Available without the `futures-v0_3`
    /// feature. An addition to the `signal-hook-tokio` interface.
    pub async fn recv(&mut self) -> Option<E::Output> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The I/O error that ended the stream, if one did (taken out, so a second call returns
    /// `None`).
    ///
    /// Where `signal-hook-tokio` panics on such an error, this stream ends and keeps the error
    /// here. An addition to the `signal-hook-tokio` interface.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}

/// Why a stream inherited through `fork` ended.
const INHERITED: &str = "sigmux-tokio: this Signals was created before fork() and cannot be \
                         polled in the child; make a new runtime and a new Signals there";

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

#[cfg(feature = "futures-v0_3")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-v0_3")))]
impl<E: Exfiltrator> futures_core_0_3::Stream for SignalsInfo<E> {
    type Item = E::Output;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        self.get_mut().poll_recv(cx)
    }
}

#[cfg(feature = "futures-v0_3")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-v0_3")))]
impl<E: Exfiltrator> futures_core_0_3::FusedStream for SignalsInfo<E> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}
