//! The self-pipe pattern: a signal handler that writes one byte to a file descriptor.
//!
//! A handler may do almost nothing, but it may `write`. So the classic way to get from a signal
//! to ordinary code is a pipe (or socket pair) whose write end the handler pokes and whose read
//! end the program waits on — with `read`, `poll`, `epoll` or an async runtime. The action then
//! runs outside the handler, where everything is allowed.
//!
//! [`register`] and [`register_raw`] install that handler for any writable descriptor.
//! The [`iterator`](crate::iterator) module builds on the same idea and adds bookkeeping of
//! which signals arrived.
//!
//! # The order that loses nothing
//!
//! When a flag (or other state) accompanies the pipe:
//!
//! * the handler first sets the flag, then writes the byte;
//! * the reader first drains the pipe, then reads (and resets) the flag, then acts.
//!
//! A signal that lands between the reader's drain and its look at the flag is then either seen
//! now (flag already set) or leaves a byte that wakes the reader again. The cost is an
//! occasional spurious wake-up with nothing to do; the opposite order (act, then drain) can lose
//! a signal for good.
//!
//! # Full pipes and coalescing
//!
//! The handler never blocks: if the pipe is full, the byte is dropped — the reader is awake
//! anyway. So the number of bytes read can be smaller than the number of signals, which the
//! kernel already does for ordinary signals that arrive while one is pending.
//!
//! # A reader that is gone
//!
//! Writing to a pipe or FIFO whose read end is closed everywhere fails with `EPIPE`, and the
//! kernel first raises `SIGPIPE` in the writing thread — here, the thread that runs the
//! handler, while it runs. No flag avoids that for a pipe, and the handler cannot block
//! `SIGPIPE` around its `write` without two more system calls on every signal (and taking
//! the resulting `SIGPIPE` back out is not async-signal-safe), so this module leaves it to
//! `SIGPIPE`'s disposition:
//!
//! * **ignored** — what the Rust runtime sets before `main`: nothing happens; the byte,
//!   which nobody could read, is lost;
//! * **default action** (a program that restored it, with `libc::signal(SIGPIPE, SIG_DFL)`
//!   or the `-Zon-broken-pipe=kill` option): the process is killed by `SIGPIPE`;
//! * **handled** (by sigmux or anyone): that action runs on the same thread, nested inside
//!   the handler that wrote.
//!
//! Sockets do not have this problem on Linux and Android: the handler writes them with
//! `send(MSG_NOSIGNAL)`. Elsewhere a socket whose peer is gone raises `SIGPIPE` too. So if
//! the reader may go away before the action is [unregistered](crate::low_level::unregister),
//! pass a socket ([`UnixStream::pair`](std::os::unix::net::UnixStream::pair)) on Linux and
//! Android, or keep `SIGPIPE` ignored. (signal-hook 0.4.6 behaves the same: it writes a pipe
//! with `write`.) The [iterator](crate::iterator) is not concerned: it owns both ends of its
//! pipe and stops its handlers before closing the read end.
//!
//! # Example
//!
//! ```
//! use std::io::Read;
//! use std::os::unix::net::UnixStream;
//!
//! use sigmux::consts::SIGUSR1;
//! use sigmux::low_level::{pipe, raise};
//!
//! let (mut read, write) = UnixStream::pair()?;
//! let id = pipe::register(SIGUSR1, write)?;
//! raise(SIGUSR1)?; // the handler writes one byte
//! let mut byte = [0u8];
//! read.read_exact(&mut byte)?;
//! sigmux::low_level::unregister(id); // closes the write end
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io::Error;
use std::os::unix::io::{AsRawFd, OwnedFd};

use libc::c_int;

use crate::sys;
use crate::SigId;

/// How the handler pokes a descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Poke {
    /// `send` with `MSG_DONTWAIT` (sockets): leaves the shared file status flags alone.
    Send,
    /// `write` on a descriptor this crate made non-blocking (pipes, FIFOs, others).
    Write,
}

/// A descriptor a signal handler writes one byte to, prepared so the write never blocks.
///
/// Dropping it closes the descriptor (once: it owns an [`OwnedFd`]).
pub(crate) struct WakeFd {
    fd: OwnedFd,
    poke: Poke,
}

impl WakeFd {
    /// Takes ownership of `fd`: sets `FD_CLOEXEC`; sockets are then written with `send`
    /// (`MSG_DONTWAIT`), anything else is made `O_NONBLOCK` and written with `write`.
    pub(crate) fn new(fd: OwnedFd) -> Result<Self, Error> {
        let raw = fd.as_raw_fd();
        sys::set_cloexec(raw)?;
        let poke = if sys::is_socket(raw)? {
            Poke::Send
        } else {
            sys::set_nonblocking(raw)?;
            Poke::Write
        };
        Ok(WakeFd { fd, poke })
    }

    /// The descriptor number (for the fork-isolation list).
    #[cfg(feature = "iterator")]
    pub(crate) fn raw(&self) -> std::os::unix::io::RawFd {
        self.fd.as_raw_fd()
    }

    /// Whether it is a socket.
    #[cfg(feature = "iterator")]
    pub(crate) fn is_socket(&self) -> bool {
        self.poke == Poke::Send
    }

    /// Writes one byte, ignoring errors (a full pipe means the reader wakes up anyway).
    ///
    /// This function is async-signal-safe: one `send` or `write` system call, nothing else.
    #[inline]
    pub(crate) fn wake(&self) {
        match self.poke {
            Poke::Send => sys::send_byte(self.fd.as_raw_fd()),
            Poke::Write => sys::write_byte(self.fd.as_raw_fd()),
        }
    }
}

impl fmt::Debug for WakeFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeFd")
            .field("fd", &self.fd.as_raw_fd())
            .field("poke", &self.poke)
            .finish()
    }
}

/// Registers an action that writes one byte to `pipe` whenever `signal` arrives.
///
/// The descriptor is owned from now on and closed (exactly once) when the action is
/// [unregistered](crate::low_level::unregister). Since it is owned, its flags may be changed:
///
/// * `FD_CLOEXEC` is set, so the descriptor does not leak into programs started with `exec`;
/// * a socket is written with `send(…, MSG_DONTWAIT)`, which leaves its shared file status
///   flags alone (and, on Linux and Android, with `MSG_NOSIGNAL`, so a closed peer never
///   raises `SIGPIPE` inside the handler);
/// * anything else is made `O_NONBLOCK` (a flag shared with every `dup` of it) and written
///   with `write`: if its reader is gone, that raises `SIGPIPE` (see
///   [A reader that is gone](self#a-reader-that-is-gone)).
///
/// Unlike signal-hook, the kind of descriptor is found with `fstat`, not by sending an empty
/// message, so a datagram socket never receives a spurious empty datagram.
///
/// Several signals are coalesced into fewer bytes when the pipe is full; a byte never appears
/// without a signal.
///
/// # Errors
///
/// `InvalidInput` naming the signal for a number that cannot be handled (see
/// [`Handle::add_signal`](crate::iterator::Handle::add_signal)), errors of `fcntl`/`fstat`, and
/// registration errors.
pub fn register_raw(signal: c_int, pipe: OwnedFd) -> Result<SigId, Error> {
    sigmux_registry::check_signal(signal)?;
    let wake = WakeFd::new(pipe)?;
    let action = move || wake.wake();
    // SAFETY: the action is async-signal-safe: one `send`/`write` of a stack byte to a
    // descriptor the closure owns (see `WakeFd::wake`); it does not allocate, lock or panic.
    // The signal was validated, so it is not one of FORBIDDEN.
    unsafe { sigmux_registry::register(signal, action) }
}

/// Registers an action that writes one byte to `pipe` whenever `signal` arrives.
///
/// Takes anything that converts into an [`OwnedFd`]: [`UnixStream`](std::os::unix::net::UnixStream),
/// [`UnixDatagram`](std::os::unix::net::UnixDatagram), [`File`](std::fs::File) (a FIFO or pipe),
/// … To use one pipe for several signals, register clones made with `try_clone`.
///
/// See [`register_raw`] for what is done to the descriptor.
pub fn register<P>(signal: c_int, pipe: P) -> Result<SigId, Error>
where
    P: Into<OwnedFd> + 'static,
{
    register_raw(signal, pipe.into())
}
