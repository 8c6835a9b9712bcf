//! Waking a blocked reader straight from the signal handler, without a pipe (Linux, Android,
//! and Windows, where the semaphore is a kernel object: see [`event`](super::event)).
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
//!
//! # Model check
//!
//! Under `--cfg sigmux_park_loom` (`ci/loom.sh`) the word is a loom atomic and the semaphore a
//! loom mutex and condition variable, and the tests at the end of this file explore every
//! interleaving of a waker against a parking reader: the reader never sleeps through a
//! wake-up, and what the waker published before waking is visible to it.

use std::fmt;
use std::io;
use std::time::Instant;

#[cfg(sigmux_park_loom)]
use loom::sync::atomic::{AtomicU32, Ordering};
#[cfg(not(sigmux_park_loom))]
use std::sync::atomic::{AtomicU32, Ordering};

const ASLEEP: u32 = 1;
const TICK: u32 = 2;

/// What a blocked reader sleeps on.
pub(crate) struct Parker {
    word: AtomicU32,
    /// The wake-up count (bit 0 clear) the reader has consumed. Only the reader touches it;
    /// atomic only so the owner stays `Sync`.
    consumed: AtomicU32,
    sem: Sem,
}

impl Parker {
    /// A parker with no wake-up yet.
    ///
    /// # Errors
    ///
    /// Those of `sem_init` (not expected for a process-private semaphore on Linux).
    pub(crate) fn new() -> io::Result<Self> {
        Ok(Parker {
            word: AtomicU32::new(0),
            consumed: AtomicU32::new(0),
            sem: Sem::new()?,
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
            self.sem.post();
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
    #[cfg(test)]
    pub(crate) fn park_until(&self, ready: impl Fn() -> bool) {
        self.park_until_deadline(ready, None);
    }

    /// Like `park_until`, but gives up at `deadline` (if any): returns `false` if it did,
    /// consuming nothing; `true` if there was news or `ready` returned true. Reader only.
    pub(crate) fn park_until_deadline(
        &self,
        ready: impl Fn() -> bool,
        deadline: Option<Instant>,
    ) -> bool {
        let consumed = self.consumed.load(Ordering::Relaxed);
        let news = loop {
            let seen = self.word.fetch_or(ASLEEP, Ordering::SeqCst) | ASLEEP;
            let ticks = seen & !ASLEEP;
            if ticks != consumed || ready() {
                self.consumed.store(ticks, Ordering::Relaxed);
                break true;
            }
            if !self.sem.wait(deadline) {
                break false;
            }
        };
        // Awake again: wakers may skip the post until the next park. Then drop the posts
        // left over (see the module docs): never a lost wake-up, as the counter decides (a
        // wake-up that raced a timeout stays unconsumed, for the next look).
        self.word.fetch_and(!ASLEEP, Ordering::SeqCst);
        while self.sem.try_wait() {}
        news
    }
}

/// Windows: a semaphore object (see [`event`](super::event)).
#[cfg(all(windows, not(sigmux_park_loom)))]
use super::event::Sem;

/// A process-private POSIX semaphore.
#[cfg(all(unix, not(sigmux_park_loom)))]
struct Sem(Box<std::cell::UnsafeCell<libc::sem_t>>);

// SAFETY: a `sem_t` is made to be used from several threads at once through its address, which
// the box keeps stable.
#[cfg(all(unix, not(sigmux_park_loom)))]
unsafe impl Send for Sem {}
// SAFETY: as above.
#[cfg(all(unix, not(sigmux_park_loom)))]
unsafe impl Sync for Sem {}

#[cfg(all(unix, not(sigmux_park_loom)))]
impl Sem {
    fn new() -> io::Result<Self> {
        // SAFETY: an all-zero `sem_t` is a valid place for `sem_init` to write into.
        let sem = Box::new(std::cell::UnsafeCell::new(unsafe {
            std::mem::zeroed::<libc::sem_t>()
        }));
        // SAFETY: `sem` points to writable memory that stays put (boxed: a semaphore must not
        // move once initialised); pshared 0, initial value 0.
        if unsafe { libc::sem_init(sem.get(), 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Sem(sem))
    }

    /// Async-signal-safe (POSIX lists `sem_post`).
    #[inline]
    fn post(&self) {
        // SAFETY: initialised in `new`, alive as long as `self`. The only possible error,
        // EOVERFLOW, would need 2^31 posts nobody took, and the reader takes all of them at
        // every wake-up; ignoring it would only drop a hint.
        unsafe { libc::sem_post(self.0.get()) };
    }

    /// Waits for a post, or until `deadline`: returns `false` once the deadline has passed
    /// (by the monotonic clock), `true` otherwise. An interruption (EINTR) also returns
    /// `true`, which callers treat as a spurious wake-up.
    ///
    /// `sem_timedwait` takes an absolute time on the realtime (wall) clock: each call
    /// converts what is left of the deadline into one, so a wall clock set forward only
    /// costs another call, but one set back while a call sleeps stretches that call by as
    /// much (POSIX has no monotonic form; glibc's `sem_clockwait` is too recent to rely on).
    fn wait(&self, deadline: Option<Instant>) -> bool {
        let Some(deadline) = deadline else {
            // SAFETY: as in `post`.
            unsafe { libc::sem_wait(self.0.get()) };
            return true;
        };
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            if left.is_zero() {
                return false;
            }
            // In slices of at most a day, so the absolute time fits any `time_t` (and a
            // deadline too far to represent is simply waited for slice by slice).
            let at = realtime_after(left.min(std::time::Duration::from_secs(86_400)));
            // SAFETY: as in `post`; `at` is a valid timespec.
            if unsafe { libc::sem_timedwait(self.0.get(), &at) } == 0 {
                return true;
            }
            if io::Error::last_os_error().raw_os_error() != Some(libc::ETIMEDOUT) {
                return true; // EINTR: let the caller look again.
            }
        }
    }

    /// Takes a post if there is one, never blocking.
    fn try_wait(&self) -> bool {
        // SAFETY: as in `post`.
        unsafe { libc::sem_trywait(self.0.get()) == 0 }
    }

    #[cfg(test)]
    fn value(&self) -> i32 {
        let mut value = -1;
        // SAFETY: as in `post`, and a valid place for the value.
        unsafe { libc::sem_getvalue(self.0.get(), &mut value) };
        value
    }
}

/// The realtime clock's time `left` (at most a day) from now, as `sem_timedwait` wants it.
#[cfg(all(unix, not(sigmux_park_loom)))]
fn realtime_after(left: std::time::Duration) -> libc::timespec {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let at = now.saturating_add(left);
    libc::timespec {
        // Fits: now plus a day (`as _`: `time_t` is deprecated on musl).
        tv_sec: at.as_secs() as _,
        tv_nsec: at.subsec_nanos() as _,
    }
}

#[cfg(all(unix, not(sigmux_park_loom)))]
impl Drop for Sem {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`; nobody can post or wait any more (the handlers that
        // could were unregistered before the last reference to the parker went away).
        unsafe { libc::sem_destroy(self.0.get()) };
    }
}

/// The semaphore as loom sees it: a count under a mutex, and a condition variable.
#[cfg(sigmux_park_loom)]
struct Sem {
    count: loom::sync::Mutex<u32>,
    posted: loom::sync::Condvar,
}

#[cfg(sigmux_park_loom)]
impl Sem {
    fn new() -> io::Result<Self> {
        Ok(Sem {
            count: loom::sync::Mutex::new(0),
            posted: loom::sync::Condvar::new(),
        })
    }

    fn post(&self) {
        *self.count.lock().unwrap() += 1;
        self.posted.notify_one();
    }

    /// Loom has no time: a deadline is ignored (the model never gives up).
    fn wait(&self, _deadline: Option<Instant>) -> bool {
        let mut count = self.count.lock().unwrap();
        while *count == 0 {
            count = self.posted.wait(count).unwrap();
        }
        *count -= 1;
        true
    }

    fn try_wait(&self) -> bool {
        let mut count = self.count.lock().unwrap();
        let taken = *count > 0;
        if taken {
            *count -= 1;
        }
        taken
    }

    #[cfg(test)]
    fn value(&self) -> i32 {
        *self.count.lock().unwrap() as i32
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

#[cfg(all(test, not(sigmux_park_loom)))]
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
        assert_eq!(parker.sem.value(), 0);
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

/// Every interleaving (and memory-order outcome) of a waker against a parking reader.
#[cfg(all(test, sigmux_park_loom))]
mod model {
    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// The reader parks on the wake-up count alone (`ready` is always false): it must come
    /// back, and must see what the waker published before waking. A reader that slept
    /// through the wake-up would leave loom with a deadlock.
    #[test]
    fn a_wake_up_always_ends_the_park_and_carries_the_news() {
        loom::model(|| {
            let parker = Arc::new(Parker::new().unwrap());
            let news = Arc::new(AtomicBool::new(false));
            let waker = {
                let (parker, news) = (Arc::clone(&parker), Arc::clone(&news));
                thread::spawn(move || {
                    news.store(true, Ordering::Relaxed);
                    parker.wake();
                })
            };
            parker.park_until(|| false);
            assert!(news.load(Ordering::Relaxed), "woken without the news");
            waker.join().unwrap();
        });
    }

    /// Two wake-ups against two parks: whichever way they interleave, the reader consumes
    /// both, never sleeps for ever, and no post is left behind once it is done.
    #[test]
    fn consecutive_wake_ups_are_each_seen_and_leave_no_post_behind() {
        loom::model(|| {
            let parker = Arc::new(Parker::new().unwrap());
            let waker = {
                let parker = Arc::clone(&parker);
                thread::spawn(move || {
                    parker.wake();
                    parker.wake();
                })
            };
            parker.park_until(|| false);
            if parker.consumed.load(Ordering::Relaxed) != 2 * TICK {
                parker.park_until(|| false);
            }
            waker.join().unwrap();
            assert_eq!(parker.consumed.load(Ordering::Relaxed), 2 * TICK);
            // A post made after the reader's last drain is the only one that may remain.
            assert!(parker.sem.value() <= 1);
        });
    }

    /// The caller's own condition (a pending bit, the closed flag) also ends a park, and a
    /// wake-up consumed by `consume` (draining) never ends the next one.
    #[test]
    fn a_condition_set_before_waking_ends_the_park() {
        loom::model(|| {
            let parker = Arc::new(Parker::new().unwrap());
            let closed = Arc::new(AtomicBool::new(false));
            let closer = {
                let (parker, closed) = (Arc::clone(&parker), Arc::clone(&closed));
                thread::spawn(move || {
                    closed.store(true, Ordering::SeqCst);
                    parker.wake();
                })
            };
            parker.consume();
            parker.park_until(|| closed.load(Ordering::SeqCst));
            closer.join().unwrap();
        });
    }
}
