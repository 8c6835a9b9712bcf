//! Grace periods: knowing when no signal handler can still see a removed node.
//!
//! The handler reads the per-signal action lists without locks. A writer (holding the
//! registry's mutex) that unlinks a node must not free it while a handler that started before
//! the unlink may still be walking over it. [`Grace`] answers "have all such handlers left?"
//! with one word of state, and costs the handler nothing but atomic adds (wait-free).
//!
//! # The protocol
//!
//! The word holds a *phase* bit and two reader counters, one per phase:
//!
//! ```text
//!   [ phase | readers in phase 1 | readers in phase 0 ]
//! ```
//!
//! * **Reader** (`enter`): guesses the phase from a plain load and adds one to that phase's
//!   counter with a single `fetch_add`. The value returned says which phase was current at
//!   the instant of the add; if it is the guessed one, the reader is counted in the phase
//!   that was current at its synchronizing operation, which is all the writer needs. If the
//!   guess was stale (a writer flipped in between), the reader adds itself to the *other*
//!   counter too: now it is counted in both, so whatever phase that second `fetch_add`
//!   reports as current, the reader is counted in it; a third `fetch_add` drops the count it
//!   does not need. At most three atomic operations, no loop: wait-free. `leave` subtracts
//!   the count again.
//! * **Writer** (`synchronize`): flips the phase with `fetch_xor`, then waits until the old
//!   phase's counter is zero. A reader counted in the old phase entered before the flip and
//!   may see the old list; the writer waits for it. A reader whose add lands after the flip
//!   sees the writer's unlink (see orderings), so it cannot reach the removed node. The wait
//!   is bounded by the longest handler in flight at the flip: new readers land in the new
//!   phase (only a reader with a stale guess touches the old counter, and only for one
//!   instruction).
//!
//! # Orderings
//!
//! * The writer unlinks with `Release` stores, then flips with `AcqRel`. A reader's `fetch_add`
//!   (`Acquire`) that returns the new phase reads from the flip or from a later read-modify-write
//!   (which continues the flip's release sequence), so it synchronizes with the flip: the
//!   unlink happens-before everything the reader does next.
//! * The reader leaves with a `Release` `fetch_sub`; the writer polls with `Acquire`. The value
//!   in which the old counter reads zero is written by the last reader's `fetch_sub`, and every
//!   earlier reader's `fetch_sub` heads a release sequence that contains it, so every read the
//!   old readers made happens-before the writer frees the node.
//!
//! No `SeqCst` is needed: everything goes through one atomic location.

// `pub` (in a private module) so that the loom model can reach these through `__loom`.
#![allow(unreachable_pub)]

use crate::primitive::{backoff, AtomicUsize, Ordering};

const HALF: u32 = usize::BITS / 2;
const PHASE: usize = 1 << (usize::BITS - 1);
const LOW: usize = (1 << HALF) - 1;

/// One reader in phase `p` (0 or 1).
const fn one(p: usize) -> usize {
    if p == 0 {
        1
    } else {
        1 << HALF
    }
}

/// The counter bits of phase `p` (0 or 1).
const fn count_mask(p: usize) -> usize {
    if p == 0 {
        LOW
    } else {
        !PHASE & !LOW
    }
}

/// The phase bit of a word (0 or 1).
fn phase(word: usize) -> usize {
    word >> (usize::BITS - 1)
}

/// Reader counting with two alternating phases. See the module docs.
#[derive(Debug)]
pub struct Grace {
    word: AtomicUsize,
}

/// A reader's presence; leaving is done by dropping it.
#[derive(Debug)]
pub struct ReadGuard<'a> {
    grace: &'a Grace,
    one: usize,
}

impl Grace {
    /// A grace-period tracker with no readers.
    #[cfg(not(sigmux_loom))]
    pub const fn new() -> Self {
        Grace {
            word: AtomicUsize::new(0),
        }
    }

    /// A grace-period tracker with no readers.
    #[cfg(sigmux_loom)]
    pub fn new() -> Self {
        Grace {
            word: AtomicUsize::new(0),
        }
    }

    /// Marks the caller as a reader until the guard drops.
    ///
    /// Async-signal-safe and wait-free: at most three atomic read-modify-writes (one when no
    /// writer flips the phase meanwhile), no loops.
    #[inline]
    pub fn enter(&self) -> ReadGuard<'_> {
        let guess = phase(self.word.load(Ordering::Relaxed));
        let before = self.word.fetch_add(one(guess), Ordering::Acquire);
        if phase(before) == guess {
            return ReadGuard {
                grace: self,
                one: one(guess),
            };
        }
        // A writer flipped between the load and the add. Count ourselves in both phases; the
        // phase current at this add is the one we stay in (this add is the one we
        // synchronize through), so drop the other count.
        let other = guess ^ 1;
        let before = self.word.fetch_add(one(other), Ordering::Acquire);
        let current = phase(before);
        self.word.fetch_sub(one(current ^ 1), Ordering::Relaxed);
        let one = one(current);
        ReadGuard { grace: self, one }
    }

    /// Waits until every reader that entered before this call has left.
    ///
    /// Writers call it with the registry's lock held (only one writer at a time), after
    /// unlinking what they want to free. Never call it from a signal handler: it waits.
    pub fn synchronize(&self) {
        let before = self.word.fetch_xor(PHASE, Ordering::AcqRel);
        let old = phase(before);
        let mut round = 0u32;
        while self.word.load(Ordering::Acquire) & count_mask(old) != 0 {
            backoff(round);
            round = round.saturating_add(1);
        }
    }
}

impl Grace {
    /// In a freshly forked child: forgets the readers, which were all threads of the parent
    /// (the child has only the forking thread, which is not inside a handler). Keeps the phase.
    #[cfg(not(sigmux_loom))]
    pub fn forget_readers(&self) {
        self.word.fetch_and(PHASE, Ordering::Relaxed);
    }
}

impl Drop for ReadGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.grace.word.fetch_sub(self.one, Ordering::Release);
    }
}
