//! A tiny channel whose every operation is async-signal-safe.
//!
//! An atomic can carry a flag or a number out of a signal handler, but not a whole
//! `siginfo_t`. [`Channel`] carries such values: a handler [`send`](Channel::send)s, ordinary
//! code [`recv`](Channel::recv)s. The [`exfiltrators`](crate::iterator::exfiltrator) that
//! report `siginfo_t` use one channel per signal.
//!
//! # How it works
//!
//! The channel is a fixed array of cells. Each cell has a state — *empty*, *busy* (being
//! filled or emptied by someone) or *full* — changed only by compare-and-swap, and a ticket
//! taken from a counter when the value was sent.
//!
//! * `send` takes a ticket, claims the first empty cell (empty → busy), writes the value and
//!   the ticket, and publishes it (busy → full, `Release`). If no cell is empty it drops the
//!   value: a handler must never wait.
//! * `recv` looks for the full cell with the oldest ticket, claims it (full → busy,
//!   `Acquire`), moves the value out and frees the cell (busy → empty, `Release`).
//!
//! No operation ever waits for another one to finish: a cell that is busy is simply skipped.
//! So a handler interrupting a `recv` on the same thread cannot deadlock, and several
//! handlers may send at once. Values sent by one thread come out in the order they were sent.

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// Number of cells; also the most values a channel holds.
const CELLS: usize = 5;

const EMPTY: u8 = 0;
const BUSY: u8 = 1;
const FULL: u8 = 2;

struct Cell<T> {
    state: AtomicU8,
    ticket: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Cell<T> {
    const fn new() -> Self {
        Cell {
            state: AtomicU8::new(EMPTY),
            ticket: AtomicUsize::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

/// A bounded channel for passing values out of signal handlers.
///
/// Compared with an ordinary channel it is restricted:
///
/// * it holds at most a few values (currently 5); when full, [`send`](Channel::send) drops the
///   new value silently — as the kernel coalesces a signal that arrives while the same one is
///   pending, so use one channel per signal;
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
    next_ticket: AtomicUsize,
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
            next_ticket: AtomicUsize::new(0),
        }
    }

    /// Puts a value in, or drops it if the channel is full. Never blocks.
    ///
    /// This function is async-signal-safe (as long as dropping a `T` is).
    pub fn send(&self, val: T) {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        for cell in &self.cells {
            if cell
                .state
                .compare_exchange(EMPTY, BUSY, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                // SAFETY: the empty → busy transition gives us exclusive access to the cell's
                // value until we publish it; an empty cell holds no initialised value.
                unsafe { (*cell.value.get()).write(val) };
                cell.ticket.store(ticket, Ordering::Relaxed);
                // Release: the value and ticket are visible to whoever acquires `FULL`.
                cell.state.store(FULL, Ordering::Release);
                return;
            }
        }
        // No room: drop the value, like the kernel coalesces a pending signal.
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
            let cell = self.cells.get(oldest.0)?;
            if cell
                .state
                .compare_exchange(FULL, BUSY, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                // Another receiver took it first; look again.
                continue;
            }
            // SAFETY: full → busy gives us exclusive access; a full cell holds an initialised
            // value (published with Release, acquired above), which we move out exactly once.
            let value = unsafe { (*cell.value.get()).assume_init_read() };
            cell.state.store(EMPTY, Ordering::Release);
            return Some(value);
        }
    }

    /// The index and ticket of the full cell with the oldest ticket.
    fn oldest_full(&self) -> Option<(usize, usize)> {
        let mut oldest: Option<(usize, usize)> = None;
        for (index, cell) in self.cells.iter().enumerate() {
            if cell.state.load(Ordering::Acquire) != FULL {
                continue;
            }
            let ticket = cell.ticket.load(Ordering::Relaxed);
            // Tickets wrap around; compare them by their signed distance.
            let older = match oldest {
                None => true,
                Some((_, best)) => (ticket.wrapping_sub(best) as isize) < 0,
            };
            if older {
                oldest = Some((index, ticket));
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
            if *cell.state.get_mut() == FULL {
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
            .filter(|cell| cell.state.load(Ordering::Relaxed) == FULL)
            .count();
        f.debug_struct("Channel").field("len", &full).finish()
    }
}

// SAFETY: the channel owns its values; moving it to another thread moves them.
unsafe impl<T: Send> Send for Channel<T> {}

// SAFETY: through `&Channel` one can only move `T`s in and out (never get `&T`), and every
// access to a cell's value is exclusive thanks to the state CAS; so `T: Send` suffices.
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
