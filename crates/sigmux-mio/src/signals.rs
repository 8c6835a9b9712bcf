//! The part shared by every mio version: the `SignalsInfo` type over a version's pipe type.
//!
//! Each version module expands [`signals_over_pipe!`] and adds its version's event-source trait,
//! which registers the read end of the self-pipe (a plain descriptor) with the poll.

/// Defines `SignalsInfo` and `Signals`, and re-exports `Handle` and `Pending`.
macro_rules! signals_over_pipe {
    () => {
        use std::io::Error;
        use std::os::unix::io::{AsRawFd, OwnedFd};

        use sigmux::iterator::backend::SignalDelivery;
        use sigmux::iterator::exfiltrator::{Exfiltrator, SignalOnly};

        pub use sigmux::iterator::backend::{Handle, Pending};

        /// Signals (with the information its exfiltrator extracts) as a mio event source.
        ///
        /// Register it with a poll for readability; when it is reported readable, call
        /// [`pending`](SignalsInfo::pending) to take the signals that arrived. The signals are
        /// registered with the operating system when the value is created, so none that arrives
        /// before the first poll is lost.
        ///
        /// Dropping the value unregisters its signals.
        #[derive(Debug)]
        pub struct SignalsInfo<E: Exfiltrator = SignalOnly>(SignalDelivery<OwnedFd, E>);

        /// [`SignalsInfo`] that reports just the signal numbers; what most programs want.
        pub type Signals = SignalsInfo<SignalOnly>;

        impl<E: Exfiltrator> SignalsInfo<E> {
            sigmux::__adapter_surface!(controls SignalDelivery<OwnedFd, E>);

            /// Takes the signals that arrived since the previous call, without blocking.
            ///
            /// Each signal number (with its exfiltrated information) is reported at most once
            /// per call, however often it arrived; the order is ascending by signal number, not
            /// by arrival. The result may be empty, for example after a wake-up whose signals an
            /// earlier call already took. Call it when the poll reports this source readable.
            pub fn pending(&mut self) -> Pending<E> {
                self.0.pending()
            }
        }
    };
}

/// Implements mio's (0.7 and later) `event::Source` for `SignalsInfo` of every exfiltrator by
/// registering the read end of its pipe. Expects `mio` to name the version's crate.
#[cfg(any(
    feature = "support-v0_7",
    feature = "support-v0_8",
    feature = "support-v1_0"
))]
macro_rules! source_for_signals {
    () => {
        impl<E: Exfiltrator> mio::event::Source for SignalsInfo<E> {
            fn register(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> Result<(), Error> {
                mio::unix::SourceFd(&self.0.get_read().as_raw_fd())
                    .register(registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> Result<(), Error> {
                mio::unix::SourceFd(&self.0.get_read().as_raw_fd())
                    .reregister(registry, token, interests)
            }

            fn deregister(&mut self, registry: &mio::Registry) -> Result<(), Error> {
                mio::unix::SourceFd(&self.0.get_read().as_raw_fd()).deregister(registry)
            }
        }
    };
}
