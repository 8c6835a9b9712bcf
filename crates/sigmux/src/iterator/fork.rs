//! Fork safety of the deliveries: their self-pipes and their registration locks.
//!
//! # Pipes
//!
//! A forked child inherits every descriptor, so without care a signal handled in the child
//! writes into the pipe the parent's iterator waits on (and the child's inherited iterator
//! would read the parent's wake-ups). Every live [`SignalDelivery`](super::backend::SignalDelivery)
//! is therefore tracked here, and in the child, right after `fork`, each one gets a private
//! pipe (or socket pair, matching what it had): a new pair is made and `dup2`ed onto the *same*
//! descriptor numbers, with the same file status flags, so every owner of those numbers (the
//! delivery's read end, the handlers' write end) keeps working unchanged, now on the child's
//! own pipe. A reactor's registration does not: epoll watches the open pipe, not the number
//! (see [`SignalDelivery::is_inherited`](super::backend::SignalDelivery::is_inherited)).
//!
//! # Registration locks
//!
//! Every delivery (the blocking iterator's too) has a mutex over its registrations, held
//! while it calls the registry. A child forked while another thread held it would inherit it
//! locked by a thread it does not have, and hang on its first `add_signal`, `remove_signal`
//! or drop. So every such mutex is listed here too, and the `prepare` hook takes all of them
//! (after the list lock); the `parent` and `child` hooks release them. The child's copies are
//! then unlocked, and no change of registrations is half-done in it. The price: a `fork`
//! waits for the `add_signal`/`remove_signal`/drop under way in other threads (each one
//! registry call).
//!
//! Lock order: the list lock, then the registration mutexes, then the registry's lock (a
//! delivery calls the registry while holding its mutex). The hooks run through the registry's
//! ordered fork-hook list (`sigmux_registry::__fork`), which runs every listed `prepare`
//! before the registry's own: ours take the registration mutexes before the registry takes
//! its lock. Nothing takes the list lock while holding a registration mutex.
//!
//! A listed mutex is shared (`Arc`) with its delivery, so the list can never point to freed
//! memory; the delivery does not unlist it when dropped (that could happen under another
//! lock), instead the next [`track_lock`] drops the entries nobody else holds any more.
//!
//! The list is locked across the `fork` (by a `pthread_atfork` prepare hook), so no delivery
//! is half-created or half-dropped in the child's copy, and entries are removed before their
//! descriptors are closed, so the child never touches a number that was reused. Pipes passed
//! to [`low_level::pipe`](crate::low_level::pipe) belong to the caller and are left alone.

use std::cell::UnsafeCell;
use std::os::unix::io::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use libc::c_int;
use sigmux_registry::__fork::Hooks;

use super::shared::Registrations;

struct Entry {
    token: u64,
    read: RawFd,
    write: RawFd,
    socket: bool,
}

/// A delivery's registration mutex, and its guard while a fork is under way.
struct LockEntry {
    /// Set by `prepare`, cleared by `parent`/`child` (all with the list locked). Declared
    /// before `lock` so it would be dropped first.
    held: Option<Held>,
    lock: Arc<Mutex<Registrations>>,
}

/// A registration mutex's guard, taken by `prepare` and dropped by `parent` or `child`.
struct Held(#[allow(dead_code)] MutexGuard<'static, Registrations>);

// SAFETY: a `Held` is only made and dropped by the `fork` hooks, which all run on the thread
// calling `fork` (the guard is released by the thread that took it); it merely sits in the
// list in between, which is what needs `Send`.
unsafe impl Send for Held {}

struct Live {
    next: u64,
    entries: Vec<Entry>,
    locks: Vec<LockEntry>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    next: 0,
    entries: Vec::new(),
    locks: Vec::new(),
});
static HOOKS_LISTED: AtomicBool = AtomicBool::new(false);

fn lock() -> MutexGuard<'static, Live> {
    // The list stays consistent even if a panic poisoned the lock (pushes and removals only).
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A delivery's place in the list; [`untrack`](Tracked::untrack) it before closing its
/// descriptors.
#[derive(Debug)]
pub(crate) struct Tracked(Option<u64>);

/// This module's entry in the registry's fork-hook list.
static HOOKS: Hooks = Hooks {
    prepare,
    parent,
    child,
};

/// Lists [`HOOKS`] once, before the first delivery is tracked (before that there is nothing
/// to protect). When `register` returns, every later `fork` runs them and no earlier one is
/// under way, so no fork can find the list lock held without them.
fn install_hooks() {
    if !HOOKS_LISTED.load(Ordering::Acquire) {
        // Idempotent: threads racing here all return once the hooks are listed. The list has
        // room for every hook of the family, so it is never full.
        sigmux_registry::__fork::register(&HOOKS);
        HOOKS_LISTED.store(true, Ordering::Release);
    }
}

/// Starts tracking a delivery's pipe ends.
pub(crate) fn track(read: RawFd, write: RawFd, socket: bool) -> Tracked {
    install_hooks();
    let mut live = lock();
    let token = live.next;
    live.next += 1;
    live.entries.push(Entry {
        token,
        read,
        write,
        socket,
    });
    Tracked(Some(token))
}

/// Puts `registrations` behind a mutex the fork hooks take around every `fork` (see the
/// [module docs](self)), and drops the list's entries whose delivery is gone.
pub(crate) fn track_lock(registrations: Registrations) -> Arc<Mutex<Registrations>> {
    install_hooks();
    let lock = Arc::new(Mutex::new(registrations));
    let mut live = self::lock();
    // Only the list holds these any more: nobody can lock them. (Counts only go down then,
    // and only this function, under the list lock, makes new references.)
    live.locks
        .retain(|entry| Arc::strong_count(&entry.lock) > 1);
    live.locks.push(LockEntry {
        held: None,
        lock: Arc::clone(&lock),
    });
    lock
}

impl Tracked {
    /// Stops tracking (idempotent). Must happen before the descriptors are closed.
    pub(crate) fn untrack(&mut self) {
        if let Some(token) = self.0.take() {
            lock().entries.retain(|e| e.token != token);
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.untrack();
    }
}

/// The list lock held across a `fork` by the forking thread.
struct ForkGuard(UnsafeCell<Option<MutexGuard<'static, Live>>>);

// SAFETY: only the three hooks touch it, all on the thread calling `fork`; the lock it holds
// (and the registry's fork lock they run under) serializes concurrent forks.
unsafe impl Sync for ForkGuard {}

static FORK_GUARD: ForkGuard = ForkGuard(UnsafeCell::new(None));

fn prepare() {
    let mut guard = lock();
    for entry in guard.locks.iter_mut() {
        // SAFETY: the mutex lives as long as `entry.lock` does. The guard made from this
        // reference is stored in the same entry and dropped by `parent` or `child` while the
        // list is still locked; entries are only removed with the list locked, so the entry
        // (and its `Arc`) outlives the guard.
        let mutex: &'static Mutex<Registrations> = unsafe { &*Arc::as_ptr(&entry.lock) };
        // A poisoned lock still excludes the other threads, which is all that matters here.
        entry.held = Some(Held(mutex.lock().unwrap_or_else(|e| e.into_inner())));
    }
    // SAFETY: see `ForkGuard`.
    unsafe { *FORK_GUARD.0.get() = Some(guard) };
}

/// Releases the registration mutexes `prepare` took; the list stays locked by `guard`.
fn release_locks(guard: &mut Option<MutexGuard<'static, Live>>) {
    if let Some(live) = guard {
        for entry in live.locks.iter_mut() {
            entry.held = None;
        }
    }
}

fn parent() {
    // SAFETY: see `ForkGuard`.
    let mut guard = unsafe { (*FORK_GUARD.0.get()).take() };
    release_locks(&mut guard);
    drop(guard); // unlocks the list
}

fn child() {
    // SAFETY: see `ForkGuard`.
    let mut guard = unsafe { (*FORK_GUARD.0.get()).take() };
    if let Some(live) = &guard {
        for entry in &live.entries {
            // Nothing to report to from here; on failure the child keeps sharing that pipe.
            let _ = renew(entry);
        }
    }
    // The child's copies were locked by this very thread in `prepare`.
    release_locks(&mut guard);
    drop(guard);
}

/// Gives `entry` a fresh pipe (or socket pair) at the same descriptor numbers.
/// Only async-signal-safe calls: it runs in a just-forked child.
fn renew(entry: &Entry) -> Result<(), ()> {
    let mut fds: [c_int; 2] = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors.
    let r = unsafe {
        if entry.socket {
            libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr())
        } else {
            libc::pipe(fds.as_mut_ptr())
        }
    };
    if r != 0 {
        return Err(());
    }
    let result = move_onto(fds[0], entry.read).and(move_onto(fds[1], entry.write));
    for fd in fds {
        // SAFETY: our own temporary descriptors.
        unsafe { libc::close(fd) };
    }
    result
}

/// Makes `target` refer to what `new` refers to, carrying over `target`'s file status flags
/// (`O_NONBLOCK`) and keeping it close-on-exec.
fn move_onto(new: RawFd, target: RawFd) -> Result<(), ()> {
    // SAFETY: fcntl and dup2 on descriptor numbers; failures are reported, nothing is
    // dereferenced.
    unsafe {
        let status = libc::fcntl(target, libc::F_GETFL);
        if status < 0
            || libc::fcntl(new, libc::F_SETFL, status) < 0
            || libc::dup2(new, target) < 0
            || libc::fcntl(target, libc::F_SETFD, libc::FD_CLOEXEC) < 0
        {
            return Err(());
        }
    }
    Ok(())
}
