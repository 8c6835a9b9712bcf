//! Signal numbers and the sets this crate treats specially.
//!
//! The numbers are re-exported from [`libc`]; any other number your platform supports (for
//! example a real-time signal `libc::SIGRTMIN() + 1` on Linux) can be passed directly.

use libc::c_int;

/// The signal numbers alone, for a glob import that brings in nothing else:
/// `use sigmux::consts::signal::*;`.
pub mod signal {
    #[cfg(not(windows))]
    pub use libc::{
        SIGABRT, SIGALRM, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGHUP, SIGILL, SIGINT, SIGKILL,
        SIGPIPE, SIGPROF, SIGQUIT, SIGSEGV, SIGSTOP, SIGSYS, SIGTERM, SIGTRAP, SIGTSTP, SIGTTIN,
        SIGTTOU, SIGURG, SIGUSR1, SIGUSR2, SIGVTALRM, SIGWINCH, SIGXCPU, SIGXFSZ,
    };

    #[cfg(not(any(windows, target_os = "haiku")))]
    pub use libc::SIGIO;

    #[cfg(any(
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "macos"
    ))]
    pub use libc::SIGINFO;

    #[cfg(windows)]
    pub use libc::{SIGABRT, SIGFPE, SIGILL, SIGINT, SIGSEGV, SIGTERM};

    /// Windows: the number other platforms use for `SIGABRT` (the CRT accepts both).
    #[cfg(windows)]
    pub const SIGABRT_COMPAT: libc::c_int = 6;

    /// Windows: Ctrl-Break was pressed in the console.
    #[cfg(windows)]
    pub const SIGBREAK: libc::c_int = 21;
}

pub use self::signal::*;

pub use sigmux_registry::FORBIDDEN;

/// The signals that conventionally ask a program to shut down: `SIGTERM`, `SIGQUIT`, `SIGINT`.
#[cfg(not(windows))]
pub const TERM_SIGNALS: &[c_int] = &[SIGTERM, SIGQUIT, SIGINT];

/// The signals that conventionally ask a program to shut down: `SIGTERM`, `SIGINT`.
#[cfg(windows)]
pub const TERM_SIGNALS: &[c_int] = &[SIGTERM, SIGINT];
