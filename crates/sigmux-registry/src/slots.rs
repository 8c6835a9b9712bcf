//! The handler side of the registry: one [`Slot`] per signal number in a table built at
//! compile time, holding the signal's [`ActionList`] and the disposition to chain to ([`Prev`]),
//! and the grace-period tracker the handler reads them under. The writer side, which changes
//! them under the registry lock, is `registry.rs`.

use core::ptr;
use core::sync::atomic::AtomicBool;
use core::sync::atomic::Ordering as StdOrdering;

use libc::{c_int, c_void};

use crate::actions::{self, ActionList};
use crate::grace::Grace;
use crate::primitive::AtomicPtr;
use crate::sys::{self, siginfo_t, RawDisposition};

/// An action as the registry stores it.
pub(crate) type Action = actions::Action<siginfo_t>;

/// The disposition the handler chains to, as published in a [`Slot`].
pub(crate) struct Prev {
    disposition: RawDisposition,
    /// The signals to block around the call (its `sa_mask`), if that adds any.
    block: Option<sys::BlockSet>,
    /// `SA_RESETHAND`: the kernel would have called it once, then used `SIG_DFL`.
    one_shot: bool,
    /// A one-shot handler was called. Set by the handler, read by the writer.
    fired: AtomicBool,
    /// sigmux has let go of the signal (`restore`, `ignore`, `set_default_action`) and this is the
    /// disposition it put in place: a late delivery that reaches sigmux's handler all the same
    /// is handed to it (see `handler`).
    released: bool,
}

impl Prev {
    /// `d` as chained to from sigmux's handler for `sig` installed with `our_flags`.
    pub(crate) fn new(
        d: RawDisposition,
        sig: c_int,
        our_flags: c_int,
        released: bool,
    ) -> Box<Prev> {
        Box::new(Prev {
            block: d.block_set(sig, our_flags),
            one_shot: d.one_shot(),
            fired: AtomicBool::new(false),
            released,
            disposition: d,
        })
    }

    /// The call this delivery makes, if any: a handler function, and for a one-shot handler
    /// only the first delivery's. Copies out what the call needs, so the caller can leave the
    /// grace period before calling.
    ///
    /// Async-signal-safe.
    #[inline]
    pub(crate) fn claim(&self) -> Option<Call> {
        if !self.disposition.callable() {
            return None;
        }
        if self.one_shot && self.fired.swap(true, StdOrdering::AcqRel) {
            return None;
        }
        Some(Call {
            disposition: self.disposition,
            block: self.block,
        })
    }

    /// Whether sigmux has let go of the signal. Async-signal-safe.
    #[inline]
    pub(crate) fn released(&self) -> bool {
        self.released
    }

    /// Whether a one-shot handler has been called (the kernel would have reset it).
    pub(crate) fn fired(&self) -> bool {
        self.one_shot && self.fired.load(StdOrdering::Acquire)
    }
}

/// A previous handler to call, copied out of its [`Prev`].
#[derive(Clone, Copy)]
pub(crate) struct Call {
    disposition: RawDisposition,
    block: Option<sys::BlockSet>,
}

impl Call {
    /// Calls the handler, with its mask blocked.
    ///
    /// Async-signal-safe (as safe as the handler it calls).
    ///
    /// # Safety
    ///
    /// Only from inside a signal handler for `sig`, passing the arguments the kernel gave it.
    #[inline]
    pub(crate) unsafe fn make(&self, sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
        match &self.block {
            // SAFETY: caller contract; `claim` made sure the disposition is callable.
            None => unsafe { self.disposition.call(sig, info, ctx) },
            Some(block) => sys::with_blocked(block, || {
                // SAFETY: as above.
                unsafe { self.disposition.call(sig, info, ctx) }
            }),
        }
    }
}

/// What the handler needs for one signal.
pub(crate) struct Slot {
    /// This signal's actions, in registration order.
    pub(crate) list: ActionList<siginfo_t>,
    /// The disposition that was installed before ours, to chain to; null before the first
    /// install. Replaced only under the registry lock; an old one is freed after a grace
    /// period. After sigmux let go of the signal it stays published, marked released, until
    /// the next install replaces it.
    pub(crate) prev: AtomicPtr<Prev>,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            list: ActionList::new(),
            prev: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

#[allow(clippy::declare_interior_mutable_const)] // only used to build the static table
const EMPTY_SLOT: Slot = Slot::new();
static SLOTS: [Slot; sys::SLOTS] = [EMPTY_SLOT; sys::SLOTS];
static GRACE: Grace = Grace::new();

/// The slot of `sig`, if `sig` is in the table. Async-signal-safe, cannot panic.
#[inline]
pub(crate) fn slot(sig: c_int) -> Option<&'static Slot> {
    usize::try_from(sig).ok().and_then(|i| SLOTS.get(i))
}

/// The grace-period tracker every handler and writer shares.
#[inline]
pub(crate) fn grace() -> &'static Grace {
    &GRACE
}

/// Marks a slot whose previous disposition is being installed: the handler waits for the real
/// one (never dereferenced, never freed).
static INSTALLING_MARK: u8 = 0;

/// The installing mark.
pub(crate) fn installing() -> *mut Prev {
    &INSTALLING_MARK as *const u8 as *mut Prev
}

/// Whether `p` is the installing mark. Async-signal-safe.
#[inline]
pub(crate) fn is_installing(p: *mut Prev) -> bool {
    p == installing()
}
