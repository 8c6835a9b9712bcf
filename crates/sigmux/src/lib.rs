//! Safe Unix signal handling: flags, a self-pipe, and a blocking iterator that can say who
//! sent each signal. A drop-in replacement for [signal-hook] 0.4 — same paths, names,
//! signatures and features — with the improvements listed [below](#beyond-signal-hook).
//!
//! [signal-hook]: https://docs.rs/signal-hook/0.4
//!
//! # Start here: shutting down on Ctrl-C and `SIGTERM`
//!
//! Most programs handle signals for one reason: to stop cleanly when asked. [`Shutdown`] does
//! the whole job. It installs handlers for `SIGTERM` and `SIGINT` (on Windows, the console
//! events) when it is created; the first signal asks for a graceful shutdown, which you see as
//! a flag, by blocking, or by awaiting a future under any async runtime; a second signal
//! during the cleanup ends the process at once, and an optional deadline cuts an overlong
//! cleanup short.
//!
//! **Exit status or death by a signal.** A program ends either by exiting with a status
//! number or by being killed by a signal, and its parent can tell the two apart. Shells and
//! supervisors rely on it: `bash` stops a whole script on Ctrl-C only when the command *died
//! by* `SIGINT`, not when it exited with status 130 or 1. So after cleaning up, a program
//! should die by the signal that stopped it — [`Shutdown::finish`] does that, and exits
//! normally with your status when no signal was involved.
//!
//! ```no_run
//! # fn serve_one_request() {}
//! # fn close_connections_and_flush() {}
//! let shutdown = sigmux::Shutdown::new()?; // TERM and INT are handled from here on
//! while !shutdown.is_requested() {
//!     serve_one_request();
//! }
//! close_connections_and_flush(); // a second Ctrl-C now ends the process at once
//! shutdown.finish(0) // dies by SIGTERM/SIGINT, so the parent sees it
//! # ; Ok::<(), std::io::Error>(())
//! ```
//!
//! The [`shutdown`] module has the details: more signals, deadlines, async tasks, `nohup`,
//! Windows, and what each costs.
//!
//! **Guide:** new to signals, or choosing between the patterns? The [`docs`] module is a
//! guide: [which API for which job](docs::patterns), [pitfalls](docs::pitfalls) (coalescing,
//! masks, `fork`, exit status) and [how it works inside](docs::internals).
//!
//! # The problem
//!
//! A signal interrupts whatever a thread was doing and runs a handler in its place. The handler
//! may therefore do almost nothing: no memory allocation, no locks (the interrupted code might
//! hold them), no `println!`, nothing that is not *async-signal-safe*. Signals are also a
//! process-wide resource — one disposition per signal for the whole program — so libraries
//! that install handlers behind each other's backs break each other.
//!
//! This crate solves both: the handler is owned by [`sigmux-registry`](sigmux_registry),
//! which lets any number of independent parts of a program register actions for the same
//! signal; and the patterns below move the real work out of the handler into ordinary code,
//! where everything is allowed.
//!
//! # Anatomy
//!
//! * [`shutdown`]: [`Shutdown`], graceful-then-forced shutdown that ends by the signal.
//! * [`flag`]: the handler sets an atomic flag; your loop checks it. Also "exit on the second
//!   Ctrl-C" and "run the default action if …".
//! * [`iterator`]: [`Signals`](iterator::Signals) registers signals and hands them to you in
//!   an ordinary thread, blocking or not; [`SignalsInfo`](iterator::SignalsInfo) with
//!   [`WithOrigin`](iterator::exfiltrator::WithOrigin) also reports the sender's pid and uid.
//!   The async adapter crates build on [`iterator::backend`].
//! * [`low_level`]: the building blocks — raw registration ([`low_level::register`]), the
//!   self-pipe ([`low_level::pipe`]), an async-signal-safe channel, `siginfo_t` decoding,
//!   and async-signal-safe [`raise`](low_level::raise), [`exit`](low_level::exit),
//!   [`abort`](low_level::abort), [`emulate_default_handler`](low_level::emulate_default_handler).
//! * [`child`] (Unix): watch the child processes you started and learn each exit exactly
//!   once — blocking, iterable or async — without ever reaping anybody else's children
//!   (pidfd on Linux, `SIGCHLD` + per-pid `waitpid` elsewhere). Its docs are the guide to
//!   `SIGCHLD` and child processes.
//! * [`consts`]: the signal numbers, [`TERM_SIGNALS`](consts::TERM_SIGNALS) and
//!   [`FORBIDDEN`](consts::FORBIDDEN).
//!
//! # Patterns
//!
//! ## Stop a loop on a signal
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//!
//! let term = Arc::new(AtomicBool::new(false));
//! sigmux::flag::register(sigmux::consts::SIGTERM, Arc::clone(&term))?;
//! # sigmux::low_level::raise(sigmux::consts::SIGTERM)?; // stands for `kill -TERM <pid>`
//! while !term.load(Ordering::Relaxed) {
//!     // one bounded piece of work
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Graceful shutdown, immediate on the second signal, with flags
//!
//! Use [`Shutdown`] (above) for this: it also dies by the signal at the end. The flag-based
//! version below, kept from signal-hook, ends with `exit(1)` on the second signal and a normal
//! exit after the cleanup, so the parent never learns that the program was interrupted.
//!
//! ```
//! # #[cfg(unix)] {
//! use std::sync::atomic::AtomicBool;
//! use std::sync::Arc;
//!
//! use sigmux::consts::TERM_SIGNALS;
//! use sigmux::flag;
//! use sigmux::iterator::Signals;
//!
//! let term_now = Arc::new(AtomicBool::new(false));
//! for &sig in TERM_SIGNALS {
//!     // Registered first, so it runs first: does nothing until armed…
//!     flag::register_conditional_shutdown(sig, 1, Arc::clone(&term_now))?;
//!     // …which this does on the first signal.
//!     flag::register(sig, Arc::clone(&term_now))?;
//! }
//! let mut signals = Signals::new(TERM_SIGNALS)?;
//! # sigmux::low_level::raise(libc::SIGINT)?;
//! for sig in &mut signals {
//!     println!("got signal {}, shutting down gracefully", sig);
//!     break;
//! }
//! // cleanup; a second Ctrl-C now exits at once
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Reload on SIGHUP, with the sender's pid and uid
//!
//! ```
//! # #[cfg(all(unix, feature = "extended-siginfo"))] {
//! use sigmux::consts::{SIGHUP, SIGTERM};
//! use sigmux::iterator::exfiltrator::WithOrigin;
//! use sigmux::iterator::SignalsInfo;
//!
//! let mut signals = SignalsInfo::<WithOrigin>::new([SIGHUP, SIGTERM])?;
//! # unsafe { libc::kill(libc::getpid(), SIGHUP) };
//! # unsafe { libc::kill(libc::getpid(), SIGTERM) };
//! for origin in &mut signals {
//!     let who = origin.process.map(|p| (p.pid, p.uid));
//!     match origin.signal {
//!         SIGHUP => println!("reloading, asked by {:?}", who),
//!         _ => { println!("terminating, asked by {:?}", who); break }
//!     }
//! }
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Integrate with an event loop
//!
//! Register a socket as a [self-pipe](low_level::pipe) and wait for it with `poll`/`epoll`, or
//! use an adapter crate (sigmux-mio, sigmux-tokio, sigmux-async-std) built on
//! [`iterator::backend`].
//!
//! # Beyond signal-hook
//!
//! New items sit beside the compatible surface; nothing of it changed meaning.
//!
//! * **Bad input is an error, not an abort.** [`Signals::new`](iterator::SignalsInfo::new),
//!   [`add_signal`](iterator::Handle::add_signal), the [`flag`] functions and
//!   [`pipe::register`](low_level::pipe::register) return an [`io::Error`](std::io::Error) of
//!   kind `InvalidInput`, naming the signal, for -1, 0, [forbidden](consts::FORBIDDEN)
//!   signals, signals the C library keeps for itself (32 and 33 with glibc) and numbers
//!   above the platform's largest (65, 1000, `i32::MAX` on Linux). signal-hook panics, and
//!   aborts the process for `Signals::new([1000])`.
//!   ([`low_level::register`] is the registry's and still panics on forbidden signals, as
//!   documented there.) The outcome of every public function of every sigmux crate for -1,
//!   0, each forbidden and reserved signal, the maximum + 1, 1000, `i32::MAX` and bad
//!   descriptors is tabulated, and tested each in its own process, in the repository's
//!   [`crates/sigmux-stress/BAD_INPUT.md`](https://github.com/sigmux/sigmux/blob/main/crates/sigmux-stress/BAD_INPUT.md).
//! * **[`Handle::remove_signal`](iterator::Handle::remove_signal)**: stop reporting one signal;
//!   when it returns, that signal is no longer reported, others are unaffected.
//! * **No C compiler for `extended-siginfo`**: `siginfo_t` is decoded in Rust, and
//!   [`Origin`](low_level::siginfo::Origin) also carries the payload of a `sigqueue`d signal
//!   and the exit status of a child for `SIGCHLD`.
//! * **Short wake-up path**: on Linux and Android the blocking iterator needs no pipe and no
//!   descriptor: the handler wakes it through a semaphore, with one system call only when
//!   it sleeps, so it wakes at least as fast as a hand-written `sigaction` + self-pipe. A
//!   batch looks only at the signals that arrived (see [`iterator`]).
//! * The self-pipe never receives an empty probe message, and a closed socket reader never
//!   raises `SIGPIPE` in the handler (Linux: `MSG_NOSIGNAL`).
//!
//! # Limitations
//!
//! * **Coalescing.** The kernel keeps at most one pending instance of each classic signal; so
//!   do the flags and [`Signals`](iterator::Signals). Count work, not signals. The
//!   `siginfo_t` exfiltrators `WithRawSiginfo` and `WithOrigin` keep a few deliveries per
//!   signal and silently drop the rest — for queued real-time signals that loses payloads;
//!   the `Lossless` exfiltrator (feature `extended-siginfo`) records every delivery and
//!   reports any that did not fit ([real-time pitfalls](docs::pitfalls)).
//! * **Masks.** Handlers run only in threads where the signal is not blocked
//!   (`pthread_sigmask`). If every thread blocks a signal, nothing here sees it. A thread
//!   blocked in [`wait`](iterator::SignalsInfo::wait) needs no particular mask: the
//!   handler may run in any thread and wakes it (through a semaphore or the pipe).
//! * **Threads.** The handler runs in whichever thread the kernel picks. Registration is
//!   safe from any thread at any time: a signal that arrives while the first registration of
//!   a signal installs the process handler still reaches the previously installed handler.
//! * **The disposition stays.** Once registered, a signal stays caught by the registry's
//!   handler even after every action is unregistered (it is then ignored, not given its
//!   default action), as with signal-hook. To terminate "as if by default", use
//!   [`emulate_default_handler`](low_level::emulate_default_handler); to get the previous
//!   disposition back when the last action goes, register through
//!   `sigmux_registry::try_register` with `Options::restore`.
//! * **fork.** A child inherits the handlers, the flags and the iterators. A signal handled
//!   in the child never wakes the parent's iterator, and the parent's signals never wake the
//!   child's: the blocking iterator's semaphore (Linux, Android) is private to each process, and
//!   right after `fork` sigmux gives each live pipe-based iterator and adapter stream of the
//!   child a private self-pipe at the same descriptor numbers. A reactor's registration of
//!   an adapter's pipe does not follow (epoll watches the open pipe, in an epoll instance the
//!   child shares with the parent): a child must not use the parent's event loop; the
//!   adapters' docs say what to do instead (a new `Poll`, a new runtime, or for async-io the
//!   blocking iterator). The child can
//!   register, unregister and receive signals (the registry is fork-safe too). Pipes handed
//!   to [`low_level::pipe`] are the caller's and stay shared. Between `fork` and `exec`, only
//!   async-signal-safe functions (like [`low_level::exit`]) may be used, as always.
//! * **Fault signals** (`SIGSEGV`, `SIGILL`, `SIGFPE`, `SIGBUS` raised by the CPU) cannot be
//!   handled by returning from a handler; the forbidden ones are refused, and the patterns
//!   here do not suit the rest of them.
//!
//! # Portability
//!
//! * **Linux** (glibc, musl): everything, including real-time signals from
//!   `SIGRTMIN()` to `SIGRTMAX()` and the full [`Origin`](low_level::siginfo::Origin)
//!   (sender, cause from `si_code`, `sigqueue` payload, child status).
//! * **Other Unix systems** (macOS, the BSDs, …): everything builds on POSIX calls; the
//!   numbers a signal may have and the `siginfo_t` fields that are filled in vary. macOS does
//!   not fill in `si_code`, so the cause is [`Unknown`](low_level::siginfo::Cause::Unknown)
//!   there and the sender is reported when its fields are non-zero.
//! * **Windows**: the C runtime's `signal` (`SIGINT`, `SIGTERM`, `SIGBREAK`, `SIGABRT`, …)
//!   and the console events (Ctrl-C, Ctrl-Break, close, logoff, shutdown); see the table.
//!
//! | API | Linux | other Unix | Windows |
//! | --- | --- | --- | --- |
//! | [`flag`] | yes | yes | yes, C runtime signals only (no console events beyond what the C runtime turns into `SIGINT`/`SIGBREAK`) |
//! | [`Shutdown`] | yes | yes (a deadline costs a thread) | yes, over the console events; exits with `STATUS_CONTROL_C_EXIT` instead of dying by a signal; holds the process open after a close until `finish` or drop |
//! | [`Signals`](iterator::Signals): `pending`, `wait`, `wait_timeout`, `forever`, [`Handle`](iterator::Handle) | yes; sleeps on a semaphore | yes; sleeps on a self-pipe | yes; sleeps on a semaphore object; console events as `SIGINT`, `SIGBREAK`, `SIGCLOSE`, `SIGLOGOFF`, `SIGSHUTDOWN`; holds the process open after a close until the iterator is done ([details](iterator#windows)) |
//! | [`WithRawSiginfo`](iterator::exfiltrator::WithRawSiginfo), [`WithOrigin`](iterator::exfiltrator::WithOrigin), [`low_level::siginfo`] | yes, every field | yes; fewer fields filled in (macOS: no cause) | no (the C runtime passes no `siginfo_t`) |
//! | [`iterator::backend`] (`SignalDelivery`, `SignalIterator`), [`low_level::pipe`] | yes | yes | no (no pipe a signal handler could write to); `ThreadDelivery` instead |
//! | sigmux-mio | yes | yes | no |
//! | sigmux-tokio, sigmux-async-std | yes; a pipe in the reactor | yes; a pipe in the reactor | yes, same items; a helper thread per stream wakes the task (`iterator::backend::ThreadDelivery`), no reactor involved |
//! | [`low_level::register`], [`raise`](low_level::raise), [`emulate_default_handler`](low_level::emulate_default_handler) | yes | yes | yes, C runtime signals (one-shot handlers re-armed by the registry) |
//! | `fork` safety | yes | yes | no `fork` |
//!
//!
//! # Features
//!
//! * `channel` (default): [`low_level::channel`].
//! * `iterator` (default): [`iterator`].
//! * `extended-siginfo`: [`WithOrigin`](iterator::exfiltrator::WithOrigin).
//! * `extended-siginfo-raw`: [`low_level::siginfo`] alone, without the iterator. Unlike
//!   signal-hook, neither needs a C compiler.

#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
// docs.rs builds with every feature and `--cfg docsrs`: each feature- or platform-gated item
// says what it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub mod child;
#[cfg(windows)]
mod console;
pub mod consts;
pub mod docs;
pub mod flag;
#[cfg(feature = "iterator")]
#[cfg_attr(docsrs, doc(cfg(feature = "iterator")))]
pub mod iterator;
pub mod low_level;
pub mod shutdown;
mod sys;

pub use sigmux_registry::SigId;

pub use crate::shutdown::Shutdown;
