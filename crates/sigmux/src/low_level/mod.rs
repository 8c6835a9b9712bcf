//! Building blocks: raw registration, async-signal-safe helpers, the self-pipe, the channel
//! and `siginfo_t` decoding.
//!
//! Most programs want [`flag`](crate::flag) or [`iterator`](crate::iterator) instead; this
//! module is for writing your own patterns (and is what those are built from).

use std::io::Error;

use libc::c_int;

#[cfg(feature = "channel")]
#[cfg_attr(docsrs, doc(cfg(feature = "channel")))]
pub mod channel;
mod details;
#[cfg(not(windows))]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub mod pipe;
#[cfg(all(feature = "extended-siginfo-raw", not(windows)))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "extended-siginfo-raw", unix))))]
pub mod siginfo;

pub(crate) use self::details::terminates_by_default;
pub use self::details::{die_by_signal, emulate_default_handler, signal_name};
pub use sigmux_registry::{register, unregister};

/// Sends `sig` to the calling thread, like C's `raise`.
///
/// A handler for `sig` has run by the time this returns (when the signal is not blocked).
///
/// This function is async-signal-safe. For the same reason its error carries no message
/// naming the signal (building one would allocate): for a bad number it is the bare OS error
/// `EINVAL` (kind `InvalidInput`) on Unix, the bare kind `InvalidInput` on Windows.
///
/// ```
/// # #[cfg(unix)] {
/// use std::sync::atomic::{AtomicBool, Ordering};
/// static GOT: AtomicBool = AtomicBool::new(false);
/// sigmux::flag::register(sigmux::consts::SIGUSR2, &GOT)?;
/// sigmux::low_level::raise(sigmux::consts::SIGUSR2)?;
/// assert!(GOT.load(Ordering::SeqCst));
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn raise(sig: c_int) -> Result<(), Error> {
    // SAFETY: raise has no memory-safety preconditions; a bad number gives an error.
    if unsafe { libc::raise(sig) } == 0 {
        Ok(())
    } else {
        Err(raise_error())
    }
}

/// Terminates the process with `SIGABRT` through the C library's `abort`, with nothing added.
///
/// Unlike [`std::process::abort`] this promises to be exactly the C call, so it is
/// async-signal-safe and may be used inside a signal handler.
pub fn abort() -> ! {
    // SAFETY: abort never returns and has no preconditions.
    unsafe { libc::abort() }
}

/// Terminates the process at once with `status`, through `_exit`: no `atexit` hooks, no
/// flushing of stdio buffers, no destructors.
///
/// This function is async-signal-safe (unlike [`std::process::exit`]), so it may be used inside
/// a signal handler; see [`register_conditional_shutdown`](crate::flag::register_conditional_shutdown).
pub fn exit(status: c_int) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(status) }
}

/// The error of a failed `raise`: `errno` on Unix. The Windows C runtime sets `errno` (which
/// `last_os_error` does not read there) and fails only for unknown signals, so it is
/// `InvalidInput`. Async-signal-safe: no allocation either way.
fn raise_error() -> Error {
    #[cfg(not(windows))]
    {
        Error::last_os_error()
    }
    #[cfg(windows)]
    {
        Error::from(std::io::ErrorKind::InvalidInput)
    }
}
