//! Windows: the async adapters' stream, [`ThreadDelivery`]: the Windows counterpart of the
//! Unix `AsyncCore`, which the adapters wrap the same way (through `__adapter_surface!`).

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use libc::c_int;

use super::Handle;
use crate::iterator::exfiltrator::Exfiltrator;
use crate::iterator::SignalsInfo;

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

/// The whole of an async adapter's signal stream on Windows. New in sigmux.
///
/// On Unix an adapter hands the read end of a self-pipe to its reactor. Windows has no pipe
/// that a signal handler (or the console handler) could write to and a reactor could watch, so
/// here a helper thread does the waiting: it owns a blocking [`SignalsInfo`], sleeps in
/// [`wait`](SignalsInfo::wait) on its semaphore, queues what arrives and wakes the polling
/// task's [`Waker`]. No runtime or reactor is involved, so the stream works under any runtime
/// and outside one, and no I/O error can end it.
///
/// The cost, compared with the reactor on Unix: one thread per stream (mostly asleep; its
/// stack is reserved, not committed), one more thread switch per wake-up (handler → helper
/// thread → the runtime's worker), and a small allocation per batch for the queue. Signals
/// are rare events: this is far below anything a program could notice.
///
/// The signals (and console events, see [the iterator](crate::iterator#windows)) are
/// registered when it is created and unregistered when it is dropped.
/// [`poll_recv`](ThreadDelivery::poll_recv) yields the same items as the blocking iterator,
/// then `None` for good once the delivery was [closed](Handle::close).
///
/// A closing console event (`SIGCLOSE`, `SIGLOGOFF` or `SIGSHUTDOWN`) keeps the process alive
/// until the delivery is done with it: dropped or closed (the helper thread's iterator is the
/// listener), or until Windows' own deadline passes.
pub struct ThreadDelivery<E: Exfiltrator> {
    queue: Arc<Queue<E::Output>>,
    handle: Handle,
    thread: Option<JoinHandle<()>>,
    /// Set once the stream has yielded `None`; it never yields anything again.
    ended: bool,
}

impl<E: Exfiltrator> ThreadDelivery<E> {
    /// Registers `signals` with a blocking [`SignalsInfo`] taking information out of the
    /// handler with `exfiltrator`, and starts the helper thread over it.
    ///
    /// # Errors
    ///
    /// Those of [`Handle::add_signal`], or of starting the thread; on error nothing stays
    /// registered.
    pub fn open<I, S>(signals: I, exfiltrator: E) -> io::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        Self::new(SignalsInfo::with_exfiltrator(signals, exfiltrator)?)
    }

    /// Starts the helper thread over `signals`, which it owns from now on.
    ///
    /// # Errors
    ///
    /// If the thread cannot be started (then `signals` is dropped, unregistering them).
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
            ended: false,
        })
    }

    /// The next item: `Ready(Some(_))` with one, `Ready(None)` once closed (and everything
    /// queued before was taken) and for good after that, `Pending` with `cx`'s waker stored
    /// otherwise.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let mut state = self.queue.lock();
        if let Some(item) = state.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if state.ended || self.handle.is_closed() {
            drop(state);
            self.ended = true;
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

    /// Always `None`: no reactor is involved, so no I/O error can end this stream. (There for
    /// the Unix `AsyncCore::take_error`'s sake: adapter code reads the same on every
    /// platform.)
    pub fn take_error(&mut self) -> Option<io::Error> {
        None
    }

    /// Whether the stream has yielded `None` (it never yields anything again).
    pub fn is_terminated(&self) -> bool {
        self.ended
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
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}
