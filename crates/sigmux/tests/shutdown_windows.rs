//! `Shutdown` on Windows: console events, the exit status conventions, holding the process
//! open for the cleanup after a close.
//!
//! Run under wine with `WINE_PTY=1` (a real console): a real Ctrl-C comes from
//! `GenerateConsoleCtrlEvent`. wine cannot produce `CTRL_CLOSE_EVENT`, `CTRL_LOGOFF_EVENT`,
//! `CTRL_SHUTDOWN_EVENT` (nor, in wine 8, `CTRL_BREAK_EVENT`); for those, the same console
//! handler is run on a new thread, as Windows runs it, through
//! `sigmux::shutdown::__simulate_console_event`. Scenarios that end the process run in a
//! re-executed child (this test binary, with `SIGMUX_SHUTDOWN_WIN_CHILD` set).
#![cfg(windows)]

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use sigmux::shutdown::{__simulate_console_event as simulate, Cause, ConsoleEvent, Shutdown};

const CTRL_C: u32 = 0;
const CTRL_BREAK: u32 = 1;
const CTRL_CLOSE: u32 = 2;
const CTRL_LOGOFF: u32 = 5;
const CTRL_SHUTDOWN: u32 = 6;
/// `STATUS_CONTROL_C_EXIT`, what the default console handler exits with.
const CONTROL_C_EXIT: i32 = 0xC000_013Au32 as i32;

/// The console handler is process-wide: one test at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[link(name = "kernel32")]
extern "system" {
    fn GenerateConsoleCtrlEvent(event: u32, group: u32) -> i32;
}

#[test]
fn a_real_ctrl_c_requests_a_shutdown() {
    let _lock = lock();
    let shutdown = Shutdown::new().unwrap();
    // SAFETY: no memory is involved; group 0 is every process on this console.
    if unsafe { GenerateConsoleCtrlEvent(CTRL_C, 0) } == 0 {
        // Without a console there is nothing to send Ctrl-C through. Only an explicit opt-out
        // skips: a CI that loses its console must not pass silently.
        assert!(
            std::env::var_os("SIGMUX_TEST_NO_CONSOLE").is_some(),
            "GenerateConsoleCtrlEvent failed: no console (under wine, run with WINE_PTY=1; \
             or set SIGMUX_TEST_NO_CONSOLE=1 to skip this test)"
        );
        return;
    }
    assert_eq!(
        shutdown.wait_timeout(Duration::from_secs(10)),
        Some(Cause::Console(ConsoleEvent::CtrlC))
    );
}

#[test]
fn every_console_event_requests_a_shutdown() {
    let _lock = lock();
    for (code, event) in [
        (CTRL_C, ConsoleEvent::CtrlC),
        (CTRL_BREAK, ConsoleEvent::CtrlBreak),
        (CTRL_CLOSE, ConsoleEvent::Close),
        (CTRL_LOGOFF, ConsoleEvent::Logoff),
        (CTRL_SHUTDOWN, ConsoleEvent::Shutdown),
    ] {
        let shutdown = Shutdown::new().unwrap();
        let handler = simulate(code);
        assert_eq!(
            shutdown.wait_timeout(Duration::from_secs(10)),
            Some(Cause::Console(event))
        );
        drop(shutdown);
        // Ctrl-C and Ctrl-Break: handled (TRUE). The closing events: held until the drop,
        // then passed on (FALSE) to the next handler.
        let handled = handler.join().unwrap();
        assert_eq!(
            handled,
            code == CTRL_C || code == CTRL_BREAK,
            "event {}",
            code
        );
    }
}

#[test]
fn the_close_event_holds_the_process_open_until_the_cleanup_ends() {
    let _lock = lock();
    let shutdown = Shutdown::new().unwrap();
    let handler = simulate(CTRL_CLOSE);
    assert!(shutdown.wait_timeout(Duration::from_secs(10)).is_some());
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        assert!(
            !handler.is_finished(),
            "the handler returned: Windows would kill us now"
        );
        thread::sleep(Duration::from_millis(20));
    }
    drop(shutdown);
    assert!(!handler.join().unwrap());
}

#[test]
fn the_future_completes_on_a_console_event() {
    let _lock = lock();
    let shutdown = Shutdown::new().unwrap();
    let handler = thread::spawn(|| {
        thread::sleep(Duration::from_millis(100));
        simulate(CTRL_C).join().unwrap()
    });
    let cause = block_on(shutdown.wait_async());
    assert_eq!(cause, Cause::Console(ConsoleEvent::CtrlC));
    assert!(handler.join().unwrap());
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        assert!(Instant::now() < deadline, "not woken within 10 s");
        thread::park_timeout(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------
// Exit status conventions, in re-executed children.

const CHILD: &str = "SIGMUX_SHUTDOWN_WIN_CHILD";

#[test]
fn child_entry() {
    let Ok(scenario) = std::env::var(CHILD) else {
        return;
    };
    let cleanup = |d: Duration| {
        let until = Instant::now() + d;
        while Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
    };
    match scenario.as_str() {
        "ctrl-c" => {
            let shutdown = Shutdown::new().unwrap();
            let _handler = simulate(CTRL_C);
            shutdown.wait();
            cleanup(Duration::from_millis(100));
            println!("cleanup done");
            shutdown.finish(0)
        }
        "request" => {
            let shutdown = Shutdown::new().unwrap();
            shutdown.request();
            shutdown.finish(5)
        }
        "twice" => {
            let shutdown = Shutdown::new().unwrap();
            let _first = simulate(CTRL_C);
            shutdown.wait();
            let _second = simulate(CTRL_C);
            cleanup(Duration::from_secs(60));
            println!("cleanup done");
            shutdown.finish(0)
        }
        "close" => {
            let shutdown = Shutdown::new().unwrap();
            let _handler = simulate(CTRL_CLOSE);
            shutdown.wait();
            cleanup(Duration::from_millis(300));
            println!("cleanup done");
            shutdown.finish(0)
        }
        "deadline" => {
            let shutdown = Shutdown::builder()
                .deadline(Duration::from_millis(300))
                .install()
                .unwrap();
            let _handler = simulate(CTRL_C);
            shutdown.wait();
            cleanup(Duration::from_secs(60));
            println!("cleanup done");
            shutdown.finish(0)
        }
        other => panic!("unknown scenario {}", other),
    }
}

/// Runs a scenario; returns its exit code, whether it printed "cleanup done", and how long
/// it took.
fn run(scenario: &str) -> (Option<i32>, bool, Duration) {
    let start = Instant::now();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, scenario)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let done = String::from_utf8_lossy(&out.stdout).contains("cleanup done");
    (out.status.code(), done, start.elapsed())
}

#[test]
fn after_ctrl_c_finish_exits_like_the_default_handler() {
    let (code, done, _) = run("ctrl-c");
    assert_eq!(code, Some(CONTROL_C_EXIT));
    assert!(done);
}

#[test]
fn after_a_program_request_finish_exits_with_the_status() {
    let (code, _, _) = run("request");
    assert_eq!(code, Some(5));
}

#[test]
fn a_second_ctrl_c_ends_the_process_at_once() {
    let (code, done, took) = run("twice");
    assert_eq!(code, Some(CONTROL_C_EXIT));
    assert!(!done);
    assert!(took < Duration::from_secs(30), "{:?}", took);
}

#[test]
fn after_a_close_event_the_cleanup_runs_to_the_end() {
    let (code, done, _) = run("close");
    assert_eq!(code, Some(CONTROL_C_EXIT));
    assert!(done);
}

#[test]
fn the_deadline_ends_the_process_like_the_default_handler() {
    let (code, done, took) = run("deadline");
    assert_eq!(code, Some(CONTROL_C_EXIT));
    assert!(!done);
    assert!(took < Duration::from_secs(30), "{:?}", took);
}
