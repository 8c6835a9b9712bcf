//! The global state: per-signal action chains the handler reads, and the writer-side
//! bookkeeping behind one lock.
//!
//! Two halves:
//!
//! * **Handler side** (`SLOTS`, `GRACE`): a fixed table, one [`Slot`] per signal number, built
//!   at compile time (no lazy initialisation, nothing for the handler to wait for). A slot holds
//!   the [`Chain`] of actions and the disposition to chain to. The handler reads them as a
//!   grace-period reader ([`Grace`]).
//! * **Writer side** (`REGISTRY`): a `Mutex` over the ids and per-signal state. Every change —
//!   install, add, remove — happens under it, so there is one writer at a time, which is what
//!   [`Chain`]'s and [`Grace`]'s writer methods require. Removing waits for a grace period
//!   under the lock and frees after releasing it (dropping user closures outside the lock).
//!
//! Adding or removing one action costs O(log n) in that signal's own id map plus O(1) list
//! work, independent of the number of actions on other signals.

use core::ptr;
use std::collections::BTreeMap;
use std::io::{Error, ErrorKind};
use std::sync::{Mutex, MutexGuard};

use libc::c_int;

use crate::chain::{self, Chain, Node};
use crate::grace::Grace;
use crate::primitive::{AtomicPtr, Ordering};
use crate::sys::{self, siginfo_t, Disposition};

/// An action as the registry stores it.
pub(crate) type Action = chain::Action<siginfo_t>;

/// What the handler needs for one signal.
pub(crate) struct Slot {
    /// This signal's actions, in registration order.
    pub(crate) chain: Chain<siginfo_t>,
    /// The disposition that was installed before ours, to chain to; null before the first
    /// install. Replaced only under the registry lock; an old one is freed after a grace
    /// period.
    pub(crate) prev: AtomicPtr<Disposition>,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            chain: Chain::new(),
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

/// A node pointer owned by the registry (freed only by the writer).
#[derive(Clone, Copy)]
struct NodePtr(*mut Node<siginfo_t>);

// SAFETY: the pointer is only dereferenced or freed by the writer holding the registry lock;
// moving it between threads inside the `Mutex` is what the lock is for.
unsafe impl Send for NodePtr {}

/// Writer-side state of one signal.
struct SignalState {
    /// Whether our handler is installed for this signal.
    installed: bool,
    /// The live actions, by id, with their nodes.
    actions: BTreeMap<u64, NodePtr>,
}

impl SignalState {
    const fn new() -> Self {
        SignalState {
            installed: false,
            actions: BTreeMap::new(),
        }
    }
}

struct Registry {
    next_id: u64,
    signals: [SignalState; sys::SLOTS],
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_STATE: SignalState = SignalState::new();
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 1,
    signals: [EMPTY_STATE; sys::SLOTS],
});

fn lock() -> MutexGuard<'static, Registry> {
    // Nothing under the lock can leave the state half-changed by a panic (allocation failure
    // aborts), so a poisoned lock is still consistent.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The error for a signal number outside anything the platform could accept.
pub(crate) fn invalid(signal: c_int, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("signal {} {}", signal, why),
    )
}

/// Index of `signal` in the tables, or an `InvalidInput` error naming it: for numbers ≤ 0,
/// above the platform's maximum, or reserved by the C library.
pub(crate) fn index(signal: c_int) -> Result<usize, Error> {
    if signal > sys::max_signal() {
        return Err(invalid(
            signal,
            "is above the platform's largest signal number",
        ));
    }
    if let Some(why) = sys::refused(signal) {
        return Err(invalid(signal, why));
    }
    match usize::try_from(signal) {
        Ok(i) if i > 0 && i < sys::SLOTS => Ok(i),
        _ => Err(invalid(signal, "is not a valid signal number")),
    }
}

/// Publishes `d` as the disposition to chain to; returns the one it replaced (to be freed
/// after a grace period by the caller).
fn publish_prev(slot: &Slot, d: Disposition) -> *mut Disposition {
    let new = Box::into_raw(Box::new(d));
    slot.prev.swap(new, Ordering::AcqRel)
}

/// Frees a disposition taken out of a slot. Must run after a grace period.
///
/// # Safety
///
/// `p` is null or came from `publish_prev` and is no longer published, and a grace period
/// has passed since it was replaced.
unsafe fn free_prev(p: *mut Disposition) {
    if !p.is_null() {
        // SAFETY: caller contract.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Installs our handler for `signal`, keeping every delivery covered: the current
/// disposition is published for chaining *before* our handler can run, so a signal arriving
/// during the install reaches it.
fn install(signal: c_int, slot: &Slot) -> Result<(), Error> {
    let before = sys::query(signal)?;
    let stale = publish_prev(slot, before);
    // SAFETY: we hold the registry lock (caller), and `before` is published.
    let replaced = unsafe { sys::install(signal, sys::DEFAULT_FLAGS) };
    let retired = match replaced {
        Ok(actual) if actual.same_as(&before) => stale,
        Ok(actual) => {
            // Someone outside sigmux changed the disposition between our two calls: chain
            // to what we actually replaced.
            let first = publish_prev(slot, actual);
            GRACE.synchronize();
            // SAFETY: unpublished, a grace period passed.
            unsafe { free_prev(first) };
            stale
        }
        Err(e) => {
            let ours = slot.prev.swap(stale, Ordering::AcqRel);
            GRACE.synchronize();
            // SAFETY: unpublished, a grace period passed.
            unsafe { free_prev(ours) };
            return Err(e);
        }
    };
    if !retired.is_null() {
        GRACE.synchronize();
        // SAFETY: unpublished, a grace period passed.
        unsafe { free_prev(retired) };
    }
    Ok(())
}

/// Adds `action` to `signal`, installing the handler if this is the signal's first action.
/// No validation beyond what the OS does (the callers validate).
pub(crate) fn add(signal: c_int, action: Box<Action>) -> Result<(c_int, u64), Error> {
    let i = index(signal)?;
    let slot = slot(signal).ok_or_else(|| invalid(signal, "is not a valid signal number"))?;
    let node = Node::new(action);
    let mut reg = lock();
    let reg = &mut *reg;
    let state = reg
        .signals
        .get_mut(i)
        .ok_or_else(|| invalid(signal, "is not a valid signal number"))?;
    if !state.installed {
        install(signal, slot)?;
        state.installed = true;
    }
    let id = reg.next_id;
    reg.next_id += 1;
    // SAFETY: we hold the registry lock: the only writer.
    let node = unsafe { slot.chain.push(node) };
    state.actions.insert(id, NodePtr(node));
    Ok((signal, id))
}

/// Removes the action `id` of `signal`. Returns whether it was there. When this returns, the
/// action is not running anywhere and has been dropped.
pub(crate) fn remove(signal: c_int, id: u64) -> bool {
    let (Ok(i), Some(slot)) = (index(signal), slot(signal)) else {
        return false;
    };
    let node = {
        let mut reg = lock();
        let Some(node) = reg.signals.get_mut(i).and_then(|s| s.actions.remove(&id)) else {
            return false;
        };
        // SAFETY: we hold the lock; `node` was pushed on this chain and is still linked (it
        // was in the map).
        unsafe { slot.chain.unlink(node.0) };
        GRACE.synchronize();
        node
    };
    // SAFETY: unlinked, a grace period passed, and it left the map so nobody frees it again.
    unsafe { chain::free(node.0) };
    true
}

/// Removes every action of `signal`. Returns whether there was any.
pub(crate) fn remove_all(signal: c_int) -> bool {
    let (Ok(i), Some(slot)) = (index(signal), slot(signal)) else {
        return false;
    };
    let nodes = {
        let mut reg = lock();
        let Some(state) = reg.signals.get_mut(i) else {
            return false;
        };
        let nodes = core::mem::take(&mut state.actions);
        if nodes.is_empty() {
            return false;
        }
        for node in nodes.values() {
            // SAFETY: we hold the lock; each node is linked on this chain.
            unsafe { slot.chain.unlink(node.0) };
        }
        debug_assert!(slot.chain.is_empty());
        GRACE.synchronize();
        nodes
    };
    for node in nodes.into_values() {
        // SAFETY: unlinked, a grace period passed, out of the map.
        unsafe { chain::free(node.0) };
    }
    true
}
