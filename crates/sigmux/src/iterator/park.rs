//! Waking a blocked reader straight from the signal handler, without a pipe (Linux, Android).
//!
//! A hand-written self-pipe costs a `write` in the handler and a `read` in the reader, and the
//! kernel routes the wake-up through the pipe's buffer and locks. A semaphore does the same
//! job with less: the handler bumps a counter in memory and, only if the reader is actually
//! asleep, posts the semaphore (`sem_post`, which POSIX lists as async-signal-safe; with glibc
//! and musl it is one atomic add plus a `FUTEX_WAKE` system call when someone waits). The
//! reader sleeps in `sem_wait`.
//!
//! A semaphore rather than a bare futex: sanitizers intercept `sem_wait` as a blocking call.
//! ThreadSanitizer runs a signal handler only when the thread the signal landed on enters a
//! function it intercepts, or at once if that thread is inside an intercepted blocking call;
//! a reader asleep in a raw `FUTEX_WAIT` would never run a signal that landed on it (as
//! `SIGCHLD` does on the thread that forked the child), and would sleep for ever.
//!
//! # The protocol
//!
//! One 32-bit word: bit 0 says "the reader is about to sleep or asleep", the other bits count
//! wake-ups (wrapping). The reader also remembers how many wake-ups it has consumed, which
//! plays the part of the bytes left in a pipe: a wake-up not consumed yet makes the next wait
//! return at once, exactly as an unread byte would (signal-hook's own tests rely on that).
//!
//! * The waker first publishes its news (a pending bit, the closed flag), then adds 2 to the
//!   word; if bit 0 was set in the value it replaced, it posts the semaphore.
//! * The reader sets bit 0 (`fetch_or`), *then* looks for news (unconsumed wake-ups, or what
//!   its caller checks); only if there is none does it `sem_wait`, and it looks again after
//!   every return from it.
//!
//! Both read-modify-writes hit the same word, so one of them comes first in its modification
//! order. If the waker's came first, the reader's `fetch_or` acquires it and so sees the news.
//! If the reader's came first, the waker sees bit 0 and posts; the semaphore keeps the post
//! until the reader's `sem_wait` takes it, whether the reader is asleep already or not yet.
//! No order loses a wake-up. The counter, not the semaphore, says whether there is news: a
//! post is only a hint to look. So the reader throws away the posts left over (made while
//! bit 0 was still set after it woke) right after clearing bit 0; at most as many as there are
//! handlers running at that instant can arrive later, each costing one extra look.
//!
//! A forked child has its own copy of the semaphore (it is process-private), so a signal
//! handled in the child can never wake a reader in the parent.

use std::cell::UnsafeCell;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

const ASLEEP: u32 = 1;
const TICK: u32 = 2;

/// What a blocked reader sleeps on.
pub(crate) struct Parker {
    word: AtomicU32,
    /// The wake-up count (bit 0 clear) the reader has consumed. Only the reader touches it;
    /// atomic only so the owner stays `Sync`.
    consumed: AtomicU32,
    /// Boxed: a semaphore must not move once initialised.
    sem: Box<UnsafeCell<libc::sem_t>>,
}

// SAFETY: a `sem_t` is made to be used from several threads at once through its address, which
// the box keeps stable; every other field is atomic.
unsafe impl Send for Parker {}
// SAFETY: as above.
unsafe impl Sync for Parker {}

impl Parker {
    /// A parker with no wake-up yet.
    ///
    /// # Errors
    ///
    /// Those of `sem_init` (not expected for a process-private semaphore on Linux).
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: an all-zero `sem_t` is a valid place for `sem_init` to write into.
        let sem = Box::new(UnsafeCell::new(unsafe {
            std::mem::zeroed::<libc::sem_t>()
        }));
        // SAFETY: `sem` points to writable memory that stays put; pshared 0, initial value 0.
        if unsafe { libc::sem_init(sem.get(), 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Parker {
            word: AtomicU32::new(0),
            consumed: AtomicU32::new(0),
            sem,
        })
    }

    /// Wakes the reader if it sleeps; call it after publishing what it should find.
    ///
    /// This function is async-signal-safe: one atomic read-modify-write, and one `sem_post`
    /// (async-signal-safe by POSIX) only when the reader is asleep. It does not allocate,
    /// lock or panic; the registry's handler restores `errno` around it.
    #[inline]
    pub(crate) fn wake(&self) {
        if self.word.fetch_add(TICK, Ordering::SeqCst) & ASLEEP != 0 {
            // SAFETY: the semaphore is initialised and lives as long as `self`. The only
            // possible error, EOVERFLOW, would need 2^31 posts nobody took, and the reader
            // takes all of them at every wake-up; ignoring it would only drop a hint.
            unsafe { libc::sem_post(self.sem.get()) };
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
    /// it by `&mut`). An interrupted or spurious return only costs another look.
    pub(crate) fn park_until(&self, ready: impl Fn() -> bool) {
        let consumed = self.consumed.load(Ordering::Relaxed);
        loop {
            let seen = self.word.fetch_or(ASLEEP, Ordering::SeqCst) | ASLEEP;
            let ticks = seen & !ASLEEP;
            if ticks != consumed || ready() {
                self.consumed.store(ticks, Ordering::Relaxed);
                break;
            }
            // SAFETY: the semaphore is initialised and lives as long as `self`. Errors (EINTR)
            // only end this round early: the loop looks again.
            unsafe { libc::sem_wait(self.sem.get()) };
        }
        // Awake again: wakers may skip the post until the next park. Then drop the posts
        // left over (see the module docs): never a lost wake-up, as the counter decides.
        self.word.fetch_and(!ASLEEP, Ordering::SeqCst);
        // SAFETY: as above; `sem_trywait` never blocks.
        while unsafe { libc::sem_trywait(self.sem.get()) } == 0 {}
    }
}

impl Drop for Parker {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`; nobody can post or wait any more (the handlers that
        // could were unregistered before the last reference went away).
        unsafe { libc::sem_destroy(self.sem.get()) };
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn wake_before_park_is_not_lost() {
        let parker = Parker::new().unwrap();
        parker.wake();
        parker.park_until(|| false);
    }

    #[test]
    fn posts_left_over_are_drained_at_wake_up() {
        let parker = Parker::new().unwrap();
        parker.word.fetch_or(ASLEEP, Ordering::SeqCst); // as if asleep: every wake posts
        for _ in 0..5 {
            parker.wake();
        }
        parker.word.fetch_and(!ASLEEP, Ordering::SeqCst);
        parker.park_until(|| false); // returns at once: unconsumed wake-ups
        let mut value = -1;
        // SAFETY: an initialised semaphore and a valid place for its value.
        let got = unsafe { libc::sem_getvalue(parker.sem.get(), &mut value) };
        assert_eq!(got, 0);
        assert_eq!(value, 0);
    }

    #[test]
    fn ready_condition_ends_the_park() {
        let parker = Parker::new().unwrap();
        let flag = AtomicBool::new(true);
        parker.park_until(|| flag.load(Ordering::SeqCst));
    }

    #[test]
    fn consumed_wake_ups_do_not_end_a_park_but_new_ones_do() {
        let parker = Parker::new().unwrap();
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
            parker: Parker::new().unwrap(),
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
