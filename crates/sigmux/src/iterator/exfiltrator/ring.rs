//! A bounded ring of records that signal handlers push into and the reader pops from, in the
//! order the pushes took their places: the storage of [`Lossless`](super::Lossless).
//!
//! It is the bounded multi-producer queue with one sequence number per cell (after
//! D. Vyukov's design): cell `i` is free for the push at position `p` when its sequence is `p`,
//! holds that push's record when it is `p + 1`, and is free for position `p + capacity` once
//! the reader has taken the record. A push claims its position with one compare-exchange on
//! the tail and then owns the cell; nothing ever waits for another thread.
//!
//! * **Handler side** ([`push`](Ring::push)): no allocation (the cells are allocated by
//!   [`new`](Ring::new), before any handler can see the ring), no lock, no panic (cell
//!   indices are reduced modulo the length and read with `get`). Lock-free: the
//!   compare-exchange is retried only when another push took the same position first, so
//!   some push always completes; a full ring makes `push` return at once.
//! * **Each cell also carries a word, [`carried`](Ring::push)**, set by the push that fills
//!   it and taken (swapped to 0) by the reader, before or together with the record. The
//!   lossless exfiltrator puts there "how many deliveries of this signal were lost just
//!   before this one".
//!
//! Positions are `usize` and wrap around; sequence arithmetic is done modulo `usize`, which is
//! correct as long as fewer than `usize::MAX / 2` pushes are in flight (the capacity is far
//! below that).
//!
//! Under `--cfg sigmux_ring_loom` (`ci/loom.sh`) the atomics and the cell are loom's, and the
//! `model` tests at the end of this file explore every interleaving of pushers against a
//! reader: every record is popped exactly once, in the order its push claimed its position,
//! and a full ring reports `Full`.

use std::fmt;
use std::mem::MaybeUninit;

#[cfg(sigmux_ring_loom)]
use loom::cell::UnsafeCell;
#[cfg(sigmux_ring_loom)]
use loom::sync::atomic::{fence, AtomicUsize, Ordering};
#[cfg(not(sigmux_ring_loom))]
use std::sync::atomic::{AtomicUsize, Ordering};

/// `std`'s `UnsafeCell` behind the small part of loom's API this file uses.
#[cfg(not(sigmux_ring_loom))]
struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(sigmux_ring_loom))]
impl<T> UnsafeCell<T> {
    fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// One place of the ring.
struct Cell<T> {
    /// See the module docs: `p` free for position `p`, `p + 1` full.
    seq: AtomicUsize,
    /// The word pushed with the record, taken by the reader.
    carried: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded multi-producer queue of `Copy` records, pushable from signal handlers.
pub(crate) struct Ring<T: Copy> {
    cells: Box<[Cell<T>]>,
    /// The next position a push claims.
    tail: AtomicUsize,
    /// The next position the reader takes.
    head: AtomicUsize,
}

// SAFETY: a cell's value is written only by the push that claimed its position (the tail's
// compare-exchange gives the position to one thread) and read only by the reader that claimed
// it (the head's compare-exchange), and the `seq` store/load pairs (Release/Acquire) order
// the write before the read and the read before the next write. `T: Send` is enough for the
// values to move between threads that way.
unsafe impl<T: Copy + Send> Sync for Ring<T> {}
// SAFETY: the ring owns its values; moving it moves them (`T: Send`).
unsafe impl<T: Copy + Send> Send for Ring<T> {}

/// Reads a cell's sequence number with acquire semantics. Async-signal-safe.
///
/// An acquire load, except in the loom model (`--cfg sigmux_ring_loom`), where it is the
/// equivalent relaxed load followed by an acquire fence: loom 0.7 missed the synchronisation
/// of a plain acquire load in a thread that had read the same atomic before (the reader
/// polling an empty cell) and reported a race that cannot happen. The two synchronise with
/// the Release store that wrote the value read in the same way; the plain load is kept for
/// real builds because ThreadSanitizer does not model standalone fences (it reported the
/// fence form as a race between two pushers of successive laps).
#[inline]
fn acquire_seq<T>(cell: &Cell<T>) -> usize {
    #[cfg(sigmux_ring_loom)]
    {
        let seq = cell.seq.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        seq
    }
    #[cfg(not(sigmux_ring_loom))]
    {
        cell.seq.load(Ordering::Acquire)
    }
}

/// What [`Ring::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Push {
    /// The record has its place; the reader will get it after every earlier one.
    Stored,
    /// No free cell: nothing was stored.
    Full,
}

impl<T: Copy> Ring<T> {
    /// A ring with room for `capacity` records (at least 2: with one cell, "full for position
    /// `p`" and "free for position `p + 1`" would be the same sequence number). Allocates;
    /// never call it from a handler.
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        let cells = (0..capacity)
            .map(|i| Cell {
                seq: AtomicUsize::new(i),
                carried: AtomicUsize::new(0),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            cells,
            tail: AtomicUsize::new(0),
            head: AtomicUsize::new(0),
        }
    }

    /// How many records fit.
    pub(crate) fn capacity(&self) -> usize {
        self.cells.len()
    }

    fn cell(&self, position: usize) -> Option<&Cell<T>> {
        // `len` is at least 1, so the remainder is in bounds; `get` keeps it panic-free anyway.
        self.cells.get(position % self.cells.len())
    }

    /// Appends `value` with its `carried` word, unless the ring is full.
    ///
    /// This function is async-signal-safe: atomic loads, compare-exchanges and stores on memory
    /// allocated in advance, and one copy of `value`; no allocation, lock or panic. It may
    /// interrupt (or run beside) any other operation on the ring.
    pub(crate) fn push(&self, value: T, carried: usize) -> Push {
        let mut position = self.tail.load(Ordering::Relaxed);
        loop {
            let cell = match self.cell(position) {
                Some(cell) => cell,
                None => return Push::Full,
            };
            let seq = acquire_seq(cell);
            let diff = seq.wrapping_sub(position) as isize;
            if diff == 0 {
                // Free for this position: claim it.
                match self.tail.compare_exchange_weak(
                    position,
                    position.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the compare-exchange gave this position to this call alone,
                        // and the cell's `seq == position` (read with acquire semantics) says the reader
                        // has finished with its previous record, so nobody else touches the
                        // value until the Release store of `seq` below publishes it.
                        cell.value.with_mut(|slot| unsafe { (*slot).write(value) });
                        cell.carried.store(carried, Ordering::Relaxed);
                        cell.seq.store(position.wrapping_add(1), Ordering::Release);
                        return Push::Stored;
                    }
                    Err(current) => position = current,
                }
            } else if diff < 0 {
                // The cell still holds the record from one lap ago: full.
                return Push::Full;
            } else {
                // Another push took this position meanwhile; try the current tail.
                position = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the `carried` word of the oldest record (leaving 0 in its place) if that word is
    /// not 0, without taking the record. `None` if the ring is empty or the word is 0.
    pub(crate) fn take_front_carried(&self) -> Option<usize> {
        let position = self.head.load(Ordering::Acquire);
        let cell = self.cell(position)?;
        let seq = acquire_seq(cell);
        if seq != position.wrapping_add(1) {
            return None; // empty (or another reader is taking it)
        }
        if cell.carried.load(Ordering::Relaxed) == 0 {
            return None;
        }
        match cell.carried.swap(0, Ordering::AcqRel) {
            0 => None,
            word => Some(word),
        }
    }

    /// Takes the oldest record, with what is left of its `carried` word.
    pub(crate) fn pop(&self) -> Option<(T, usize)> {
        let mut position = self.head.load(Ordering::Relaxed);
        loop {
            let cell = self.cell(position)?;
            let seq = acquire_seq(cell);
            let diff = seq.wrapping_sub(position.wrapping_add(1)) as isize;
            if diff == 0 {
                match self.head.compare_exchange_weak(
                    position,
                    position.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: `seq == position + 1` (acquire semantics, pairing with the push's
                        // Release) says the value at this position is written and visible; the
                        // compare-exchange gave the position to this call alone, and no push
                        // writes the cell again before the Release store of `seq` below.
                        let value = cell.value.with(|slot| unsafe { (*slot).assume_init() });
                        let carried = cell.carried.swap(0, Ordering::Relaxed);
                        cell.seq
                            .store(position.wrapping_add(self.cells.len()), Ordering::Release);
                        return Some((value, carried));
                    }
                    Err(current) => position = current,
                }
            } else if diff < 0 {
                return None; // empty
            } else {
                position = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// The positions `(head, tail)`: how far the reader and the pushes have got. The ring was
    /// empty at some moment if a reader reads `head == tail` (head first).
    pub(crate) fn positions(&self) -> (usize, usize) {
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst);
        (head, tail)
    }

    /// The current tail: the position the next push will claim.
    pub(crate) fn tail(&self) -> usize {
        self.tail.load(Ordering::SeqCst)
    }
}

impl<T: Copy> fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, tail) = self.positions();
        f.debug_struct("Ring")
            .field("capacity", &self.capacity())
            .field("len", &tail.wrapping_sub(head).min(self.capacity()))
            .finish()
    }
}

#[cfg(all(test, not(sigmux_ring_loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_wrap_around_and_full() {
        let ring = Ring::<u32>::new(3);
        for lap in 0..5u32 {
            assert_eq!(ring.push(lap * 10, 0), Push::Stored);
            assert_eq!(ring.push(lap * 10 + 1, 7), Push::Stored);
            assert_eq!(ring.push(lap * 10 + 2, 0), Push::Stored);
            assert_eq!(ring.push(99, 0), Push::Full);
            assert_eq!(ring.pop(), Some((lap * 10, 0)));
            assert_eq!(ring.take_front_carried(), Some(7));
            assert_eq!(ring.take_front_carried(), None);
            assert_eq!(ring.pop(), Some((lap * 10 + 1, 0)));
            assert_eq!(ring.pop(), Some((lap * 10 + 2, 0)));
            assert_eq!(ring.pop(), None);
        }
    }

    #[test]
    fn capacity_below_two_means_two() {
        let ring = Ring::<u8>::new(1);
        assert_eq!(ring.capacity(), 2);
        assert_eq!(ring.push(1, 0), Push::Stored);
        assert_eq!(ring.push(2, 0), Push::Stored);
        assert_eq!(ring.push(3, 0), Push::Full);
        assert_eq!(ring.pop(), Some((1, 0)));
    }

    #[test]
    fn threads_keep_each_pushers_order() {
        use std::sync::Arc;
        let ring = Arc::new(Ring::<(u8, u32)>::new(64));
        let pushers: Vec<_> = (0..3u8)
            .map(|who| {
                let ring = Arc::clone(&ring);
                std::thread::spawn(move || {
                    let mut n = 0;
                    while n < 5_000 {
                        if ring.push((who, n), 0) == Push::Stored {
                            n += 1;
                        }
                    }
                })
            })
            .collect();
        let mut next = [0u32; 3];
        while next.iter().any(|&n| n < 5_000) {
            if let Some(((who, n), _)) = ring.pop() {
                assert_eq!(next[who as usize], n);
                next[who as usize] += 1;
            }
        }
        for pusher in pushers {
            pusher.join().unwrap();
        }
        assert_eq!(ring.pop(), None);
    }
}

#[cfg(all(test, sigmux_ring_loom))]
mod model {
    use loom::sync::Arc;
    use loom::thread;

    use super::{Push, Ring};

    /// Two pushers (standing for handlers on two threads) against a reader: every stored
    /// record comes out exactly once, each pusher's records in its order, with the word
    /// pushed with it; what did not fit was reported `Full`.
    #[test]
    fn two_pushers_one_reader() {
        loom::model(|| {
            let ring = Arc::new(Ring::<u32>::new(2));
            let pushers: Vec<_> = [10u32, 20]
                .iter()
                .map(|&base| {
                    let ring = Arc::clone(&ring);
                    thread::spawn(move || {
                        let mut stored = Vec::new();
                        for n in base..base + 2 {
                            if ring.push(n, n as usize) == Push::Stored {
                                stored.push(n);
                            }
                        }
                        stored
                    })
                })
                .collect();
            // The reader runs beside the pushers until it has taken two records (the first
            // two pushes always fit), yielding while it finds nothing (loom explores the
            // interleavings at the atomic operations and the yields).
            let mut seen = Vec::new();
            while seen.len() < 2 {
                match ring.pop() {
                    Some((value, carried)) => {
                        assert_eq!(carried, value as usize);
                        seen.push(value);
                    }
                    None => thread::yield_now(),
                }
            }
            let mut stored = Vec::new();
            for pusher in pushers {
                stored.extend(pusher.join().unwrap());
            }
            while let Some((value, carried)) = ring.pop() {
                assert_eq!(carried, value as usize);
                seen.push(value);
            }
            let mut sorted_seen = seen.clone();
            sorted_seen.sort_unstable();
            stored.sort_unstable();
            assert_eq!(sorted_seen, stored, "lost or duplicated: {:?}", seen);
            for base in [10u32, 20] {
                let mine: Vec<_> = seen.iter().filter(|&&v| v / 10 * 10 == base).collect();
                assert!(
                    mine.windows(2).all(|w| w[0] < w[1]),
                    "out of order: {:?}",
                    seen
                );
            }
        });
    }

    /// A handler racing the reader: the reader sees the word only with the whole record
    /// behind it, and the word is taken once.
    #[test]
    fn carried_word_taken_once() {
        loom::model(|| {
            let ring = Arc::new(Ring::<u32>::new(2));
            let pusher = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || ring.push(7, 3))
            };
            // Take the word while the push may be under way, then the record, beside it.
            let early = loop {
                if let Some(word) = ring.take_front_carried() {
                    break word;
                }
                thread::yield_now();
            };
            let (value, rest) = ring.pop().unwrap();
            assert_eq!(value, 7);
            assert_eq!(early + rest, 3);
            assert_eq!(pusher.join().unwrap(), Push::Stored);
            assert_eq!(ring.pop(), None);
        });
    }
}
