//! Unix signals as an asynchronous stream for the [tokio](https://docs.rs/tokio) runtime.
//!
//! # The problem
//!
//! A tokio program wants to `await` signals beside its other work: reload on `SIGHUP`, shut
//! down on `SIGTERM`. A signal handler cannot wake a task by itself (it may not lock or
//! allocate). tokio's own `tokio::signal::ctrl_c()` is an `async fn` that registers `SIGINT`
//! only when its future is first polled, so a signal sent right after start-up can hit the
//! default action and kill the process; `tokio::signal::unix::signal` registers when called,
//! but only inside a runtime (outside one it panics), and tells nothing about the sender.
//!
//! # Anatomy
//!
//! [`SignalsInfo`] (usually through its alias [`Signals`]) owns a pipe. The signals are
//! registered with the operating system before [`Signals::new`] returns. The handler,
//! installed through [`sigmux::iterator::backend`], marks the signal in a per-signal slot and
//! writes one byte into the pipe; the read end sits in the tokio reactor, which wakes the one
//! task waiting on the stream. That task then empties the pipe without blocking and takes the
//! marked signals. One readiness event per wake-up, no extra task, no allocation.
//!
//! The stream ends (yields `None`) once [`Handle::close`] was called on its handle. An I/O
//! error of the reactor also ends it — as does being polled outside a runtime, on a runtime
//! without I/O, or in a forked child (see [After `fork`](#after-fork)) — and
//! [`SignalsInfo::take_error`] tells what happened. A stream that ended with an error has
//! unregistered its signals. Polling does not panic. (tokio offers no way to ask whether a
//! runtime has I/O, and registering with one that has none panics: the first registration a
//! thread makes with a runtime is tried on a duplicate descriptor under `catch_unwind`. So
//! each stream that meets a runtime without I/O still makes tokio print its panic message,
//! and with `panic = "abort"` that aborts the process.)
//!
//! The stream itself is [`sigmux::iterator::backend::AsyncCore`], shared with
//! sigmux-async-std; this crate adds how the pipe joins a tokio reactor.
//!
//! # Runtimes
//!
//! * A `Signals` may be created outside a runtime, or inside one without I/O: its signals are
//!   registered at once (their wake-ups wait in the pipe), and the pipe joins the reactor of
//!   the runtime that first polls it. Created inside a runtime with I/O, it joins that
//!   runtime's reactor at once.
//! * While that runtime lives, the stream stays with its reactor, like any tokio I/O object,
//!   even when another runtime polls it (its wake-ups then come from that reactor: a
//!   multi-thread runtime drives it by itself, a current-thread one only inside `block_on`).
//! * When that runtime is dropped (its reactor shuts down), the next runtime that polls the
//!   stream takes it over: a duplicate of the pipe's read end is registered with the new
//!   reactor (the registration with the dead one cannot be removed without closing the
//!   descriptor the delivery tracks; it is kept, unused, until the stream is dropped). No
//!   signal is lost on the way, and this can happen any number of times.
//! * Polled outside any runtime after its runtime was dropped, the stream ends with an error
//!   that says so: poll it inside a live runtime with I/O instead.
//!
//! ```
//! use sigmux_tokio::consts::signal::SIGUSR1;
//! use sigmux_tokio::Signals;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut signals = Signals::new([SIGUSR1])?; // no runtime yet: registered anyway
//! let first = tokio::runtime::Runtime::new()?;
//! first.block_on(async {
//!     sigmux::low_level::raise(SIGUSR1)?;
//!     assert_eq!(signals.recv().await, Some(SIGUSR1));
//!     Ok::<_, std::io::Error>(())
//! })?;
//! drop(first);
//! let second = tokio::runtime::Runtime::new()?;
//! second.block_on(async {
//!     sigmux::low_level::raise(SIGUSR1)?;
//!     assert_eq!(signals.recv().await, Some(SIGUSR1)); // moved to the second runtime
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # One dependency
//!
//! Beyond the `signal-hook-tokio` surface ([`Signals`], [`SignalsInfo`], [`Handle`], `new`,
//! `with_exfiltrator`, `handle`, the `Stream`), the stream has
//! [`add_signal`](SignalsInfo::add_signal), [`remove_signal`](SignalsInfo::remove_signal) and
//! [`is_closed`](SignalsInfo::is_closed) (the same in every sigmux adapter), and
//! [`recv`](SignalsInfo::recv), [`poll_recv`](SignalsInfo::poll_recv) and
//! [`take_error`](SignalsInfo::take_error). The signal constants ([`consts`]) and the
//! exfiltrators ([`exfiltrator`]) are re-exported: no second dependency on sigmux is needed.
//!
//! # Example
//!
//! ```
//! use sigmux_tokio::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
//! use sigmux_tokio::Signals;
//!
//! async fn handle_signals(mut signals: Signals) {
//!     while let Some(signal) = signals.recv().await {
//!         match signal {
//!             SIGHUP => { /* reload the configuration, reopen the log */ }
//!             SIGTERM | SIGINT | SIGQUIT => { /* start a graceful shutdown */ }
//!             _ => unreachable!(),
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let signals = Signals::new([SIGHUP, SIGTERM, SIGINT, SIGQUIT])?;
//!     let handle = signals.handle();
//!     let signals_task = tokio::spawn(handle_signals(signals));
//!
//!     // ... the program's real work ...
//!
//!     // Ends the stream, and so the task.
//!     handle.close();
//!     signals_task.await?;
//!     Ok(())
//! }
//! ```
//!
//! With the `futures-v0_3` feature, [`SignalsInfo`] is also a `futures_core::Stream` (and a
//! `FusedStream`), so `StreamExt` and `select!` work on it:
//!
//! ```
//! # #[cfg(feature = "futures-v0_3")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use futures::stream::StreamExt;
//! use sigmux_tokio::consts::signal::SIGUSR1;
//! use sigmux_tokio::Signals;
//!
//! let mut signals = Signals::new([SIGUSR1])?;
//! sigmux::low_level::raise(SIGUSR1)?;
//! assert_eq!(signals.next().await, Some(SIGUSR1));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "futures-v0_3"))]
//! # fn main() {}
//! ```
//!
//! # Who sent it
//!
//! With an exfiltrator such as `WithOrigin` (from [`exfiltrator`], with sigmux's
//! `extended-siginfo` feature), each item also tells which process sent the signal — on the
//! stream, where `tokio::signal` has no such information:
//!
//! ```
//! use sigmux_tokio::consts::signal::SIGUSR1;
//! use sigmux_tokio::exfiltrator::WithOrigin;
//! use sigmux_tokio::SignalsInfo;
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1])?;
//!     sigmux::low_level::raise(SIGUSR1)?;
//!     let origin = signals.recv().await.expect("the stream is open");
//!     let sender = origin.process.expect("raise tells who sent it");
//!     assert_eq!(sender.pid as u32, std::process::id());
//!     Ok(())
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
//! A forked child inherits the parent's runtime and streams, but neither works there: the
//! runtime's threads are gone, and its epoll instance is *shared* with the parent (epoll
//! watches open files, so the child's stream, whose pipe sigmux replaced by a private one at
//! the same descriptor number, is not watched by it, and a child polling it could take the
//! parent's wake-ups). So, in the child:
//!
//! 1. leave the parent's runtime alone: do not use it, do not drop it (leak it with
//!    `std::mem::forget`, or leave with `_exit`/`exec`);
//! 2. build a new runtime, and inside it make new `Signals`.
//!
//! An inherited stream notices it is in a child: its first poll there ends it with an error
//! (see [`take_error`](SignalsInfo::take_error)) and unregisters its signals in the child, and
//! dropping it does not touch the parent's reactor (its registration and descriptor are
//! leaked instead). The parent's stream is unaffected: the child's signals never wake it, and
//! it still gets its own.
//!
//! ```
//! use sigmux_tokio::consts::signal::SIGUSR1;
//! use sigmux_tokio::Signals;
//!
//! /// In a freshly forked child of a tokio program (before `exec`, if any).
//! fn in_the_child() -> std::io::Result<()> {
//!     let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//!     rt.block_on(async {
//!         let mut signals = Signals::new([SIGUSR1])?;
//!         sigmux::low_level::raise(SIGUSR1)?;
//!         assert_eq!(signals.recv().await, Some(SIGUSR1));
//!         Ok(())
//!     })
//! }
//! # in_the_child().unwrap();
//! ```
//!
//! # Portability
//!
//! * **Unix**: as described above (a pipe in the reactor).
//! * **Windows** (the crate it replaces is Unix only): the same [`Signals`]/[`SignalsInfo`]
//!   with the same items, the console events among them, without a tokio runtime: a helper
//!   thread per stream waits and wakes the task. [`SignalsInfo`] says what that changes.
// Unix and Windows (the crate it replaces is Unix only); elsewhere the crate is empty.
#![cfg(any(unix, windows))]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

/// Unix: the read end of the self-pipe in the tokio reactor.
#[cfg(unix)]
mod read_end;

// The stream: sigmux's async core wrapped (`AsyncCore` over `ReadEnd` on Unix,
// `ThreadDelivery` on Windows), and the re-exports its users need.
sigmux::__adapter_surface!(async_stream "signal-hook-tokio", crate::read_end::ReadEnd,
    ///
    /// Unlike `signal-hook-tokio`, creating one does not panic outside a runtime, nor inside
    /// one without I/O: see [Runtimes](crate#runtimes).
);
sigmux::__adapter_surface!(futures_core futures_core_0_3
    #[cfg(feature = "futures-v0_3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "futures-v0_3")))]
);
