//! Signals as an event source for mio 0.8.
//!
//! [`Signals`] implements [`Source`](mio_0_8::event::Source): register it with a
//! [`Poll`](mio_0_8::Poll) for readability and call [`pending`](SignalsInfo::pending) when its
//! token comes up.
//!
//! # Example
//!
//! ```
//! use std::io::ErrorKind;
//!
//! use mio_0_8 as mio;
//! use mio::{Events, Interest, Poll, Token};
//! use sigmux_mio::consts::signal::{SIGTERM, SIGUSR1};
//! use sigmux_mio::v0_8::Signals;
//!
//! const SIGNALS: Token = Token(0);
//!
//! fn main() -> std::io::Result<()> {
//!     let mut poll = Poll::new()?;
//!     let mut signals = Signals::new([SIGTERM, SIGUSR1])?;
//!     poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
//!
//!     // Stand-in for a user sending SIGUSR1 to this process.
//!     sigmux::low_level::raise(SIGUSR1)?;
//!
//!     let mut events = Events::with_capacity(16);
//!     loop {
//!         match poll.poll(&mut events, None) {
//!             Ok(()) => {}
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

use mio_0_8 as mio;

signals_over_pipe!();
source_for_signals!();
