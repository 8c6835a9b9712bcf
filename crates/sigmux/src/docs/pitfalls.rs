//! Pitfalls: what surprises people about Unix signals, and what sigmux does about each.
//!
//! # Coalescing
//!
//! The kernel keeps at most one pending instance of each *standard* signal (`SIGINT`,
//! `SIGHUP`, `SIGUSR1`, …). If the same signal is sent again before the first one was
//! delivered — because it is blocked, or the process has not been scheduled yet — the two
//! merge into one delivery. Nothing is lost that mattered: a standard signal means "this
//! happened (at least once)". So count work to do, not signals: on `SIGHUP`, reload once.
//!
//! *Real-time* signals (`SIGRTMIN()` to `SIGRTMAX()`, Linux and some other systems) are
//! different: the kernel queues every one, each with its own `siginfo_t` and `sigqueue`
//! payload, up to a per-user limit (beyond which the sender's `sigqueue` fails with
//! `EAGAIN`). Here each delivery carries information, so merging two is a *loss*, not
//! coalescing.
//!
//! sigmux's handler runs every action once per delivery, so an action at the registry level
//! sees every queued real-time signal:
//!
//! ```
//! # #[cfg(target_os = "linux")] {
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! use sigmux::low_level::raise;
//!
//! static STANDARD: AtomicUsize = AtomicUsize::new(0);
//! static REALTIME: AtomicUsize = AtomicUsize::new(0);
//! let rt = libc::SIGRTMIN() + 1;
//! // SAFETY: both actions only add to an atomic, which is async-signal-safe.
//! unsafe {
//!     sigmux_registry::register(libc::SIGUSR1, || {
//!         STANDARD.fetch_add(1, Ordering::SeqCst);
//!     })?;
//!     sigmux_registry::register(rt, || {
//!         REALTIME.fetch_add(1, Ordering::SeqCst);
//!     })?;
//! }
//! // Block both signals, send each three times, then unblock them.
//! // SAFETY: an all-zero sigset_t is valid storage; sigemptyset initialises it.
//! let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
//! // SAFETY: `set` is a valid signal set; only this thread's mask changes.
//! unsafe {
//!     libc::sigemptyset(&mut set);
//!     libc::sigaddset(&mut set, libc::SIGUSR1);
//!     libc::sigaddset(&mut set, rt);
//!     libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
//! }
//! for _ in 0..3 {
//!     raise(libc::SIGUSR1)?;
//!     raise(rt)?;
//! }
//! // SAFETY: as above.
//! unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
//! assert_eq!(STANDARD.load(Ordering::SeqCst), 1); // merged while pending
//! assert_eq!(REALTIME.load(Ordering::SeqCst), 3); // queued: every one delivered
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The higher-level patterns merge on purpose, on top of the kernel: a flag is set once
//! however often the signal came, and [`Signals`](crate::iterator::Signals) reports each
//! signal at most once per batch — right for "this happened". The `siginfo_t` exfiltrators
//! ([`WithOrigin`](crate::iterator::exfiltrator::WithOrigin),
//! [`WithRawSiginfo`](crate::iterator::exfiltrator::WithRawSiginfo)) keep a few deliveries
//! per signal and **drop further ones, silently**, while the reader is behind (see
//! [`Channel`](crate::low_level::channel::Channel)): for real-time signals that is data lost,
//! not coalescing.
//!
//! # Real-time payloads: choose lossless delivery
//!
//! When every delivery matters — `sigqueue` payloads, or knowing how many times a signal was
//! handled — use the [`Lossless`](crate::iterator::exfiltrator::Lossless) exfiltrator
//! (feature `extended-siginfo`) on the iterator or any adapter. Its handler records every
//! delivery into a ring whose capacity you choose, allocated up front; the reader gets them
//! in the order they were stored, each with its sender, cause and payload, and if the ring
//! was full, a [`Record::Lost`](crate::iterator::exfiltrator::lossless::Record::Lost) item in
//! place of the ones that did not fit, saying which signal lost how many: never a silent gap.
//! For standard signals it counts the handler's runs exactly; the kernel's own merging of a
//! pending standard signal stays. Keep the order exact by letting one thread take the signal
//! (block it in the others). `examples/rt_payloads.rs` is a runnable receiver with its own
//! sender mode. See [its module](crate::iterator::exfiltrator::lossless) for how to choose.
//!
//! # Claimed senders
//!
//! The pid and uid in a `siginfo_t` are the kernel's word for `kill`, `tgkill` and signals it
//! generates, but for `sigqueue`-style codes on Linux they are whatever the sender wrote
//! (`rt_sigqueueinfo` accepts any pid and uid). [`Origin::sender`](crate::low_level::siginfo::Origin::sender)
//! says which ([`Sender`](crate::low_level::siginfo::Sender)); never authorize on a claimed
//! sender. ([`Origin::process`](crate::low_level::siginfo::Origin::process) does not tell the
//! difference: it is kept as signal-hook has it.)
//!
//! # Masks and threads
//!
//! Each thread has a *signal mask*: the signals it blocks. A new thread starts with the mask of
//! the thread that created it.
//!
//! * A signal sent to the *process* (`kill`, Ctrl-C in a terminal) is delivered to one thread
//!   that does not block it; which one is the kernel's choice. sigmux does not care: its
//!   handler may run on any thread, and wakes the reader wherever that is.
//! * A signal sent to a *thread* (`raise`, `pthread_kill`) or caused by the thread itself (a
//!   fault, a write to a closed pipe) goes to that thread, and stays pending there while that
//!   thread blocks it.
//! * In a program with threads, change masks with `pthread_sigmask`. What `sigprocmask` does
//!   there is unspecified by POSIX; on Linux it changes the calling thread's mask only, like
//!   `pthread_sigmask`, not the process's.
//! * If *every* thread blocks a signal, no handler runs: the signal stays pending until a
//!   thread unblocks it, or takes it with `sigwait` or a `signalfd` — and then sigmux never
//!   sees it. A program that blocks all signals in `main` before starting its threads (a
//!   common recipe for a dedicated `sigwait` thread) must leave the signals sigmux handles
//!   unblocked in at least one thread.
//!
//! While a handler runs, sigmux adds only the signal being handled to the thread's mask
//! (none with [`Options::nodefer`](sigmux_registry::Options::nodefer)); a different signal may
//! interrupt it. While it calls the handler that was installed before it, it also blocks what
//! that handler asked the kernel to block (its `sa_mask`), as the kernel would have.
//!
//! # Fork
//!
//! A child made by `fork` has a copy of the parent's memory — flags, iterators, the registry —
//! but only the one thread that called `fork`. What sigmux does:
//!
//! * The registry takes its lock in a `pthread_atfork` hook around every `fork`, so the child
//!   never starts with the lock held by a thread it does not have, and the child forgets the
//!   handlers that other threads were running at the fork. The child can register, unregister
//!   and receive signals, even if another thread was registering or inside a handler when it
//!   forked.
//! * Every pipe-based [`Signals`](crate::iterator::Signals) and adapter stream that is alive at
//!   the fork gets a private pipe in the child, at the same descriptor numbers, so a signal
//!   handled in the child never wakes the parent's reader, nor the reverse. The blocking
//!   iterator on Linux and Android has no pipe: its semaphore is private to each process anyway.
//! * The hooks are installed before `main` where the platform has a constructor list (Linux,
//!   Android, the BSDs, illumos, Solaris, GNU Hurd, macOS and the other Apple systems);
//!   elsewhere at the first use, so there a fork racing with the very first use is not
//!   protected.
//!
//! What a program must do:
//!
//! * Never `fork` from inside a signal handler (from an action): it is not async-signal-safe,
//!   and the registry's child would forget a handler that is still running.
//! * In a program with threads, call only async-signal-safe functions between `fork` and
//!   `exec` ([`low_level::exit`](crate::low_level::exit) is one). `std::process::Command`
//!   does this for you.
//! * A pipe you gave to [`low_level::pipe`](crate::low_level::pipe) is yours: parent and child
//!   share it after a fork, and sigmux leaves it alone.
//! * An async runtime built before the fork does not work in the child: its worker threads
//!   were not copied, and its reactor's descriptor is shared with the parent. A stream
//!   inherited from the parent ends with an error on its first poll in the child. With tokio,
//!   build a new runtime in the child and new streams in it; with async-std or smol (async-io's
//!   one global reactor, shared with the parent) use the blocking
//!   [`Signals`](crate::iterator::Signals) in the child; with mio, register with a new `Poll`.
//!   Or `exec`.
//!
//! # Alternate stacks: Go, JVM and Android hosts
//!
//! Some runtimes give their threads small stacks and an alternate signal stack
//! (`sigaltstack`), and expect every handler in the process to run on it. Go documents the
//! requirement: a handler installed by non-Go code without `SA_ONSTACK` is likely to crash the
//! program when the signal arrives. JVM and Android hosts are the same kind of
//! environment. sigmux installs without `SA_ONSTACK` by default, as signal-hook does; inside
//! such a host, ask for it for *every* registration, including the ones other libraries make
//! through the compatible functions, before anything registers:
//!
//! ```
//! # #[cfg(unix)] {
//! sigmux_registry::set_default_options(sigmux_registry::Options::new().onstack(true))?;
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The options of a signal are settled when it is first installed; signals installed before
//! this call keep theirs. `SA_ONSTACK` only has an effect on threads that have an alternate
//! stack; sigmux makes none. If you make one, size it from `sysconf(_SC_MINSIGSTKSZ)` plus
//! what your handlers need: the old `MINSIGSTKSZ` constant of 2,048 bytes is smaller than a
//! signal frame on CPUs with large vector registers.
//!
//! # `nohup` and inherited ignores
//!
//! A signal that is *ignored* (`SIG_IGN`) stays ignored across `exec`. That is how `nohup`
//! protects a program from `SIGHUP`, and how a shell without job control keeps `SIGINT` and
//! `SIGQUIT` away from the commands it runs in the background. Registering the signal replaces
//! the ignore with a handler, and the program reacts to the very signal its parent meant to
//! keep away from it.
//!
//! [`sigmux_registry::ignored_at_start`] says whether a signal was ignored when the process
//! started (recorded before `main` where the platform allows). With
//! [`Options::keep_ignored`](sigmux_registry::Options::keep_ignored), a registration for such
//! a signal (still ignored at that point) is accepted but the handler is not installed: the
//! signal stays ignored, until a registration asks for `keep_ignored(false)` explicitly. Make it the process-wide default
//! with [`sigmux_registry::set_default_options`] to cover the patterns of this crate too.
//!
//! # Exit status versus death by a signal
//!
//! A process ends either by *exiting* with a status, or by being *killed* by a signal. A
//! parent tells them apart with `WIFEXITED`/`WIFSIGNALED`. Shells print `$?` as 128 + the
//! signal number for the second case, which tempts programs into `exit(130)` after handling
//! `SIGINT`; but to the parent that is an ordinary exit with status 130, not death by
//! `SIGINT`. It matters: after a Ctrl-C, bash running a script stops the script if the
//! command died of `SIGINT`, and carries on if the command merely exited; supervisors log the
//! two differently.
//!
//! To end "as if by the signal" after handling it, call
//! [`emulate_default_handler`](crate::low_level::emulate_default_handler): it puts the
//! default disposition back and raises the signal, so the process dies of it.
//! [`flag::register_conditional_default`](crate::flag::register_conditional_default) does
//! that from inside the handler;
//! [`flag::register_conditional_shutdown`](crate::flag::register_conditional_shutdown) exits
//! with a status instead.
//!
//! ```no_run
//! # #[cfg(unix)] {
//! use sigmux::consts::SIGINT;
//! use sigmux::iterator::Signals;
//!
//! let mut signals = Signals::new([SIGINT])?;
//! if let Some(sig) = signals.forever().next() {
//!     // … finish the work in hand, remove temporary files …
//!     sigmux::low_level::emulate_default_handler(sig)?; // dies of SIGINT
//! }
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # `SIGPIPE`
//!
//! Writing to a pipe or socket whose reading end is closed raises `SIGPIPE` in the writing
//! thread, and its default action kills the process. A Rust executable sets it to ignored
//! before `main`, so there such a write fails with [`BrokenPipe`](std::io::ErrorKind) instead;
//! a Rust library loaded into a C program gets whatever the host chose. Registering `SIGPIPE`
//! with sigmux installs a handler: the write still fails with `EPIPE`, and your action runs
//! too.
//!
//! sigmux's own handler writes to its self-pipes without ever blocking; to a socket it
//! writes with `MSG_NOSIGNAL` on Linux and Android, so a closed reader cannot raise `SIGPIPE`
//! inside the handler. For a plain pipe you gave to [`low_level::pipe`](crate::low_level::pipe), keep
//! the reading end open as long as the registration exists.
//!
//! # `SA_RESTART` and `EINTR`
//!
//! A system call that is blocked when a handler runs on its thread either restarts after the
//! handler or fails with `EINTR`. sigmux installs with `SA_RESTART` (as signal-hook does), so
//! most calls restart. Some fail with `EINTR` regardless: on Linux, among others, `poll`,
//! `select`, `epoll_wait` and the sleeps (`signal(7)` has the list). In Rust an `EINTR` is an
//! error of kind [`Interrupted`](std::io::ErrorKind): `read_exact`, `write_all` and
//! `std::thread::sleep` retry by themselves, a bare `read` or an event loop's `poll` returns it
//! — poll again.
//!
//! [`Options::restart(false)`](sigmux_registry::Options::restart) makes blocking calls fail
//! with `EINTR` instead, which can interrupt a blocking `read` — but only on the thread the
//! handler ran on, which for a signal sent to the process is the kernel's choice.
//!
//! # What an action may do
//!
//! An action runs inside the signal handler, interrupting its thread anywhere — possibly in the
//! middle of `malloc` or while holding a lock. It may only do what is *async-signal-safe*:
//!
//! * atomics, reading memory that nobody frees meanwhile;
//! * the C functions POSIX lists as async-signal-safe (`write`, `kill`, `_exit`, `sem_post`,
//!   …), and sigmux's [`raise`](crate::low_level::raise), [`exit`](crate::low_level::exit),
//!   [`abort`](crate::low_level::abort),
//!   [`emulate_default_handler`](crate::low_level::emulate_default_handler) and
//!   [`Channel::send`](crate::low_level::channel::Channel::send);
//! * no allocation or freeing (`Box`, `Vec`, `String`, `format!`, dropping the last `Arc`), no
//!   locks (`Mutex`, `println!`), no panics: a panicking action aborts the process.
//!
//! The registry saves and restores `errno` around the whole handler, so actions need not. An
//! action is dropped by [`unregister`](sigmux_registry::unregister), outside any handler, so
//! it may own things whose drop frees memory.
//!
//! sigmux's own handler code keeps to these rules, and the repository checks it rather than
//! trusting it: a test-only global allocator that aborts when called inside a handler runs
//! over the handler path of every pattern, with real signals; the test suites and the stress
//! program run under an `LD_PRELOAD` library that reports any `malloc`, `free`, mutex
//! lock or futex wait made inside a handler; and loom models explore the interleavings of the
//! registry's lock-free action lists and of the blocking iterator's wake-up.
