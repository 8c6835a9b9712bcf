//! Before `main` and around `fork`: the family's one constructor-list entry and its one set of
//! `pthread_atfork` hooks, with the ordered list of hooks other sigmux crates run through it.
//!
//! # Before `main`
//!
//! [`AT_START`] sits in the executable's constructor list where the platform has one (the OS
//! list is here and nowhere else): the loader runs [`at_start`] before `main`, while the
//! process has one thread. It records the dispositions at start (see `sys`) and installs the
//! `pthread_atfork` hooks, so no fork can find a lock of the family held without them.
//! Elsewhere the same work happens at the first use of the registry ([`start`]), without ever
//! waiting (a compare-and-swap, not a `Once`, whose "running" state a child forked at the
//! wrong moment would wait on for ever); a fork racing that very first use may go
//! unprotected there.
//!
//! # Around `fork`
//!
//! One set of hooks is installed, and it runs, in this order:
//!
//! * `prepare`: takes the fork lock (so whole forks never overlap), then every listed hook's
//!   `prepare` in the order they were [registered](register), then the registry's own (which
//!   takes the registry's lock). So a listed hook may take locks that are held while the
//!   registry is called (sigmux's registration mutexes are: the lock order is theirs, then
//!   the registry's);
//! * `parent` and `child`: the registry's own first, then the listed hooks' in the reverse
//!   order, then the fork lock is released. In the child, [`forks`] is counted up before any
//!   of them runs.
//!
//! The list is a fixed array of [`MAX_HOOKS`] pointers: nothing allocates or locks around
//! `fork` besides the hooks themselves. A fork runs the hooks listed when its `prepare` began
//! (counted under the fork lock), so a hook's `parent`/`child` never run without its
//! `prepare`.

use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::sys;

/// The hooks one part of the family runs around every `fork` (the module docs of `fork.rs`
/// say when). They run on the forking thread, `child` in the just-forked child, where only
/// async-signal-safe calls are allowed.
#[derive(Debug)]
pub struct Hooks {
    /// Before the fork, in the parent.
    pub prepare: fn(),
    /// After the fork, in the parent.
    pub parent: fn(),
    /// After the fork, in the child.
    pub child: fn(),
}

/// How many [`Hooks`] can be registered.
pub const MAX_HOOKS: usize = 4;

#[allow(clippy::declare_interior_mutable_const)]
const NO_HOOKS: AtomicPtr<Hooks> = AtomicPtr::new(ptr::null_mut());
static LIST: [AtomicPtr<Hooks>; MAX_HOOKS] = [NO_HOOKS; MAX_HOOKS];

/// How many `fork`s separate this process from the one it started as.
static FORKS: AtomicUsize = AtomicUsize::new(0);

/// Whether the `pthread_atfork` hooks are installed.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Serializes whole forks (`prepare` to `parent`/`child`) and registrations into [`LIST`].
static FORK_LOCK: Mutex<()> = Mutex::new(());

/// The fork lock held across a `fork`, and how many listed hooks that fork's `prepare` ran.
struct InFork(UnsafeCell<Option<(MutexGuard<'static, ()>, usize)>>);

// SAFETY: only the three dispatchers touch it, all on the thread calling `fork`, and they do
// so while holding the fork lock stored inside it: no two threads use it at once.
unsafe impl Sync for InFork {}

static IN_FORK: InFork = InFork(UnsafeCell::new(None));

/// Adds `hooks` to the list run around every `fork` (after those registered before it at
/// `prepare` time; see the module docs of `fork.rs`). Idempotent: registering the same `hooks`
/// again does nothing. When this returns, every `fork` that starts afterwards runs them and
/// none that started before is still under way. Returns `false` if the list is full.
///
/// Never call it from a fork hook (it takes the fork lock).
pub fn register(hooks: &'static Hooks) -> bool {
    start();
    let wanted = hooks as *const Hooks as *mut Hooks;
    // Under the fork lock: a fork in progress finishes with the list it started with.
    let _guard = lock();
    for slot in LIST.iter() {
        let current = slot.load(Ordering::Acquire);
        if current == wanted {
            return true;
        }
        if current.is_null() {
            slot.store(wanted, Ordering::Release);
            return true;
        }
    }
    false
}

/// How many `fork`s separate this process from the one it started as: counted in each child
/// by the `child` hook, installed before `main` (or at the latest at the first use of the
/// registry or of this module).
pub fn forks() -> usize {
    start();
    FORKS.load(Ordering::Relaxed)
}

/// Keeps the constructor linked (referencing it from code that runs keeps its object file,
/// and so its list entry, in the executable) and installs the hooks if that has not happened
/// yet. Never waits.
pub(crate) fn start() {
    core::hint::black_box(&AT_START);
    install();
}

fn install() {
    if !INSTALLED.load(Ordering::Acquire)
        && INSTALLED
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    {
        sys::on_fork(prepare, parent, child);
    }
}

fn lock() -> MutexGuard<'static, ()> {
    // The lock guards no data: a poisoned one still excludes.
    FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on each of the first `n` listed hooks, last first.
fn each_reversed(n: usize, f: impl Fn(&Hooks)) {
    for slot in LIST.iter().take(n).rev() {
        // SAFETY: a non-null entry came from a `&'static Hooks` in `register`.
        if let Some(hooks) = unsafe { slot.load(Ordering::Acquire).as_ref() } {
            f(hooks);
        }
    }
}

extern "C" fn prepare() {
    let guard = lock();
    let mut ran = 0;
    for slot in LIST.iter() {
        // SAFETY: a non-null entry came from a `&'static Hooks` in `register`.
        match unsafe { slot.load(Ordering::Acquire).as_ref() } {
            Some(hooks) => {
                (hooks.prepare)();
                ran += 1;
            }
            None => break,
        }
    }
    crate::registry::fork_prepare();
    // SAFETY: see `InFork`.
    unsafe { *IN_FORK.0.get() = Some((guard, ran)) };
}

extern "C" fn parent() {
    crate::registry::fork_parent();
    // SAFETY: see `InFork`.
    let in_fork = unsafe { (*IN_FORK.0.get()).take() };
    if let Some((_guard, ran)) = in_fork {
        each_reversed(ran, |hooks| (hooks.parent)());
    }
}

extern "C" fn child() {
    // Relaxed: the child's only thread runs this before anything else there can look.
    FORKS.fetch_add(1, Ordering::Relaxed);
    crate::registry::fork_child();
    // SAFETY: see `InFork`; the child's copy of the fork lock is held by this very thread.
    let in_fork = unsafe { (*IN_FORK.0.get()).take() };
    if let Some((_guard, ran)) = in_fork {
        each_reversed(ran, |hooks| (hooks.child)());
    }
}

/// Runs from the constructor list, before `main`, while the process has one thread.
extern "C" fn at_start() {
    sys::at_start();
    install();
}

/// The constructor-list entry: where the platform has such a list (ELF executables, Mach-O),
/// the loader calls [`at_start`] before `main`. Elsewhere this is an ordinary static and the
/// work happens at first use ([`start`]).
#[used]
#[cfg_attr(
    any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "illumos",
        target_os = "solaris",
        target_os = "hurd"
    ),
    link_section = ".init_array"
)]
#[cfg_attr(target_vendor = "apple", link_section = "__DATA,__mod_init_func")]
static AT_START: extern "C" fn() = at_start;
