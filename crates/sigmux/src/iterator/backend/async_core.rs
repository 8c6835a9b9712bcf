//! Unix: the async adapters' common stream: [`ReactorPipe`] (what a runtime's reactor must
//! offer) and [`AsyncCore`] (the whole stream over it). Split out of the backend module,
//! whose delivery machinery it builds on.

use std::borrow::Borrow;
use std::fmt;
use std::io::{Error, ErrorKind};
use std::os::unix::io::{AsRawFd, OwnedFd};
use std::task::{Context, Poll};

use libc::c_int;

use super::{self_pipe, Handle, OwningSignalIterator, PollResult, SignalDelivery};
use crate::iterator::exfiltrator::Exfiltrator;

/// The read end of an async adapter's self-pipe, as its reactor sees it: all that
/// [`AsyncCore`] needs from a runtime. New in sigmux.
///
/// An adapter implements it for a small type that owns the read end (registered with the
/// runtime's reactor now or in [`register`](ReactorPipe::register)); [`AsyncCore`] does the
/// rest: the stream's polling loop, its ending, its errors, fork inheritance and the close
/// that may come after it is dropped.
pub trait ReactorPipe: AsRawFd + Send + Sync + Sized + 'static {
    /// The adapter's name, at the start of its error messages (`"sigmux-tokio"`).
    const NAME: &'static str;

    /// What the error that ends a stream inherited through `fork` says to do in the child.
    const IN_CHILD: &'static str;

    /// Takes the read end of a fresh [`self_pipe`] (non-blocking, close-on-exec).
    fn new(read: OwnedFd) -> Result<Self, Error>;

    /// Makes sure the pipe is registered with a live reactor of the runtime polling now; called
    /// before each look at the pipe. The default does nothing (registered in
    /// [`new`](ReactorPipe::new)).
    fn register(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Reads wake-up bytes without blocking; `WouldBlock` when there are none (or when the
    /// reactor knows the pipe is not ready).
    fn try_read(&mut self, buf: &mut [u8]) -> Result<usize, Error>;

    /// `Pending` with `cx` to be woken at the pipe's next readiness, or `Ready` when it may
    /// be readable now.
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>>;

    /// Tells the reactor the pipe is empty (after a read that did not fill its buffer), so the
    /// next poll waits for a new event instead of spending a read to find out. The default
    /// does nothing.
    fn clear_readiness(&mut self) {}

    /// In a forked child: lets go of the read end without touching the reactor (dropping a
    /// registration there would lock reactor state a parent thread may have held at the fork,
    /// and deregister from an epoll instance shared with the parent). Leak it instead.
    /// Afterwards `as_raw_fd` returns -1.
    fn abandon(&mut self);
}

/// Whether the pipe held wake-up bytes; registers `cx` for the next wake-up if not.
///
/// Reads first and asks the reactor only when the pipe is empty: a woken task finds its byte
/// with one `read`. A short read means the pipe is empty, and the reactor's readiness is
/// cleared then and there. (No byte can be missed: one that lands after the read raises a new
/// event; one that lands between the read and the clearing is taken by the drain that
/// follows.) End of file cannot happen while the delivery holds the write end; should it,
/// it is an error rather than a stream waiting forever.
fn poll_has_signals<R: ReactorPipe>(read: &mut R, cx: &mut Context<'_>) -> Result<bool, Error> {
    read.register()?;
    let mut buf = [0u8; 64];
    loop {
        match read.try_read(&mut buf) {
            Ok(0) => {
                let message = format!("{}: the self-pipe was closed", R::NAME);
                return Err(Error::new(ErrorKind::UnexpectedEof, message));
            }
            Ok(n) => {
                if n < buf.len() {
                    read.clear_readiness();
                }
                return Ok(true);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        match read.poll_readable(cx) {
            Poll::Pending => return Ok(false),
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Err(e),
        }
    }
}

/// The whole of an async adapter's signal stream, over any reactor's [`ReactorPipe`]. New in
/// sigmux.
///
/// The stream yields signals until [`Handle::close`]; then, or after an error (kept for
/// [`take_error`](AsyncCore::take_error)), it ends for good. An error unregisters its
/// signals (nobody will read them). In a forked child its first poll ends it with an error,
/// and dropping it there abandons the reactor registration (see
/// [`ReactorPipe::abandon`]).
pub struct AsyncCore<R: ReactorPipe, E: Exfiltrator> {
    inner: OwningSignalIterator<R, E>,
    /// Set once the stream has yielded `None`; it never yields anything again.
    ended: bool,
    /// The error that ended the stream, if one did.
    error: Option<Error>,
}

impl<R: ReactorPipe, E: Exfiltrator> AsyncCore<R, E> {
    /// Makes a [`self_pipe`], hands its read end to [`R::new`](ReactorPipe::new) and
    /// registers `signals`; on error nothing stays registered.
    pub fn open<I, S>(signals: I, exfiltrator: E) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        let (read, write) = self_pipe()?;
        let delivery = SignalDelivery::with_pipe(R::new(read)?, write, exfiltrator, signals)?;
        Ok(AsyncCore {
            inner: OwningSignalIterator::new(delivery),
            ended: false,
            error: None,
        })
    }

    /// A [`Handle`] to the delivery.
    pub fn handle(&self) -> Handle {
        self.inner.handle()
    }

    /// `Ready(Some(_))` with the next signal, `Ready(None)` once the stream has ended,
    /// `Pending` (with `cx` registered for a wake-up) otherwise.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.inner.is_inherited() {
            let message = format!(
                "{}: this Signals was created before fork() and cannot be polled in the \
                 child; {}",
                R::NAME,
                R::IN_CHILD
            );
            return self.end(Error::new(ErrorKind::Other, message));
        }
        loop {
            match self
                .inner
                .poll_signal(&mut |read: &mut R| poll_has_signals(read, cx))
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

    /// Ends the stream with `error`: unregisters its signals and keeps the error.
    fn end(&mut self, error: Error) -> Poll<Option<E::Output>> {
        self.inner.shut_down();
        self.error = Some(error);
        self.ended = true;
        Poll::Ready(None)
    }

    /// The error that ended the stream, if one did (taken out).
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// Whether the stream has yielded `None` (it never yields anything again).
    pub fn is_terminated(&self) -> bool {
        self.ended
    }
}

impl<R: ReactorPipe, E: Exfiltrator> Drop for AsyncCore<R, E> {
    fn drop(&mut self) {
        if self.inner.is_inherited() {
            self.inner.get_read_mut().abandon();
        }
    }
}

impl<R: ReactorPipe + fmt::Debug, E: Exfiltrator> fmt::Debug for AsyncCore<R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncCore")
            .field("inner", &self.inner)
            .field("ended", &self.ended)
            .field("error", &self.error)
            .finish()
    }
}
