//! Unix signals as an asynchronous stream for [async-std](https://docs.rs/async-std),
//! [smol](https://docs.rs/smol) and anything else driven by the
//! [async-io](https://docs.rs/async-io) reactor.
//!
//! # The problem
//!
//! An async program wants to `await` signals beside its other work: reload on `SIGHUP`, shut
//! down on `SIGTERM`. A signal handler cannot wake a task by itself (it may not lock or
//! allocate), so the signal has to reach the reactor some other way.
//!
//! # Anatomy
//!
//! [`SignalsInfo`] (usually through its alias [`Signals`]) owns a pipe whose read end is
//! registered with async-io's reactor. The signals are registered with the operating
//! system before [`Signals::new`] returns. The handler, installed through
//! [`sigmux::iterator::backend`], marks the signal in a per-signal slot and writes one byte
//! into the pipe; the reactor wakes the task waiting on the stream, which empties the pipe
//! without blocking and takes the marked signals. One readiness event per wake-up, no extra
//! task, and no allocation of this crate's own (async-io's reactor makes one per turn that
//! wakes tasks, for its list of wakers).
//!
//! The stream ends (yields `None`) once [`Handle::close`] was called on its handle. An I/O
//! error of the reactor also ends it — as does being polled in a forked child (see
//! [After `fork`](#after-fork)) — and [`SignalsInfo::take_error`] tells what happened. A
//! stream that ended with an error has unregistered its signals. Polling never panics.
//! (async-io itself panics where it cannot create its epoll instance, at the reactor's first
//! use — in [`Signals::new`] if that is the program's first use of async-io.)
//!
//! The stream itself is [`sigmux::iterator::backend::AsyncCore`], shared with sigmux-tokio;
//! this crate adds how the pipe joins async-io's reactor.
//!
//! # One dependency
//!
//! Beyond the `signal-hook-async-std` surface ([`Signals`], [`SignalsInfo`], [`Handle`],
//! `new`, `with_exfiltrator`, `handle`, the `Stream`), the stream has
//! [`add_signal`](SignalsInfo::add_signal), [`remove_signal`](SignalsInfo::remove_signal) and
//! [`is_closed`](SignalsInfo::is_closed) (the same in every sigmux adapter), and
//! [`recv`](SignalsInfo::recv), [`poll_recv`](SignalsInfo::poll_recv) and
//! [`take_error`](SignalsInfo::take_error). The signal constants ([`consts`]) and the
//! exfiltrators ([`exfiltrator`]) are re-exported: no second dependency on sigmux is needed.
//!
//! # Example
//!
//! ```
//! use async_std::prelude::*;
//! use sigmux_async_std::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
//! use sigmux_async_std::Signals;
//!
//! async fn handle_signals(mut signals: Signals) {
//!     while let Some(signal) = signals.next().await {
//!         match signal {
//!             SIGHUP => { /* reload the configuration, reopen the log */ }
//!             SIGTERM | SIGINT | SIGQUIT => { /* start a graceful shutdown */ }
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//!
//! #[async_std::main]
//! async fn main() -> std::io::Result<()> {
//!     let signals = Signals::new([SIGHUP, SIGTERM, SIGINT, SIGQUIT])?;
//!     let handle = signals.handle();
//!     let signals_task = async_std::task::spawn(handle_signals(signals));
//!
//!     // ... the program's real work ...
//!
//!     // Ends the stream, and so the task.
//!     handle.close();
//!     signals_task.await;
//!     Ok(())
//! }
//! ```
//!
//! The same on smol, waiting for one signal with the inherent [`recv`](SignalsInfo::recv):
//!
//! ```
//! use sigmux_async_std::consts::signal::SIGUSR1;
//! use sigmux_async_std::Signals;
//!
//! fn main() -> std::io::Result<()> {
//!     smol::block_on(async {
//!         let mut signals = Signals::new([SIGUSR1])?;
//!         sigmux::low_level::raise(SIGUSR1)?;
//!         assert_eq!(signals.recv().await, Some(SIGUSR1));
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # Who sent it
//!
//! With an exfiltrator such as `WithOrigin` (from [`exfiltrator`], with sigmux's
//! `extended-siginfo` feature), each item also tells which process sent the signal:
//!
//! ```
//! use futures_lite::StreamExt;
//! use sigmux_async_std::consts::signal::SIGUSR1;
//! use sigmux_async_std::exfiltrator::WithOrigin;
//! use sigmux_async_std::SignalsInfo;
//!
//! fn main() -> std::io::Result<()> {
//!     smol::block_on(async {
//!         let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1])?;
//!         sigmux::low_level::raise(SIGUSR1)?;
//!         let origin = signals.next().await.expect("the stream is open");
//!         let sender = origin.process.expect("raise tells who sent it");
//!         assert_eq!(sender.pid as u32, std::process::id());
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # Limitations
//!
//! * With the default exfiltrator, signals of one kind that arrive close together are
//!   reported once, and one batch is reported in ascending numeric order rather than arrival
//!   order. (With `sigmux`'s `Lossless` exfiltrator every delivery is reported, in the order
//!   the handler stored it.)
//! * The signals are registered for the whole process; other handlers of the same signal keep
//!   running.
//! * One stream is meant to be polled by one task at a time; for several consumers, create
//!   several `Signals` (each gets every signal).
//! * A [`Handle`] that outlives its stream keeps one descriptor open (a duplicate of the
//!   pipe's read end, so that a late [`Handle::close`] never raises `SIGPIPE`) until the last
//!   handle is dropped.
//!
//! # After `fork`
//!
//! async-io has one reactor per process, created on first use, and a forked child inherits
//! it: the same epoll instance as the parent's (epoll watches open files, so the child's
//! stream, whose pipe sigmux replaced by a private one at the same descriptor number, is not
//! watched by it, and anything the child registers or waits for there is mixed up with the
//! parent's, whose wake-ups the child could take). A child of a program that used async-io
//! (async-std, smol) must therefore not use async-io at all; to wait for signals there, use
//! the blocking [`sigmux::iterator::Signals`] (or `exec` a new program).
//!
//! An inherited stream notices it is in a child: its first poll there ends it with an error
//! (see [`take_error`](SignalsInfo::take_error)) and unregisters its signals in the child,
//! touching no reactor, and dropping it does not touch the reactor either (its registration
//! and descriptor are leaked instead). The parent's stream is unaffected: the child's signals
//! never wake it, and it still gets its own.
//!
//! # Portability
//!
//! * **Unix**: as described above (a pipe in the reactor).
//! * **Windows** (the crate it replaces is Unix only): the same [`Signals`]/[`SignalsInfo`]
//!   with the same items, the console events among them, without async-io's reactor: a helper
//!   thread per stream waits and wakes the task. [`SignalsInfo`] says what that changes.
// Unix and Windows (the crate it replaces is Unix only); elsewhere the crate is empty.
#![cfg(any(unix, windows))]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

/// Unix: the read end of the self-pipe in async-io's reactor.
#[cfg(unix)]
mod read_end;

// The stream: sigmux's async core wrapped (`AsyncCore` over `ReadEnd` on Unix,
// `ThreadDelivery` on Windows), and the re-exports its users need.
sigmux::__adapter_surface!(async_stream "signal-hook-async-std", crate::read_end::ReadEnd,
);
sigmux::__adapter_surface!(futures_core futures_core);
