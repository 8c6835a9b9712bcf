//! The one check of signal numbers, and its error messages, for the whole sigmux family.
//!
//! Every function of this crate and of `sigmux` that takes a signal number asks this module:
//! the same input gives the same error (kind `InvalidInput`, the same message) everywhere.
//! What is valid is the platform's fact (see `sys`: `max_signal`, `refused`, `valid_text`);
//! this module only turns it into errors.

use std::io::{Error, ErrorKind};

use libc::c_int;

use crate::sys;

/// Checks that `signal` can be handled: a signal number of this platform (positive, not above
/// [`max_signal`], not reserved by the C library — on Linux the numbers between the classic
/// signals and `SIGRTMIN()`, e.g. 32 and 33 on glibc) and not [`FORBIDDEN`](crate::FORBIDDEN).
///
/// This is the check of the non-panicking registration functions ([`try_register`](
/// crate::try_register) & co.) and of every `Result`-returning function of `sigmux`.
///
/// # Errors
///
/// An `io::Error` of kind `InvalidInput` whose message names the signal.
///
/// ```
/// # #[cfg(unix)] {
/// assert!(sigmux_registry::check_signal(libc::SIGUSR1).is_ok());
/// let err = sigmux_registry::check_signal(1000).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// assert!(err.to_string().contains("1000"));
/// let err = sigmux_registry::check_signal(libc::SIGKILL).unwrap_err();
/// assert!(err.to_string().contains("forbidden"));
/// # }
/// ```
pub fn check_signal(signal: c_int) -> Result<(), Error> {
    index(signal)?;
    if sys::FORBIDDEN.contains(&signal) {
        return Err(invalid(format!(
            "signal {}{} is forbidden: it cannot be caught, or a handler that returns would be \
             undefined behaviour (see FORBIDDEN)",
            signal,
            forbidden_name(signal)
        )));
    }
    Ok(())
}

/// The largest signal number of this platform (`SIGRTMAX()` on Linux and Android).
pub fn max_signal() -> c_int {
    sys::max_signal()
}

/// The real-time signals `SIGRTMIN()..=SIGRTMAX()` as an inclusive pair, where the platform
/// has them and the C library reserves none below them (Linux and Android); `None` elsewhere.
pub fn realtime_signals() -> Option<(c_int, c_int)> {
    sys::realtime_range()
}

/// Every valid signal number is below this: the size of per-signal tables.
#[doc(hidden)]
pub const __SLOTS: usize = sys::SLOTS;

/// Index of `signal` in the per-signal tables, or an `InvalidInput` error naming it: for
/// numbers ≤ 0, above the platform's largest, or reserved by the C library. Forbidden signals
/// pass (the unchecked functions accept what the OS allows).
pub(crate) fn index(signal: c_int) -> Result<usize, Error> {
    let in_range = signal > 0 && signal <= sys::max_signal();
    match usize::try_from(signal) {
        Ok(i) if in_range && i < sys::SLOTS => match sys::refused(signal) {
            Some(why) => Err(invalid(format!("signal {} {}", signal, why))),
            None => Ok(i),
        },
        _ => Err(not_a_signal(signal)),
    }
}

/// The error for a number that is no signal of this platform.
pub(crate) fn not_a_signal(signal: c_int) -> Error {
    invalid(format!(
        "signal {} is not a valid signal number on this platform (valid: {})",
        signal,
        sys::valid_text()
    ))
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}

/// ` (SIGKILL)` and the like for the forbidden signals.
fn forbidden_name(signal: c_int) -> &'static str {
    match signal {
        #[cfg(unix)]
        libc::SIGKILL => " (SIGKILL)",
        #[cfg(unix)]
        libc::SIGSTOP => " (SIGSTOP)",
        libc::SIGILL => " (SIGILL)",
        libc::SIGFPE => " (SIGFPE)",
        libc::SIGSEGV => " (SIGSEGV)",
        _ => "",
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_realtime_signals() {
        assert!(check_signal(libc::SIGUSR1).is_ok());
        assert!(check_signal(libc::SIGTERM).is_ok());
        assert!(check_signal(max_signal()).is_ok());
        if let Some((min, max)) = realtime_signals() {
            assert!(check_signal(min).is_ok());
            assert!(check_signal(max).is_ok());
        }
    }

    #[test]
    fn rejects_bad_numbers_naming_them() {
        for bad in [-1, 0, 1000, c_int::MAX, c_int::MIN, max_signal() + 1] {
            let err = check_signal(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(
                err.to_string().contains(&format!("signal {} ", bad)),
                "{}",
                err
            );
            assert!(
                err.to_string().contains("not a valid signal number"),
                "{}",
                err
            );
        }
        for &forbidden in crate::FORBIDDEN {
            let err = check_signal(forbidden).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.to_string().contains("forbidden"), "{}", err);
            assert!(index(forbidden).is_ok());
        }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn rejects_glibc_reserved() {
        for reserved in [32, 33] {
            let err = check_signal(reserved).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.to_string().contains("reserved"), "{}", err);
            assert!(err.to_string().contains("SIGRTMIN() = 34"), "{}", err);
        }
    }
}
