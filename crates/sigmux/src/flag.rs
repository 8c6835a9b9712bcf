//! Flags set by signals: the simplest safe pattern.
//!
//! Each function registers an action that stores into an atomic when the signal arrives —
//! nothing else, so it is async-signal-safe by construction. The program looks at the atomic
//! whenever it likes. The stores use `SeqCst`, so their order relative to your other atomics is
//! the order the actions were registered in; reading and resetting with `Relaxed` is fine if
//! you do not care about that.
//!
//! # When to use
//!
//! For loops that come round often enough: check the flag once per iteration. A flag cannot
//! wake a thread that is blocked; for that, use [`iterator`](crate::iterator) or a
//! [self-pipe](crate::low_level::pipe).
//!
//! A flag can be an `Arc<AtomicBool>` / `Arc<AtomicUsize>` or a `&'static` one (see
//! [`BorrowSignalSafe`]).
//!
//! # Bad input
//!
//! Unlike signal-hook, which panics on a [forbidden](crate::consts::FORBIDDEN) signal, every
//! function here returns an error of kind `InvalidInput` naming the signal for numbers that
//! cannot be handled: -1, 0, forbidden, reserved by the C library, or too large.
//!
//! # Examples
//!
//! Stop a loop on `SIGTERM` (here sent to ourselves):
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//!
//! use sigmux::consts::SIGTERM;
//!
//! let term = Arc::new(AtomicBool::new(false));
//! sigmux::flag::register(SIGTERM, Arc::clone(&term))?;
//! # sigmux::low_level::raise(SIGTERM)?; // stands for `kill -TERM <pid>` from outside
//! let mut rounds = 0;
//! while !term.load(Ordering::Relaxed) {
//!     rounds += 1; // one bounded piece of work per iteration
//! }
//! println!("terminating after {} rounds", rounds);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Know *which* signal asked to stop, with [`register_usize`]:
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! use sigmux::consts::TERM_SIGNALS;
//!
//! let why = Arc::new(AtomicUsize::new(0));
//! for &sig in TERM_SIGNALS {
//!     sigmux::flag::register_usize(sig, Arc::clone(&why), sig as usize)?;
//! }
//! sigmux::low_level::raise(libc::SIGINT)?;
//! assert_eq!(why.load(Ordering::Relaxed), libc::SIGINT as usize);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Graceful on the first Ctrl-C, immediate on the second: register the conditional shutdown
//! *before* the flag that arms it, so the first signal only arms it. (For new code, prefer
//! [`Shutdown`](crate::Shutdown): it does this, adds a deadline, and ends the process *by* the
//! signal after the cleanup, where this pattern exits with a status and hides the signal
//! from the parent.)
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//!
//! use sigmux::consts::TERM_SIGNALS;
//! use sigmux::flag;
//!
//! let term_now = Arc::new(AtomicBool::new(false));
//! for &sig in TERM_SIGNALS {
//!     // Second signal: exit(1) at once, inside the handler.
//!     flag::register_conditional_shutdown(sig, 1, Arc::clone(&term_now))?;
//!     // First signal: just arm the above.
//!     flag::register(sig, Arc::clone(&term_now))?;
//! }
//! # sigmux::low_level::raise(libc::SIGTERM)?;
//! while !term_now.load(Ordering::Relaxed) {
//!     // work…
//! }
//! // graceful cleanup here; a second signal now would exit at once.
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Reload the configuration on `SIGHUP`:
//!
//! ```
//! # #[cfg(unix)] {
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//!
//! use sigmux::consts::SIGHUP;
//!
//! // true at start: load the configuration in the first iteration too.
//! let reload = Arc::new(AtomicBool::new(true));
//! sigmux::flag::register(SIGHUP, Arc::clone(&reload))?;
//! for _request in 0..3 {
//!     // `swap` resets the flag in the same step that reads it.
//!     if reload.swap(false, Ordering::Relaxed) {
//!         // load the configuration
//!     }
//!     // serve one request
//! }
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::Error;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use libc::c_int;

use crate::{low_level, SigId};

/// Like [`std::borrow::Borrow`], for the flags above: gives the atomic behind a handle, and
/// promises to do so in an async-signal-safe way (it is called inside signal handlers).
///
/// Implemented for `Arc<T>` and `&'static T`.
///
/// # Safety
///
/// `borrow_signal_safe` must be async-signal-safe: no allocation, no locks, no panics.
pub unsafe trait BorrowSignalSafe<Borrowed> {
    /// Borrows the value. Called inside signal handlers.
    fn borrow_signal_safe(&self) -> &Borrowed;
}

// SAFETY: dereferencing an Arc reads a pointer; no allocation, locking or reference counting.
unsafe impl<T> BorrowSignalSafe<T> for Arc<T> {
    fn borrow_signal_safe(&self) -> &T {
        self
    }
}

// SAFETY: returns the reference itself.
unsafe impl<T> BorrowSignalSafe<T> for &'static T {
    fn borrow_signal_safe(&self) -> &T {
        self
    }
}

/// Sets `flag` to `true` whenever `signal` arrives.
///
/// To stop a program on `SIGTERM`/`SIGINT`, [`Shutdown`](crate::Shutdown) is the complete
/// pattern (second signal, deadline, dying by the signal); a flag is the building block.
///
/// The flag stays set until you reset it (e.g. with `swap(false, …)`), so several signals
/// before you look count as one.
///
/// # Errors
///
/// `InvalidInput` naming the signal if it cannot be handled (-1, 0, forbidden, reserved, too
/// large) — signal-hook panics on forbidden ones — and registration errors.
pub fn register<T: 'static + Send + Sync + BorrowSignalSafe<AtomicBool>>(
    signal: c_int,
    flag: T,
) -> Result<SigId, Error> {
    sigmux_registry::check_signal(signal)?;
    let action = move || flag.borrow_signal_safe().store(true, Ordering::SeqCst);
    // SAFETY: the action is one atomic store through `BorrowSignalSafe`, whose contract makes
    // it async-signal-safe. The signal was validated, so registering cannot panic.
    unsafe { low_level::register(signal, action) }
}

/// Stores `value` into `flag` whenever `signal` arrives.
///
/// Give each signal a different value to know which one came last.
///
/// # Errors
///
/// As for [`register`].
pub fn register_usize<T: 'static + Send + Sync + BorrowSignalSafe<AtomicUsize>>(
    signal: c_int,
    flag: T,
    value: usize,
) -> Result<SigId, Error> {
    sigmux_registry::check_signal(signal)?;
    let action = move || flag.borrow_signal_safe().store(value, Ordering::SeqCst);
    // SAFETY: as in `register`: one atomic store, async-signal-safe; the signal is valid.
    unsafe { low_level::register(signal, action) }
}

/// Exits the process at once with `status` (through [`low_level::exit`], so no destructors
/// and no `atexit` hooks) if `condition` is `true` when `signal` arrives.
///
/// For graceful-then-forced shutdown, prefer [`Shutdown`](crate::Shutdown): it dies *by* the
/// signal (the parent sees `WIFSIGNALED`) instead of exiting with `status`, and covers the
/// first signal, the cleanup and a deadline in one value.
///
/// With a condition that is always `true`, the signal simply terminates. With a shared flag,
/// the behaviour can be switched on and off. With [`register`] on the same flag registered
/// *after* this one, the first signal arms and the second exits — see the module example.
/// Actions of a signal run in registration order, which is what makes that work.
///
/// # Errors
///
/// As for [`register`].
pub fn register_conditional_shutdown<T: 'static + Send + Sync + BorrowSignalSafe<AtomicBool>>(
    signal: c_int,
    status: c_int,
    condition: T,
) -> Result<SigId, Error> {
    sigmux_registry::check_signal(signal)?;
    let action = move || {
        if condition.borrow_signal_safe().load(Ordering::SeqCst) {
            low_level::exit(status);
        }
    };
    // SAFETY: an atomic load and possibly `_exit`, both async-signal-safe; valid signal.
    unsafe { low_level::register(signal, action) }
}

/// Runs the [default action](low_level::emulate_default_handler) of `signal` if `condition`
/// is `true` when it arrives.
///
/// Like [`register_conditional_shutdown`], but a signal whose default is to be ignored or to
/// stop the process does that instead of terminating; a terminating signal kills the process
/// *by that signal*, so a parent sees `WIFSIGNALED` rather than an exit code.
///
/// For shutting down on termination signals, [`Shutdown`](crate::Shutdown) does this and the
/// rest of the pattern (a first signal that asks, a deadline, dying by the signal after the
/// cleanup).
///
/// # Errors
///
/// As for [`register`]; also `InvalidInput` for a signal whose default action is not in the
/// table of [`low_level::signal_name`].
pub fn register_conditional_default<T: 'static + Send + Sync + BorrowSignalSafe<AtomicBool>>(
    signal: c_int,
    condition: T,
) -> Result<SigId, Error> {
    sigmux_registry::check_signal(signal)?;
    if low_level::signal_name(signal).is_none() {
        return Err(Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the default action of signal {} is not known", signal),
        ));
    }
    let action = move || {
        if condition.borrow_signal_safe().load(Ordering::SeqCst) {
            let _ = low_level::emulate_default_handler(signal);
        }
    };
    // SAFETY: an atomic load and `emulate_default_handler`, both async-signal-safe; valid
    // signal.
    unsafe { low_level::register(signal, action) }
}
