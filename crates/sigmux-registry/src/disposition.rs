//! Safe queries and changes of a signal's disposition, for signals with no sigmux actions.

use std::io::Error;

use libc::c_int;

use crate::options::Options;
use crate::registry;
use crate::sys::{self, RawDisposition};

/// What a signal does when it is delivered, as [`disposition`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposition {
    /// The default action (`SIG_DFL`): terminate, dump core, stop, continue or ignore,
    /// depending on the signal.
    Default,
    /// The signal is ignored (`SIG_IGN`).
    Ignore,
    /// sigmux's handler is installed.
    Sigmux {
        /// How many actions are registered.
        actions: usize,
        /// The options it was installed with.
        options: Options,
    },
    /// Some other handler is installed.
    Handler {
        /// The handler's address.
        address: usize,
        /// Its `sa_flags` (0 on Windows).
        flags: c_int,
    },
}

/// Reads the current disposition of `signal`. Needs no `unsafe`, and changes nothing — except
/// that it carries out a restore left pending (see [`unregister`](crate::unregister)) if that
/// has become possible.
///
/// The answer is one state the signal was in: it is read under the registry's lock, so no
/// registration or removal can change sigmux's side in between. A signal sigmux holds ignored
/// (see [`Options::keep_ignored`]) reads as [`Disposition::Ignore`].
///
/// On Windows the C runtime cannot read a disposition without changing it: for a signal sigmux
/// does not own, this swaps in `SIG_IGN` and puts the old handler back at once, so a signal
/// delivered in that instant is ignored.
///
/// # Errors
///
/// `InvalidInput`, naming the signal, for a number that is not a signal here.
///
/// ```
/// use sigmux_registry::{disposition, Disposition};
///
/// # #[cfg(unix)]
/// assert_eq!(disposition(libc::SIGWINCH).unwrap(), Disposition::Default);
/// ```
pub fn disposition(signal: c_int) -> Result<Disposition, Error> {
    // Under the registry lock: the OS's answer and sigmux's own state belong to one moment.
    registry::inspect(signal, |owned| {
        if !sys::QUERY_IS_ATOMIC {
            if let Some((actions, options)) = owned {
                // Answer from our own state rather than touch the disposition.
                return Ok(Disposition::Sigmux { actions, options });
            }
        }
        let raw = sys::query(signal)?;
        Ok(if raw.is_ours() {
            let (actions, options) = owned.unwrap_or((0, Options::new()));
            Disposition::Sigmux { actions, options }
        } else if raw.is_default() {
            Disposition::Default
        } else if raw.is_ignore() {
            Disposition::Ignore
        } else {
            Disposition::Handler {
                address: raw.handler(),
                flags: raw.flags(),
            }
        })
    })
}

/// Makes the process ignore `signal` (`SIG_IGN`).
///
/// # Errors
///
/// An error (kind `Other`) if actions are registered for the signal: unregister them first.
/// With no actions registered it always works, also while sigmux's handler is still installed
/// (kept after the last action went without [`Options::restore`], or a restore pending): sigmux
/// then lets go of the signal, and the next registration installs its handler anew.
/// `InvalidInput` for a number that is not a signal here; the OS's error for signals that
/// cannot be ignored (`SIGKILL`, `SIGSTOP`).
///
/// ```
/// # #[cfg(unix)] {
/// sigmux_registry::ignore(libc::SIGPIPE).unwrap();
/// assert_eq!(
///     sigmux_registry::disposition(libc::SIGPIPE).unwrap(),
///     sigmux_registry::Disposition::Ignore
/// );
/// # }
/// ```
pub fn ignore(signal: c_int) -> Result<(), Error> {
    registry::set_foreign(signal, RawDisposition::ignore())
}

/// Gives `signal` its default action back (`SIG_DFL`).
///
/// # Errors
///
/// As for [`ignore`].
///
/// ```
/// # #[cfg(unix)] {
/// sigmux_registry::set_default_action(libc::SIGUSR2).unwrap();
/// assert_eq!(
///     sigmux_registry::disposition(libc::SIGUSR2).unwrap(),
///     sigmux_registry::Disposition::Default
/// );
/// # }
/// ```
pub fn set_default_action(signal: c_int) -> Result<(), Error> {
    registry::set_foreign(signal, RawDisposition::default_action())
}

/// The former name of [`set_default_action`] (it sat beside `set_default_options`, which
/// is about something else).
///
/// # Errors
///
/// As for [`set_default_action`].
#[deprecated(since = "1.0.0", note = "renamed to `set_default_action`")]
pub fn set_default(signal: c_int) -> Result<(), Error> {
    set_default_action(signal)
}

/// Whether `signal` was ignored when the process started, as a parent arranges with `nohup`
/// or `trap '' HUP` (an ignored disposition survives `exec`).
///
/// Recorded before `main` runs on Linux, the BSDs, illumos and macOS (from the executable's
/// constructor list), so it is right even if something changed the disposition since. On
/// other Unix platforms it is recorded at the first call into this function or the first
/// registration. On Windows nothing is inherited and the answer is always `false`.
///
/// # Errors
///
/// `InvalidInput`, naming the signal, for a number that is not a signal here.
pub fn ignored_at_start(signal: c_int) -> Result<bool, Error> {
    crate::check::index(signal)?;
    Ok(sys::ignored_at_start(signal))
}
