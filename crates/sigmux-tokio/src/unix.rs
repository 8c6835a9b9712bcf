//! Unix: the stream over a self-pipe in the tokio reactor, on sigmux's
//! [`AsyncCore`](sigmux::iterator::backend::AsyncCore) (see the crate docs).

use sigmux::iterator::backend::{AsyncCore, Handle};
use sigmux::iterator::exfiltrator::{Exfiltrator, SignalOnly};

use crate::read_end::ReadEnd;

/// An asynchronous stream of arriving signals, with what the exfiltrator `E` extracts from
/// each.
///
/// Signals of one kind that arrive in quick succession may be merged into one item; the items
/// of one batch come in ascending signal-number order. Dropping the value unregisters its
/// signals.
///
/// Unlike `signal-hook-tokio`, creating one does not panic outside a runtime, nor inside one
/// without I/O: see [Runtimes](crate#runtimes).
#[derive(Debug)]
pub struct SignalsInfo<E: Exfiltrator = SignalOnly>(AsyncCore<ReadEnd, E>);

/// [`SignalsInfo`] that yields just the signal numbers; what most programs want.
pub type Signals = SignalsInfo<SignalOnly>;

impl<E: Exfiltrator> SignalsInfo<E> {
    sigmux::__adapter_surface!(controls AsyncCore<ReadEnd, E>);
    sigmux::__adapter_surface!(stream "signal-hook-tokio");
}

sigmux::__adapter_surface!(futures_core futures_core_0_3
    #[cfg(feature = "futures-v0_3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "futures-v0_3")))]
);
