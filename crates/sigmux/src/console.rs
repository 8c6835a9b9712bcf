//! Windows: the one console control handler of the crate (`SetConsoleCtrlHandler`), shared by
//! [`Shutdown`](crate::Shutdown) and the blocking [iterator](crate::iterator).
//!
//! Windows runs a console control handler on a new thread of its own for each event, not in
//! a signal context: it may lock, allocate and wake threads directly. Each part of the crate
//! that wants console events adds a [`Listener`] to one process-wide list; the handler is
//! installed while the list is not empty.
//!
//! For the closing events (close, logoff, shutdown) Windows kills the process as soon as the
//! handler returns. So while a listener has taken such an event and is not
//! [released](Listener::released) yet, the handler waits on its thread: until every listener
//! that took the event is released (then it returns `FALSE`, and the next handler — by
//! default `ExitProcess` — ends the process), until the program ends the process itself
//! (`std::process::exit`, returning from `main`, [`Shutdown::finish`](crate::Shutdown::finish):
//! this thread ends with it), until a listener's deadline passes (then it ends the process with
//! `STATUS_CONTROL_C_EXIT`), or until Windows stops waiting and kills the process (about 5
//! seconds after a close). With no listener taking the event, the handler returns `FALSE` at
//! once: the default behaviour is unchanged.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
    pub(crate) fn closes(self) -> bool {
        matches!(
            self,
            ConsoleEvent::Close | ConsoleEvent::Logoff | ConsoleEvent::Shutdown
        )
    }
}

/// What a listener does with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Not interested: as if the listener were not there.
    Ignore,
    /// Taken: the process must not be killed by it. For a closing event the handler then
    /// holds the process open until the listener is [released](Listener::released).
    Take,
    /// Taken, and the process must end by `deadline` at the latest (from the event on): the
    /// handler waits until the listener is released, or ends the process when it passes.
    TakeWithDeadline(Duration),
}

/// Something that wants console events. Called on the handler's thread (ordinary code).
pub(crate) trait Listener: Send + Sync {
    /// Reacts to `event`; may end the process (a second Ctrl-C during a shutdown).
    fn event(&self, event: ConsoleEvent) -> Reply;
    /// Whether the listener is done with the event it took: the handler stops holding the
    /// process open for it.
    fn released(&self, event: ConsoleEvent) -> bool;
}

/// Every listener, for the console handler (which gets no context pointer).
static LISTENERS: Mutex<Vec<Arc<dyn Listener>>> = Mutex::new(Vec::new());

fn listeners() -> MutexGuard<'static, Vec<Arc<dyn Listener>>> {
    LISTENERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds `listener`, installing the console handler if it is the first.
pub(crate) fn listen(listener: Arc<dyn Listener>) -> io::Result<()> {
    let mut list = listeners();
    if list.is_empty() {
        // SAFETY: `console_handler` is a valid handler routine for the process lifetime.
        if unsafe { SetConsoleCtrlHandler(Some(console_handler), TRUE) } == 0 {
            return Err(io::Error::last_os_error());
        }
    }
    list.push(listener);
    Ok(())
}

/// Removes the listener at the same address as `listener` (if listed); removes the console
/// handler with the last one.
pub(crate) fn unlisten(listener: *const ()) {
    let mut list = listeners();
    let before = list.len();
    list.retain(|other| Arc::as_ptr(other).cast::<()>() != listener);
    if before != list.len() && list.is_empty() {
        // SAFETY: removes the routine added in `listen`.
        unsafe { SetConsoleCtrlHandler(Some(console_handler), FALSE) };
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
    // A snapshot: listeners may come and go (and lock the list) while this thread waits.
    let list: Vec<Arc<dyn Listener>> = listeners().clone();
    let mut takers = Vec::new();
    let mut limit: Option<Duration> = None;
    for listener in list {
        match listener.event(event) {
            Reply::Ignore => continue,
            Reply::Take => {}
            Reply::TakeWithDeadline(d) => limit = Some(limit.map_or(d, |l| l.min(d))),
        }
        takers.push(listener);
    }
    if takers.is_empty() {
        return FALSE;
    }
    let end = limit.and_then(|limit| Instant::now().checked_add(limit));
    if !event.closes() && end.is_none() {
        return TRUE;
    }
    // Hold the process open until the takers are done (the program may end the process
    // meanwhile, which ends this thread with it), or the deadline passes.
    loop {
        if takers.iter().all(|listener| listener.released(event)) {
            // Done: for a closing event, let the next handler (by default ExitProcess) end it.
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
