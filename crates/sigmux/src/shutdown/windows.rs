//! Windows: console events through `SetConsoleCtrlHandler`.
//!
//! Windows runs a console control handler on a new thread of its own for each event, not in
//! a signal context: it may lock, allocate and wake futures directly, so no pipe and no helper
//! thread are needed. For the closing events (close, logoff, shutdown) the process is killed
//! as soon as the handler returns; the handler therefore waits there until the program
//! finishes ([`exit_as_console_event`] or `std::process::exit` end the process, this thread
//! included), the deadline passes, or every `Shutdown` is dropped.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use libc::c_int;

use super::{Cause, Inner};

type Bool = i32;
const TRUE: Bool = 1;
const FALSE: Bool = 0;
type HandlerRoutine = unsafe extern "system" fn(u32) -> Bool;

#[link(name = "kernel32")]
extern "system" {
    fn SetConsoleCtrlHandler(handler: Option<HandlerRoutine>, add: Bool) -> Bool;
    fn ExitProcess(code: u32) -> !;
}

/// The exit status of a process ended by a console event (`STATUS_CONTROL_C_EXIT`).
pub(crate) const STATUS_CONTROL_C_EXIT: u32 = 0xC000_013A;

/// A Windows console event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConsoleEvent {
    /// `CTRL_C_EVENT`: Ctrl-C, or `GenerateConsoleCtrlEvent(CTRL_C_EVENT, …)`.
    CtrlC = 0,
    /// `CTRL_BREAK_EVENT`: Ctrl-Break.
    CtrlBreak = 1,
    /// `CTRL_CLOSE_EVENT`: the console window is being closed.
    Close = 2,
    /// `CTRL_LOGOFF_EVENT`: the user is logging off (services only).
    Logoff = 5,
    /// `CTRL_SHUTDOWN_EVENT`: the system is shutting down (services only).
    Shutdown = 6,
}

impl ConsoleEvent {
    pub(crate) fn from_code(code: i32) -> Option<ConsoleEvent> {
        Some(match code {
            0 => ConsoleEvent::CtrlC,
            1 => ConsoleEvent::CtrlBreak,
            2 => ConsoleEvent::Close,
            5 => ConsoleEvent::Logoff,
            6 => ConsoleEvent::Shutdown,
            _ => return None,
        })
    }

    /// Whether Windows kills the process as soon as the handler returns.
    fn closes(self) -> bool {
        matches!(
            self,
            ConsoleEvent::Close | ConsoleEvent::Logoff | ConsoleEvent::Shutdown
        )
    }
}

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

/// Every installed `Shutdown`, for the console handler (which gets no context pointer).
static INSTANCES: Mutex<Vec<Arc<Inner>>> = Mutex::new(Vec::new());

fn instances() -> std::sync::MutexGuard<'static, Vec<Arc<Inner>>> {
    INSTANCES.lock().unwrap_or_else(|e| e.into_inner())
}

/// What `Shutdown` owns: its place in `INSTANCES`.
pub(crate) struct Installed {
    inner: Option<Arc<Inner>>,
}

impl Installed {
    pub(crate) fn install(
        inner: &Arc<Inner>,
        _signals: &[c_int],
        _deadline: Option<Duration>,
        _take_ignored: bool,
    ) -> io::Result<Installed> {
        let mut list = instances();
        if list.is_empty() {
            // SAFETY: `console_handler` is a valid handler routine for the process lifetime.
            if unsafe { SetConsoleCtrlHandler(Some(console_handler), TRUE) } == 0 {
                return Err(io::Error::last_os_error());
            }
        }
        list.push(Arc::clone(inner));
        Ok(Installed {
            inner: Some(Arc::clone(inner)),
        })
    }

    pub(crate) fn uninstall(&mut self) {
        if let Some(inner) = self.inner.take() {
            let mut list = instances();
            list.retain(|other| !Arc::ptr_eq(other, &inner));
            if list.is_empty() {
                // SAFETY: removes the routine added in `install`.
                unsafe { SetConsoleCtrlHandler(Some(console_handler), FALSE) };
            }
        }
    }
}

/// Ends the process as the default console handler would.
pub(crate) fn exit_as_console_event() -> ! {
    // SAFETY: ExitProcess has no preconditions and never returns.
    unsafe { ExitProcess(STATUS_CONTROL_C_EXIT) }
}

/// Runs `console_handler` on a new thread, as Windows does (tests).
pub(crate) fn simulate(code: u32) -> std::thread::JoinHandle<bool> {
    // SAFETY: the handler has no preconditions; Windows calls it the same way.
    std::thread::spawn(move || unsafe { console_handler(code) } != FALSE)
}

/// The console control handler. Windows runs it on a new thread for each event.
///
/// # Safety
///
/// None beyond being called as a handler routine; `unsafe` only for the ABI's function type.
unsafe extern "system" fn console_handler(code: u32) -> Bool {
    let event = match i32::try_from(code).ok().and_then(ConsoleEvent::from_code) {
        Some(event) => event,
        None => return FALSE,
    };
    let list: Vec<Arc<Inner>> = instances().clone();
    if list.is_empty() {
        return FALSE;
    }
    for inner in &list {
        if inner.try_request(Cause::Console(event)) {
            notify(inner);
        } else {
            // A second event while cleaning up: now.
            exit_as_console_event();
        }
    }
    let end = list
        .iter()
        .filter_map(|inner| inner.sys.deadline)
        .min()
        .and_then(|limit| Instant::now().checked_add(limit));
    if !event.closes() && end.is_none() {
        return TRUE;
    }
    // Hold the process open until the program finishes (which ends this thread with it), the
    // deadline passes, or every `Shutdown` is gone.
    loop {
        if list.iter().all(|inner| inner.closed.load(Ordering::SeqCst)) {
            // Dropped without `finish`: let the next handler (by default, ExitProcess) decide.
            return if event.closes() { FALSE } else { TRUE };
        }
        if let Some(end) = end {
            if Instant::now() >= end {
                exit_as_console_event();
            }
        }
        std::thread::sleep(Duration::from_millis(10));
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
