//! Unix signals as an event source for [mio](https://docs.rs/mio).
//!
//! # The problem
//!
//! A program built around a `mio::Poll` loop waits in one place for every kind of event. A
//! signal handler cannot join that loop by itself: it runs at an arbitrary moment, on an
//! arbitrary thread, and may do almost nothing. This crate turns signals into readiness of an
//! ordinary source that the loop already knows how to wait for.
//!
//! # Anatomy
//!
//! Each `Signals` value owns a pipe. The signal handler (installed through
//! [`sigmux::iterator::backend`]) records the signal in a per-signal slot and writes one byte
//! into the pipe; the read end is what you register with the `Poll`. When the poll reports it
//! readable, [`pending`](v1_0::SignalsInfo::pending) empties the pipe without blocking and
//! yields the signals recorded since the previous call. This crate adds only the glue: each
//! mio version's `Source` (or `Evented`) implementation for the pipe's read end.
//!
//! There is one module per supported mio version, each behind a feature, with the same names
//! and signatures as `signal-hook-mio` 0.3:
//!
//! | feature | module | mio |
//! | --- | --- | --- |
//! | `support-v0_6` | [`v0_6`] | 0.6 (with `mio-uds`) |
//! | `support-v0_7` | [`v0_7`] | 0.7 |
//! | `support-v0_8` | [`v0_8`] | 0.8 |
//! | `support-v1_0` | [`v1_0`] | 1.x |
//!
//! Beyond that surface, every module also offers:
//!
//! * the event-source implementation for [`SignalsInfo`](v1_0::SignalsInfo) with *any*
//!   exfiltrator, not only for the plain [`Signals`](v1_0::Signals);
//! * [`handle`](v1_0::SignalsInfo::handle), a cloneable [`Handle`](v1_0::Handle) to add
//!   signals from elsewhere and to close the instance,
//!   [`remove_signal`](v1_0::SignalsInfo::remove_signal), and
//!   [`is_closed`](v1_0::SignalsInfo::is_closed) to notice a close in the loop (the same
//!   controls as every sigmux adapter);
//! * the signal constants ([`consts`]) and the exfiltrators ([`exfiltrator`]), re-exported at
//!   the crate root: no second dependency on sigmux is needed.
//!
//! # Example
//!
//! See the module of your mio version; the [`v1_0`] module has a complete loop.
//!
//! # Limitations
//!
//! * With the default exfiltrator, signals of one kind that arrive close together are
//!   reported once: `pending` reports each signal number at most once per call, in ascending
//!   numeric order rather than arrival order. (With `sigmux`'s `Lossless` exfiltrator every
//!   delivery is reported, in the order the handler stored it.)
//! * The signals are registered for the whole process. Other handlers of the same signal keep
//!   running; signals blocked by a thread's mask are delivered to another thread or stay pending.
//! * A poll interrupted by a signal returns [`ErrorKind::Interrupted`](std::io::ErrorKind);
//!   treat that as "poll again", as the examples do.
//! * A [`Handle`](v1_0::Handle) that outlives its `Signals` keeps one descriptor open (a
//!   duplicate of the pipe's read end, so that a late [`close`](v1_0::Handle::close) never
//!   raises `SIGPIPE`) until the last handle is dropped.
//!
//! # After `fork`
//!
//! A forked child inherits the parent's `Poll`, but its epoll instance is *shared* with the
//! parent: epoll watches open files, not descriptor numbers. sigmux gives each inherited
//! `Signals` of the child a private pipe at the same descriptor number, so the child's own
//! signals never reach the parent; but that new pipe is not in the inherited `Poll`, so the
//! child is never woken there by its signals, and a child waiting on the inherited `Poll`
//! could take the parent's wake-ups (of every source, with edge-triggered registrations). So,
//! in the child:
//!
//! 1. never poll, register with or deregister from the parent's `Poll` (leave it, or leak it
//!    with `std::mem::forget`);
//! 2. make a new `Poll` and register with it the inherited `Signals` (they now read the
//!    child's private pipe) or new ones.
//!
//! The parent's `Signals` are unaffected: the child's signals never wake them, and they still
//! get their own.
//! # Portability
//!
//! Unix only, as the crate this one replaces: the wake-up channel is a pipe.
// Unix only, like the crates it replaces: elsewhere the crate is empty (and the workspace builds).
#![cfg(unix)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

pub use sigmux::consts;
pub use sigmux::iterator::exfiltrator;

#[cfg(any(
    feature = "support-v0_6",
    feature = "support-v0_7",
    feature = "support-v0_8",
    feature = "support-v1_0"
))]
#[macro_use]
mod signals;

#[cfg(feature = "support-v0_6")]
#[cfg_attr(docsrs, doc(cfg(feature = "support-v0_6")))]
pub mod v0_6;
#[cfg(feature = "support-v0_7")]
#[cfg_attr(docsrs, doc(cfg(feature = "support-v0_7")))]
pub mod v0_7;
#[cfg(feature = "support-v0_8")]
#[cfg_attr(docsrs, doc(cfg(feature = "support-v0_8")))]
pub mod v0_8;
#[cfg(feature = "support-v1_0")]
#[cfg_attr(docsrs, doc(cfg(feature = "support-v1_0")))]
pub mod v1_0;
