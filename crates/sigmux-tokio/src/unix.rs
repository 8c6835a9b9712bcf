//! Unix: the stream over a self-pipe in the tokio reactor (see the crate docs).

use std::borrow::Borrow;
use std::fmt;
use std::future::poll_fn;
use std::io::{Error, ErrorKind};
use std::task::{Context, Poll};

use libc::c_int;
use sigmux::iterator::backend::{OwningSignalIterator, PollResult, SignalDelivery};
use sigmux::iterator::exfiltrator::{Exfiltrator, SignalOnly};

use sigmux::iterator::backend::Handle;

use crate::read_end::ReadEnd;

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
