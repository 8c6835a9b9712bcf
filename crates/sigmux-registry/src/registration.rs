//! An owned registration: unregisters when dropped.

use crate::api::{unregister, SigId};

/// An action registration that is removed when this value is dropped.
///
/// Made from the [`SigId`] any registration function returns. Dropping it behaves like
/// [`unregister`]: when the drop returns, the action is not running anywhere and has been
/// dropped.
///
/// ```
/// # #[cfg(unix)] {
/// use sigmux_registry::Registration;
///
/// // SAFETY: an empty action is async-signal-safe.
/// let id = unsafe { sigmux_registry::register(libc::SIGUSR2, || ()) }.unwrap();
/// let guard = Registration::from(id);
/// drop(guard); // unregistered here
/// assert!(!sigmux_registry::unregister(id));
/// # }
/// ```
#[derive(Debug)]
#[must_use = "dropping a Registration unregisters the action at once"]
pub struct Registration {
    id: SigId,
}

impl Registration {
    /// The id of the registered action.
    pub fn id(&self) -> SigId {
        self.id
    }

    /// Keeps the action registered for good (or until [`unregister`] is called with the
    /// returned id) and gives up the guard.
    pub fn into_id(self) -> SigId {
        let id = self.id;
        core::mem::forget(self);
        id
    }
}

impl From<SigId> for Registration {
    fn from(id: SigId) -> Self {
        Registration { id }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        unregister(self.id);
    }
}
