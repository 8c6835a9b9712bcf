//! The global state: per-signal action lists the handler reads, and the writer-side
//! bookkeeping behind one lock.
//!
//! Two halves:
//!
//! * **Handler side** (`slots.rs`): a fixed table, one [`Slot`] per signal number, built at
//!   compile time (no lazy initialisation, nothing for the handler to wait for). A slot holds
//!   the `ActionList` of actions and the disposition to chain to. The handler reads them as a
//!   grace-period reader (`Grace`).
//! * **Writer side** (this file, `REGISTRY`): a `Mutex` over the ids and per-signal state.
//!   Every change — install, add, remove — happens under it, so there is one writer at a time,
//!   which is what `ActionList`'s and `Grace`'s writer methods require. Removing waits for a
//!   grace period under the lock and frees after releasing it (dropping user closures outside
//!   the lock).
//!
//! Adding or removing one action costs O(log n) in that signal's own id map (a `BTreeMap`
//! from id to node, n = that signal's actions) plus O(1) list work, independent of the number
//! of actions on other signals; the last removal with `restore` adds a `sigaction`.
//!
//! (Over 500 lines on purpose: every change made under the registry lock is in this one file,
//! so the lock's invariants can be checked in one place; the handler side is `slots.rs`.)

use core::cell::UnsafeCell;
use core::ptr;
use std::collections::BTreeMap;
use std::io::{Error, ErrorKind};
use std::sync::{Mutex, MutexGuard};

use libc::c_int;

use crate::actions::{self, Node};
use crate::check::{index, not_a_signal};
use crate::options::{self, Options};
use crate::primitive::Ordering;
use crate::sys::{self, siginfo_t, RawDisposition};

use crate::slots::installing;
pub(crate) use crate::slots::{grace, is_installing, slot, Action, Prev, Slot};

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
    /// The signal was ignored at start and a registration asked to keep it so: actions are
    /// registered, the handler is not installed.
    held_ignored: bool,
    /// The options in force (every bit decided), while the signal is claimed (installed or
    /// held ignored); `None` when sigmux has let go of it.
    settled: Option<u8>,
    /// The disposition our install replaced, to put back on `restore`.
    replaced: Option<RawDisposition>,
    /// The last action went with `restore`, but sigmux could not put the old disposition back
    /// (another handler was installed over ours): retried whenever the registry next looks
    /// at the signal with no actions.
    restore_pending: bool,
    /// The live actions, by id, with their nodes.
    actions: BTreeMap<u64, NodePtr>,
}

impl SignalState {
    const fn new() -> Self {
        SignalState {
            installed: false,
            held_ignored: false,
            settled: None,
            replaced: None,
            restore_pending: false,
            actions: BTreeMap::new(),
        }
    }

    /// Whether sigmux owns the signal's disposition right now.
    fn owned(&self) -> bool {
        self.installed || self.held_ignored || !self.actions.is_empty()
    }
}

struct Registry {
    next_id: u64,
    /// The process-wide default options (every bit decided).
    defaults: u8,
    signals: [SignalState; sys::SLOTS],
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_STATE: SignalState = SignalState::new();
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 1,
    defaults: options::BUILTIN_DEFAULTS,
    signals: [EMPTY_STATE; sys::SLOTS],
});

fn lock() -> MutexGuard<'static, Registry> {
    crate::fork::start();
    lock_unhooked()
}

fn lock_unhooked() -> MutexGuard<'static, Registry> {
    // Nothing under the lock can leave the state half-changed by a panic (allocation failure
    // aborts), so a poisoned lock is still consistent.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

// Fork safety. A child starts with only the thread that called `fork`. If another thread held
// the registry lock at that moment, or was inside the signal handler (counted as a
// grace-period reader), the child would wait for it forever on its first registration or
// removal. So around every `fork`, the forking thread takes the registry lock (no change is
// half-done in the copy), and the child forgets the readers of threads it does not have.
//
// Calling `fork` from inside an action is not supported (POSIX no longer lists `fork` as
// async-signal-safe): the child would then forget a reader that is still running.

/// The registry lock held across a `fork`, by the forking thread.
struct ForkGuard(UnsafeCell<Option<MutexGuard<'static, Registry>>>);

// SAFETY: only the `fork_*` hooks touch it, all on the thread calling `fork`, and the lock it
// holds serializes concurrent forks (so does the fork lock they run under, see `fork`).
unsafe impl Sync for ForkGuard {}

static FORK_GUARD: ForkGuard = ForkGuard(UnsafeCell::new(None));

/// The registry's part of the `prepare` hook (see `fork` for the order).
pub(crate) fn fork_prepare() {
    let guard = lock_unhooked();
    // SAFETY: see `ForkGuard`.
    unsafe { *FORK_GUARD.0.get() = Some(guard) };
}

/// The registry's part of the `parent` hook.
pub(crate) fn fork_parent() {
    // SAFETY: see `ForkGuard`; unlocks.
    drop(unsafe { (*FORK_GUARD.0.get()).take() });
}

/// The registry's part of the `child` hook.
pub(crate) fn fork_child() {
    grace().forget_readers();
    // SAFETY: see `ForkGuard`; the child's copy of the lock is held by this very thread.
    drop(unsafe { (*FORK_GUARD.0.get()).take() });
}

/// Publishes `p` as the disposition to chain to; returns the one it replaced (to be freed
/// after a grace period by the caller).
fn publish(slot: &Slot, p: Box<Prev>) -> *mut Prev {
    slot.prev.swap(Box::into_raw(p), Ordering::AcqRel)
}

/// Publishes `d`, to chain to from our handler for `signal` installed with `flags`.
fn publish_prev(slot: &Slot, signal: c_int, flags: c_int, d: RawDisposition) -> *mut Prev {
    publish(slot, Prev::new(d, signal, flags, false))
}

/// Frees a disposition taken out of a slot. Must run after a grace period.
///
/// # Safety
///
/// `p` is null or came from `publish` and is no longer published, and a grace period has
/// passed since it was replaced.
unsafe fn free_prev(p: *mut Prev) {
    if !p.is_null() {
        // SAFETY: caller contract.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Waits for a grace period and frees `p` (if not null). Under the lock.
fn retire(p: *mut Prev) {
    if !p.is_null() {
        grace().synchronize();
        // SAFETY: unpublished (caller), a grace period passed.
        unsafe { free_prev(p) };
    }
}

/// Installs our handler for `signal` with `flags`, keeping every delivery covered: the
/// current disposition is published for chaining *before* our handler can run, so a signal
/// arriving during the install reaches it. Returns the disposition replaced.
fn install(signal: c_int, slot: &Slot, flags: c_int) -> Result<RawDisposition, Error> {
    if !sys::QUERY_IS_ATOMIC {
        return install_blind(signal, slot, flags);
    }
    let before = sys::query(signal)?;
    let stale = publish_prev(slot, signal, flags, before);
    // SAFETY: we hold the registry lock (caller), and `before` is published.
    let replaced = unsafe { sys::install(signal, flags) };
    let (retired, actual) = match replaced {
        Ok(actual) if actual.same_as(&before) => (stale, actual),
        Ok(actual) => {
            // Someone outside sigmux changed the disposition between our two calls: chain
            // to what we actually replaced.
            let first = publish_prev(slot, signal, flags, actual);
            grace().synchronize();
            // SAFETY: unpublished, a grace period passed.
            unsafe { free_prev(first) };
            (stale, actual)
        }
        Err(e) => {
            let ours = slot.prev.swap(stale, Ordering::AcqRel);
            grace().synchronize();
            // SAFETY: unpublished, a grace period passed.
            unsafe { free_prev(ours) };
            return Err(e);
        }
    };
    if !retired.is_null() {
        grace().synchronize();
        // SAFETY: unpublished, a grace period passed.
        unsafe { free_prev(retired) };
    }
    Ok(actual)
}

/// Installing where the previous disposition cannot be read without changing it (Windows):
/// the slot is marked as installing, the handler swapped in, and the replaced disposition
/// published. A delivery in between waits in the handler for it (a few instructions of this
/// thread), so it still reaches the previous handler.
fn install_blind(signal: c_int, slot: &Slot, flags: c_int) -> Result<RawDisposition, Error> {
    let stale = slot.prev.swap(installing(), Ordering::AcqRel);
    // SAFETY: we hold the registry lock; the slot is marked, so the handler waits for the
    // previous disposition to be published below.
    let result = unsafe { sys::install(signal, flags) };
    let published = match result {
        Ok(actual) => Box::into_raw(Prev::new(actual, signal, flags, false)),
        Err(_) => stale,
    };
    let mark = slot.prev.swap(published, Ordering::AcqRel);
    debug_assert!(is_installing(mark));
    if let Ok(actual) = result {
        if !stale.is_null() {
            grace().synchronize();
            // SAFETY: unpublished, a grace period passed.
            unsafe { free_prev(stale) };
        }
        return Ok(actual);
    }
    result
}

/// The `sa_flags` for a full set of option values.
fn flags_of(settled: u8) -> Result<c_int, Error> {
    sys::install_flags(
        settled & options::RESTART != 0,
        settled & options::ONSTACK != 0,
        settled & options::NODEFER != 0,
    )
}

/// Adds `action` to `signal` with the compatible defaults (no options asked for).
pub(crate) fn add(signal: c_int, action: Box<Action>) -> Result<(c_int, u64), Error> {
    add_with(signal, Options::new(), action)
}

/// Adds `action` to `signal`. The first action claims the signal: settles its options (what
/// `asked` says, the rest from the defaults) and installs the handler, unless the signal is
/// kept ignored. Later ones check `asked` against the settled options (`keep_ignored` is never
/// a conflict: `true` accepts what is in force, `false` overrides a kept ignore).
pub(crate) fn add_with(
    signal: c_int,
    asked: Options,
    action: Box<Action>,
) -> Result<(c_int, u64), Error> {
    let i = index(signal)?;
    let slot = slot(signal).ok_or_else(|| not_a_signal(signal))?;
    let node = Node::new(action);
    let mut reg = lock();
    let reg = &mut *reg;
    let defaults = reg.defaults;
    let state = reg.signals.get_mut(i).ok_or_else(|| not_a_signal(signal))?;
    retry_restore(signal, slot, state);
    match state.settled {
        Some(settled) => {
            asked
                .without(options::KEEP_IGNORED)
                .check_against(signal, settled)?;
            if state.held_ignored && asked.refuses(options::KEEP_IGNORED) {
                // An explicit override of a kept ignore: install now.
                state.replaced = Some(install(signal, slot, flags_of(settled)?)?);
                state.installed = true;
                state.held_ignored = false;
            }
        }
        None => {
            let settled = asked.settle(defaults);
            let flags = flags_of(settled)?;
            let keep = settled & options::KEEP_IGNORED != 0
                && sys::ignored_at_start(signal)
                && sys::query(signal)?.is_ignore();
            if keep {
                state.held_ignored = true;
            } else if !state.installed {
                state.replaced = Some(install(signal, slot, flags)?);
                state.installed = true;
            }
            state.settled = Some(settled);
        }
    }
    let id = reg.next_id;
    reg.next_id += 1;
    // SAFETY: we hold the registry lock: the only writer.
    let node = unsafe { slot.list.push(node) };
    state.actions.insert(id, NodePtr(node));
    Ok((signal, id))
}

/// Called with the lock held when `state`'s last action is about to be unlinked: lets go of
/// the signal, restoring the replaced disposition if the options say so and our handler is
/// still the installed one. Returns a `Prev` it unpublished, to free after a grace period.
///
/// Restoring happens *before* the last action is unlinked, and so does publishing the
/// restored disposition marked released: until the `sigaction` that puts the old disposition
/// back, deliveries run our handler, which still runs the action; after it, they get the
/// restored disposition; and a delivery whose frame was built before but runs after the
/// unlink finds the released mark and is handed on (see `handler`). No delivery falls in
/// between.
///
/// If another handler is installed over ours, the restore is left pending and retried by
/// [`retry_restore`].
fn release(signal: c_int, slot: &Slot, state: &mut SignalState) -> *mut Prev {
    let settled = state.settled.take().unwrap_or(0);
    state.held_ignored = false;
    state.restore_pending = false;
    if !state.installed || settled & options::RESTORE == 0 {
        // Keep the handler (compatible behaviour); the next registration settles the options
        // anew but cannot change the installed flags, so keep them as they are.
        if state.installed {
            state.settled = Some(settled);
        }
        return ptr::null_mut();
    }
    let Some(replaced) = state.replaced else {
        state.settled = Some(settled);
        return ptr::null_mut();
    };
    state.settled = Some(settled);
    let Ok(flags) = flags_of(settled) else {
        return ptr::null_mut();
    };
    if !sys::still_ours(signal) {
        // Another library installed over us (and presumably chains to us): leave it alone,
        // keep chaining, and try again when our handler is back.
        state.restore_pending = true;
        return ptr::null_mut();
    }
    // A one-shot handler the kernel would have reset to `SIG_DFL` at its first delivery.
    // SAFETY: a published `Prev` is freed only by the writer (us, holding the lock).
    let fired = unsafe { slot.prev.load(Ordering::Acquire).as_ref() }.is_some_and(Prev::fired);
    let target = if fired {
        RawDisposition::default_action()
    } else {
        replaced
    };
    let released = Prev::new(target, signal, flags, true);
    // SAFETY: we hold the lock and our handler is the installed one.
    match unsafe { sys::set(signal, &target) } {
        Ok(previous) if previous.is_ours() => {
            state.settled = None;
            state.installed = false;
            state.replaced = None;
            publish(slot, released)
        }
        Ok(intruder) => {
            // Someone installed between our query and our set: put theirs back.
            put_back(signal, target, intruder);
            state.restore_pending = true;
            ptr::null_mut()
        }
        Err(_) => ptr::null_mut(),
    }
}

/// How many times [`put_back`] answers a library that keeps installing before it gives up.
const PUT_BACK_ROUNDS: usize = 64;

/// Puts back `theirs`, a foreign disposition that our own `sigaction` (installing `ours`)
/// displaced. The other library may install again in the instant before we put it back, and
/// that put-back would then displace its newer handler: so each put-back's answer is checked,
/// and a disposition it displaced that is not the one we installed last is put back in turn,
/// until a put-back displaces exactly what we installed. The other library's latest handler is
/// what stays. A library that never stops installing is answered [`PUT_BACK_ROUNDS`] times.
/// Under the lock.
fn put_back(signal: c_int, mut ours: RawDisposition, mut theirs: RawDisposition) {
    for _ in 0..PUT_BACK_ROUNDS {
        // SAFETY: we hold the lock; `theirs` was reported by the OS, so it is a valid
        // disposition, and it is the one a foreign library chose last.
        match unsafe { sys::set(signal, &theirs) } {
            Ok(displaced) if displaced.same_as(&ours) => return,
            Ok(displaced) => {
                ours = theirs;
                theirs = displaced;
            }
            Err(_) => return,
        }
    }
}

/// Retries a pending restore of a signal with no actions (see [`release`]); frees what it
/// unpublished after a grace period. Under the lock.
fn retry_restore(signal: c_int, slot: &Slot, state: &mut SignalState) {
    if state.restore_pending && state.actions.is_empty() {
        retire(release(signal, slot, state));
    }
}

/// Removes the action `id` of `signal`. Returns whether it was there. When this returns, the
/// action is not running anywhere and has been dropped.
pub(crate) fn remove(signal: c_int, id: u64) -> bool {
    let (Ok(i), Some(slot)) = (index(signal), slot(signal)) else {
        return false;
    };
    let (node, prev) = {
        let mut reg = lock();
        let Some(state) = reg.signals.get_mut(i) else {
            return false;
        };
        let Some(node) = state.actions.remove(&id) else {
            return false;
        };
        let prev = if state.actions.is_empty() {
            release(signal, slot, state)
        } else {
            ptr::null_mut()
        };
        // SAFETY: we hold the lock; `node` was pushed on this list and is still linked (it
        // was in the map).
        unsafe { slot.list.unlink(node.0) };
        grace().synchronize();
        (node, prev)
    };
    // SAFETY: unlinked / unpublished, a grace period passed, and out of the map so nobody
    // frees them again.
    unsafe {
        actions::free(node.0);
        free_prev(prev);
    }
    true
}

/// Removes every action of `signal`. Returns whether there was any.
pub(crate) fn remove_all(signal: c_int) -> bool {
    let (Ok(i), Some(slot)) = (index(signal), slot(signal)) else {
        return false;
    };
    let (nodes, prev) = {
        let mut reg = lock();
        let Some(state) = reg.signals.get_mut(i) else {
            return false;
        };
        if state.actions.is_empty() {
            return false;
        }
        let nodes = core::mem::take(&mut state.actions);
        let prev = release(signal, slot, state);
        for node in nodes.values() {
            // SAFETY: we hold the lock; each node is linked on this list.
            unsafe { slot.list.unlink(node.0) };
        }
        debug_assert!(slot.list.is_empty());
        grace().synchronize();
        (nodes, prev)
    };
    for node in nodes.into_values() {
        // SAFETY: unlinked, a grace period passed, out of the map.
        unsafe { actions::free(node.0) };
    }
    // SAFETY: unpublished, a grace period passed.
    unsafe { free_prev(prev) };
    true
}

/// Sets the process-wide default options (what is asked for in `asked`).
pub(crate) fn set_defaults(asked: Options) -> Result<(), Error> {
    // Reject options the platform lacks now rather than at some later install.
    let mut reg = lock();
    let merged = asked.merge_into(reg.defaults);
    flags_of(merged)?;
    reg.defaults = merged;
    Ok(())
}

/// The process-wide default options.
pub(crate) fn defaults() -> Options {
    Options::all(lock().defaults)
}

/// Runs `f` with what sigmux knows of `signal` (`Some((actions, options))` while it owns the
/// signal), under the registry lock, after retrying a pending restore: what `f` reads of the
/// OS's disposition is consistent with that knowledge (no registration changes either in
/// between).
pub(crate) fn inspect<R>(
    signal: c_int,
    f: impl FnOnce(Option<(usize, Options)>) -> Result<R, Error>,
) -> Result<R, Error> {
    let i = index(signal)?;
    let slot = slot(signal).ok_or_else(|| not_a_signal(signal))?;
    let mut reg = lock();
    let state = reg.signals.get_mut(i).ok_or_else(|| not_a_signal(signal))?;
    retry_restore(signal, slot, state);
    let owned = if state.owned() {
        Some((
            state.actions.len(),
            Options::all(state.settled.unwrap_or(0)),
        ))
    } else {
        None
    };
    f(owned)
}

/// Sets a disposition that is not ours (`SIG_IGN` or `SIG_DFL`) for a signal with no actions
/// registered, under the lock so no registration races it. If sigmux's handler is still
/// installed (kept after the last action, or a restore pending), sigmux lets go of the signal:
/// `d` replaces whatever is installed, and is published as released so a late delivery to
/// sigmux's handler is handed to it.
pub(crate) fn set_foreign(signal: c_int, d: RawDisposition) -> Result<(), Error> {
    let i = index(signal)?;
    let slot = slot(signal).ok_or_else(|| not_a_signal(signal))?;
    let mut reg = lock();
    let state = reg.signals.get_mut(i).ok_or_else(|| not_a_signal(signal))?;
    retry_restore(signal, slot, state);
    if !state.actions.is_empty() {
        return Err(Error::new(
            ErrorKind::Other,
            format!(
                "signal {} has {} actions registered with sigmux; unregister them first",
                signal,
                state.actions.len(),
            ),
        ));
    }
    if !state.owned() {
        // SAFETY: sigmux does not own the signal (checked under the lock we hold).
        return unsafe { sys::set(signal, &d) }.map(|_| ());
    }
    let flags = flags_of(state.settled.unwrap_or(0)).unwrap_or(0);
    let released = Prev::new(d, signal, flags, true);
    // SAFETY: no actions need our handler; we hold the lock.
    unsafe { sys::set(signal, &d) }?;
    state.installed = false;
    state.held_ignored = false;
    state.settled = None;
    state.replaced = None;
    state.restore_pending = false;
    retire(publish(slot, released));
    Ok(())
}
