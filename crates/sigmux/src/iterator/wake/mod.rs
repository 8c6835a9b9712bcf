//! How a signal handler wakes a reader, and how the blocking iterator sleeps: the one place
//! that chooses per platform.
//!
//! * **Linux and Android:** the blocking iterator sleeps on a semaphore the handler posts
//!   directly ([`park`]); no pipe, no descriptor.
//! * **Windows:** the same parker over a semaphore object ([`event`]); there is no pipe a
//!   C runtime signal handler could write to, and no self-pipe path.
//! * **Other Unix systems, and on Linux built with `--cfg sigmux_force_pipe`** (so the portable
//!   form runs the whole test suite on Linux too: CI's AddressSanitizer run in
//!   `ci/sanitizers.sh`, or `ci/test.sh` where that cannot run): [`Parker`] is a type with no
//!   values ([`no_park`]), so [`Parker::new`] fails and the blocking iterator uses a self-pipe,
//!   waited on by [`pipe`].
//!
//! Event loops (the [`backend`](super::backend)) always use a pipe or socket ([`Wake::Fd`]).

#[cfg(any(
    windows,
    all(
        any(target_os = "linux", target_os = "android"),
        not(sigmux_force_pipe)
    )
))]
pub(crate) mod park;

#[cfg(not(any(
    windows,
    all(
        any(target_os = "linux", target_os = "android"),
        not(sigmux_force_pipe)
    )
)))]
mod no_park;
#[cfg(not(any(
    windows,
    all(
        any(target_os = "linux", target_os = "android"),
        not(sigmux_force_pipe)
    )
)))]
use self::no_park as park;

#[cfg(windows)]
mod event;
#[cfg(unix)]
pub(crate) mod pipe;

use std::fmt;

pub(crate) use self::park::Parker;
#[cfg(unix)]
use crate::low_level::pipe::WakeFd;

/// How the handler tells the reader that something arrived.
pub(crate) enum Wake {
    /// A byte into a pipe or socket: what event loops (and the portable blocking iterator)
    /// wait on.
    #[cfg(unix)]
    Fd(WakeFd),
    /// A semaphore the blocking iterator sleeps on (see [`park`]); no value of it exists
    /// where there is no semaphore.
    Park(Parker),
}

impl Wake {
    /// This function is async-signal-safe: see [`WakeFd::wake`] and [`Parker::wake`].
    #[inline]
    pub(crate) fn wake(&self) {
        match self {
            #[cfg(unix)]
            Wake::Fd(fd) => fd.wake(),
            Wake::Park(parker) => parker.wake(),
        }
    }
}

impl fmt::Debug for Wake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(unix)]
            Wake::Fd(fd) => fd.fmt(f),
            Wake::Park(parker) => parker.fmt(f),
        }
    }
}
