//! The body of the signal handler: where every delivered signal goes.
//!
//! In order: save `errno`; become a grace-period reader; call the disposition that was
//! installed before ours (in its own calling convention, skipping `SIG_DFL`/`SIG_IGN`); run
//! this signal's actions in registration order; leave; restore `errno`.
//!
//! Async-signal-safe by construction: atomics, pointer walks and indirect calls only. Nothing
//! here allocates, locks, touches a reference count, formats or can panic (no indexing, no
//! `unwrap`). If an *action* panics, the process aborts (unwinding out of a signal handler
//! would be undefined behaviour).

use libc::{c_int, c_void};

use crate::primitive::Ordering;
use crate::registry;
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
    let _errno = sys::ErrnoGuard::new();
    let bomb = AbortOnUnwind;
    if let Some(slot) = registry::slot(sig) {
        let _reader = registry::grace().enter();
        let mut prev = slot.prev.load(Ordering::Acquire);
        // Only on platforms that cannot read a disposition without changing it (Windows):
        // an install is between swapping our handler in and publishing the one it replaced.
        // That takes the installing thread a few instructions; wait for it.
        while registry::is_installing(prev) {
            core::hint::spin_loop();
            prev = slot.prev.load(Ordering::Acquire);
        }
        // SAFETY: a published disposition is freed only after a grace period, and we are a
        // reader.
        if let Some(prev) = unsafe { prev.as_ref() } {
            // SAFETY: we are inside the handler for `sig`, passing the kernel's arguments.
            unsafe { prev.chain(sig, info, ctx) };
        }
        let empty;
        // SAFETY: the kernel's `info` is either null or valid for the handler's duration.
        let info = match unsafe { info.as_ref() } {
            Some(info) => info,
            None => {
                empty = sys::empty_siginfo(sig);
                &empty
            }
        };
        // SAFETY: we hold a read guard of the tracker the chain's writers synchronize with.
        unsafe { slot.chain.run(info) };
    }
    core::mem::forget(bomb);
}
