//! Internals: how the registry runs actions without locks, chains to the previous handler,
//! gives dispositions back and survives `fork`.
//!
//! Nothing here is API; this page explains why the documented guarantees hold. The file
//! names below are those of the crate's `src/` directory. The `sigmux` crate's guide builds
//! on this page (its `docs` module).
//!
//! # Two halves
//!
//! * **Handler side.** A static table, built at compile time, holds one slot per signal
//!   number: the list of the signal's actions and a pointer to the disposition to chain to.
//!   The handler only reads it. There is nothing to initialise lazily, so nothing for a
//!   handler to wait for.
//! * **Writer side.** Registering and unregistering take one `Mutex` (`registry.rs`) over the
//!   ids and the per-signal bookkeeping. So there is one writer at a time, which is what the
//!   lock-free structures below require of their writers. The handler never takes it.
//!
//! # The handler (`handler.rs`)
//!
//! For each delivery the handler saves `errno`, announces itself as a reader (see grace
//! periods below) and copies out the previous disposition, leaves to call it, announces itself
//! again, runs the signal's actions in registration order, leaves, and restores `errno`. The
//! previous handler is called outside the grace period so that one that never returns (it
//! leaves with `siglongjmp`) cannot keep [`unregister`](crate::unregister) waiting. If sigmux
//! let go of the signal meanwhile (the last action was removed with a restore) and no action
//! ran, the delivery is passed on to the restored disposition, so none is lost in the switch.
//! The previous disposition is called in its own calling
//! convention — the one-argument form if it was installed without `SA_SIGINFO`, the
//! three-argument form otherwise — and not at all if it was `SIG_DFL`, `SIG_IGN` or sigmux's own
//! handler. If the kernel passes no `siginfo_t`, actions get a zeroed one naming the signal.
//! If an action panics, the handler aborts the process: unwinding out of a signal handler would
//! be undefined behaviour.
//!
//! # The action lists (`actions.rs`)
//!
//! Each signal's actions form a singly linked list in registration order. The handler follows
//! `next` pointers (`Acquire` loads) and calls each action; it never writes.
//!
//! * **Add**: a node is fully built before the `Release` store that links it at the tail; a
//!   handler that reaches it sees all of it.
//! * **Remove**: the predecessor's `next` is redirected past the node (`Release`). The removed
//!   node keeps its own `next`, so a handler standing on it walks on to the rest of the list; a
//!   handler that starts later never reaches it.
//! * **Free**: only after a grace period that began after the removal.
//!
//! A back pointer that only the writer uses makes adding and removing O(1) list work, plus an
//! O(log n) look-up of the id in the signal's own map. Nothing is copied, and other signals'
//! actions are not touched, so registering stays cheap however many actions are present.
//!
//! # Grace periods (`grace.rs`)
//!
//! The writer must not free a removed node while a handler that started before the removal may
//! still stand on it. One word answers "have they all left?": a phase bit and two reader
//! counters, one per phase.
//!
//! * A **reader** (the handler) guesses the current phase with a plain load and adds one to that
//!   phase's counter. If the value the add returns shows that the phase changed in between, it
//!   adds itself to the other counter too and then drops the count it does not need: at most
//!   three read-modify-writes and no loop, so the handler is wait-free. Leaving subtracts the
//!   count again (`Release`).
//! * The **writer**, after unlinking, flips the phase and waits until the old phase's counter
//!   reaches zero. Readers that entered before the flip are counted there; readers that entered
//!   after it synchronize with the flip and cannot reach the unlinked node. The wait is bounded
//!   by the longest walk of an action list already running at the flip (a previous handler
//!   called by the chain does not count: it runs outside), since new readers count in the new
//!   phase.
//!
//! All of it goes through one atomic location, so acquire/release orderings suffice; the module
//! docs of `grace.rs` give the argument in full. Removed nodes are freed, and their actions
//! dropped, after the lock is released. That is why [`unregister`](crate::unregister)
//! returns only when the action cannot run any more and has been dropped, and why it must not
//! be called from a handler (it would wait for itself).
//!
//! The grace period and the lists are model-checked with [loom](https://docs.rs/loom): under
//! `--cfg sigmux_loom`, `primitive.rs` swaps the atomics for loom's, and `tests/loom.rs`
//! explores every interleaving of the exact code the handler runs against writers that add,
//! remove and free.
//!
//! # Installing (`registry.rs`)
//!
//! The first action of a signal installs the handler. The order matters: the registry reads
//! the current disposition, publishes it as the one to chain to, and only then calls
//! `sigaction` to install its handler (`SA_SIGINFO` plus the signal's options, an empty mask).
//! A signal arriving during the install meets either the old disposition or sigmux's handler,
//! which already knows the old one and calls it. If another thread outside sigmux changed the
//! disposition between the read and the install, the registry chains to what `sigaction`
//! reports it actually replaced. On Windows, where reading a disposition changes it, the slot
//! is marked as being installed and a handler that arrives in that window spins for the few
//! instructions until the replaced handler is published.
//!
//! # Options, restore and inherited ignores (`options.rs`, `registry.rs`)
//!
//! A signal's [`Options`](crate::Options) are settled by its first registration: what it asks
//! for, the rest from the process-wide defaults. A later registration that explicitly asks for
//! a different value gets an error naming the option; one that leaves an option open accepts
//! what is in force. `keep_ignored` is the exception: asking for `true` accepts the signal's
//! state, and asking for `false` overrides a kept ignore (sigmux's handler is installed then).
//!
//! When the last action of a signal registered with [`restore`](crate::Options::restore) is
//! removed, the registry checks that its handler is still the installed one and puts the
//! replaced disposition back *before* unlinking the action. Until that `sigaction`, deliveries
//! reach sigmux's handler, which still runs the action; after it, the restored disposition
//! gets them; none falls in between. If `sigaction` reports that it displaced someone else's
//! handler (installed in the instant between the check and the restore), that handler is put
//! back at once and sigmux keeps chaining; should that library install yet again before the
//! put-back, the put-back's own answer shows it and its newer handler is put back in turn, so
//! what stays is always the other library's latest. If another library had installed over sigmux, the
//! restore is put off and sigmux keeps chaining; it is tried again whenever the registry next
//! works on that signal (a registration, [`disposition`](crate::disposition),
//! [`ignore`](crate::ignore), [`set_default_action`](crate::set_default_action)) and done once
//! sigmux's handler is the installed one again. Without `restore` the handler stays installed;
//! with no actions it only chains to the previous disposition.
//!
//! Which signals were ignored when the process started is recorded by a function in the
//! executable's constructor list, which runs before `main` (on Linux, Android, the BSDs,
//! illumos, Solaris and Apple platforms); elsewhere it is recorded at the first use. A registration with
//! [`keep_ignored`](crate::Options::keep_ignored) for a signal that was ignored then and still
//! is records the action but installs nothing.
//!
//! # Fork
//!
//! A child starts with only the thread that called `fork`. Had another thread held the
//! registry's lock, or been inside the handler (counted as a reader), the child would wait for
//! it for ever on its first registration or removal. So `pthread_atfork` hooks take the lock
//! before every `fork` and release it on both sides, and in the child also forget all readers:
//! they were threads the child does not have. The forking thread is not one of them, which is
//! why forking from inside an action is not supported.
//!
//! The hooks are installed by the same constructor, before `main`, and otherwise at the first
//! use of the registry. That lazy path never waits (it is a compare-and-swap, not a `Once`, whose
//! "running" state a child forked at the wrong moment would wait on for ever); a fork that
//! races with that very first use on such a platform may go unprotected.
//!
//! The constructor entry and the `pthread_atfork` hooks are the family's only ones (module
//! `fork`): `sigmux` lists its own fork hooks in them (the hidden `__fork` module, a fixed
//! array, nothing allocated around `fork`). Listed `prepare` hooks run in registration order
//! before the registry takes its lock; `parent` and `child` hooks after the registry's, in
//! the reverse order (`tests/fork_hooks.rs`).
//!
//! # Checks
//!
//! Besides the loom model: `tests/no_alloc_in_handler.rs` runs real signals through the
//! handler under a global allocator that aborts when called inside a handler;
//! `tests/fork.rs` forks while other threads register or are inside the handler, and uses the
//! registry in the child under a watchdog; `tests/semantics.rs` covers chaining, `errno` and a
//! signal arriving during the first install; `tests/dispositions.rs` covers options,
//! restoring, removal racing a flood of signals, the alternate stack and `EINTR` without
//! `SA_RESTART`; `tests/panicking_action.rs` the abort on a panic.
