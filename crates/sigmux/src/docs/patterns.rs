//! Patterns: which API for which job.
//!
//! Every pattern below follows the same plan. The signal handler (owned by
//! [`sigmux_registry`]) does the least it can — an atomic store, a bit, a wake-up — and your
//! code does the real work later, outside the handler, where it may allocate, lock and print.
//! The patterns differ in *how* your code learns that a signal came.
//!
//! | job | use |
//! | --- | --- |
//! | shut down on TERM/INT: graceful first, at once on the second signal, dying by the signal | [`Shutdown`](crate::Shutdown) |
//! | stop or reconfigure a loop that comes round often | [`flag::register`], [`flag::register_usize`] |
//! | exit at once on the second Ctrl-C (lower level than `Shutdown`) | [`flag::register_conditional_shutdown`] / [`flag::register_conditional_default`] |
//! | a thread that sleeps until a signal comes | [`Signals`] |
//! | … and who sent it | [`SignalsInfo`] with [`WithOrigin`] or [`WithRawSiginfo`] |
//! | a mio, tokio, async-std or smol program | `sigmux-mio`, `sigmux-tokio`, `sigmux-async-std` |
//! | your own `poll`/`epoll` loop | [`low_level::pipe`] |
//! | every delivery counted, or work of your own inside the handler | [`sigmux_registry::register_sigaction`] |
//! | alternate stack, restoring the old disposition, respecting `nohup` | [`sigmux_registry::try_register`] with [`Options`] |
//! | knowing when your child processes exit | [`child::Children`](crate::child::Children) |
//!
//! # Flags
//!
//! [`flag::register`] sets an `AtomicBool` when the signal arrives; your loop looks at it once
//! per round. It is the cheapest pattern and the easiest to get right, but a flag cannot wake
//! a thread that is blocked in `read`, `accept` or a sleep: the thread only notices after the
//! call returns. [`flag::register_usize`] stores a number instead (say, which signal came).
//!
//! The flag may be an `Arc<AtomicBool>` or a `&'static AtomicBool`, such as a `static`:
//!
//! ```
//! use std::sync::atomic::{AtomicBool, Ordering};
//!
//! use sigmux::consts::SIGTERM;
//!
//! static TERM: AtomicBool = AtomicBool::new(false);
//! sigmux::flag::register(SIGTERM, &TERM)?;
//! # sigmux::low_level::raise(SIGTERM)?; // stands for `kill -TERM <pid>`
//! while !TERM.load(Ordering::Relaxed) {
//!     // one bounded piece of work
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! A flag that lives on the stack is refused at compile time. The registration outlives the
//! function (the handler keeps using the flag until you unregister it), so a borrow of a local
//! would dangle; [`flag::register`] takes only `'static` handles that implement
//! [`BorrowSignalSafe`](crate::flag::BorrowSignalSafe):
//!
//! ```compile_fail,E0597
//! use std::sync::atomic::AtomicBool;
//!
//! use sigmux::consts::SIGTERM;
//!
//! let term = AtomicBool::new(false); // a local: dropped when this function returns
//! sigmux::flag::register(SIGTERM, &term)?; // error: `term` does not live long enough
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! If the flag has to be made at run time, share it with an `Arc` (as most examples do) or
//! leak it once, which makes the borrow `'static`:
//!
//! ```
//! use std::sync::atomic::AtomicBool;
//!
//! use sigmux::consts::SIGTERM;
//!
//! let term: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
//! sigmux::flag::register(SIGTERM, term)?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Several actions on one signal run in the order they were registered. That is what the
//! "second Ctrl-C exits at once" recipe of the [`flag`](crate::flag) module relies on: a
//! conditional shutdown registered first does nothing until the flag registered after it has
//! been set by the first signal. [`flag::register_conditional_shutdown`] then exits with a
//! status of your choice; [`flag::register_conditional_default`] kills the process *by the
//! signal*, which is what a parent or a shell expects (see
//! [pitfalls](super::pitfalls#exit-status-versus-death-by-a-signal)).
//!
//! # The blocking iterator
//!
//! [`Signals`] registers a set of signals and hands them to ordinary code: [`pending`] never
//! blocks, [`wait`] blocks until something arrives, and `for sig in &mut signals` loops for
//! ever. The usual shape is a thread that does nothing else, ended at shutdown through a
//! [`Handle`](crate::iterator::Handle) (see the [`iterator`](crate::iterator) module for the
//! complete example). Signals come in batches, in increasing order of their number, each at
//! most once per batch.
//!
//! [`SignalsInfo`] is the same with an *exfiltrator* that takes more out of the handler:
//! [`WithOrigin`] (feature `extended-siginfo`) reports the sender's pid and uid, the cause,
//! the `sigqueue` payload and a child's status for `SIGCHLD`; [`WithRawSiginfo`] the whole
//! `siginfo_t`. These keep a few deliveries per signal instead of one (see
//! [`Channel`](crate::low_level::channel::Channel)) and drop the rest silently.
//! [`Lossless`](crate::iterator::exfiltrator::Lossless) (feature `extended-siginfo`) keeps
//! every delivery, in order, in a ring of the capacity you choose, and reports per signal
//! any that did not fit: the choice for real-time signals with payloads (`sigqueue`), or
//! when you need exact handler counts (see [real-time payloads](super::pitfalls)).
//!
//! On Linux and Android the blocked thread sleeps on a semaphore the handler posts, without a
//! pipe; on Windows on a semaphore object; on other Unix systems on a self-pipe. Either way it does not matter which thread the kernel runs
//! the handler on. See [internals](super::internals).
//!
//! # Async runtimes and event loops
//!
//! An event loop waits on descriptors, so the adapters give each stream a self-pipe: the
//! handler writes a byte, the reactor wakes the task, the task takes the marked signals. They
//! all build on [`iterator::backend`](crate::iterator::backend):
//!
//! * `sigmux-mio`: a mio event source, one module per mio version (0.6, 0.7, 0.8, 1.x);
//! * `sigmux-tokio`: a tokio stream, with `recv().await`;
//! * `sigmux-async-std`: a stream for async-std, smol and anything on async-io.
//!
//! Each registers its signals before its constructor returns, so a signal sent right after
//! start-up is not lost to the default action.
//!
//! For a hand-written `poll`/`epoll` loop, [`low_level::pipe::register`] makes the handler
//! write one byte to a socket or pipe of yours. Drain it before looking at your own state,
//! never after; the [`low_level::pipe`] docs explain the order that loses nothing.
//!
//! # Actions at the registry level
//!
//! Everything above is built on [`sigmux_registry`], and you can use it directly when a
//! pattern does not fit: to count every delivery of a real-time signal, to read the
//! `siginfo_t` in the handler, or to write into a structure of your own. The price is
//! `unsafe`: the compiler cannot check that the action is async-signal-safe (see
//! [pitfalls](super::pitfalls#what-an-action-may-do)). [`low_level::register`] is the same
//! function as [`sigmux_registry::register`].
//!
//! The registry's own API also decides *how* a signal is handled, through [`Options`], given to
//! [`sigmux_registry::try_register`] (which returns an error instead of panicking on a
//! forbidden signal) or process-wide to [`sigmux_registry::set_default_options`]:
//!
//! * [`Options::restore`]: when the signal's last action is removed, the disposition sigmux
//!   replaced comes back (the default action, an inherited ignore, or another handler).
//!   Without it, the handler stays installed and the signal stays caught: signal-hook's
//!   behaviour, and the default for every pattern above unless changed with
//!   [`set_default_options`](sigmux_registry::set_default_options).
//! * [`Options::onstack`]: run on the thread's alternate signal stack; needed inside Go, JVM
//!   and Android hosts (see [pitfalls](super::pitfalls#alternate-stacks-go-jvm-and-android-hosts)).
//! * [`Options::keep_ignored`]: leave a signal ignored if the parent ignored it, as `nohup`
//!   does for `SIGHUP` (see [pitfalls](super::pitfalls#nohup-and-inherited-ignores)).
//!
//! A signal's options are settled by its first registration; a later one asking for a
//! different value gets an error (except `keep_ignored`: asking for `true` accepts what is in
//! force, and `false` overrides a kept ignore). A [`Registration`](sigmux_registry::Registration)
//! unregisters when dropped:
//!
//! ```
//! # #[cfg(unix)] {
//! use sigmux_registry::{disposition, try_register, Disposition, Options, Registration};
//!
//! let sig = libc::SIGUSR1;
//! assert_eq!(disposition(sig)?, Disposition::Default);
//! // SAFETY: an empty action is async-signal-safe.
//! let id = unsafe { try_register(sig, Options::new().restore(true), || ()) }?;
//! let registration = Registration::from(id);
//! assert!(matches!(disposition(sig)?, Disposition::Sigmux { actions: 1, .. }));
//! drop(registration); // the last action: SIGUSR1 gets its default action back
//! assert_eq!(disposition(sig)?, Disposition::Default);
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Graceful shutdown
//!
//! [`Shutdown`](crate::Shutdown) (module [`shutdown`](crate::shutdown)) packages the policy
//! most services want. The first `SIGTERM` or `SIGINT` asks the program to shut down
//! gracefully (seen as a flag, by blocking, or by awaiting a future under any runtime); a
//! second one terminates it at once, by that signal; an optional deadline bounds the graceful
//! phase. [`Shutdown::finish`](crate::Shutdown::finish) ends the process by dying of the
//! signal, so a parent or supervisor sees that it was killed by it (`WIFSIGNALED`), not an
//! ordinary exit code. On Windows the console events (Ctrl-C, Ctrl-Break, close, logoff,
//! shutdown) take the place of the signals.
//!
//! # Watching child processes
//!
//! [`Children`](crate::child::Children) (module [`child`](crate::child), Unix) reports when
//! children you started exit, exactly once each, blocking, as an iterator or as a future,
//! without reaping anyone else's (unless you ask it to
//! [reap orphans](crate::child::Options::reap_orphans), for a supervisor or PID 1). On Linux it waits on a pidfd per child, falling back to `SIGCHLD` where
//! pidfds cannot be had (kernels before 5.4, no descriptors left); elsewhere it calls
//! `waitpid` on each watched pid when `SIGCHLD` arrives. It never calls `waitpid(-1)`, which
//! would collect the exit status of children that other parts of the program (for example
//! `std::process::Child::wait`) are waiting for.
//!
//! # When another crate fits better
//!
//! * **`tokio::signal`** comes with tokio and needs no extra dependency; if a tokio program
//!   only awaits a few signals and never needs the sender, removal of a signal or the other
//!   patterns here, it is enough. It also offers the Windows console events (Ctrl-C,
//!   Ctrl-Break, closing the console, logoff, shutdown) as streams, as sigmux does through
//!   [`Shutdown`](crate::Shutdown), the blocking iterator and the tokio and async-std streams
//!   (as `SIGINT`, `SIGBREAK`, `SIGCLOSE`, `SIGLOGOFF`, `SIGSHUTDOWN`). Note that tokio never
//!   uninstalls its handler: once a signal has been listened for, it is caught for the rest of
//!   the process.
//! * **`ctrlc`** runs one closure on Ctrl-C (and, with a feature, on `SIGTERM` and `SIGHUP`) on
//!   a thread of its own, on Unix and on the Windows console. If that is all a command-line
//!   program needs, it is the smaller dependency. It installs its handler over whatever was
//!   there, so do not also handle those signals through sigmux; if you must, set the ctrlc
//!   handler first (sigmux's handler, installed later, calls it before its own actions).
//!
//! [`flag::register`]: crate::flag::register
//! [`flag::register_usize`]: crate::flag::register_usize
//! [`flag::register_conditional_shutdown`]: crate::flag::register_conditional_shutdown
//! [`flag::register_conditional_default`]: crate::flag::register_conditional_default
//! [`Signals`]: crate::iterator::Signals
//! [`SignalsInfo`]: crate::iterator::SignalsInfo
//! [`pending`]: crate::iterator::SignalsInfo::pending
//! [`wait`]: crate::iterator::SignalsInfo::wait
//! [`WithOrigin`]: crate::iterator::exfiltrator::WithOrigin
//! [`WithRawSiginfo`]: crate::iterator::exfiltrator::WithRawSiginfo
//! [`low_level::pipe`]: crate::low_level::pipe
//! [`low_level::pipe::register`]: crate::low_level::pipe::register
//! [`low_level::register`]: crate::low_level::register
//! [`Options`]: sigmux_registry::Options
//! [`Options::restore`]: sigmux_registry::Options::restore
//! [`Options::onstack`]: sigmux_registry::Options::onstack
//! [`Options::keep_ignored`]: sigmux_registry::Options::keep_ignored
