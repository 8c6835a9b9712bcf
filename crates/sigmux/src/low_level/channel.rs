//! A tiny channel whose every operation is async-signal-safe.
//!
//! An atomic can carry a flag or a number out of a signal handler, but not a whole
//! `siginfo_t`. [`Channel`] carries such values: a handler [`send`](Channel::send)s, ordinary
//! code [`recv`](Channel::recv)s. The [`exfiltrators`](crate::iterator::exfiltrator) that
//! report `siginfo_t` use one channel per signal.
//!
//! # How it works
//!
//! The channel is a fixed array of cells. Each cell has one atomic word holding its state —
//! *empty*, *busy* (being filled or emptied by someone) or *full* — and the ticket taken from
//! a counter when its value was sent; the word changes only by compare-and-swap or by the
//! store of the one who made it busy.
//!
//! * `send` takes a ticket, claims the first empty cell (empty → busy), writes the value,
//!   and publishes it with its ticket (busy → full, `Release`). If no cell is empty it drops
//!   the value: a handler must never wait.
//! * `recv` looks for the full cell with the oldest ticket, claims it with a CAS on exactly
//!   the word it saw (that ticket, full → busy, `Acquire`), moves the value out and frees the
//!   cell (busy → empty, `Release`). If the cell was emptied and filled again meanwhile, its
//!   ticket differs, the CAS fails and `recv` looks again: it never takes a newer value in
//!   place of the one it chose.
//!
//! No operation ever waits for another one to finish: a cell that is busy is simply skipped.
//! So a handler interrupting a `recv` on the same thread cannot deadlock, and several
//! handlers may send at once. Values sent by one thread come out in the order they were sent,
//! however many threads receive.
//!
//! Where the platform has 64-bit atomics the word is 64 bits (62 of ticket); elsewhere it is
//! a `usize`, so on a 32-bit platform without 64-bit atomics a receiver could take a newer
//! value only if a multiple of 2^30 values were sent between its look and its claim.

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering;

/// One cell's state and ticket, packed: the ticket times four, plus the state.
#[cfg(target_has_atomic = "64")]
type Word = u64;
#[cfg(target_has_atomic = "64")]
type AtomicWord = std::sync::atomic::AtomicU64;
#[cfg(not(target_has_atomic = "64"))]
type Word = usize;
#[cfg(not(target_has_atomic = "64"))]
type AtomicWord = std::sync::atomic::AtomicUsize;

/// Number of cells; also the most values a channel holds.
const CELLS: usize = 5;

const EMPTY: Word = 0;
const BUSY: Word = 1;
const FULL: Word = 2;
/// The bits of a word that hold the state.
const STATE: Word = 3;

/// The word of a cell in `state` holding the value of `ticket` (tickets wrap around).
fn word(ticket: Word, state: Word) -> Word {
    ticket.wrapping_mul(STATE + 1) | state
}

/// Whether `a`'s ticket is older than `b`'s, by their signed distance (tickets wrap around).
fn older(a: Word, b: Word) -> bool {
    let distance = (a & !STATE).wrapping_sub(b & !STATE);
    distance > Word::MAX / 2
}

struct Cell<T> {
    word: AtomicWord,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Cell<T> {
    const fn new() -> Self {
        Cell {
            word: AtomicWord::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

/// A bounded channel for passing values out of signal handlers.
///
/// Compared with an ordinary channel it is restricted:
///
/// * it holds at most a few values (currently 5); when full, [`send`](Channel::send) drops the
///   new value silently. For a standard signal that loses nothing the kernel would have kept
///   (it merges a signal sent while the same one is pending); for a queued real-time signal
///   it loses a delivery and its payload (see
///   [`Lossless`](crate::iterator::exfiltrator::Lossless) for a lossless store). Use one
///   channel per signal;
/// * nothing blocks: [`recv`](Channel::recv) returns `None` when empty, and nobody is woken up
///   (pair it with a [self-pipe](crate::low_level::pipe) for that).
///
/// In exchange, [`send`](Channel::send) and [`recv`](Channel::recv) are async-signal-safe:
/// they only use atomic operations on the channel's own memory, never allocate, lock or wait.
/// Creating and dropping the *values* inside a handler must be async-signal-safe too (no
/// `String`, `Box`, …); `siginfo_t` or plain numbers are fine.
///
/// Any number of threads (and handlers) may send and receive at once. Values sent from one
/// thread are received in that order.
///
/// ```
/// use sigmux::low_level::channel::Channel;
///
/// let channel = Channel::new();
/// channel.send(1);
/// channel.send(2);
/// assert_eq!(channel.recv(), Some(1));
/// assert_eq!(channel.recv(), Some(2));
/// assert_eq!(channel.recv(), None);
/// ```
pub struct Channel<T> {
    cells: [Cell<T>; CELLS],
    next_ticket: AtomicWord,
}

impl<T> Channel<T> {
    /// Creates an empty channel.
    pub fn new() -> Self {
        Channel {
            cells: [
                Cell::new(),
                Cell::new(),
                Cell::new(),
                Cell::new(),
                Cell::new(),
            ],
            next_ticket: AtomicWord::new(0),
        }
    }

    /// Puts a value in, or drops it if the channel is full. Never blocks.
    ///
    /// This function is async-signal-safe (as long as dropping a `T` is): only lock-free
    /// atomic operations on the channel's own memory (64-bit ones only where the platform
    /// has them natively) and a move of the value.
    pub fn send(&self, val: T) {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        for cell in &self.cells {
            let seen = cell.word.load(Ordering::Relaxed);
            if seen & STATE != EMPTY {
                continue;
            }
            if cell
                .word
                .compare_exchange(
                    seen,
                    word(ticket, BUSY),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                // SAFETY: the empty → busy transition gives us exclusive access to the cell's
                // value until we publish it (Acquire: the receiver that emptied it has finished
                // reading it); an empty cell holds no initialised value.
                unsafe { (*cell.value.get()).write(val) };
                // Release: the value is visible to whoever acquires this full word.
                cell.word.store(word(ticket, FULL), Ordering::Release);
                return;
            }
        }
        // No room: drop the value (documented: a loss for queued real-time signals).
    }

    /// Takes the oldest value out, or returns `None` if there is none. Never blocks.
    ///
    /// This function is async-signal-safe.
    pub fn recv(&self) -> Option<T> {
        loop {
            // One scan is not a snapshot: a value may be published into a cell the scan has
            // already passed while a later one is seen. Scanning again until the oldest value
            // stays the same fixes that for values sent by one thread: seeing the later value
            // (Acquire) makes the earlier one visible to the next scan.
            let mut oldest = self.oldest_full()?;
            loop {
                let again = self.oldest_full()?;
                if again == oldest {
                    break;
                }
                oldest = again;
            }
            let (index, seen) = oldest;
            let cell = self.cells.get(index)?;
            // Exactly the word we chose: if the cell was emptied and filled again since, its
            // ticket differs and the claim fails.
            let busy = (seen & !STATE) | BUSY;
            if cell
                .word
                .compare_exchange(seen, busy, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                // Taken by another receiver: look again.
                continue;
            }
            // SAFETY: full → busy gives us exclusive access; a full cell holds an initialised
            // value (published with Release, acquired above), which we move out exactly once.
            let value = unsafe { (*cell.value.get()).assume_init_read() };
            cell.word.store((seen & !STATE) | EMPTY, Ordering::Release);
            return Some(value);
        }
    }

    /// The index and word of the full cell with the oldest ticket.
    fn oldest_full(&self) -> Option<(usize, Word)> {
        let mut oldest: Option<(usize, Word)> = None;
        for (index, cell) in self.cells.iter().enumerate() {
            let seen = cell.word.load(Ordering::Acquire);
            if seen & STATE != FULL {
                continue;
            }
            if oldest.map_or(true, |(_, best)| older(seen, best)) {
                oldest = Some((index, seen));
            }
        }
        oldest
    }
}

impl<T> Default for Channel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for Channel<T> {
    fn drop(&mut self) {
        for cell in &mut self.cells {
            if *cell.word.get_mut() & STATE == FULL {
                // SAFETY: `&mut self` means no one else touches the cell; full cells hold an
                // initialised value, dropped here once.
                unsafe { cell.value.get_mut().assume_init_drop() };
            }
        }
    }
}

impl<T> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self
            .cells
            .iter()
            .filter(|cell| cell.word.load(Ordering::Relaxed) & STATE == FULL)
            .count();
        f.debug_struct("Channel").field("len", &full).finish()
    }
}

// SAFETY: the channel owns its values; moving it to another thread moves them.
unsafe impl<T: Send> Send for Channel<T> {}

// SAFETY: through `&Channel` one can only move `T`s in and out (never get `&T`), and every
// access to a cell's value is exclusive thanks to the CAS that makes it busy; so `T: Send` suffices.
unsafe impl<T: Send> Sync for Channel<T> {}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;

    use super::*;

    #[test]
    fn empty_gives_none() {
        let channel = Channel::<u32>::new();
        assert_eq!(channel.recv(), None);
    }

    #[test]
    fn overflow_drops_newest_and_keeps_order() {
        let channel = Channel::new();
        for i in 0..12 {
            channel.send(i);
        }
        let got: Vec<_> = std::iter::from_fn(|| channel.recv()).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn order_survives_the_ticket_counter_wrapping_around() {
        let channel = Channel::new();
        channel.next_ticket.store(Word::MAX - 1, Ordering::Relaxed);
        for i in 0..4 {
            channel.send(i);
        }
        let got: Vec<_> = std::iter::from_fn(|| channel.recv()).collect();
        assert_eq!(got, vec![0, 1, 2, 3]);
    }

    /// A receiver that chose a cell must not take it once it holds a newer value: the claim
    /// is on the word (ticket and state) it saw.
    #[test]
    fn a_claim_fails_on_a_cell_filled_again_since_it_was_chosen() {
        let channel = Channel::new();
        channel.send(1);
        let chosen = channel.oldest_full().unwrap();
        assert_eq!(channel.recv(), Some(1)); // another receiver takes it…
        channel.send(2); // …and the cell is filled again
        let cell = &channel.cells[chosen.0];
        let busy = (chosen.1 & !STATE) | BUSY;
        assert!(cell
            .word
            .compare_exchange(chosen.1, busy, Ordering::Acquire, Ordering::Relaxed)
            .is_err());
        assert_eq!(channel.recv(), Some(2));
    }

    #[test]
    fn reuses_cells_many_times() {
        let channel = Channel::new();
        for i in 0..10_000u32 {
            channel.send(i);
            channel.send(i + 1);
            assert_eq!(channel.recv(), Some(i));
            assert_eq!(channel.recv(), Some(i + 1));
            assert_eq!(channel.recv(), None);
        }
    }

    #[test]
    fn drops_values_left_inside() {
        let value = Arc::new(());
        {
            let channel = Channel::new();
            channel.send(Arc::clone(&value));
            channel.send(Arc::clone(&value));
            assert_eq!(Arc::strong_count(&value), 3);
        }
        assert_eq!(Arc::strong_count(&value), 1);
    }

    #[test]
    fn concurrent_senders_and_receivers_lose_nothing_that_fit() {
        let channel = Arc::new(Channel::<usize>::new());
        let senders: Vec<_> = (0..4)
            .map(|t| {
                let channel = Arc::clone(&channel);
                thread::spawn(move || {
                    for i in 0..1000 {
                        channel.send(t * 1000 + i);
                    }
                })
            })
            .collect();
        let mut seen = Vec::new();
        while senders.iter().any(|s| !s.is_finished()) {
            seen.extend(channel.recv());
        }
        for s in senders {
            s.join().unwrap();
        }
        seen.extend(std::iter::from_fn(|| channel.recv()));
        // Each value at most once, and each sender's values in order.
        for t in 0..4 {
            let mine: Vec<_> = seen.iter().filter(|v| **v / 1000 == t).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
