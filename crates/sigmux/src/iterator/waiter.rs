//! Windows: the async adapters' delivery, [`ThreadDelivery`]. Re-exported from
//! [`backend`](super::backend).
//!
//! On Unix an adapter hands the read end of a self-pipe to its reactor. Windows has no such
//! pipe that a signal handler (or the console handler) could write to and a reactor could
//! watch, so here a helper thread does the waiting: it owns a blocking
//! [`SignalsInfo`](super::SignalsInfo), sleeps in [`wait`](super::SignalsInfo::wait) on its
//! semaphore, queues what arrives and wakes the task's [`Waker`].
//!
//! Cost, compared with the reactor on Unix: one thread per stream (mostly asleep; its stack is
//! reserved, not committed), one more thread switch per wake-up (handler → helper thread →
//! the runtime's worker), and a small allocation per batch for the queue. Signals are rare
//! events: this is far below anything a program could notice, and it works under every
//! runtime, since only a `Waker` is involved.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use super::exfiltrator::Exfiltrator;
use super::{Handle, SignalsInfo};

/// What the helper thread and the stream share.
struct Queue<O> {
    state: Mutex<State<O>>,
}

struct State<O> {
    items: VecDeque<O>,
    waker: Option<Waker>,
    /// The helper thread has stopped (closed): nothing more will be queued.
    ended: bool,
}

impl<O> Queue<O> {
    fn lock(&self) -> MutexGuard<'_, State<O>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A signal delivery for async adapters on Windows: a helper thread blocks on a
/// [`SignalsInfo`] and wakes the polling task (see the [module docs](self) for the cost).
/// New in sigmux.
///
/// The signals (and console events, see [the iterator](super#windows)) are registered when it
/// is created and unregistered when it is dropped. [`poll_next`](ThreadDelivery::poll_next)
/// yields the same items as the blocking iterator, then `None` once the delivery was
/// [closed](Handle::close).
///
/// A closing console event (`SIGCLOSE` and the like) keeps the process alive until the
/// delivery is done with it: dropped or closed (the helper thread's iterator is the listener).
pub struct ThreadDelivery<E: Exfiltrator> {
    queue: Arc<Queue<E::Output>>,
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl<E: Exfiltrator> ThreadDelivery<E>
where
    E::Output: Send,
{
    /// Starts the helper thread over `signals`, which it owns from now on.
    ///
    /// # Errors
    ///
    /// If the thread cannot be started.
    pub fn new(signals: SignalsInfo<E>) -> io::Result<Self> {
        let handle = signals.handle();
        let queue = Arc::new(Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                waker: None,
                ended: false,
            }),
        });
        let thread = {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name("sigmux-waiter".into())
                .stack_size(64 * 1024)
                .spawn(move || wait_loop(signals, &queue))?
        };
        Ok(ThreadDelivery {
            queue,
            handle,
            thread: Some(thread),
        })
    }

    /// The next item: `Ready(Some(_))` with one, `Ready(None)` once closed (and everything
    /// queued before was taken), `Pending` with `cx`'s waker stored otherwise.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        let mut state = self.queue.lock();
        if let Some(item) = state.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if state.ended || self.handle.is_closed() {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// A [`Handle`] to add or remove signals, or to close the delivery (ending the stream).
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

/// The helper thread: wait, queue, wake; until closed.
fn wait_loop<E: Exfiltrator>(mut signals: SignalsInfo<E>, queue: &Queue<E::Output>) {
    loop {
        let closed = signals.is_closed();
        let batch: Vec<E::Output> = if closed {
            signals.pending().collect()
        } else {
            signals.wait().collect()
        };
        let waker = {
            let mut state = queue.lock();
            state.items.extend(batch);
            if closed {
                state.ended = true;
            }
            if state.items.is_empty() && !closed {
                None
            } else {
                state.waker.take()
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        if closed {
            // Dropping `signals` here unregisters everything (and releases console events).
            return;
        }
    }
}

impl<E: Exfiltrator> Drop for ThreadDelivery<E> {
    fn drop(&mut self) {
        // Ends the helper thread (its wait returns at once), which drops the iterator and so
        // unregisters the signals before this returns, as on Unix.
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<E: Exfiltrator> fmt::Debug for ThreadDelivery<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadDelivery")
            .field("handle", &self.handle)
            .finish()
    }
}
