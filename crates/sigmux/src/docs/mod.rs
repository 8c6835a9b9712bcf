//! A guide to signal handling with sigmux: which tool for which job, what goes wrong, and how
//! it works inside.
//!
//! This module holds no code; its pages are documentation only. The API reference lives with
//! the items themselves ([`flag`](crate::flag), [`iterator`](crate::iterator),
//! [`low_level`](crate::low_level), [`sigmux_registry`]).
//!
//! # Pages
//!
//! * [`patterns`]: start here. The jobs programs do with signals — stop a loop, run a signal
//!   thread, wake an event loop, reload on `SIGHUP`, shut down gracefully, watch children —
//!   and the API that fits each, including when another crate fits better.
//! * [`pitfalls`]: the things that surprise people about Unix signals, and what sigmux does
//!   about each: coalescing, masks and threads, `fork`, alternate stacks in Go or JVM hosts,
//!   signals ignored by the parent, exit status versus death by a signal, `SIGPIPE`, `EINTR`,
//!   and what code may run inside a handler.
//! * [`internals`]: how a delivery travels from the kernel to your code — the handler, the
//!   blocking iterator's wake-up, the self-pipe of the event-loop adapters, and what happens
//!   at `fork`. The registry's own internals (the lock-free action lists, chaining to the
//!   previous handler, restoring dispositions) are in [`sigmux_registry::docs`].
//!
//! # The short version
//!
//! * A signal handler may do almost nothing. sigmux's own actions store into atomics and
//!   wake a reader (or, for the shutdown flags, end the process at once); your code runs
//!   afterwards, in an ordinary thread or task.
//! * Signals of one kind that arrive close together can merge into one. Count work to do, not
//!   signals.
//! * Registering a signal changes what the whole process does with it, for every thread.
//! * A flag is enough for a loop that comes round often; a blocked thread needs
//!   [`Signals`](crate::iterator::Signals) or an async stream.

pub mod internals;
pub mod patterns;
pub mod pitfalls;
