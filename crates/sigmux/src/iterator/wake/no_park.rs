//! The parker where there is none (systems other than Linux and Android, or
//! `--cfg sigmux_force_pipe`): a type with no values, so the blocking iterator always takes
//! its self-pipe path and every use of a parker is statically unreachable.

use std::fmt;
use std::io;
use std::time::Instant;

/// No semaphore here: [`Parker::new`] always fails.
pub(crate) enum Parker {}

impl Parker {
    /// Always `Unsupported`: the caller falls back on a self-pipe.
    pub(crate) fn new() -> io::Result<Self> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Unreachable (no value exists). Async-signal-safe.
    #[inline]
    pub(crate) fn wake(&self) {
        match *self {}
    }

    /// Unreachable (no value exists).
    pub(crate) fn consume(&self) {
        match *self {}
    }

    /// Unreachable (no value exists).
    pub(crate) fn park_until_deadline(
        &self,
        _ready: impl Fn() -> bool,
        _deadline: Option<Instant>,
    ) -> bool {
        match *self {}
    }
}

impl fmt::Debug for Parker {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}
