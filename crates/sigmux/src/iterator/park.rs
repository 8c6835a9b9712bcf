//! Waking a blocked reader straight from the signal handler, without a pipe (Linux, Android).
//!
//! A hand-written self-pipe costs a `write` in the handler and a `read` in the reader, and the
//! kernel routes the wake-up through the pipe's buffer and locks. A futex does the same job
//! with less: the handler bumps a counter in memory and, only if the reader is actually
//! asleep, makes one `FUTEX_WAKE` system call. `FUTEX_WAKE` takes no user-space lock and
//! allocates nothing, so it is as async-signal-safe as `write` (POSIX lists `sem_post`,
//! which is built on it).
//!
//! # The protocol
//!
//! One 32-bit word: bit 0 says "the reader is about to sleep or asleep", the other bits count
//! wake-ups (wrapping). The reader also remembers how many wake-ups it has consumed, which
//! plays the part of the bytes left in a pipe: a wake-up not consumed yet makes the next wait
//! return at once, exactly as an unread byte would (signal-hook's own tests rely on that).
//!
//! * The waker first publishes its news (a pending bit, the closed flag), then adds 2 to the
//!   word; if bit 0 was set in the value it replaced, it calls `FUTEX_WAKE`.
//! * The reader sets bit 0 (`fetch_or`), *then* looks for news (unconsumed wake-ups, or what
//!   its caller checks); only if there is none does it call `FUTEX_WAIT` with the value its
//!   `fetch_or` produced.
//!
//! Both read-modify-writes hit the same word, so one of them comes first in its modification
//! order. If the waker's came first, the reader's `fetch_or` acquires it and so sees the news.
//! If the reader's came first, the waker sees bit 0 and wakes; the kernel compares the word
//! under its own lock before sleeping, so the reader either is already asleep and gets woken
//! or finds the changed word and does not sleep at all. No order loses a wake-up.
//!
//! A forked child has its own copy of the word (the futex is process-private), so a signal
//! handled in the child can never wake a reader in the parent.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

const ASLEEP: u32 = 1;
const TICK: u32 = 2;

/// The word a blocked reader sleeps on.
pub(crate) struct Parker {
    word: AtomicU32,
    /// The wake-up count (bit 0 clear) the reader has consumed. Only the reader touches it;
    /// atomic only so the owner stays `Sync`.
    consumed: AtomicU32,
}

impl Parker {
    pub(crate) const fn new() -> Self {
        Parker {
            word: AtomicU32::new(0),
            consumed: AtomicU32::new(0),
        }
    }

    /// Wakes the reader if it sleeps; call it after publishing what it should find.
    ///
    /// This function is async-signal-safe: one atomic read-modify-write, and one `FUTEX_WAKE`
    /// system call only when the reader is asleep. It does not allocate, lock or panic, and it
    /// leaves `errno` to the registry's handler, which restores it.
    #[inline]
    pub(crate) fn wake(&self) {
        if self.word.fetch_add(TICK, Ordering::SeqCst) & ASLEEP != 0 {
            futex_wake(&self.word);
        }
    }

    /// Consumes the wake-ups so far, as draining a pipe would. Reader only.
    pub(crate) fn consume(&self) {
        let ticks = self.word.load(Ordering::Acquire) & !ASLEEP;
        self.consumed.store(ticks, Ordering::Relaxed);
    }

    /// Blocks until there is an unconsumed wake-up or `ready` returns true, then consumes the
    /// wake-ups. Reader only.
    ///
    /// Only one thread may park on a `Parker` at a time (the owner of the reader, which holds
    /// it by `&mut`). An interrupted or spurious wake-up only costs another look.
    pub(crate) fn park_until(&self, ready: impl Fn() -> bool) {
        let consumed = self.consumed.load(Ordering::Relaxed);
        loop {
            let seen = self.word.fetch_or(ASLEEP, Ordering::SeqCst) | ASLEEP;
            let ticks = seen & !ASLEEP;
            if ticks != consumed || ready() {
                self.consumed.store(ticks, Ordering::Relaxed);
                break;
            }
            futex_wait(&self.word, seen);
        }
        // Awake again: wakers may skip the system call until the next park.
        self.word.fetch_and(!ASLEEP, Ordering::Relaxed);
    }
}

impl fmt::Debug for Parker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word.load(Ordering::Relaxed);
        f.debug_struct("Parker")
            .field("asleep", &(word & ASLEEP != 0))
            .finish()
    }
}

/// Sleeps while `word` holds `expected`; returns on a wake-up, a signal, or at once if the
/// word already differs. The outcome is not reported: the caller re-checks its condition.
fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call; FUTEX_WAIT only
    // reads it (atomically, in the kernel). A null timeout means "no timeout".
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

/// Wakes every thread sleeping on `word` (there is at most one).
///
/// Async-signal-safe: a single system call.
#[inline]
fn futex_wake(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE does not access it beyond
    // using its address as a key.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn wake_before_park_is_not_lost() {
        let parker = Parker::new();
        parker.wake();
        parker.park_until(|| false);
    }

    #[test]
    fn ready_condition_ends_the_park() {
        let parker = Parker::new();
        let flag = AtomicBool::new(true);
        parker.park_until(|| flag.load(Ordering::SeqCst));
    }

    #[test]
    fn consumed_wake_ups_do_not_end_a_park_but_new_ones_do() {
        let parker = Parker::new();
        parker.wake();
        parker.wake();
        parker.consume();
        let flag = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                flag.store(true, Ordering::SeqCst);
                parker.wake();
            });
            // Returns only once the other thread has woken it (the flag is not consulted).
            parker.park_until(|| false);
            assert!(flag.load(Ordering::SeqCst));
        });
    }

    #[test]
    fn many_wakes_across_threads() {
        struct Both {
            parker: Parker,
            count: AtomicU32,
        }
        let both = Arc::new(Both {
            parker: Parker::new(),
            count: AtomicU32::new(0),
        });
        let waker = {
            let both = Arc::clone(&both);
            thread::spawn(move || {
                for _ in 0..20_000 {
                    both.count.fetch_add(1, Ordering::SeqCst);
                    both.parker.wake();
                }
            })
        };
        let mut seen = 0;
        while seen < 20_000 {
            // Never hangs: every increment is followed by a wake-up.
            both.parker.park_until(|| false);
            seen = both.count.load(Ordering::SeqCst);
        }
        waker.join().unwrap();
        assert_eq!(both.parker.word.load(Ordering::SeqCst) & ASLEEP, 0);
    }
}
