//! Windows: console events, through the crate's one console handler ([`crate::console`]).
//!
//! The handler runs on a thread of its own, not in a signal context: it wakes blocked threads
//! and futures directly, so no pipe and no helper thread are needed. A `Shutdown` is a
//! [`Listener`] that takes every event and is released when it is dropped: for the closing
//! events (close, logoff, shutdown) the handler holds the process open until then, until
//! [`exit_as_console_event`] or `std::process::exit` end the process (this thread included),
//! or until the deadline passes.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use libc::c_int;

use super::{Cause, Inner};
use crate::console::{self, Listener, Reply};
pub(crate) use crate::console::{exit_as_console_event, simulate, ConsoleEvent};

/// The platform part of `Inner`.
pub(crate) struct Shared {
    deadline: Option<Duration>,
    lock: Mutex<()>,
    cond: Condvar,
}

impl Shared {
    pub(crate) fn new(_signals: &[c_int], deadline: Option<Duration>) -> io::Result<Shared> {
        Ok(Shared {
            deadline,
            lock: Mutex::new(()),
            cond: Condvar::new(),
        })
    }
}

/// A `Shutdown` as a listener of the crate's console handler.
struct Listening(Arc<Inner>);

impl Listener for Listening {
    fn event(&self, event: ConsoleEvent) -> Reply {
        let inner = &self.0;
        if inner.closed.load(Ordering::SeqCst) {
            return Reply::Ignore;
        }
        if !inner.try_request(Cause::Console(event)) {
            // A second event while cleaning up: now.
            exit_as_console_event();
        }
        notify(inner);
        match inner.sys.deadline {
            Some(deadline) => Reply::TakeWithDeadline(deadline),
            None => Reply::Take,
        }
    }

    /// Done when the `Shutdown` is dropped (`finish` ends the process, and this with it).
    fn released(&self, _event: ConsoleEvent) -> bool {
        self.0.closed.load(Ordering::SeqCst)
    }
}

/// What `Shutdown` owns: its place in the console handler's list.
pub(crate) struct Installed {
    listener: Option<Arc<Listening>>,
}

impl Installed {
    pub(crate) fn install(
        inner: &Arc<Inner>,
        _signals: &[c_int],
        _deadline: Option<Duration>,
        _take_ignored: bool,
    ) -> io::Result<Installed> {
        let listener = Arc::new(Listening(Arc::clone(inner)));
        console::listen(Arc::clone(&listener) as Arc<dyn Listener>)?;
        Ok(Installed {
            listener: Some(listener),
        })
    }

    pub(crate) fn uninstall(&mut self) {
        if let Some(listener) = self.listener.take() {
            console::unlisten(Arc::as_ptr(&listener).cast());
        }
    }
}

/// Wakes blocked and async waiters after a request.
pub(crate) fn notify(inner: &Inner) {
    {
        let _guard = inner.sys.lock.lock().unwrap_or_else(|e| e.into_inner());
        inner.sys.cond.notify_all();
    }
    inner.wake_all();
}

pub(crate) fn notify_closed(inner: &Inner) {
    let _guard = inner.sys.lock.lock().unwrap_or_else(|e| e.into_inner());
    inner.sys.cond.notify_all();
}

/// The console handler wakes the futures itself: nothing to start.
pub(crate) fn start_waking(_inner: &Arc<Inner>) -> bool {
    true
}

/// Waits for a request until `deadline`; `None` on timeout or when closed.
pub(crate) fn wait(inner: &Inner, deadline: Option<Instant>) -> Option<Cause> {
    let mut guard = inner.sys.lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(cause) = inner.cause() {
            return Some(cause);
        }
        if inner.closed.load(Ordering::SeqCst) {
            return None;
        }
        guard = match deadline {
            None => inner
                .sys
                .cond
                .wait(guard)
                .unwrap_or_else(|e| e.into_inner()),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return None;
                }
                inner
                    .sys
                    .cond
                    .wait_timeout(guard, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
}
