//! The runtime-agnostic future of [`Children::exit`](super::Children::exit).
//!
//! A future needs something to wake it. Instead of a reactor, a [`Children`](super::Children)
//! that is awaited gets one helper thread (started at the first `Pending`), which sleeps
//! until some future is waiting, then blocks in `poll` on the set's descriptor and wakes the
//! waiting futures when it becomes readable; they collect the exits themselves with
//! `try_wait`. Readiness is level-triggered and a future registers its waker only after a
//! `try_wait` that found nothing (and drained the descriptor), so an exit that comes in
//! between leaves the descriptor readable and the helper wakes the future at once. Another
//! waiter may drain the descriptor before the helper sees it; whoever leaves exits queued,
//! or nothing left to watch, therefore wakes the pending futures itself
//! ([`Children::nudge`](super::Children)). The helper never spins on a descriptor nobody
//! drains: it waits for new wakers after each round.

use std::future::Future;
use std::io;
use std::os::unix::io::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use super::{sys, Children, Exit};

/// The wakers of the futures waiting on one set, and the helper thread serving them.
#[derive(Debug, Default)]
pub(super) struct Helper {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Shared {
    wakers: Mutex<Vec<Waker>>,
    waiting: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn wakers(&self) -> MutexGuard<'_, Vec<Waker>> {
        // Pushes and takes keep the list consistent whatever panicked.
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Helper {
    /// Registers `waker` (once) and makes sure the helper thread runs, polling `fd`.
    fn register(&self, waker: &Waker, fd: RawFd) -> io::Result<()> {
        {
            let mut wakers = self.shared.wakers();
            if !wakers.iter().any(|w| w.will_wake(waker)) {
                wakers.push(waker.clone());
            }
        }
        self.shared.waiting.notify_one();
        let mut thread = self.thread.lock().unwrap_or_else(|e| e.into_inner());
        if thread.is_none() {
            let shared = Arc::clone(&self.shared);
            *thread = Some(
                std::thread::Builder::new()
                    .name("sigmux-children".into())
                    .spawn(move || run(&shared, fd))?,
            );
        }
        Ok(())
    }

    /// Wakes every pending future now (they look for themselves).
    pub(super) fn wake_all(&self) {
        let wakers = {
            let mut wakers = self.shared.wakers();
            if wakers.is_empty() {
                return;
            }
            std::mem::take(&mut *wakers)
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// Stops and joins the helper thread. `wake` must make `fd` readable (so a helper blocked
    /// in `poll` returns). In a forked child (`forked`) the thread does not exist and its
    /// locks may have been held at the fork: nothing is touched, the handle is forgotten.
    pub(super) fn stop(&mut self, wake: impl FnOnce(), forked: bool) {
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if forked {
            std::mem::forget(thread);
            return;
        }
        if let Some(thread) = thread {
            self.shared.stop.store(true, Ordering::SeqCst);
            // Taking the lock orders the flag before the helper's check under it.
            drop(self.shared.wakers());
            self.shared.waiting.notify_all();
            wake();
            // A waker run by the helper itself may have dropped the set (an executor that
            // polls on wake): the thread ends by itself then, it cannot join itself.
            if thread.thread().id() == std::thread::current().id() {
                drop(thread);
            } else {
                let _ = thread.join();
            }
        }
    }
}

/// The helper thread: wait for wakers, wait for readiness, wake them all, repeat.
fn run(shared: &Shared, fd: RawFd) {
    loop {
        {
            let mut wakers = shared.wakers();
            while wakers.is_empty() && !shared.stop.load(Ordering::SeqCst) {
                wakers = shared
                    .waiting
                    .wait(wakers)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        // Errors (EINTR is fine) end in waking the futures, which then see the error from
        // `try_wait` themselves or wait again.
        let _ = sys::poll_readable(fd, None);
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let wakers = std::mem::take(&mut *shared.wakers());
        for waker in wakers {
            waker.wake();
        }
    }
}

/// The future of [`Children::exit`]: the next exit, or `None` once no watched child is
/// left (never with orphan reaping).
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ExitFuture<'a> {
    pub(super) children: &'a Children,
}

impl Future for ExitFuture<'_> {
    type Output = io::Result<Option<Exit>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let children = self.children;
        match children.try_wait() {
            Ok(Some(exit)) => return Poll::Ready(Ok(Some(exit))),
            Ok(None) => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
        if children.is_empty() && !children.reap_orphans {
            return Poll::Ready(Ok(None));
        }
        // After a `try_wait` that drained the descriptor: anything new leaves it readable.
        if let Err(e) = children.helper.register(cx.waker(), children.ready_fd()) {
            return Poll::Ready(Err(e));
        }
        // Another waiter may have queued exits (or taken the last one) between our
        // `try_wait` and the registration, and found no waker to wake: look once more.
        // (Registration, then this check; they queue, then wake: one of us sees the other.)
        if children.has_news() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}
