//! The two registries (and the flag modules above them) behind one small interface, so
//! that each measurement is written once.

use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use libc::c_int;

use crate::imp::Imp;

/// A signal-hook-registry compatible API.
pub(crate) trait Registry {
    /// The registration handle.
    type Id: Copy;

    /// Adds `action` to `signal`.
    ///
    /// # Safety
    ///
    /// `action` must be async-signal-safe (the registries' own contract).
    unsafe fn register(signal: c_int, action: fn()) -> io::Result<Self::Id>;

    /// Removes a registration; `true` if it existed.
    fn unregister(id: Self::Id) -> bool;
}

/// sigmux-registry.
#[derive(Debug)]
pub(crate) struct Sigmux;

/// signal-hook-registry 1.4.8.
#[derive(Debug)]
pub(crate) struct Hook;

impl Registry for Sigmux {
    type Id = sigmux_registry::SigId;

    unsafe fn register(signal: c_int, action: fn()) -> io::Result<Self::Id> {
        // SAFETY: forwarded contract: the caller guarantees `action` is async-signal-safe.
        unsafe { sigmux_registry::register(signal, action) }
    }

    fn unregister(id: Self::Id) -> bool {
        sigmux_registry::unregister(id)
    }
}

impl Registry for Hook {
    type Id = signal_hook_registry::SigId;

    unsafe fn register(signal: c_int, action: fn()) -> io::Result<Self::Id> {
        // SAFETY: forwarded contract: the caller guarantees `action` is async-signal-safe.
        unsafe { signal_hook_registry::register(signal, action) }
    }

    fn unregister(id: Self::Id) -> bool {
        signal_hook_registry::unregister(id)
    }
}

/// Registers a flag for `signal` with the `flag` module of `imp`'s crate.
pub(crate) fn register_flag(imp: Imp, signal: c_int, flag: &Arc<AtomicBool>) -> io::Result<()> {
    match imp {
        Imp::HookFlag => signal_hook::flag::register(signal, Arc::clone(flag)).map(drop),
        Imp::SigmuxFlag => sigmux::flag::register(signal, Arc::clone(flag)).map(drop),
        _ => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{} has no flag module", imp.name()),
        )),
    }
}
