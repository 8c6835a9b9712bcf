//! Unix: the stream over a self-pipe in the async-io reactor (see the crate docs).

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

use sigmux::iterator::backend::Handle;

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
