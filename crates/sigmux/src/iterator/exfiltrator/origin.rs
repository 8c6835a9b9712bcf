//! The exfiltrator that reports who sent each signal.
//!
//! [`WithOrigin`] yields [`Origin`]: the signal, the sending [`Process`] (pid and uid), the
//! [`Cause`](crate::low_level::siginfo::Cause), the payload of a queued signal and the status
//! of a child for `SIGCHLD`.

pub use super::raw::Slot;
use super::sealed::Exfiltrator;
use super::WithRawSiginfo;
pub use crate::low_level::siginfo::{Origin, Process};

use libc::{c_int, siginfo_t};

/// Reports the [`Origin`] of each delivery: sender pid/uid, cause, `sigqueue` payload, child
/// status.
///
/// Decoding happens outside the handler, in Rust (no C compiler needed). Up to a few
/// deliveries per signal are kept between two looks of the iterator; further ones are dropped
/// silently (for real-time payloads use [`Lossless`](super::Lossless)).
///
/// [`Origin::process`] is what the `siginfo_t` says; for `sigqueue` on Linux the sender wrote
/// it itself. [`Origin::sender`] tells attested from claimed.
///
/// ```
/// use sigmux::consts::SIGUSR1;
/// use sigmux::iterator::exfiltrator::WithOrigin;
/// use sigmux::iterator::SignalsInfo;
///
/// let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1])?;
/// // Send ourselves a signal with kill(2), as another program would.
/// let me = unsafe { libc::getpid() };
/// unsafe { libc::kill(me, SIGUSR1) };
/// let origin = signals.wait().next().unwrap();
/// assert_eq!(origin.signal, SIGUSR1);
/// let sender = origin.process.unwrap();
/// assert_eq!(sender.pid, me);
/// assert_eq!(sender.uid, unsafe { libc::getuid() });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WithOrigin(WithRawSiginfo);

// SAFETY: `store` delegates to `WithRawSiginfo::store`, which is async-signal-safe; decoding
// happens in `load`, outside the handler.
unsafe impl Exfiltrator for WithOrigin {
    type Storage = Slot;
    type Output = Origin;

    fn supports_signal(&self, signal: c_int) -> bool {
        self.0.supports_signal(signal)
    }

    fn store(&self, slot: &Slot, signal: c_int, info: &siginfo_t) {
        self.0.store(slot, signal, info)
    }

    fn load(&self, slot: &Slot, signal: c_int) -> Option<Origin> {
        self.0
            .load(slot, signal)
            // SAFETY: the siginfo_t was filled in by the kernel for a real delivery.
            .map(|info| unsafe { Origin::extract(&info) })
    }

    fn init(&self, slot: &Slot, signal: c_int) {
        self.0.init(slot, signal)
    }
}
