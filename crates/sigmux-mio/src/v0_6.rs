//! Signals as an event source for mio 0.6.
//!
//! [`Signals`] implements [`Evented`](mio_0_6::Evented): register it with a
//! [`Poll`](mio_0_6::Poll) for readability and call [`pending`](SignalsInfo::pending) when its
//! token comes up.
//!
//! # Example
//!
//! ```
//! use std::io::ErrorKind;
//!
//! use mio_0_6 as mio;
//! use mio::{Events, Poll, PollOpt, Ready, Token};
//! use sigmux_mio::consts::signal::{SIGTERM, SIGUSR1};
//! use sigmux_mio::v0_6::Signals;
//!
//! const SIGNALS: Token = Token(0);
//!
//! fn main() -> std::io::Result<()> {
//!     let poll = Poll::new()?;
//!     let mut signals = Signals::new([SIGTERM, SIGUSR1])?;
//!     poll.register(&signals, SIGNALS, Ready::readable(), PollOpt::level())?;
//!
//!     // Stand-in for a user sending SIGUSR1 to this process.
//!     sigmux::low_level::raise(SIGUSR1)?;
//!
//!     let mut events = Events::with_capacity(16);
//!     loop {
//!         match poll.poll(&mut events, None) {
//!             Ok(_) => {}
//!             // A signal landing during the wait interrupts it; just wait again.
//!             Err(e) if e.kind() == ErrorKind::Interrupted => continue,
//!             Err(e) => return Err(e),
//!         }
//!         for event in events.iter() {
//!             if event.token() == SIGNALS {
//!                 for signal in signals.pending() {
//!                     match signal {
//!                         SIGUSR1 => println!("SIGUSR1: reopening the log"),
//!                         SIGTERM => return Ok(()),
//!                         _ => unreachable!(),
//!                     }
//!                 }
//!                 # return Ok(());
//!             }
//!         }
//!     }
//! }
//! ```

use mio_0_6 as mio;

signals_over_pipe!();

impl<E: Exfiltrator> mio::Evented for SignalsInfo<E> {
    fn register(
        &self,
        poll: &mio::Poll,
        token: mio::Token,
        interest: mio::Ready,
        opts: mio::PollOpt,
    ) -> Result<(), Error> {
        mio::unix::EventedFd(&self.0.get_read().as_raw_fd()).register(poll, token, interest, opts)
    }

    fn reregister(
        &self,
        poll: &mio::Poll,
        token: mio::Token,
        interest: mio::Ready,
        opts: mio::PollOpt,
    ) -> Result<(), Error> {
        mio::unix::EventedFd(&self.0.get_read().as_raw_fd()).reregister(poll, token, interest, opts)
    }

    fn deregister(&self, poll: &mio::Poll) -> Result<(), Error> {
        mio::unix::EventedFd(&self.0.get_read().as_raw_fd()).deregister(poll)
    }
}
