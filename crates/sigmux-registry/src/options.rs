//! Install options: how sigmux's handler is installed for a signal, and what happens when the
//! signal's last action goes.
//!
//! A signal's options are settled by its first registration (from what that registration asks
//! for, completed by the process-wide defaults) and stay until the signal is released again.
//! A later registration that *explicitly* asks for a different value gets an error instead of
//! silently changing how the signal is handled under the other registrants' feet; one that
//! does not mention an option accepts whatever is in force.

use std::io::{Error, ErrorKind};

use libc::c_int;

pub(crate) const RESTART: u8 = 1;
pub(crate) const ONSTACK: u8 = 2;
pub(crate) const NODEFER: u8 = 4;
pub(crate) const RESTORE: u8 = 8;
pub(crate) const KEEP_IGNORED: u8 = 16;

const NAMES: [(u8, &str); 5] = [
    (RESTART, "restart"),
    (ONSTACK, "onstack"),
    (NODEFER, "nodefer"),
    (RESTORE, "restore"),
    (KEEP_IGNORED, "keep_ignored"),
];

/// The process-wide defaults before [`set_default_options`] is called: what
/// `signal-hook-registry` does (`SA_RESTART`, no alternate stack, the signal blocked while its
/// handler runs, the handler kept after the last action goes).
pub(crate) const BUILTIN_DEFAULTS: u8 = RESTART;

/// Options for installing sigmux's handler on a signal, for [`try_register`] and
/// [`set_default_options`].
///
/// Each option is either *asked for* (set with its method, on or off) or left open (then the
/// process-wide default applies when the signal is first installed, and any value is accepted
/// when it is installed already). `Options::new()` asks for nothing.
///
/// | option | effect | default |
/// | --- | --- | --- |
/// | [`restart`](Options::restart) | `SA_RESTART`: interrupted system calls restart instead of failing with `EINTR` | on |
/// | [`onstack`](Options::onstack) | `SA_ONSTACK`: run on the thread's alternate signal stack when it has one (needed inside Go, JVM or Android hosts) | off |
/// | [`nodefer`](Options::nodefer) | `SA_NODEFER`: do not block the signal while its handler runs (handlers may nest) | off |
/// | [`restore`](Options::restore) | when the signal's last action is removed, put back the disposition sigmux replaced (no delivery lost on the way) | off |
/// | [`keep_ignored`](Options::keep_ignored) | if the signal was ignored when the process started (e.g. under `nohup`), keep it ignored: register the action but do not install the handler | off |
///
/// On Windows only `restart` (meaningless there), `restore` and `keep_ignored` exist; asking
/// for `onstack` or `nodefer` is an `Unsupported` error.
///
/// ```
/// use sigmux_registry::Options;
///
/// let opts = Options::new().onstack(true).restore(true);
/// assert_eq!(opts.get_onstack(), Some(true));
/// assert_eq!(opts.get_restart(), None); // left open
/// ```
///
/// [`try_register`]: crate::try_register
/// [`set_default_options`]: crate::set_default_options
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// Which options are asked for.
    set: u8,
    /// Their values (meaningful only where `set` has the bit).
    value: u8,
}

impl Options {
    /// Options that ask for nothing.
    pub const fn new() -> Self {
        Options { set: 0, value: 0 }
    }

    const fn with(self, bit: u8, on: bool) -> Self {
        Options {
            set: self.set | bit,
            value: if on {
                self.value | bit
            } else {
                self.value & !bit
            },
        }
    }

    const fn get(&self, bit: u8) -> Option<bool> {
        if self.set & bit == 0 {
            None
        } else {
            Some(self.value & bit != 0)
        }
    }

    /// Asks for `SA_RESTART` on or off.
    pub const fn restart(self, on: bool) -> Self {
        self.with(RESTART, on)
    }

    /// Asks for `SA_ONSTACK` on or off: the handler runs on the alternate signal stack of the
    /// thread it interrupts, if that thread has one (`sigaltstack`).
    pub const fn onstack(self, on: bool) -> Self {
        self.with(ONSTACK, on)
    }

    /// Asks for `SA_NODEFER` on or off: with it, the signal is not blocked while its handler
    /// runs, so a second delivery can nest inside the first. Beware: under a flood of the
    /// signal, handlers can then nest without bound and overflow the thread's stack; use it
    /// only for signals that cannot arrive faster than they are handled.
    pub const fn nodefer(self, on: bool) -> Self {
        self.with(NODEFER, on)
    }

    /// Asks to restore (or not) the previous disposition when the signal's last action is
    /// removed. See [`unregister`](crate::unregister) for the exact guarantee.
    pub const fn restore(self, on: bool) -> Self {
        self.with(RESTORE, on)
    }

    /// Asks to keep (or not) a signal that was ignored when the process started ignored.
    /// Asking for `false` explicitly is how a later registration overrides a kept ignore;
    /// asking for `true` on a signal that is claimed already accepts its state (never a
    /// conflict).
    pub const fn keep_ignored(self, on: bool) -> Self {
        self.with(KEEP_IGNORED, on)
    }

    /// The `restart` option, if asked for.
    pub const fn get_restart(&self) -> Option<bool> {
        self.get(RESTART)
    }

    /// The `onstack` option, if asked for.
    pub const fn get_onstack(&self) -> Option<bool> {
        self.get(ONSTACK)
    }

    /// The `nodefer` option, if asked for.
    pub const fn get_nodefer(&self) -> Option<bool> {
        self.get(NODEFER)
    }

    /// The `restore` option, if asked for.
    pub const fn get_restore(&self) -> Option<bool> {
        self.get(RESTORE)
    }

    /// The `keep_ignored` option, if asked for.
    pub const fn get_keep_ignored(&self) -> Option<bool> {
        self.get(KEEP_IGNORED)
    }

    /// Every option asked for, with the values of `settled` (a full set of values).
    pub(crate) const fn all(settled: u8) -> Self {
        Options {
            set: RESTART | ONSTACK | NODEFER | RESTORE | KEEP_IGNORED,
            value: settled,
        }
    }

    /// The full set of values: what is asked for, the rest from `defaults`.
    pub(crate) const fn settle(&self, defaults: u8) -> u8 {
        (self.value & self.set) | (defaults & !self.set)
    }

    /// The same request with `bit` left open.
    pub(crate) const fn without(self, bit: u8) -> Self {
        Options {
            set: self.set & !bit,
            value: self.value & !bit,
        }
    }

    /// Whether an explicit request for `bit` is `false` (an override).
    pub(crate) const fn refuses(&self, bit: u8) -> bool {
        matches!(self.get(bit), Some(false))
    }

    /// Merges what is asked for into `defaults`.
    pub(crate) const fn merge_into(&self, defaults: u8) -> u8 {
        self.settle(defaults)
    }

    /// An error if what is asked for contradicts the `settled` values of `signal`.
    pub(crate) fn check_against(&self, signal: c_int, settled: u8) -> Result<(), Error> {
        let clash = (self.value ^ settled) & self.set;
        if clash == 0 {
            return Ok(());
        }
        let (bit, name) = NAMES
            .iter()
            .copied()
            .find(|(bit, _)| clash & bit != 0)
            .unwrap_or((clash, "an option"));
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "signal {} is already handled by sigmux with {} = {}; cannot change it to {} \
                 while actions are registered",
                signal,
                name,
                settled & bit != 0,
                self.value & bit != 0
            ),
        ))
    }
}
