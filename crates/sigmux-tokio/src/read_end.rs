//! The read end of the self-pipe and how it joins (and changes) tokio reactors.

use std::cell::Cell;
use std::io::{Error, ErrorKind};
use std::os::unix::io::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll};

use sigmux::iterator::backend::ReactorPipe;
use tokio::net::unix::pipe::Receiver;
use tokio::runtime::{Handle, Id};

/// Why a pipe could not join the current runtime.
const NO_IO: &str = "sigmux-tokio: the tokio runtime polling Signals has no I/O driver; build \
                     it with `enable_io()` (or `enable_all()`)";

/// Why a pipe never registered could not join a runtime.
const OUTSIDE: &str = "sigmux-tokio: Signals polled outside of a tokio runtime; poll it inside \
                       a runtime with I/O enabled";

/// Why a pipe whose runtime is gone could not join another one.
const GONE_OUTSIDE: &str = "sigmux-tokio: the tokio runtime this Signals was registered with \
                            has shut down, and it is now polled outside of any tokio runtime; \
                            poll it inside a live runtime with I/O enabled (it moves to that \
                            runtime's reactor)";

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
///
/// When the reactor it is attached to shuts down (its runtime was dropped) and another
/// runtime polls it, it moves there: the registration with the dead reactor cannot be
/// dropped without closing the pipe's descriptor, whose number the delivery tracks, so a
/// duplicate descriptor is registered with the new reactor and the original kept, unused,
/// until the stream is dropped. (In a forked child the duplicate still reads the parent's
/// pipe, not the child's private one at the original number; the child never reads it: an
/// inherited stream ends on its first poll and abandons its descriptors.)
#[derive(Debug)]
pub(crate) enum ReadEnd {
    /// Not yet known to any reactor.
    Detached(OwnedFd),
    /// Registered with a tokio reactor.
    Attached {
        /// What is polled and read: the registration with the reactor of `runtime`.
        pipe: Receiver,
        /// The runtime whose reactor `pipe` is registered with.
        runtime: Id,
        /// After a move to another reactor, the pipe's own descriptor (the one the delivery
        /// tracks), still registered with the first, dead reactor; `pipe` is then a duplicate.
        original: Option<Receiver>,
    },
    /// Attaching failed and took the pipe with it, or the stream was dropped in a forked
    /// child; never polled again (the stream has ended).
    Lost,
}

impl ReadEnd {
    fn lost() -> Error {
        Error::new(ErrorKind::NotConnected, "sigmux-tokio: signal pipe lost")
    }

    /// Registers the detached pipe with the current runtime's reactor.
    fn attach(&mut self) -> Result<(), Error> {
        let runtime = Handle::try_current().map_err(|_| Error::new(ErrorKind::Other, OUTSIDE))?;
        if let ReadEnd::Detached(fd) = self {
            if !has_io(&runtime, fd)? {
                return Err(Error::new(ErrorKind::Other, NO_IO));
            }
        }
        if let ReadEnd::Detached(fd) = std::mem::replace(self, ReadEnd::Lost) {
            *self = ReadEnd::Attached {
                pipe: Receiver::from_owned_fd(fd)?,
                runtime: runtime.id(),
                original: None,
            };
        }
        Ok(())
    }

    /// After the reactor failed with `error`: if another runtime (with I/O) polls now, the
    /// reactor's runtime is gone (a runtime does not poll tasks once its reactor shut down),
    /// and the pipe moves to the current one. Otherwise the error stands.
    fn move_on(&mut self, error: Error) -> Result<(), Error> {
        let ReadEnd::Attached {
            pipe,
            runtime,
            original,
        } = self
        else {
            return Err(error);
        };
        let current = match Handle::try_current() {
            Ok(current) => current,
            Err(_) => return Err(Error::new(ErrorKind::Other, GONE_OUTSIDE)),
        };
        if current.id() == *runtime {
            return Err(error);
        }
        let dup = original
            .as_ref()
            .unwrap_or(pipe)
            .as_fd()
            .try_clone_to_owned()?;
        if !has_io(&current, &dup)? {
            return Err(Error::new(ErrorKind::Other, NO_IO));
        }
        let dead = std::mem::replace(pipe, Receiver::from_owned_fd(dup)?);
        *runtime = current.id();
        if original.is_none() {
            *original = Some(dead);
        }
        // Otherwise `dead` is a duplicate: dropping it deregisters it from its (dead but still
        // open) reactor and closes it.
        Ok(())
    }
}

impl ReactorPipe for ReadEnd {
    const NAME: &'static str = "sigmux-tokio";
    const IN_CHILD: &'static str = "make a new runtime and a new Signals there";

    /// Attaches at once if a runtime with I/O is at hand.
    fn new(fd: OwnedFd) -> Result<Self, Error> {
        match Handle::try_current() {
            Ok(runtime) if has_io(&runtime, &fd)? => Ok(ReadEnd::Attached {
                pipe: Receiver::from_owned_fd(fd)?,
                runtime: runtime.id(),
                original: None,
            }),
            _ => Ok(ReadEnd::Detached(fd)),
        }
    }

    fn register(&mut self) -> Result<(), Error> {
        match self {
            ReadEnd::Detached(_) => self.attach(),
            _ => Ok(()),
        }
    }

    /// Without readiness known to tokio, `WouldBlock` without a system call; with stale
    /// readiness, the `read` finds the pipe empty and tokio clears the readiness.
    fn try_read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        match self {
            ReadEnd::Attached { pipe, .. } => pipe.try_read(buf),
            _ => Err(ReadEnd::lost()),
        }
    }

    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let ReadEnd::Attached { pipe, .. } = self else {
            return Poll::Ready(Err(ReadEnd::lost()));
        };
        match pipe.poll_read_ready(cx) {
            Poll::Ready(Err(error)) => {
                if let Err(error) = self.move_on(error) {
                    return Poll::Ready(Err(error));
                }
                match self {
                    ReadEnd::Attached { pipe, .. } => pipe.poll_read_ready(cx),
                    _ => Poll::Ready(Err(ReadEnd::lost())),
                }
            }
            ready => ready,
        }
    }

    fn clear_readiness(&mut self) {
        if let ReadEnd::Attached { pipe, .. } = self {
            let _ = pipe.try_io(|| Err::<(), Error>(ErrorKind::WouldBlock.into()));
        }
    }

    /// Leaks the descriptors and the registrations: dropping a registration would lock the
    /// parent's reactor state (possibly held by a parent thread at the fork, for ever) and
    /// deregister from the epoll instance the child shares with the parent.
    fn abandon(&mut self) {
        std::mem::forget(std::mem::replace(self, ReadEnd::Lost));
    }
}

impl AsRawFd for ReadEnd {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            ReadEnd::Detached(fd) => fd.as_raw_fd(),
            ReadEnd::Attached { pipe, original, .. } => {
                original.as_ref().unwrap_or(pipe).as_raw_fd()
            }
            // No descriptor at all: the backend's drain then fails with EBADF and stops, rather
            // than reading a descriptor number that may have been reused.
            ReadEnd::Lost => -1,
        }
    }
}
