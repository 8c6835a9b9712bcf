//! The exfiltrator that reports the raw `siginfo_t`.

use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use libc::{c_int, siginfo_t};

use super::sealed::Exfiltrator;
use crate::low_level::channel::Channel;

/// The per-signal storage of the `siginfo_t`-based exfiltrators: a lazily allocated
/// [`Channel`] of `siginfo_t`. An implementation detail, public only because signal-hook's is.
///
/// The channel is allocated by `init` (outside any handler) and freed when the slot is
/// dropped, which needs `&mut self`, so no handler can still be using it.
#[doc(hidden)]
#[derive(Default)]
pub struct Slot(AtomicPtr<Channel<siginfo_t>>);

impl Slot {
    fn channel(&self) -> Option<&Channel<siginfo_t>> {
        // SAFETY: the pointer is null or came from `Box::into_raw` in `init`, and is freed only
        // in `drop` (with `&mut self`), so it is valid for the lifetime of `&self`.
        unsafe { self.0.load(Ordering::Acquire).as_ref() }
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Slot").field(&self.channel()).finish()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let ptr = *self.0.get_mut();
        if !ptr.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` and is dropped once, here.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}

/// Reports the raw [`libc::siginfo_t`] of each delivery.
///
/// Its layout and the meaning of its fields differ between platforms; for the portable parts
/// (sender, cause, payload) see [`WithOrigin`](super::WithOrigin).
///
/// Up to a few deliveries per signal are kept between two looks of the iterator; further ones
/// are dropped silently. For standard signals the kernel merges most repeats anyway; for
/// queued real-time signals each dropped one is a lost payload: use
/// [`Lossless`](super::Lossless) when every delivery matters.
///
/// ```
/// use sigmux::consts::SIGUSR1;
/// use sigmux::iterator::exfiltrator::WithRawSiginfo;
/// use sigmux::iterator::SignalsInfo;
///
/// let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR1])?;
/// sigmux::low_level::raise(SIGUSR1)?;
/// let info = signals.wait().next().unwrap();
/// assert_eq!(info.si_signo, SIGUSR1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WithRawSiginfo;

// SAFETY: `store` copies the siginfo_t (plain data) into a `Channel`, whose `send` is
// async-signal-safe, after an atomic pointer load; nothing allocates, locks or panics.
unsafe impl Exfiltrator for WithRawSiginfo {
    type Storage = Slot;
    type Output = siginfo_t;

    fn supports_signal(&self, _: c_int) -> bool {
        true
    }

    fn store(&self, slot: &Slot, _: c_int, info: &siginfo_t) {
        // A slot that was never initialised just loses the signal (never crashes).
        if let Some(channel) = slot.channel() {
            channel.send(*info);
        }
    }

    fn load(&self, slot: &Slot, _: c_int) -> Option<siginfo_t> {
        slot.channel().and_then(Channel::recv)
    }

    fn init(&self, slot: &Slot, _: c_int) {
        if !slot.0.load(Ordering::Acquire).is_null() {
            return;
        }
        let fresh = Box::into_raw(Box::<Channel<siginfo_t>>::default());
        if slot
            .0
            .compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Someone else initialised it first; ours was never shared.
            // SAFETY: `fresh` came from Box::into_raw just above and was not published.
            drop(unsafe { Box::from_raw(fresh) });
        }
    }
}
