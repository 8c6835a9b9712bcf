//! The read end of the self-pipe and how it joins a tokio reactor.

use std::cell::Cell;
use std::io::{Error, ErrorKind};
use std::os::unix::io::{AsRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll};

use tokio::net::unix::pipe::Receiver;
use tokio::runtime::{Handle, Id};

/// Why a pipe could not join the current runtime.
const NO_IO: &str = "sigmux-tokio: the tokio runtime polling Signals has no I/O driver; build \
                     it with `enable_io()` (or `enable_all()`)";

thread_local! {
    /// The last runtime this thread found to have an I/O driver (see [`has_io`]).
    static IO_RUNTIME: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Whether the current runtime (`runtime`) has an I/O driver, so that registering `fd` with
/// it cannot panic.
///
/// tokio has no way to ask: registering with a runtime built without `enable_io` panics, and
/// the panic would close the descriptor it was given (ours, whose number the fork isolation
/// and the handlers rely on). So the first registration a thread makes with a runtime is
/// tried on a duplicate of `fd`, under `catch_unwind`, and a success is remembered. (tokio's
/// panic message is still printed by the panic hook; with `panic = "abort"` it aborts.)
fn has_io(runtime: &Handle, fd: &OwnedFd) -> Result<bool, Error> {
    let id = runtime.id();
    if IO_RUNTIME.with(Cell::get) == Some(id) {
        return Ok(true);
    }
    let probe = fd.try_clone()?;
    match catch_unwind(AssertUnwindSafe(|| Receiver::from_owned_fd(probe))) {
        Ok(Ok(_registered)) => {
            IO_RUNTIME.with(|cell| cell.set(Some(id)));
            Ok(true)
        }
        Ok(Err(e)) => Err(e),
        Err(_panic) => Ok(false),
    }
}

/// The read end of a `SignalsInfo`'s self-pipe.
///
/// A `SignalsInfo` made outside a runtime (or inside one without I/O) keeps its pipe detached
/// (its signals are already registered and their bytes wait in the pipe) and attaches it to
/// the reactor of the runtime that polls it first. One made inside a runtime with I/O attaches
/// at once, like `signal-hook-tokio`.
#[derive(Debug)]
pub(crate) enum ReadEnd {
    /// Not yet known to any reactor.
    Detached(OwnedFd),
    /// Registered with a tokio reactor.
    Attached(Receiver),
    /// Attaching failed and took the pipe with it, or the stream was dropped in a forked
    /// child; never polled again (the stream has ended).
    Lost,
}

impl ReadEnd {
    /// Wraps the (non-blocking) read end, attaching it if a runtime is at hand.
    pub(crate) fn new(fd: OwnedFd) -> Result<Self, Error> {
        match Handle::try_current() {
            Ok(runtime) if has_io(&runtime, &fd)? => {
                Ok(ReadEnd::Attached(Receiver::from_owned_fd(fd)?))
            }
            _ => Ok(ReadEnd::Detached(fd)),
        }
    }

    /// Whether the pipe held wake-up bytes; registers `cx` for the next wake-up if not.
    ///
    /// When tokio reports the pipe readable, one `read` takes the bytes; a short read means
    /// the pipe is empty, and tokio's readiness is cleared then and there, so the next poll
    /// waits for a new readiness event instead of spending a `read` to find out. (No byte can
    /// be missed: one that lands after the read raises a new event; one that lands between
    /// the read and the clearing is taken by the backend's drain that follows.)
    pub(crate) fn poll_has_signals(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        if let ReadEnd::Detached(_) = self {
            self.attach()?;
        }
        let pipe = match self {
            ReadEnd::Attached(pipe) => pipe,
            _ => return Err(Error::new(ErrorKind::NotConnected, "signal pipe lost")),
        };
        let mut buf = [0u8; 64];
        loop {
            match pipe.poll_read_ready(cx) {
                Poll::Pending => return Ok(false),
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Ready(Ok(())) => {}
            }
            match pipe.try_read(&mut buf) {
                Ok(0) => {
                    // Impossible while the delivery holds the write end; should it happen,
                    // end the stream with an error rather than wait forever.
                    return Err(Error::new(
                        ErrorKind::UnexpectedEof,
                        "sigmux-tokio: the self-pipe was closed",
                    ));
                }
                Ok(n) => {
                    if n < buf.len() {
                        let _ = pipe.try_io(|| Err::<(), Error>(ErrorKind::WouldBlock.into()));
                    }
                    return Ok(true);
                }
                // Stale readiness, now cleared by tokio: poll again to register the waker.
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn attach(&mut self) -> Result<(), Error> {
        let runtime = Handle::try_current().map_err(|_| {
            Error::new(
                ErrorKind::Other,
                "sigmux-tokio: Signals polled outside of a tokio runtime",
            )
        })?;
        if let ReadEnd::Detached(fd) = self {
            if !has_io(&runtime, fd)? {
                return Err(Error::new(ErrorKind::Other, NO_IO));
            }
        }
        if let ReadEnd::Detached(fd) = std::mem::replace(self, ReadEnd::Lost) {
            *self = ReadEnd::Attached(Receiver::from_owned_fd(fd)?);
        }
        Ok(())
    }
}

impl ReadEnd {
    /// In a forked child, lets go of the read end without touching the parent's reactor:
    /// dropping a registration would lock that reactor's state (possibly held by a parent
    /// thread at the fork, for ever) and deregister from the epoll instance the child shares
    /// with the parent. The descriptor (the child's private pipe) and the registration's
    /// memory are leaked instead.
    pub(crate) fn abandon(&mut self) {
        std::mem::forget(std::mem::replace(self, ReadEnd::Lost));
    }
}

impl AsRawFd for ReadEnd {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            ReadEnd::Detached(fd) => fd.as_raw_fd(),
            ReadEnd::Attached(pipe) => pipe.as_raw_fd(),
            // No descriptor at all: the backend's drain then fails with EBADF and stops, rather
            // than reading a descriptor number that may have been reused.
            ReadEnd::Lost => -1,
        }
    }
}
