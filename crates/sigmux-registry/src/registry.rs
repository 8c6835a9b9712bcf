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

use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::AtomicBool;
use std::collections::BTreeMap;
use std::io::{Error, ErrorKind};
use std::sync::{Mutex, MutexGuard};

use libc::c_int;

use crate::chain::{self, Chain, Node};
use crate::grace::Grace;
use crate::options::{self, Options};
use crate::primitive::{AtomicPtr, Ordering};
use crate::sys::{self, siginfo_t, RawDisposition};

/// An action as the registry stores it.
pub(crate) type Action = chain::Action<siginfo_t>;

/// What the handler needs for one signal.
pub(crate) struct Slot {
    /// This signal's actions, in registration order.
    pub(crate) chain: Chain<siginfo_t>,
    /// The disposition that was installed before ours, to chain to; null before the first
    /// install. Replaced only under the registry lock; an old one is freed after a grace
    /// period.
    pub(crate) prev: AtomicPtr<RawDisposition>,
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
    /// The signal was ignored at start and a registration asked to keep it so: actions are
    /// registered, the handler is not installed.
    held_ignored: bool,
    /// The options in force (every bit decided), while the signal is claimed (installed or
    /// held ignored); `None` when sigmux has let go of it.
    settled: Option<u8>,
    /// The disposition our install replaced, to put back on `restore`.
    replaced: Option<RawDisposition>,
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
    sys::keep_constructor();
    install_fork_hooks();
    lock_unhooked()
}

/// Called before `main` where the platform has a constructor list (see `sys`).
pub(crate) fn at_process_start() {
    install_fork_hooks();
}

/// Installs the fork hooks once. Never waits (unlike `Once`, whose "running" state a child
/// forked at the wrong moment would wait on forever): a thread that loses the race goes on,
/// and at worst a fork concurrent with the very first registration runs without the hooks.
/// Where the platform has a constructor list, the hooks are installed before `main`, so
/// that case cannot happen.
fn install_fork_hooks() {
    if !FORK_HOOKS.load(Ordering::Acquire)
        && FORK_HOOKS
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    {
        sys::on_fork(fork_prepare, fork_parent, fork_child);
    }
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

static FORK_HOOKS: AtomicBool = AtomicBool::new(false);

/// The registry lock held across a `fork`, by the forking thread.
struct ForkGuard(UnsafeCell<Option<MutexGuard<'static, Registry>>>);

// SAFETY: only the `fork_*` hooks touch it, all on the thread calling `fork`, and the lock it
// holds serializes concurrent forks (the second one's `fork_prepare` waits in `lock`).
unsafe impl Sync for ForkGuard {}

static FORK_GUARD: ForkGuard = ForkGuard(UnsafeCell::new(None));

extern "C" fn fork_prepare() {
    let guard = lock_unhooked();
    // SAFETY: see `ForkGuard`.
    unsafe { *FORK_GUARD.0.get() = Some(guard) };
}

extern "C" fn fork_parent() {
    // SAFETY: see `ForkGuard`; unlocks.
    drop(unsafe { (*FORK_GUARD.0.get()).take() });
}

extern "C" fn fork_child() {
    GRACE.forget_readers();
    // SAFETY: see `ForkGuard`; the child's copy of the lock is held by this very thread.
    drop(unsafe { (*FORK_GUARD.0.get()).take() });
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
fn publish_prev(slot: &Slot, d: RawDisposition) -> *mut RawDisposition {
    let new = Box::into_raw(Box::new(d));
    slot.prev.swap(new, Ordering::AcqRel)
}

/// Frees a disposition taken out of a slot. Must run after a grace period.
///
/// # Safety
///
/// `p` is null or came from `publish_prev` and is no longer published, and a grace period
/// has passed since it was replaced.
unsafe fn free_prev(p: *mut RawDisposition) {
    if !p.is_null() {
        // SAFETY: caller contract.
        drop(unsafe { Box::from_raw(p) });
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
    let stale = publish_prev(slot, before);
    // SAFETY: we hold the registry lock (caller), and `before` is published.
    let replaced = unsafe { sys::install(signal, flags) };
    let (retired, actual) = match replaced {
        Ok(actual) if actual.same_as(&before) => (stale, actual),
        Ok(actual) => {
            // Someone outside sigmux changed the disposition between our two calls: chain
            // to what we actually replaced.
            let first = publish_prev(slot, actual);
            GRACE.synchronize();
            // SAFETY: unpublished, a grace period passed.
            unsafe { free_prev(first) };
            (stale, actual)
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
    Ok(actual)
}

/// Marks a slot whose previous disposition is being installed: the handler waits for the real
/// one (never dereferenced, never freed).
static INSTALLING_MARK: u8 = 0;

fn installing() -> *mut RawDisposition {
    &INSTALLING_MARK as *const u8 as *mut RawDisposition
}

/// Whether `p` is the installing mark. Async-signal-safe.
#[inline]
pub(crate) fn is_installing(p: *mut RawDisposition) -> bool {
    p == installing()
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
        Ok(actual) => Box::into_raw(Box::new(actual)),
        Err(_) => stale,
    };
    let mark = slot.prev.swap(published, Ordering::AcqRel);
    debug_assert!(is_installing(mark));
    if let Ok(actual) = result {
        if !stale.is_null() {
            GRACE.synchronize();
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
/// kept ignored. Later ones check `asked` against the settled options.
pub(crate) fn add_with(
    signal: c_int,
    asked: Options,
    action: Box<Action>,
) -> Result<(c_int, u64), Error> {
    let i = index(signal)?;
    let slot = slot(signal).ok_or_else(|| invalid(signal, "is not a valid signal number"))?;
    let node = Node::new(action);
    let mut reg = lock();
    let reg = &mut *reg;
    let defaults = reg.defaults;
    let state = reg
        .signals
        .get_mut(i)
        .ok_or_else(|| invalid(signal, "is not a valid signal number"))?;
    match state.settled {
        Some(settled) => {
            asked.check_against(signal, settled & !options::KEEP_IGNORED)?;
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
    let node = unsafe { slot.chain.push(node) };
    state.actions.insert(id, NodePtr(node));
    Ok((signal, id))
}

/// Called with the lock held when `state`'s last action is about to be unlinked: lets go of
/// the signal, restoring the replaced disposition if the options say so and our handler is
/// still the installed one. Returns a published `prev` to free after the grace period.
///
/// Restoring happens *before* the last action is unlinked: until the `sigaction` that puts
/// the old disposition back, deliveries run our handler, which still runs the action; after
/// it, they get the restored disposition. No delivery falls in between.
fn release(signal: c_int, slot: &Slot, state: &mut SignalState) -> *mut RawDisposition {
    let settled = state.settled.take().unwrap_or(0);
    state.held_ignored = false;
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
    if !sys::still_ours(signal) {
        // Another library installed over us (and presumably chains to us): leave it alone
        // and keep chaining.
        state.settled = Some(settled);
        return ptr::null_mut();
    }
    // SAFETY: we hold the lock and our handler is the installed one.
    match unsafe { sys::set(signal, &replaced) } {
        Ok(previous) if previous.is_ours() => {
            state.installed = false;
            state.replaced = None;
            slot.prev.swap(ptr::null_mut(), Ordering::AcqRel)
        }
        Ok(intruder) => {
            // Someone installed between our query and our set: put theirs back.
            // SAFETY: as above; restoring what we just displaced.
            let _ = unsafe { sys::set(signal, &intruder) };
            state.settled = Some(settled);
            ptr::null_mut()
        }
        Err(_) => {
            state.settled = Some(settled);
            ptr::null_mut()
        }
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
        // SAFETY: we hold the lock; `node` was pushed on this chain and is still linked (it
        // was in the map).
        unsafe { slot.chain.unlink(node.0) };
        GRACE.synchronize();
        (node, prev)
    };
    // SAFETY: unlinked / unpublished, a grace period passed, and out of the map so nobody
    // frees them again.
    unsafe {
        chain::free(node.0);
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
        let prev = release(signal, slot, state);
        let nodes = core::mem::take(&mut state.actions);
        for node in nodes.values() {
            // SAFETY: we hold the lock; each node is linked on this chain.
            unsafe { slot.chain.unlink(node.0) };
        }
        debug_assert!(slot.chain.is_empty());
        GRACE.synchronize();
        (nodes, prev)
    };
    for node in nodes.into_values() {
        // SAFETY: unlinked, a grace period passed, out of the map.
        unsafe { chain::free(node.0) };
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

/// What sigmux knows of `signal`: `Some((actions, options))` while it owns the signal.
pub(crate) fn ownership(signal: c_int) -> Result<Option<(usize, Options)>, Error> {
    let i = index(signal)?;
    let reg = lock();
    Ok(reg.signals.get(i).and_then(|s| {
        if s.owned() {
            Some((s.actions.len(), Options::all(s.settled.unwrap_or(0))))
        } else {
            None
        }
    }))
}

/// Sets a disposition that is not ours (`SIG_IGN` or `SIG_DFL`) for a signal sigmux does not
/// own, under the lock so no registration races it.
pub(crate) fn set_foreign(signal: c_int, d: RawDisposition) -> Result<(), Error> {
    let i = index(signal)?;
    let reg = lock();
    if let Some(state) = reg.signals.get(i) {
        if state.owned() {
            return Err(Error::new(
                ErrorKind::Other,
                format!(
                    "signal {} is owned by sigmux ({} actions registered, handler {}); \
                     unregister them with the restore option first",
                    signal,
                    state.actions.len(),
                    if state.installed {
                        "installed"
                    } else {
                        "not installed"
                    },
                ),
            ));
        }
    }
    // SAFETY: sigmux does not own the signal (checked under the lock we hold).
    unsafe { sys::set(signal, &d) }.map(|_| ())
}
