//! Internals: how a signal travels from the kernel to your code.
//!
//! Nothing here is API; it explains why the patterns behave as documented, for readers who
//! want to check them or build their own. The code is in `src/iterator/`: `shared.rs`,
//! `wake/` (how a blocking reader sleeps, chosen per platform: the semaphore parker, the pipe
//! wait, the Windows event), `backend/` (the adapters' core), `exfiltrator/`, `fork.rs`.
//!
//! # The handler
//!
//! The signal handler belongs to [`sigmux_registry`]. For each delivery it calls the handler
//! that was installed before it, then every registered action of the signal in registration
//! order, without locks or allocation. How it reads the action lists while other
//! threads change them, and how it gives the old disposition back, is described in
//! [`sigmux_registry::docs`]. Everything in this crate is one or more such actions.
//!
//! # An iterator's action: store, mark, wake
//!
//! Each [`Signals`](crate::iterator::Signals) (and each adapter stream) owns a shared state with
//! one *slot* per signal number, a *pending* bit set with one bit per signal, and a way to
//! wake its reader. The action it registers for signal `s` does three things:
//!
//! 1. stores what the exfiltrator wants into slot `s` — a flag for
//!    [`SignalOnly`](crate::iterator::exfiltrator::SignalOnly), a copy of the `siginfo_t`
//!    pushed into a small [`Channel`](crate::low_level::channel::Channel) per signal for
//!    [`WithOrigin`](crate::iterator::exfiltrator::WithOrigin) and
//!    [`WithRawSiginfo`](crate::iterator::exfiltrator::WithRawSiginfo), one record in a ring
//!    shared by all its signals for
//!    [`Lossless`](crate::iterator::exfiltrator::lossless::Lossless);
//! 2. sets bit `s` of the pending set (`fetch_or`, `Release`);
//! 3. wakes the reader: on a semaphore (the blocking iterator on Linux and Android, a
//!    semaphore object on Windows) or by writing one byte to a self-pipe (the blocking
//!    iterator on other Unix systems, and every adapter stream).
//!
//! The reader, once woken, clears each set bit it finds (`AcqRel`) and then reads the slot; the
//! `Release`/`Acquire` pair on the bit makes the slot's contents visible. No interleaving
//! loses a signal. One that lands after the reader looked at its bit is either reported by
//! this batch or leaves its bit and its wake-up for the next, which may then find nothing: an
//! empty batch, never a missed signal and never a hang. That is why
//! [`wait`](crate::iterator::SignalsInfo::wait) can return an empty batch and is called in a
//! loop.
//!
//! A batch walks the set bits, not the slots: one atomic load per 64 signal numbers plus one
//! per signal that actually arrived. Since every signal has its own bit, a flood of one signal
//! cannot hide another that arrives in the middle of it.
//!
//! [`Handle::remove_signal`](crate::iterator::Handle::remove_signal) first clears the signal
//! from a second bit set, the *enabled* set (batches skip disabled signals, so nothing is
//! reported after the call returns), then unregisters the action, then throws away what it
//! left behind.
//!
//! # The blocking iterator on Linux and Android: a semaphore, not a pipe
//!
//! A self-pipe costs a `write` in the handler, a `read` in the reader and two descriptors. The
//! blocking iterator needs neither: its reader sleeps in `sem_wait` on a process-private POSIX
//! semaphore, and the handler calls `sem_post` (async-signal-safe by POSIX) only when the
//! reader is asleep or about to be.
//!
//! The state is one 32-bit word: bit 0 means "the reader is asleep or about to sleep", the
//! other bits count wake-ups (wrapping).
//!
//! * The waker, after publishing its news (the pending bit, or the closed flag), adds 2 to the
//!   word; if bit 0 was set in the value it replaced, it posts the semaphore.
//! * The reader sets bit 0, *then* looks for news: a wake-up count that differs from the one it
//!   has consumed, a pending bit, or the closed flag. Only if there is none does it wait on the
//!   semaphore, and it looks again after every return from the wait.
//!
//! Both read-modify-writes hit the same word, so one of them comes first. If the waker's did,
//! the reader's sees the new count and the news with it. If the reader's did, the waker sees
//! bit 0 and posts, and the semaphore keeps the post until the reader takes it, whether it is
//! asleep already or not yet. Either way the reader does not sleep through a signal. The count,
//! not the semaphore, says whether there is news: after waking, the reader clears bit 0 and
//! throws away left-over posts, which are only hints to look.
//!
//! The wake-up count also plays the part of unread bytes in a pipe: a wake-up the reader has
//! not consumed makes the next [`wait`](crate::iterator::SignalsInfo::wait) return at once,
//! just as an unread byte would; [`pending`](crate::iterator::SignalsInfo::pending) consumes
//! them. A semaphore is used rather than a bare futex because sanitizers know `sem_wait` as a
//! blocking call and run a signal that lands on the sleeping thread; under ThreadSanitizer a
//! reader asleep in a raw `FUTEX_WAIT` could sleep for ever. The protocol is model-checked
//! with loom (`ci/loom.sh`).
//!
//! If the semaphore cannot be made, and on other Unix systems, the blocking iterator uses a
//! self-pipe and waits in one blocking `read`, which also drains it.
//!
//! # The self-pipe, for event loops
//!
//! An event loop can only wait on descriptors, so the adapters (`sigmux-mio`, `sigmux-tokio`,
//! `sigmux-async-std`) give each stream a pipe, through
//! [`iterator::backend`](crate::iterator::backend). The handler owns the write end: it is
//! close-on-exec, and written without ever blocking — a socket with `send(MSG_DONTWAIT)` (and
//! `MSG_NOSIGNAL` on Linux, so a closed reader cannot raise `SIGPIPE`), anything else after
//! being made non-blocking. If the pipe is full the byte is dropped; the reader is due to wake
//! anyway. The read end sits in the reactor; when it is readable, the stream drains it without
//! blocking and *then* takes the pending bits. Draining first is what makes the order safe: a
//! signal that arrives after the drain leaves a byte, and so another wake-up.
//!
//! Dropping a stream or iterator unregisters its actions before its read end is closed; the
//! write end lives as long as anything that could still write to it.
//!
//! # Fork
//!
//! A forked child inherits every descriptor. Without care, a signal handled in the child would
//! write into the pipe the parent's reader waits on, and the child's inherited iterator would
//! read the parent's wake-ups. So every live pipe-based delivery is kept in a list, and a
//! `pthread_atfork` hook runs in the child right after `fork`: for each entry it makes a new
//! pipe (or socket pair, matching what was there) and moves it onto the *same* descriptor
//! numbers with `dup2`, keeping the status flags (non-blocking) and setting close-on-exec. What
//! uses those numbers directly — the blocking reader, the handler's write end — carries on
//! unchanged, now on a pipe of the child's own. A reactor's registration does not follow: epoll
//! (and kqueue) watch the open pipe, not its number, and the reactor itself is shared with the
//! parent. So the async adapters end an inherited stream with an error on its first poll, and
//! sigmux-mio's users register with a new `Poll` in the child (see
//! [pitfalls](super::pitfalls#fork)). The hook uses only async-signal-safe calls; if one fails,
//! that delivery may go on sharing its pipe with the parent.
//!
//! The list's lock is taken around the `fork`, so no delivery is half-made or half-dropped in
//! the child's copy, and a delivery leaves the list before its descriptors are closed, so the
//! child never touches a number that was reused meanwhile. The hooks are listed in the
//! registry's ordered fork-hook list (so they run before the registry takes its lock) before
//! the first delivery exists; the registry installs that list's `pthread_atfork` hooks before
//! `main` where the platform has a constructor list. Pipes handed to
//! [`low_level::pipe`](crate::low_level::pipe) belong to the caller and are not in the list.
//!
//! The semaphore-based iterator needs none of this: the semaphore lives in the process's
//! memory, which the child gets a copy of, so a post in one process never reaches the other.
//!
//! The repository's fork tests (in `sigmux-stress`) check both directions — a signal handled in
//! the child does not wake the parent's iterator, nor the parent's the child's inherited one —
//! and that a child can use iterators and flags even when another thread was registering or
//! inside a handler at the moment of the fork.
