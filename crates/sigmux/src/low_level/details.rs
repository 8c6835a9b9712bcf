//! Names and default actions of the well-known signals.

use std::io::Error;

use libc::c_int;

use crate::consts::signal::*;

/// What the operating system does with a signal nobody handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Nothing happens.
    #[cfg(not(windows))]
    Ignore,
    /// The process stops until `SIGCONT`.
    #[cfg(not(windows))]
    Stop,
    /// The process dies (by the signal, possibly with a core dump).
    Terminate,
}

/// One row of the table: number, name, default action.
struct Known(c_int, &'static str, Action);

#[cfg(not(windows))]
const KNOWN: &[Known] = &[
    Known(SIGABRT, "SIGABRT", Action::Terminate),
    Known(SIGALRM, "SIGALRM", Action::Terminate),
    Known(SIGBUS, "SIGBUS", Action::Terminate),
    Known(SIGCHLD, "SIGCHLD", Action::Ignore),
    // The kernel continues the process; what remains for the process itself is nothing.
    Known(SIGCONT, "SIGCONT", Action::Ignore),
    Known(SIGFPE, "SIGFPE", Action::Terminate),
    Known(SIGHUP, "SIGHUP", Action::Terminate),
    Known(SIGILL, "SIGILL", Action::Terminate),
    Known(SIGINT, "SIGINT", Action::Terminate),
    #[cfg(any(
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "macos"
    ))]
    Known(SIGINFO, "SIGINFO", Action::Ignore),
    #[cfg(not(target_os = "haiku"))]
    Known(SIGIO, "SIGIO", Action::Ignore),
    Known(SIGKILL, "SIGKILL", Action::Terminate),
    Known(SIGPIPE, "SIGPIPE", Action::Terminate),
    Known(SIGPROF, "SIGPROF", Action::Terminate),
    Known(SIGQUIT, "SIGQUIT", Action::Terminate),
    Known(SIGSEGV, "SIGSEGV", Action::Terminate),
    Known(SIGSTOP, "SIGSTOP", Action::Stop),
    Known(SIGSYS, "SIGSYS", Action::Terminate),
    Known(SIGTERM, "SIGTERM", Action::Terminate),
    Known(SIGTRAP, "SIGTRAP", Action::Terminate),
    Known(SIGTSTP, "SIGTSTP", Action::Stop),
    Known(SIGTTIN, "SIGTTIN", Action::Stop),
    Known(SIGTTOU, "SIGTTOU", Action::Stop),
    Known(SIGURG, "SIGURG", Action::Ignore),
    Known(SIGUSR1, "SIGUSR1", Action::Terminate),
    Known(SIGUSR2, "SIGUSR2", Action::Terminate),
    Known(SIGVTALRM, "SIGVTALRM", Action::Terminate),
    Known(SIGWINCH, "SIGWINCH", Action::Ignore),
    Known(SIGXCPU, "SIGXCPU", Action::Terminate),
    Known(SIGXFSZ, "SIGXFSZ", Action::Terminate),
];

#[cfg(windows)]
const KNOWN: &[Known] = &[
    Known(SIGABRT, "SIGABRT", Action::Terminate),
    Known(SIGFPE, "SIGFPE", Action::Terminate),
    Known(SIGILL, "SIGILL", Action::Terminate),
    Known(SIGINT, "SIGINT", Action::Terminate),
    Known(SIGSEGV, "SIGSEGV", Action::Terminate),
    Known(SIGTERM, "SIGTERM", Action::Terminate),
];

fn lookup(signal: c_int) -> Option<&'static Known> {
    KNOWN.iter().find(|known| known.0 == signal)
}

/// The conventional name of a well-known signal (`"SIGTERM"`), or `None` for numbers this
/// table does not know (real-time and platform-specific signals).
///
/// This function is async-signal-safe (a search in a static table).
///
/// ```
/// use sigmux::low_level::signal_name;
/// assert_eq!(signal_name(libc::SIGTERM), Some("SIGTERM"));
/// # #[cfg(not(windows))]
/// assert_eq!(signal_name(9), Some("SIGKILL"));
/// assert_eq!(signal_name(142), None);
/// ```
pub fn signal_name(signal: c_int) -> Option<&'static str> {
    lookup(signal).map(|known| known.1)
}

/// Does what the operating system would do by default for `signal`, without disturbing the
/// other actions registered for it.
///
/// * Ignore (`SIGCHLD`, `SIGWINCH`, …): returns `Ok(())`.
/// * Stop (`SIGTSTP`, …): raises `SIGSTOP`, which cannot be caught; returns once the process
///   is continued.
/// * Terminate (`SIGTERM`, `SIGQUIT`, …): restores the default disposition of `signal`,
///   unblocks it and raises it, so the process dies *by that signal* (a parent sees
///   `WIFSIGNALED`); should anything get in the way, it falls back to [`abort`](super::abort).
///
/// This function is async-signal-safe, so it may run inside a signal handler (see
/// [`register_conditional_default`](crate::flag::register_conditional_default)).
///
/// # Errors
///
/// A signal missing from the table of [`signal_name`] gives an error of kind `InvalidInput`
/// without a message (a message naming the signal would need an allocation, which an
/// async-signal-safe function must not make): the bare OS error `EINVAL` on Unix, the bare
/// kind on Windows.
///
/// # Races
///
/// Between restoring the default disposition and raising the signal, another thread could
/// install a different handler for it; that handler would then run instead. The process still
/// terminates (through the `abort` fallback). Use [`exit`](super::exit) or
/// [`abort`](super::abort) directly if that matters more than dying by the right signal.
///
/// ```
/// # #[cfg(unix)] {
/// // Ignored by default: nothing happens.
/// sigmux::low_level::emulate_default_handler(libc::SIGCHLD)?;
/// // Unknown to the table: an error.
/// assert!(sigmux::low_level::emulate_default_handler(1000).is_err());
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn emulate_default_handler(signal: c_int) -> Result<(), Error> {
    #[cfg(not(windows))]
    if signal == SIGSTOP || signal == SIGKILL {
        return super::raise(signal);
    }
    // Unix: the `EINVAL` signal-hook returns. Windows reads raw codes as Win32 errors, where
    // 22 means something else: give the kind instead (neither allocates).
    #[cfg(not(windows))]
    let unknown = || Error::from_raw_os_error(libc::EINVAL);
    #[cfg(windows)]
    let unknown = || Error::from(std::io::ErrorKind::InvalidInput);
    let known = lookup(signal).ok_or_else(unknown)?;
    match known.2 {
        #[cfg(not(windows))]
        Action::Ignore => Ok(()),
        #[cfg(not(windows))]
        Action::Stop => super::raise(SIGSTOP),
        Action::Terminate => {
            if reset_to_default(signal) {
                unblock(signal);
                let _ = super::raise(signal);
            }
            // Still alive: someone changed the disposition in between, or the signal is
            // blocked in a way we could not undo.
            super::abort()
        }
    }
}

/// Whether the default action of `signal` is to terminate the process (with or without a core
/// dump): true for the terminating signals of the table and, on Linux, for the real-time
/// signals. Async-signal-safe.
pub(crate) fn terminates_by_default(signal: c_int) -> bool {
    match lookup(signal) {
        Some(known) => known.2 == Action::Terminate,
        None => matches!(
            sigmux_registry::realtime_signals(),
            Some((lo, hi)) if (lo..=hi).contains(&signal)
        ),
    }
}

/// Ends the process *by* `signal`, so that its parent sees `WIFSIGNALED` with `WTERMSIG ==
/// signal`: puts the default disposition back, unblocks the signal in the calling thread and
/// raises it. Never returns.
///
/// Use it when a program has finished cleaning up after a terminating signal (`SIGTERM`,
/// `SIGINT`, `SIGHUP`, …) and wants to end the way it would have ended without a handler.
/// Unlike [`emulate_default_handler`] there is nothing to check: it cannot fail.
///
/// * A signal whose default action dumps core (`SIGQUIT`, `SIGABRT`, `SIGXCPU`, …) does so:
///   the process dies by it, and whether a core file is written (and `WCOREDUMP` set) is
///   decided by the system (`RLIMIT_CORE`, `core_pattern`), as for an unhandled signal.
/// * If the process is still alive after the raise (the signal's default is to ignore or to
///   stop, or another thread installed a handler for it in between), it exits with status
///   `128 + signal`, the shell's convention for "killed by a signal".
/// * On Windows the C runtime has no "killed by" status: the default action of `SIGINT` and
///   `SIGTERM` is to exit with status 3; that is what happens.
///
/// No destructors run and stdio buffers are not flushed (flush them first).
///
/// This function is async-signal-safe, so it may also end the process from inside a
/// signal handler.
///
/// ```no_run
/// # #[cfg(unix)] {
/// // …cleanup after SIGTERM is done:
/// sigmux::low_level::die_by_signal(libc::SIGTERM);
/// # }
/// ```
pub fn die_by_signal(signal: c_int) -> ! {
    if reset_to_default(signal) {
        unblock(signal);
        let _ = super::raise(signal);
    }
    super::exit(128i32.saturating_add(signal))
}

/// Puts `SIG_DFL` back for `signal`. Async-signal-safe.
#[cfg(not(windows))]
fn reset_to_default(signal: c_int) -> bool {
    // SAFETY: an all-zero sigaction is a valid value (empty mask, no flags, SIG_DFL == 0).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_DFL;
    // SAFETY: `action` is valid for reads; the old action is not requested.
    unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) == 0 }
}

/// Puts `SIG_DFL` back for `signal`. Async-signal-safe.
#[cfg(windows)]
fn reset_to_default(signal: c_int) -> bool {
    // SAFETY: SIG_DFL is 0 in the CRT; `signal` only changes the disposition.
    unsafe { libc::signal(signal, 0) != libc::SIG_ERR as libc::sighandler_t }
}

/// Unblocks `signal` in the calling thread so raising it takes effect at once (a handler for
/// it is blocked while it runs). Async-signal-safe (`sigprocmask` is on the POSIX list).
#[cfg(not(windows))]
fn unblock(signal: c_int) {
    // SAFETY: an all-zero sigset_t is valid storage; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid for writes; errors only mean the raise below may not kill, and
    // then the abort fallback does.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

#[cfg(windows)]
fn unblock(_signal: c_int) {}
