//! The read end of the wake-up socket and how it joins a tokio reactor.

use std::io::{Error, ErrorKind};
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream as StdStream;
use std::task::{Context, Poll};

use tokio::io::Interest;
use tokio::net::UnixStream;

/// The read end of a `SignalsInfo`'s socket pair.
///
/// A `SignalsInfo` made outside a runtime keeps its socket detached (its signals are already
/// registered and their bytes wait in the socket) and attaches it to the reactor of the runtime
/// that polls it first. One made inside a runtime attaches at once, like `signal-hook-tokio`.
#[derive(Debug)]
pub(crate) enum ReadEnd {
    /// Not yet known to any reactor.
    Detached(StdStream),
    /// Registered with a tokio reactor.
    Attached(UnixStream),
    /// Attaching failed and took the socket with it; never polled again (the stream has ended).
    Lost,
}

impl ReadEnd {
    /// Wraps the (non-blocking) read end, attaching it if a runtime is at hand.
    pub(crate) fn new(stream: StdStream) -> Result<Self, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            Ok(ReadEnd::Attached(UnixStream::from_std(stream)?))
        } else {
            Ok(ReadEnd::Detached(stream))
        }
    }

    /// Whether the socket may hold wake-up bytes; registers `cx` for the next wake-up if not.
    ///
    /// This is the whole per-wake-up cost of the adapter: one readiness check in the reactor's
    /// bookkeeping and no system call. On `true` the backend drains the socket with
    /// non-blocking reads right away, so tokio's readiness is cleared here first (no read can
    /// be missed: a byte that lands after the clearing raises a new readiness event).
    pub(crate) fn poll_has_signals(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        if let ReadEnd::Detached(_) = self {
            self.attach()?;
        }
        let stream = match self {
            ReadEnd::Attached(stream) => stream,
            _ => return Err(Error::new(ErrorKind::NotConnected, "signal socket lost")),
        };
        match stream.poll_read_ready(cx) {
            Poll::Pending => Ok(false),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Ready(Ok(())) => {
                // `try_io` clears the readiness when its closure reports `WouldBlock`; the
                // closure makes no system call, the backend's drain that follows does the reads.
                let _ = stream.try_io(Interest::READABLE, || {
                    Err::<(), Error>(ErrorKind::WouldBlock.into())
                });
                Ok(true)
            }
        }
    }

    fn attach(&mut self) -> Result<(), Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::new(
                ErrorKind::Other,
                "sigmux-tokio: Signals polled outside of a tokio runtime",
            ));
        }
        if let ReadEnd::Detached(stream) = std::mem::replace(self, ReadEnd::Lost) {
            *self = ReadEnd::Attached(UnixStream::from_std(stream)?);
        }
        Ok(())
    }
}

impl AsRawFd for ReadEnd {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            ReadEnd::Detached(stream) => stream.as_raw_fd(),
            ReadEnd::Attached(stream) => stream.as_raw_fd(),
            // No descriptor at all: the backend's drain then fails with EBADF and stops, rather
            // than reading a descriptor number that may have been reused.
            ReadEnd::Lost => -1,
        }
    }
}
