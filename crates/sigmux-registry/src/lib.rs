//! The multiplexing core of sigmux: the one place that calls `sigaction`.
//!
//! # The problem
//!
//! A signal has one disposition per process, but many parts of a program want to hear about
//! it: a shutdown flag, an event loop's wake-up pipe, a logger that reopens its files. If each
//! installs its own handler, the last one wins and the others silently stop working. This
//! crate owns the disposition instead and lets any number of *actions* share each signal.
//! They can be added and removed at run time, from any thread.
//!
//! # Anatomy
//!
//! * The first action registered for a signal installs sigmux's handler for it
//!   (`SA_SIGINFO | SA_RESTART`, empty mask). The disposition that was there before is kept.
//! * On each delivery the handler first calls that previous handler (in its own one- or
//!   three-argument form; `SIG_DFL` and `SIG_IGN` are not called), then every action of the
//!   signal in registration order. `errno` is the same afterwards as before.
//! * [`unregister`] removes one action. When it returns, the action is not running on any
//!   thread and has been dropped. The OS handler stays installed (with no actions it only
//!   chains to the previous handler).
//!
//! # The contract for actions: async-signal-safety
//!
//! An action runs *inside the signal handler*, interrupting whatever the thread was doing —
//! possibly in the middle of `malloc`, holding a lock, or writing to stdout. It may therefore
//! do only what is async-signal-safe:
//!
//! * no allocation or deallocation (no `Box`, `Vec`, `String`, `format!`, no dropping an
//!   `Arc` that might be the last one);
//! * no locks (`Mutex`, `RwLock`, `println!`, which locks stdout);
//! * no panics: a panic inside a handler aborts the process;
//! * only the C functions POSIX lists as async-signal-safe (`write`, `read`, `kill`, …), and
//!   atomics.
//!
//! This is why the registration functions are `unsafe`: the compiler cannot check it. The
//! `sigmux` crate builds safe patterns (flags, self-pipe, iterators) on top, so most programs
//! never write an action themselves.
//!
//! The handler itself keeps the same promise: it is lock-free and wait-free, allocates
//! nothing, changes no reference count and cannot panic. The action lists are read through a
//! grace-period scheme (removed actions are freed by the remover, after every handler that
//! could still see them has left), so registration never blocks a handler and a handler
//! never blocks registration for longer than the actions it is running.
//!
//! # Why a separate crate
//!
//! Dispositions are process-wide. If two versions of the multiplexer were linked into one
//! program, each would believe it owns the signals and they would overwrite each other. So
//! this core is kept tiny, depends only on `libc`, and keeps a stable API: every crate that
//! handles signals (the `sigmux` patterns, the async adapters, other libraries) can share the
//! one copy, while the conveniences above it are free to evolve. Its API is the one of
//! `signal-hook-registry` 1.x, so code written for that crate works with this one by renaming
//! the dependency.
//!
//! # Example
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! # #[cfg(unix)] {
//! let hits = Arc::new(AtomicUsize::new(0));
//! let seen = Arc::clone(&hits);
//! // SAFETY: the action only touches an atomic: async-signal-safe.
//! let id = unsafe {
//!     sigmux_registry::register(libc::SIGUSR1, move || {
//!         seen.fetch_add(1, Ordering::Relaxed);
//!     })
//! }
//! .unwrap();
//! // SAFETY: raising a signal we handle.
//! unsafe { libc::raise(libc::SIGUSR1) };
//! assert_eq!(hits.load(Ordering::Relaxed), 1);
//! assert!(sigmux_registry::unregister(id));
//! # }
//! ```
//!
//! # Limitations
//!
//! * Signals coalesce: several deliveries of the same standard signal while it is blocked
//!   or pending become one. Actions count deliveries, not sends.
//! * [`FORBIDDEN`] signals are refused by the checked functions; `SIGKILL` and `SIGSTOP`
//!   cannot be caught at all.
//! * Windows: the C runtime's `signal()` knows only `SIGINT`, `SIGILL`, `SIGABRT`, `SIGFPE`,
//!   `SIGSEGV`, `SIGTERM` and `SIGBREAK`, passes no `siginfo`, and resets the handler on
//!   each delivery; sigmux re-installs it at once, but a second signal arriving in between
//!   gets the default action.
#![warn(missing_docs)]

use std::io::Error;

use libc::c_int;
#[cfg(unix)]
use libc::siginfo_t;

mod chain;
mod grace;
mod handler;
mod primitive;
mod registry;
mod sys;

/// Internals exposed only to the loom model (`--cfg sigmux_loom`). Not an API.
#[cfg(sigmux_loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::chain::{free, Chain, Node};
    pub use crate::grace::{Grace, ReadGuard};
    pub use crate::sys::{empty_siginfo, siginfo_t};
}

/// The id of a registered action, returned by the `register*` functions; pass it to
/// [`unregister`] to remove the action.
///
/// It is a small `Copy` value: keeping or dropping it has no effect on the action.
#[derive(Copy, Clone, Debug, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct SigId {
    signal: c_int,
    action: u64,
}

/// The signals the checked registration functions refuse.
///
/// `SIGKILL` and `SIGSTOP` cannot be handled at all; `SIGILL`, `SIGFPE` and `SIGSEGV` signal
/// a fault in the running code, and returning from their handler re-runs the faulting
/// instruction. On Windows the list is `SIGILL`, `SIGFPE`, `SIGSEGV`.
///
/// [`register`] and [`register_sigaction`] panic when given one of these; the `*_unchecked`
/// variants accept the ones the OS allows.
pub const FORBIDDEN: &[c_int] = sys::FORBIDDEN;

/// Registers `action` to run whenever `signal` is delivered.
///
/// The first action for a signal installs sigmux's handler (keeping the previous disposition
/// to chain to); later ones only join the list. Actions run in registration order, after the
/// previously installed handler.
///
/// # Safety
///
/// `action` runs inside a signal handler: it must be async-signal-safe (no allocation, no
/// locks, no panics; see the [crate docs](crate)). It must not drop the last reference to
/// anything that frees memory.
///
/// # Errors
///
/// An `io::Error` if `signal` is not a valid signal number (kind `InvalidInput`) or the OS
/// refuses to install the handler for it (e.g. `EINVAL` for a number the C library
/// reserves).
///
/// # Panics
///
/// If `signal` is in [`FORBIDDEN`].
///
/// # Example
///
/// ```
/// # #[cfg(unix)] {
/// // SAFETY: an empty action is async-signal-safe.
/// let id = unsafe { sigmux_registry::register(libc::SIGUSR2, || ()) }.unwrap();
/// sigmux_registry::unregister(id);
/// # }
/// ```
pub unsafe fn register<F>(signal: c_int, action: F) -> Result<SigId, Error>
where
    F: Fn() + Sync + Send + 'static,
{
    checked(signal)?;
    add(signal, Box::new(move |_: &sys::siginfo_t| action()))
}

/// Registers `action` to run with the delivery's `siginfo_t` whenever `signal` is delivered.
///
/// Like [`register`], but the action sees who sent the signal and why (`si_pid`, `si_uid`,
/// `si_code`, …). Not available on Windows, whose C runtime passes no such information.
///
/// # Safety
///
/// As for [`register`]: `action` must be async-signal-safe.
///
/// # Errors
///
/// As for [`register`].
///
/// # Panics
///
/// If `signal` is in [`FORBIDDEN`].
///
/// # Example
///
/// ```
/// use std::sync::atomic::{AtomicI32, Ordering};
///
/// static SENDER: AtomicI32 = AtomicI32::new(0);
/// // SAFETY: reads a field and stores to an atomic: async-signal-safe.
/// let id = unsafe {
///     sigmux_registry::register_sigaction(libc::SIGUSR1, |info: &libc::siginfo_t| {
///         SENDER.store(unsafe { info.si_pid() }, Ordering::Relaxed);
///     })
/// }
/// .unwrap();
/// // SAFETY: sending ourselves a signal we handle.
/// unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
/// # let me = std::process::id() as i32;
/// # while SENDER.load(Ordering::Relaxed) == 0 { std::thread::yield_now(); }
/// assert_eq!(SENDER.load(Ordering::Relaxed), me);
/// sigmux_registry::unregister(id);
/// ```
#[cfg(unix)]
pub unsafe fn register_sigaction<F>(signal: c_int, action: F) -> Result<SigId, Error>
where
    F: Fn(&siginfo_t) + Sync + Send + 'static,
{
    checked(signal)?;
    add(signal, Box::new(action))
}

/// Like [`register`], but accepts [`FORBIDDEN`] signals (those the OS lets one handle).
///
/// # Safety
///
/// As for [`register`]. Handling `SIGSEGV`, `SIGILL` or `SIGFPE` also needs an action that
/// deals with the fault (returning re-runs the faulting instruction).
///
/// # Errors
///
/// As for [`register`]; for `SIGKILL` and `SIGSTOP` the OS's `EINVAL`.
///
/// # Example
///
/// ```
/// # #[cfg(unix)] {
/// // SAFETY: an empty action is async-signal-safe.
/// let id = unsafe { sigmux_registry::register_signal_unchecked(libc::SIGUSR2, || ()) };
/// sigmux_registry::unregister(id.unwrap());
/// # }
/// ```
pub unsafe fn register_signal_unchecked<F>(signal: c_int, action: F) -> Result<SigId, Error>
where
    F: Fn() + Sync + Send + 'static,
{
    add(signal, Box::new(move |_: &sys::siginfo_t| action()))
}

/// Like [`register_sigaction`], but accepts [`FORBIDDEN`] signals (those the OS lets one
/// handle).
///
/// # Safety
///
/// As for [`register_signal_unchecked`].
///
/// # Errors
///
/// As for [`register_signal_unchecked`].
///
/// # Example
///
/// ```
/// // SAFETY: an empty action is async-signal-safe.
/// let id = unsafe { sigmux_registry::register_unchecked(libc::SIGUSR2, |_: &_| ()) };
/// sigmux_registry::unregister(id.unwrap());
/// ```
#[cfg(unix)]
pub unsafe fn register_unchecked<F>(signal: c_int, action: F) -> Result<SigId, Error>
where
    F: Fn(&siginfo_t) + Sync + Send + 'static,
{
    add(signal, Box::new(action))
}

/// Removes a registered action. Returns `true` if it was registered, `false` if it had been
/// removed already.
///
/// When this returns, the action is not running on any thread and will not run again, and it
/// has been dropped (so whatever it owned is released). The OS handler stays installed.
///
/// Must not be called from inside a signal handler (it takes a lock and waits for running
/// handlers to finish).
///
/// # Example
///
/// ```
/// # #[cfg(unix)] {
/// // SAFETY: an empty action is async-signal-safe.
/// let id = unsafe { sigmux_registry::register(libc::SIGUSR1, || ()) }.unwrap();
/// assert!(sigmux_registry::unregister(id));
/// assert!(!sigmux_registry::unregister(id));
/// # }
/// ```
pub fn unregister(id: SigId) -> bool {
    registry::remove(id.signal, id.action)
}

/// Removes every action registered for `signal`, whoever registered it. Returns whether there
/// was any.
///
/// Kept for compatibility only: it removes actions that belong to other parts of the program.
/// Use [`unregister`] with the ids you own.
#[deprecated(
    since = "1.3.0",
    note = "Don't use. Can influence unrelated parts of program / unknown actions"
)]
#[doc(hidden)]
pub fn unregister_signal(signal: c_int) -> bool {
    registry::remove_all(signal)
}

/// The checked functions' compatible panic on forbidden signals.
fn checked(signal: c_int) -> Result<(), Error> {
    assert!(
        !FORBIDDEN.contains(&signal),
        "Attempted to register forbidden signal {}",
        signal,
    );
    Ok(())
}

fn add(signal: c_int, action: Box<chain::Action>) -> Result<SigId, Error> {
    registry::add(signal, action).map(|(signal, action)| SigId { signal, action })
}
