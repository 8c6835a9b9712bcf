//! Fork isolation of the deliveries' self-pipes.
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
//! The list is locked across the `fork` (by a `pthread_atfork` prepare hook), so no delivery
//! is half-created or half-dropped in the child's copy, and entries are removed before their
//! descriptors are closed, so the child never touches a number that was reused. Pipes passed
//! to [`low_level::pipe`](crate::low_level::pipe) belong to the caller and are left alone.

use std::cell::UnsafeCell;
use std::os::unix::io::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use libc::c_int;

struct Entry {
    token: u64,
    read: RawFd,
    write: RawFd,
    socket: bool,
}

struct Live {
    next: u64,
    entries: Vec<Entry>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    next: 0,
    entries: Vec::new(),
});
static HOOKS: AtomicBool = AtomicBool::new(false);

fn lock() -> MutexGuard<'static, Live> {
    // The list stays consistent even if a panic poisoned the lock (pushes and removals only).
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A delivery's place in the list; [`untrack`](Tracked::untrack) it before closing its
/// descriptors.
#[derive(Debug)]
pub(crate) struct Tracked(Option<u64>);

/// Installs the `pthread_atfork` hooks once. Runs before `main` where the platform has a
/// constructor list, while the process has one thread, so no fork can find the list locked
/// without the hooks in place. Elsewhere it runs at the first `track`, never waiting (unlike a
/// `Once`, whose "running" state a child forked at the wrong moment would wait on forever); a
/// fork concurrent with that very first call may then run without the isolation.
extern "C" fn install_hooks() {
    if !HOOKS.load(Ordering::Acquire)
        && HOOKS
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    {
        // SAFETY: plain functions that live forever. A failure (out of memory) only loses
        // the isolation, as with no hooks at all.
        unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    }
}

/// The constructor-list entry (ELF, Mach-O): the loader calls [`install_hooks`] before
/// `main`. Elsewhere an ordinary static; the hooks are then installed at the first `track`.
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
        target_os = "solaris"
    ),
    link_section = ".init_array"
)]
#[cfg_attr(target_vendor = "apple", link_section = "__DATA,__mod_init_func")]
static AT_START: extern "C" fn() = install_hooks;

/// Starts tracking a delivery's pipe ends.
pub(crate) fn track(read: RawFd, write: RawFd, socket: bool) -> Tracked {
    // Referencing the constructor keeps its object file (and its list entry) linked.
    std::hint::black_box(&AT_START);
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
// serializes concurrent forks.
unsafe impl Sync for ForkGuard {}

static FORK_GUARD: ForkGuard = ForkGuard(UnsafeCell::new(None));

extern "C" fn prepare() {
    let guard = lock();
    // SAFETY: see `ForkGuard`.
    unsafe { *FORK_GUARD.0.get() = Some(guard) };
}

extern "C" fn parent() {
    // SAFETY: see `ForkGuard`; unlocks.
    drop(unsafe { (*FORK_GUARD.0.get()).take() });
}

extern "C" fn child() {
    // SAFETY: see `ForkGuard`.
    let guard = unsafe { (*FORK_GUARD.0.get()).take() };
    if let Some(live) = &guard {
        for entry in &live.entries {
            // Nothing to report to from here; on failure the child keeps sharing that pipe.
            let _ = renew(entry);
        }
    }
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
