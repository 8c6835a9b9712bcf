//! The platform layer: everything that differs between Unix and Windows, behind one contract.
//!
//! Each platform module provides:
//!
//! * `siginfo_t`: what actions receive (the real one on Unix; an empty stand-in on Windows,
//!   where the C runtime passes none);
//! * `SLOTS`: the size of the per-signal tables (all valid signal numbers are below it);
//! * `FORBIDDEN`: the signals the checked registration functions refuse;
//! * `RawDisposition`: a signal's disposition as read from the OS, able to tell whether it is a
//!   real handler to chain to (`callable`), to call it (`call`), whether it is one-shot
//!   (`one_shot`) and which signals to block around the call (`block_set`, `BlockSet`,
//!   `with_blocked`);
//! * `query`, `install`, `set`: read and set dispositions (`sigaction` / the CRT's `signal`);
//!   `QUERY_IS_ATOMIC` says whether reading leaves the disposition untouched (not on
//!   Windows), `still_ours` whether sigmux's handler is (as far as can be told) installed;
//! * `install_flags`: the flags for the install options, or `Unsupported`;
//! * `at_start`, `ignored_at_start`: the disposition at process start (`at_start` runs from
//!   the constructor list in `fork`); `on_fork`: installs the `pthread_atfork` hooks;
//! * `max_signal`, `realtime_range`, `refused`, `valid_text`: the platform's own idea of a
//!   valid signal number (turned into errors by `check`);
//! * `empty_siginfo`: a zeroed `siginfo_t` for the rare handler call that gets none;
//! * `forward`: hands a delivery that reached sigmux after it let go of the signal to the
//!   disposition installed now;
//! * `SavedErrno`: saves `errno` and puts it back (explicitly: no `Drop`, see `handler`).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use self::unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use self::windows::*;
