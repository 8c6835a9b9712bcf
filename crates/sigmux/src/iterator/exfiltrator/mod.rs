//! What a [`SignalsInfo`](crate::iterator::SignalsInfo) reports about each signal, and how it
//! gets that out of the signal handler.
//!
//! An [`Exfiltrator`] decides both: what the handler stores (in a per-signal slot, with
//! async-signal-safe operations only) and what the iterator yields.
//!
//! | exfiltrator | yields | feature |
//! | --- | --- | --- |
//! | [`SignalOnly`] | the signal number (`c_int`) | `iterator` |
//! | [`WithRawSiginfo`] | the whole `libc::siginfo_t` | `iterator` |
//! | [`WithOrigin`] | [`Origin`](crate::low_level::siginfo::Origin): sender pid/uid, cause, `sigqueue` value, child status | `extended-siginfo` |
//! | [`Lossless`] | [`Record`](lossless::Record): every delivery in order with its origin, or how many were lost | `extended-siginfo` |
//!
//! [`SignalOnly`] reports each signal at most once per batch (several arrivals before you look
//! count as one). [`WithRawSiginfo`] and [`WithOrigin`] keep up to a few deliveries per signal
//! between two looks (see [`Channel`](crate::low_level::channel::Channel)), report each of
//! them and **drop further ones silently** — for real-time signals, which the kernel queues
//! one by one with their payloads, that loses data. [`Lossless`] records every delivery into a
//! ring of the capacity you choose and reports, per signal, any that did not fit: see
//! [its module](lossless) for choosing between coalescing and lossless delivery.
//!
//! # Sealed
//!
//! The trait is sealed: its methods are not public, so only this crate implements it. (The
//! same as in signal-hook.)

#[cfg(all(unix, feature = "extended-siginfo"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "extended-siginfo"))))]
pub mod lossless;
#[cfg(all(unix, feature = "extended-siginfo"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "extended-siginfo"))))]
pub mod origin;
#[cfg(unix)]
pub mod raw;
#[cfg(all(unix, feature = "extended-siginfo"))]
mod ring;

#[cfg(all(unix, feature = "extended-siginfo"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "extended-siginfo"))))]
pub use self::lossless::Lossless;
#[cfg(all(unix, feature = "extended-siginfo"))]
#[cfg_attr(docsrs, doc(cfg(all(unix, feature = "extended-siginfo"))))]
pub use self::origin::WithOrigin;
#[cfg(unix)]
pub use self::raw::WithRawSiginfo;

use std::sync::atomic::{AtomicBool, Ordering};

use libc::c_int;

use self::sealed::Info;

pub(crate) mod sealed {
    use std::fmt::Debug;

    use libc::c_int;

    /// What a handler gets about a delivery: the `siginfo_t` on Unix.
    #[cfg(unix)]
    #[allow(unreachable_pub)] // sealed: public in name only
    pub use libc::siginfo_t as Info;

    /// What a handler gets about a delivery: nothing on Windows (the C runtime passes no
    /// information, and console events have none).
    #[cfg(windows)]
    #[derive(Clone, Copy, Debug)]
    #[allow(unreachable_pub)] // sealed: public in name only
    pub struct Info;

    /// The methods of [`Exfiltrator`](super::Exfiltrator), hidden from the public API.
    ///
    /// # Safety
    ///
    /// [`store`](Exfiltrator::store) runs inside signal handlers: it must be
    /// async-signal-safe (no allocation, no locks, no panics), and may run concurrently with
    /// itself and with [`load`](Exfiltrator::load), even interrupting a `load` on the same
    /// thread.
    pub unsafe trait Exfiltrator: Debug + Send + Sync + 'static {
        /// The per-signal slot the handler stores into. `Default` means "nothing arrived".
        type Storage: Debug + Default + Send + Sync + 'static;

        /// What the iterator yields.
        #[cfg(not(windows))]
        type Output;

        /// What the iterator yields. `Send` on Windows, where the adapters' stream hands it
        /// over from a helper thread (`backend::ThreadDelivery`); every exfiltrator there
        /// qualifies. (Not on Unix: `WithRawSiginfo`'s `siginfo_t` holds a pointer.)
        #[cfg(windows)]
        type Output: Send;

        /// Whether this exfiltrator can serve `sig`.
        fn supports_signal(&self, sig: c_int) -> bool;

        /// Records a delivery of `signal` in `slot`. Runs inside the signal handler.
        fn store(&self, slot: &Self::Storage, signal: c_int, info: &Info);

        /// Takes one recorded delivery out of `slot` (resetting what it took), or `None`.
        fn load(&self, slot: &Self::Storage, signal: c_int) -> Option<Self::Output>;

        /// Prepares `slot` before its signal is first registered (outside any handler). This
        /// crate calls it at most once per slot, before any `store`.
        fn init(&self, slot: &Self::Storage, signal: c_int) {
            let _ = (slot, signal);
        }

        /// Whether one batch should take at most one output per signal (true for plain
        /// flags, where a second `load` could only see a signal that arrived meanwhile).
        fn one_per_batch(&self) -> bool {
            false
        }

        /// Which signal's registration `output` belongs to, for the check that skips
        /// signals removed meanwhile. `index` is the slot it was loaded from, the default
        /// answer. (Added for [`Lossless`](super::Lossless), whose slots share one ring.)
        fn signal_of(&self, output: &Self::Output, index: usize) -> usize {
            let _ = output;
            index
        }

        /// Throws away what `slot` holds for `signal` (`remove_signal`). The default loads
        /// until the slot is empty. (Overridden by [`Lossless`](super::Lossless), whose
        /// slots share one ring that must keep the other signals' records.)
        fn discard(&self, slot: &Self::Storage, signal: c_int) {
            while self.load(slot, signal).is_some() {}
        }
    }
}

/// Chooses what [`SignalsInfo`](crate::iterator::SignalsInfo) reports for each signal.
///
/// Implemented by [`SignalOnly`], [`WithRawSiginfo`] and (with `extended-siginfo`)
/// [`WithOrigin`]; sealed, see the [module docs](self).
pub trait Exfiltrator: sealed::Exfiltrator {}

impl<E: sealed::Exfiltrator> Exfiltrator for E {}

/// Reports just the signal number. The exfiltrator of [`Signals`](crate::iterator::Signals).
///
/// The handler sets a per-signal flag; several arrivals of one signal before the iterator
/// looks are reported once.
#[derive(Clone, Copy, Debug, Default)]
pub struct SignalOnly;

// SAFETY: `store` is a single atomic store; `load` a compare-exchange. Both are
// async-signal-safe and correct under any interleaving.
unsafe impl sealed::Exfiltrator for SignalOnly {
    type Storage = AtomicBool;
    type Output = c_int;

    fn supports_signal(&self, _: c_int) -> bool {
        true
    }

    fn store(&self, slot: &AtomicBool, _: c_int, _: &Info) {
        slot.store(true, Ordering::SeqCst);
    }

    fn load(&self, slot: &AtomicBool, signal: c_int) -> Option<c_int> {
        // Cheap check first, so an idle slot costs a plain load.
        if slot.load(Ordering::Relaxed) && slot.swap(false, Ordering::SeqCst) {
            Some(signal)
        } else {
            None
        }
    }

    fn one_per_batch(&self) -> bool {
        true
    }
}
