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

    /// Windows, not a C runtime signal: the console event `CTRL_CLOSE_EVENT` (the console
    /// window is being closed), as the [iterator](crate::iterator) reports it. Chosen above
    /// the C runtime's signal numbers (which end at 22), so it never means anything else.
    ///
    /// The other console events arrive as signals: Ctrl-C as [`SIGINT`], Ctrl-Break as
    /// [`SIGBREAK`]. While an iterator listens for this one, Windows does not kill the process
    /// before the program is done with the event (see the [iterator](crate::iterator#windows)).
    #[cfg(windows)]
    pub const SIGCLOSE: libc::c_int = 24;

    /// Windows, not a C runtime signal: the console event `CTRL_LOGOFF_EVENT` (the user is
    /// logging off; services only). See [`SIGCLOSE`].
    #[cfg(windows)]
    pub const SIGLOGOFF: libc::c_int = 25;

    /// Windows, not a C runtime signal: the console event `CTRL_SHUTDOWN_EVENT` (the system
    /// is shutting down; services only). See [`SIGCLOSE`].
    #[cfg(windows)]
    pub const SIGSHUTDOWN: libc::c_int = 26;
}

pub use self::signal::*;

pub use sigmux_registry::FORBIDDEN;

/// The signals that conventionally ask a program to shut down: `SIGTERM`, `SIGQUIT`, `SIGINT`.
#[cfg(not(windows))]
pub const TERM_SIGNALS: &[c_int] = &[SIGTERM, SIGQUIT, SIGINT];

/// The signals that conventionally ask a program to shut down: `SIGTERM`, `SIGINT`.
#[cfg(windows)]
pub const TERM_SIGNALS: &[c_int] = &[SIGTERM, SIGINT];
