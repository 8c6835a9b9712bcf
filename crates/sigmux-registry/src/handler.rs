//! The body of the signal handler: where every delivered signal goes.
//!
//! In order: save `errno`; become a grace-period reader; read the disposition that was
//! installed before ours; if it is a handler function, leave, call it (see below), and enter
//! again; run this signal's actions in registration order; if sigmux has let go of the signal
//! meanwhile and nothing took the delivery, hand it on (below); leave; restore `errno`.
//!
//! # Chaining to the previous handler
//!
//! The previous handler is called as the kernel would have called it, as far as a handler can
//! emulate that: in its own one- or three-argument form; `SIG_DFL` and `SIG_IGN` are not
//! called. A one-shot handler (`SA_RESETHAND`) is called for the first delivery only, and is
//! from then on treated as `SIG_DFL` (which chaining skips; `restore` puts back `SIG_DFL`,
//! as the kernel would have left it). The signals of its `sa_mask` are blocked while it runs
//! (`pthread_sigmask`, only when the mask adds something). What cannot be emulated: a previous
//! handler with `SA_NODEFER` still runs with the signal blocked unless sigmux's own handler
//! was installed with [`Options::nodefer`](crate::Options::nodefer); and its `SA_ONSTACK` and
//! `SA_RESTART` are sigmux's own options, not its.
//!
//! The call happens outside the grace period (the handler copies the disposition out first),
//! so a previous handler that leaves with `siglongjmp` — a common C idiom — leaves nothing
//! behind: later unregistrations do not wait for it. sigmux's actions do not run for that one
//! delivery, and `errno` is not restored for it.
//!
//! # Deliveries after a restore
//!
//! A delivery can reach this handler after [`Options::restore`](crate::Options::restore) put
//! the old disposition back and the last action was removed: its frame was built while
//! sigmux's handler was installed, but ran later (for instance under another signal's frame
//! that ran first). The registry then keeps the restored disposition published and marks it
//! released. Such a delivery is chained to a restored handler function as above; if no action
//! ran and no function was called, it is handed to the disposition installed now
//! (`sys::forward`: sent again to the thread so that `SIG_DFL` takes its default action when
//! the handler returns; dropped for `SIG_IGN`). Since the released mark is published before
//! the last action is unlinked, a handler that finds the list empty finds the mark too: the
//! delivery is taken by the action, by the restored handler, or forwarded — once.
//!
//! Async-signal-safe by construction: atomics, pointer walks, indirect calls and, only off the
//! common path, `pthread_sigmask` and the calls of `sys::forward`. Nothing here allocates,
//! locks, touches a reference count, formats or can panic (no indexing, no `unwrap`). If an
//! *action* panics, the process aborts (unwinding out of a signal handler would be undefined
//! behaviour).

use libc::{c_int, c_void};

use crate::primitive::Ordering;
use crate::registry::{self, Slot};
use crate::sys::{self, siginfo_t};

/// Aborts the process if dropped during unwinding (it is forgotten on the normal path).
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        // SAFETY: `abort` is async-signal-safe and always allowed.
        unsafe { libc::abort() };
    }
}

/// Handles one delivery of `sig`. Called from the platform's `extern "C"` entry.
///
/// Async-signal-safe.
pub(crate) fn handle(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    // No value with a destructor lives in this frame or `handle_slot`'s while the previous
    // handler is called: it may leave with `siglongjmp`.
    let errno = sys::SavedErrno::save();
    if let Some(slot) = registry::slot(sig) {
        handle_slot(sig, slot, info, ctx);
    }
    errno.restore();
}

/// Loads the slot's published previous disposition, waiting out an install in progress.
/// Async-signal-safe.
#[inline]
fn load_prev(slot: &Slot) -> *mut registry::Prev {
    let mut prev = slot.prev.load(Ordering::Acquire);
    // Only on platforms that cannot read a disposition without changing it (Windows): an
    // install is between swapping our handler in and publishing the one it replaced. That
    // takes the installing thread a few instructions; wait for it.
    while registry::is_installing(prev) {
        core::hint::spin_loop();
        prev = slot.prev.load(Ordering::Acquire);
    }
    prev
}

#[inline]
fn handle_slot(sig: c_int, slot: &Slot, info: *mut siginfo_t, ctx: *mut c_void) {
    let grace = registry::grace();
    let mut reader = grace.enter();
    // SAFETY: a published disposition is freed only after a grace period, and we are a
    // reader; `claim` copies out what the call needs.
    let call = unsafe { load_prev(slot).as_ref() }.and_then(registry::Prev::claim);
    if let Some(call) = call {
        // Leave for the call: a handler that never returns must not stay a reader.
        drop(reader);
        // SAFETY: we are inside the handler for `sig`, passing the kernel's arguments, and
        // `claim` only returns callable dispositions.
        unsafe { call.make(sig, info, ctx) };
        reader = grace.enter();
    }
    let bomb = AbortOnUnwind;
    let empty;
    // SAFETY: the kernel's `info` is either null or valid for the handler's duration.
    let info_ref = match unsafe { info.as_ref() } {
        Some(info) => info,
        None => {
            empty = sys::empty_siginfo(sig);
            &empty
        }
    };
    // SAFETY: we hold a read guard of the tracker the list's writers synchronize with.
    let ran = unsafe { slot.list.run(info_ref) };
    core::mem::forget(bomb);
    // Off the common path (no action ran): has sigmux let go of the signal meanwhile? The
    // registry publishes the released mark before it unlinks the last action, so a walk that
    // found the list empty (`Acquire`) sees the mark.
    // SAFETY: as for `call`.
    let forward = !ran
        && call.is_none()
        && unsafe { load_prev(slot).as_ref() }.is_some_and(registry::Prev::released);
    drop(reader);
    if forward {
        sys::forward(sig, info);
    }
}
