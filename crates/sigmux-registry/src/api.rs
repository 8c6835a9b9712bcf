//! The public surface: the API of `signal-hook-registry` 1.x.

use std::io::Error;

use libc::c_int;
#[cfg(unix)]
use libc::siginfo_t;

use crate::options::Options;
use crate::{registry, sys};

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
/// previously installed handler (called as the kernel would have called it, see the
/// [crate docs](crate#chaining-to-the-previous-handler)).
///
/// # Safety
///
/// `action` runs inside a signal handler: it must be async-signal-safe (no allocation, no
/// locks, no panics; see the [crate docs](crate)). It must not drop the last reference to
/// anything that frees memory.
///
/// # Errors
///
/// An `io::Error` of kind `InvalidInput`, naming the signal, if `signal` is not a valid signal
/// number here (≤ 0, above the platform's largest, or reserved by the C library); the OS's
/// error if it refuses to install the handler.
///
/// # Panics
///
/// If `signal` is in [`FORBIDDEN`] (signal-hook's behaviour). [`try_register`] is the same
/// registration without the panic: it returns an `InvalidInput` error instead, as does
/// [`check_signal`](crate::check_signal), which tells in advance whether a signal number would be accepted.
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
///
/// The action may run on any thread the signal lands on, for as long as it stays registered,
/// so it must be `Send + Sync + 'static` — checked by the compiler. An action holding an `Rc`
/// is refused:
///
/// ```compile_fail,E0277
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let count = Rc::new(Cell::new(0));
/// // SAFETY: (never compiled) the action would only touch a counter.
/// let _ = unsafe { sigmux_registry::register(2, move || count.set(count.get() + 1)) };
/// ```
///
/// and so is one borrowing a local, which would dangle once the function returns:
///
/// ```compile_fail,E0373
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let seen = AtomicBool::new(false);
/// // SAFETY: (never compiled) the action would only store to an atomic.
/// let _ = unsafe { sigmux_registry::register(2, || seen.store(true, Ordering::Relaxed)) };
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
/// If `signal` is in [`FORBIDDEN`] (signal-hook's behaviour). [`try_register`] is the same
/// registration without the panic: it returns an `InvalidInput` error instead, as does
/// [`check_signal`](crate::check_signal), which tells in advance whether a signal number would be accepted.
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
/// has been dropped (so whatever it owned is released).
///
/// The OS handler stays installed, unless the signal was installed with
/// [`Options::restore`] and this was its last action. Then the disposition sigmux replaced
/// (another handler, `SIG_DFL`, or `SIG_IGN`) is put back, provided sigmux's handler is still
/// the installed one. (A one-shot previous handler, `SA_RESETHAND`, that sigmux already
/// chained to comes back as `SIG_DFL`, as the kernel would have left it.) If another library
/// installed over sigmux's handler, even in the very instant of the restore, sigmux leaves
/// that library's latest handler installed and keeps chaining; the restore
/// stays pending and happens as soon as sigmux's handler is the installed one again and sigmux
/// next looks at the signal (a registration, [`disposition`](crate::disposition),
/// [`ignore`](crate::ignore), [`set_default_action`](crate::set_default_action)).
///
/// A signal delivered while this runs is taken exactly once: by the action, or by the restored
/// disposition, never lost. The old disposition is put back *before* the action is unlinked,
/// and a delivery that reached sigmux's handler before the restore but runs only after the
/// unlink (its frame waited under another signal's handler) is handed to the restored
/// disposition: a restored handler function is called, `SIG_DFL` takes its default action
/// when sigmux's handler returns, `SIG_IGN` drops it. (Windows: the C runtime cannot send it
/// again without running into sigmux's handler, so there only a restored function gets it.)
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

fn add(signal: c_int, action: Box<registry::Action>) -> Result<SigId, Error> {
    registry::add(signal, action).map(|(signal, action)| SigId { signal, action })
}

// ---------------------------------------------------------------------------------------------
// Beyond signal-hook-registry: non-panicking checked registration with options, and the
// process-wide default options.

/// Registers `action` for `signal` like [`register`], but never panics, and with install
/// [`Options`].
///
/// If this is the signal's first action, `options` (completed by the process-wide defaults,
/// see [`set_default_options`]) decide how the handler is installed and what happens when the
/// last action goes. If the signal is handled already, the options it has are kept, and an
/// option asked for with a different value is an error.
///
/// # Safety
///
/// As for [`register`]: `action` must be async-signal-safe.
///
/// # Errors
///
/// * `InvalidInput`, naming the signal: a [`FORBIDDEN`] signal, a number ≤ 0, one the C
///   library reserves, or one above the platform's maximum; or an option that conflicts with
///   the signal's installed options.
/// * `Unsupported`: an option the platform does not have (`onstack`, `nodefer` on Windows).
/// * The OS's error if it refuses to install the handler.
///
/// ```
/// # #[cfg(unix)] {
/// use sigmux_registry::{try_register, unregister, Options};
///
/// // SAFETY: an empty action is async-signal-safe.
/// let id = unsafe { try_register(libc::SIGUSR1, Options::new().onstack(true), || ()) }.unwrap();
/// unregister(id);
///
/// // SAFETY: never installed.
/// let err = unsafe { try_register(libc::SIGKILL, Options::new(), || ()) }.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// assert!(err.to_string().contains(&libc::SIGKILL.to_string()));
/// # }
/// ```
pub unsafe fn try_register<F>(signal: c_int, options: Options, action: F) -> Result<SigId, Error>
where
    F: Fn() + Sync + Send + 'static,
{
    crate::check_signal(signal)?;
    registry::add_with(
        signal,
        options,
        Box::new(move |_: &sys::siginfo_t| action()),
    )
    .map(|(signal, action)| SigId { signal, action })
}

/// Like [`try_register`], with the delivery's `siginfo_t` passed to `action` (as
/// [`register_sigaction`]).
///
/// # Safety
///
/// As for [`register`]: `action` must be async-signal-safe.
///
/// # Errors
///
/// As for [`try_register`].
#[cfg(unix)]
pub unsafe fn try_register_sigaction<F>(
    signal: c_int,
    options: Options,
    action: F,
) -> Result<SigId, Error>
where
    F: Fn(&siginfo_t) + Sync + Send + 'static,
{
    crate::check_signal(signal)?;
    registry::add_with(signal, options, Box::new(action))
        .map(|(signal, action)| SigId { signal, action })
}

/// Sets the process-wide default options: the values used, when a signal is first installed,
/// for every option its first registration does not ask for. Options not asked for in
/// `options` keep their current default. Signals installed already are not changed.
///
/// Applies to every registration, the compatible functions ([`register`] & co.) included:
/// a program embedded in a Go or JVM host can make every library's handlers use the
/// alternate stack with `set_default_options(Options::new().onstack(true))`.
///
/// # Errors
///
/// `Unsupported` for an option the platform does not have.
///
/// ```
/// use sigmux_registry::{default_options, set_default_options, Options};
///
/// # #[cfg(unix)] {
/// set_default_options(Options::new().onstack(true)).unwrap();
/// assert_eq!(default_options().get_onstack(), Some(true));
/// assert_eq!(default_options().get_restart(), Some(true)); // unchanged
/// # set_default_options(Options::new().onstack(false)).unwrap();
/// # }
/// ```
pub fn set_default_options(options: Options) -> Result<(), Error> {
    registry::set_defaults(options)
}

/// The process-wide default options (every option decided).
pub fn default_options() -> Options {
    registry::defaults()
}
