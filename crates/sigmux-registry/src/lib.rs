//! The multiplexing core of sigmux: the one place that calls `sigaction`.
//!
//! # The problem
//!
//! A signal has one disposition per process, but many parts of a program want to hear about
//! it: a shutdown flag, an event loop's wake-up pipe, a logger that reopens its files. If each
//! installs its own handler, the last one wins and the others silently stop working. This
//! crate owns the disposition instead and lets any number of *actions* share each signal.
//! They can be added and removed at run time, from any thread.
//!
//! # Anatomy
//!
//! * The first action registered for a signal installs sigmux's handler for it
//!   (`SA_SIGINFO | SA_RESTART`, empty mask). The disposition that was there before is kept.
//! * On each delivery the handler first calls that previous handler (see below; `SIG_DFL`
//!   and `SIG_IGN` are not called), then every action of the signal in registration order.
//!   `errno` is the same afterwards as before.
//! * [`unregister`] removes one action. When it returns, the action is not running on any
//!   thread and has been dropped. The OS handler stays installed (with no actions it only
//!   chains to the previous handler), unless [`Options::restore`] asks for the old one back.
//!
//! # Chaining to the previous handler
//!
//! The previous handler is called as the kernel would have called it, as far as a handler can
//! emulate that:
//!
//! * in its own one- or three-argument form (`SA_SIGINFO`), with the kernel's arguments;
//! * with the signals of its `sa_mask` blocked while it runs (a signal of that mask arriving
//!   meanwhile waits until it returns);
//! * a one-shot handler (`SA_RESETHAND`) only for the first delivery; after that it counts as
//!   `SIG_DFL`, which chaining skips (sigmux's actions still run, and the signal does not take
//!   its default action, since sigmux's handler is the one installed). [`Options::restore`]
//!   then puts back `SIG_DFL`, as the kernel would have left it.
//!
//! What cannot be emulated: a previous handler with `SA_NODEFER` runs with the signal blocked
//! (unless sigmux's own handler has [`Options::nodefer`]); its `SA_ONSTACK` and `SA_RESTART`
//! are replaced by sigmux's options. A previous handler may leave with `siglongjmp` (a common
//! C idiom): it is called outside sigmux's grace period, so nothing waits for it afterwards;
//! but sigmux's actions do not run for that delivery, and `errno` is not restored for it.
//!
//! How the handler reads the action lists without locks, and the rest of the machinery, is
//! explained in the [`docs`] module.
//!
//! # The contract for actions: async-signal-safety
//!
//! An action runs *inside the signal handler*, interrupting whatever the thread was doing —
//! possibly in the middle of `malloc`, holding a lock, or writing to stdout. It may therefore
//! do only what is async-signal-safe:
//!
//! * no allocation or deallocation (no `Box`, `Vec`, `String`, `format!`, no dropping an
//!   `Arc` that might be the last one);
//! * no locks (`Mutex`, `RwLock`, `println!`, which locks stdout);
//! * no panics: a panic inside a handler aborts the process;
//! * only the C functions POSIX lists as async-signal-safe (`write`, `read`, `kill`, …), and
//!   atomics.
//!
//! This is why the registration functions are `unsafe`: the compiler cannot check it. The
//! `sigmux` crate builds safe patterns (flags, self-pipe, iterators) on top, so most programs
//! never write an action themselves.
//!
//! The handler itself keeps the same promise: it is lock-free and wait-free (on Windows it may
//! spin for the few instructions an install in progress takes), allocates nothing, changes no
//! reference count and cannot panic. The action lists are read through a
//! grace-period scheme (removed actions are freed by the remover, after every handler that
//! could still see them has left), so registration never blocks a handler and a handler
//! never blocks registration for longer than the actions it is running.
//!
//! # Taking control of dispositions
//!
//! Beside the compatible API, this crate lets a program decide how signals are handled,
//! without `unsafe` where no action is involved:
//!
//! * [`try_register`] / [`try_register_sigaction`]: the checked registration that returns an
//!   `InvalidInput` error naming the signal instead of panicking, and takes [`Options`].
//! * [`Options`]: `SA_ONSTACK` (required when the process hosts a Go runtime, a JVM or runs on
//!   Android, where threads have small stacks and an alternate signal stack), `SA_RESTART` on
//!   or off, `SA_NODEFER`; [`set_default_options`] sets them process-wide, for the
//!   compatible functions too. A signal's options are settled when it is first installed;
//!   asking for a different value later is an error, never a silent change (`keep_ignored`
//!   aside, see [`Options`]).
//! * [`Options::restore`]: when a signal's last action is removed, the disposition sigmux
//!   replaced comes back — another handler, `SIG_DFL` or an inherited `SIG_IGN`. Like Go's
//!   `signal.Stop`, no delivery is lost on the way: one that arrives while the last action is
//!   removed is taken once, either by that action or by the restored disposition (see
//!   [`unregister`] for how). If another library installed its handler over sigmux's
//!   meanwhile, sigmux leaves it in place and keeps chaining; the restore stays pending until
//!   sigmux's handler is back.
//! * [`Registration`]: an owned registration that unregisters on drop.
//! * [`disposition`], [`ignore`], [`set_default_action`]: query any signal, and ignore or reset one
//!   with no actions registered (an error while actions are: remove them first).
//! * [`ignored_at_start`] and [`Options::keep_ignored`]: a signal the parent ignored (as
//!   `nohup` does for `SIGHUP`) can stay ignored; the action is registered but the handler is
//!   installed only when a registration explicitly asks `keep_ignored(false)`.
//!
//! What cannot be restored: the previous handler's `sa_mask` and flags are restored exactly
//! on Unix; on Windows only the handler address exists. A restore is put off (sigmux keeps its
//! handler, with no actions, until its handler is the installed one again) if someone
//! installed over sigmux; between sigmux's check and its `sigaction` another thread of a
//! *different* library could still install — then sigmux puts that handler back at once (and
//! keeps the restore pending), which is as close as the OS interface allows. A signal that is
//! blocked and pending while the restore happens is delivered later to whatever disposition is
//! current then. The `keep_ignored` check needs the disposition at process start, which is
//! recorded before `main` on Linux, the BSDs, illumos and macOS; elsewhere it is recorded at
//! the first use.
//!
//! # Why a separate crate
//!
//! Dispositions are process-wide. If two versions of the multiplexer were linked into one
//! program, each would believe it owns the signals and they would overwrite each other. So
//! this core is kept tiny, depends only on `libc`, and keeps a stable API: every crate that
//! handles signals (the `sigmux` patterns, the async adapters, other libraries) can share the
//! one copy, while the conveniences above it are free to evolve. Its API is the one of
//! `signal-hook-registry` 1.x, so code written for that crate works with this one by renaming
//! the dependency.
//!
//! # Example
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! # #[cfg(unix)] {
//! let hits = Arc::new(AtomicUsize::new(0));
//! let seen = Arc::clone(&hits);
//! // SAFETY: the action only touches an atomic: async-signal-safe.
//! let id = unsafe {
//!     sigmux_registry::register(libc::SIGUSR1, move || {
//!         seen.fetch_add(1, Ordering::Relaxed);
//!     })
//! }
//! .unwrap();
//! // SAFETY: raising a signal we handle.
//! unsafe { libc::raise(libc::SIGUSR1) };
//! assert_eq!(hits.load(Ordering::Relaxed), 1);
//! assert!(sigmux_registry::unregister(id));
//! # }
//! ```
//!
//! # Bad input
//!
//! A signal number that is not a signal here (≤ 0, reserved by the C library, above the
//! platform's largest) is an `io::Error` of kind `InvalidInput` naming the signal, from every
//! function; [`FORBIDDEN`] signals make the compatible checked functions panic (as
//! `signal-hook-registry` does) and [`try_register`] return that error instead. The outcome of
//! every public function for each kind of bad input is tabulated in the repository's
//! [`crates/sigmux-stress/BAD_INPUT.md`](https://github.com/sigmux/sigmux/blob/main/crates/sigmux-stress/BAD_INPUT.md).
//!
//! # Limitations
//!
//! * Standard signals coalesce: several sends of the same standard signal while it is
//!   blocked or pending become one delivery (the kernel merges them). Actions count
//!   deliveries, not sends. Real-time signals are queued and each one is delivered.
//! * [`FORBIDDEN`] signals are refused by the checked functions; `SIGKILL` and `SIGSTOP`
//!   cannot be caught at all.
//! * Windows: the C runtime's `signal()` knows only `SIGINT`, `SIGILL`, `SIGABRT`, `SIGFPE`,
//!   `SIGSEGV`, `SIGTERM` and `SIGBREAK`, passes no `siginfo`, and resets the handler on
//!   each delivery; sigmux re-installs it at once, but a second signal arriving in between
//!   gets the default action. A previous handler written for it re-installs itself when
//!   sigmux chains to it; sigmux then takes its own place back, so later deliveries still
//!   reach both (a previous handler that installs something else is left with its choice).
#![warn(missing_docs)]

mod actions;
pub mod docs;
mod grace;
mod primitive;

// Under `--cfg sigmux_loom` only the lock-free core is built (loom's atomics cannot live in
// statics); the model in `tests/loom.rs` drives it directly.
#[cfg(not(sigmux_loom))]
mod api;
#[cfg(not(sigmux_loom))]
mod check;
#[cfg(not(sigmux_loom))]
mod disposition;
#[cfg(not(sigmux_loom))]
mod fork;
#[cfg(not(sigmux_loom))]
mod handler;
#[cfg(not(sigmux_loom))]
mod options;
#[cfg(not(sigmux_loom))]
mod registration;
#[cfg(not(sigmux_loom))]
mod registry;
#[cfg(not(sigmux_loom))]
mod slots;
#[cfg(not(sigmux_loom))]
mod sys;

#[cfg(not(sigmux_loom))]
pub use crate::api::*;
#[cfg(not(sigmux_loom))]
pub use crate::check::{check_signal, max_signal, realtime_signals, __SLOTS};
#[cfg(not(sigmux_loom))]
#[allow(deprecated)]
pub use crate::disposition::set_default;
#[cfg(not(sigmux_loom))]
pub use crate::disposition::{
    disposition, ignore, ignored_at_start, set_default_action, Disposition,
};
#[cfg(not(sigmux_loom))]
pub use crate::options::Options;
#[cfg(not(sigmux_loom))]
pub use crate::registration::Registration;

/// The family's fork hooks, shared with `sigmux` (see the module's source for the order they
/// run in). Not an API: no stability promise.
#[cfg(not(sigmux_loom))]
#[doc(hidden)]
pub mod __fork {
    pub use crate::fork::{forks, register, Hooks, MAX_HOOKS};
}

/// Internals exposed only to the loom model (`--cfg sigmux_loom`). Not an API.
#[cfg(sigmux_loom)]
#[doc(hidden)]
#[allow(missing_docs, unreachable_pub)]
pub mod __loom {
    pub use crate::actions::{free, ActionList, Node};
    pub use crate::grace::{Grace, ReadGuard};
}
