//! Checking signal numbers before anything is registered.
//!
//! signal-hook aborts the whole process for `Signals::new([1000])` and panics on forbidden
//! signals. Every `Result`-returning registration in this crate calls [`validate_signal`]
//! first, so bad input becomes an [`io::Error`] of kind [`InvalidInput`](io::ErrorKind) that
//! names the signal.

use std::io;

use libc::c_int;

use crate::low_level::signal_name;
use crate::sys;

/// Checks that `signal` can be handled: positive, not above the platform's largest signal,
/// not one of [`FORBIDDEN`](crate::consts::FORBIDDEN) and not reserved by the C library (on
/// Linux, the numbers between the classic signals and `SIGRTMIN()`, e.g. 32 and 33 on glibc).
pub(crate) fn validate_signal(signal: c_int) -> io::Result<()> {
    let max = sys::max_signal();
    if signal <= 0 || signal > max {
        return Err(invalid(format!(
            "signal {} is not a valid signal number on this platform (valid: {})",
            signal,
            valid_ranges(max)
        )));
    }
    if crate::consts::FORBIDDEN.contains(&signal) {
        return Err(invalid(format!(
            "signal {}{} is forbidden: it cannot be caught, or a handler that returns would \
             be undefined behaviour (see FORBIDDEN)",
            signal,
            named(signal)
        )));
    }
    if sys::is_reserved(signal) {
        return Err(match sys::realtime_range() {
            Some((rtmin, _)) => invalid(format!(
                "signal {} is reserved by the C library for its internal use (real-time signals \
                 available to programs start at SIGRTMIN() = {})",
                signal, rtmin
            )),
            None => invalid(format!(
                "signal {} is not supported on this platform",
                signal
            )),
        });
    }
    Ok(())
}

/// The valid numbers in words, e.g. `1..=31 and SIGRTMIN()..=SIGRTMAX() = 34..=64`.
fn valid_ranges(max: c_int) -> String {
    match sys::realtime_range() {
        Some((rtmin, rtmax)) if rtmin > 1 && (1..rtmin).any(sys::is_reserved) => {
            let last_classic = (1..rtmin)
                .rev()
                .find(|&s| !sys::is_reserved(s))
                .unwrap_or(1);
            format!(
                "1..={} and SIGRTMIN()..=SIGRTMAX() = {}..={}",
                last_classic, rtmin, rtmax
            )
        }
        _ => format!("1..={}", max),
    }
}

fn named(signal: c_int) -> String {
    signal_name(signal)
        .map(|name| format!(" ({})", name))
        .unwrap_or_default()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_realtime_signals() {
        assert!(validate_signal(libc::SIGUSR1).is_ok());
        assert!(validate_signal(libc::SIGTERM).is_ok());
        assert!(validate_signal(sys::max_signal()).is_ok());
        if let Some((min, max)) = sys::realtime_range() {
            assert!(validate_signal(min).is_ok());
            assert!(validate_signal(max).is_ok());
        }
    }

    #[test]
    fn rejects_bad_numbers_naming_them() {
        for bad in [-1, 0, 1000, c_int::MAX, c_int::MIN, sys::max_signal() + 1] {
            let err = validate_signal(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(&bad.to_string()), "{}", err);
        }
        for &forbidden in crate::consts::FORBIDDEN {
            let err = validate_signal(forbidden).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("forbidden"), "{}", err);
        }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn rejects_glibc_reserved() {
        for reserved in [32, 33] {
            let err = validate_signal(reserved).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("reserved"), "{}", err);
        }
    }
}
