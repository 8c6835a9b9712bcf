//! The blocking iterator on Windows: C runtime signals (raised), console events as signals
//! (a real Ctrl-C through `GenerateConsoleCtrlEvent`, the others through the console handler
//! run as Windows runs it), and the console handler holding the process open while an
//! iterator listens for a closing event.
//!
//! Run under wine with `WINE_PTY=1` (a real console) for the Ctrl-C test. wine cannot
//! produce `CTRL_CLOSE_EVENT`, `CTRL_LOGOFF_EVENT`, `CTRL_SHUTDOWN_EVENT` (nor, in wine 8,
//! `CTRL_BREAK_EVENT`): for those, sigmux's one console handler (the one `Shutdown` uses too)
//! is run on a new thread through `sigmux::shutdown::__simulate_console_event`.
#![cfg(all(windows, feature = "iterator"))]

use std::io::ErrorKind;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use sigmux::consts::{SIGABRT, SIGBREAK, SIGCLOSE, SIGINT, SIGLOGOFF, SIGSHUTDOWN, SIGTERM};
use sigmux::iterator::Signals;
use sigmux::low_level::raise;
use sigmux::shutdown::__simulate_console_event as simulate;

const CTRL_C: u32 = 0;
const CTRL_BREAK: u32 = 1;
const CTRL_CLOSE: u32 = 2;
const CTRL_LOGOFF: u32 = 5;
const CTRL_SHUTDOWN: u32 = 6;

/// Signal state and the console handler are process-wide: one test at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[link(name = "kernel32")]
extern "system" {
    fn GenerateConsoleCtrlEvent(event: u32, group: u32) -> i32;
}

fn wait_for(signals: &mut Signals, want: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while !want.iter().all(|s| got.contains(s)) && Instant::now() < deadline {
        got.extend(signals.wait_timeout(Duration::from_millis(200)));
    }
    got
}

#[test]
fn raised_signals_come_in_one_batch_in_order_and_coalesced() {
    let _lock = lock();
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGBREAK, SIGABRT]).unwrap();
    for sig in [SIGTERM, SIGABRT, SIGINT, SIGBREAK, SIGTERM] {
        raise(sig).unwrap();
    }
    assert_eq!(
        signals.pending().collect::<Vec<_>>(),
        [SIGINT, SIGTERM, SIGBREAK, SIGABRT]
    );
    assert_eq!(signals.pending().count(), 0);
    // The C runtime's handlers are one-shot: the registry re-arms them.
    raise(SIGTERM).unwrap();
    assert_eq!(signals.wait().collect::<Vec<_>>(), [SIGTERM]);
}

#[test]
fn wait_blocks_until_a_signal_and_wait_timeout_gives_up() {
    let _lock = lock();
    let mut signals = Signals::new([SIGTERM]).unwrap();
    let start = Instant::now();
    assert_eq!(signals.wait_timeout(Duration::from_millis(100)).count(), 0);
    assert!(start.elapsed() >= Duration::from_millis(100));
    let raiser = thread::spawn(|| {
        thread::sleep(Duration::from_millis(100));
        raise(SIGTERM).unwrap();
    });
    assert_eq!(wait_for(&mut signals, &[SIGTERM]), [SIGTERM]);
    raiser.join().unwrap();
}

#[test]
fn forever_yields_then_ends_when_the_handle_closes() {
    let _lock = lock();
    let mut signals = Signals::new([SIGTERM]).unwrap();
    let handle = signals.handle();
    let reader = thread::spawn(move || signals.forever().collect::<Vec<_>>());
    thread::sleep(Duration::from_millis(50));
    raise(SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The reader has taken it once the coalescing flag is clear again; close only then.
    thread::sleep(Duration::from_millis(200));
    handle.close();
    while !reader.is_finished() {
        assert!(Instant::now() < deadline, "forever did not end after close");
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(reader.join().unwrap(), [SIGTERM]);
    assert!(handle.is_closed());
}

#[test]
fn handle_adds_and_removes_signals_and_refuses_bad_ones() {
    let _lock = lock();
    let mut signals = Signals::new([SIGINT]).unwrap();
    let handle = signals.handle();
    handle.add_signal(SIGTERM).unwrap();
    handle.add_signal(SIGTERM).unwrap(); // idempotent
    handle.add_signal(SIGCLOSE).unwrap();
    raise(SIGTERM).unwrap();
    raise(SIGINT).unwrap();
    assert!(handle.remove_signal(SIGINT));
    assert!(!handle.remove_signal(SIGINT));
    assert!(handle.remove_signal(SIGCLOSE));
    assert!(!handle.remove_signal(SIGCLOSE));
    assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGTERM]);
    for bad in [-1, 0, 10, 23, 27, 1000, i32::MAX] {
        let err = handle.add_signal(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", bad);
        assert!(err.to_string().contains(&bad.to_string()));
    }
    drop(signals);
    assert!(handle.add_signal(SIGTERM).is_err());
}

#[test]
fn a_real_ctrl_c_arrives_as_sigint() {
    let _lock = lock();
    let mut signals = Signals::new([SIGINT]).unwrap();
    // SAFETY: no memory is involved; group 0 is every process on this console.
    if unsafe { GenerateConsoleCtrlEvent(CTRL_C, 0) } == 0 {
        // Only an explicit opt-out skips: a CI that loses its console must not pass silently.
        assert!(
            std::env::var_os("SIGMUX_TEST_NO_CONSOLE").is_some(),
            "GenerateConsoleCtrlEvent failed: no console (under wine, run with WINE_PTY=1; \
             or set SIGMUX_TEST_NO_CONSOLE=1 to skip this test)"
        );
        return;
    }
    assert_eq!(wait_for(&mut signals, &[SIGINT]), [SIGINT]);
}

#[test]
fn every_console_event_arrives_as_its_signal() {
    let _lock = lock();
    for (code, sig) in [
        (CTRL_C, SIGINT),
        (CTRL_BREAK, SIGBREAK),
        (CTRL_CLOSE, SIGCLOSE),
        (CTRL_LOGOFF, SIGLOGOFF),
        (CTRL_SHUTDOWN, SIGSHUTDOWN),
    ] {
        let mut signals = Signals::new([sig]).unwrap();
        let handler = simulate(code);
        assert_eq!(wait_for(&mut signals, &[sig]), [sig], "event {}", code);
        drop(signals);
        // Ctrl-C and Ctrl-Break: handled (TRUE), the process lives on. The closing events:
        // held until the drop, then passed on (FALSE) to the next handler.
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
fn an_event_nobody_listens_for_gets_the_default_at_once() {
    let _lock = lock();
    // Listening for other things only: the handler declines (FALSE) at once, so the next
    // handler (by default ExitProcess) acts as if sigmux were not there.
    let signals = Signals::new([SIGTERM, SIGCLOSE]).unwrap();
    for code in [CTRL_C, CTRL_BREAK, CTRL_LOGOFF] {
        let handler = simulate(code);
        assert!(!handler.join().unwrap(), "event {}", code);
    }
    drop(signals);
    let signals = Signals::new([SIGINT]).unwrap();
    assert!(!simulate(CTRL_CLOSE).join().unwrap());
    // A closed iterator listens no more.
    signals.handle().close();
    assert!(!simulate(CTRL_C).join().unwrap());
}

/// The console handler must not return (Windows would kill the process) until the listener
/// is done; `release` is what makes it done. What it returns stays alive until the handler
/// has returned.
fn held_until(release: impl FnOnce(Signals) -> Option<Signals>) {
    let mut signals = Signals::new([SIGCLOSE, SIGTERM]).unwrap();
    let handler = simulate(CTRL_CLOSE);
    assert_eq!(wait_for(&mut signals, &[SIGCLOSE]), [SIGCLOSE]);
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        assert!(
            !handler.is_finished(),
            "the handler returned: Windows would kill us before the cleanup"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let kept = release(signals);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !handler.is_finished() {
        assert!(Instant::now() < deadline, "still held after the release");
        thread::sleep(Duration::from_millis(10));
    }
    assert!(!handler.join().unwrap());
    drop(kept);
}

#[test]
fn a_close_event_is_held_until_the_iterator_is_dropped() {
    let _lock = lock();
    held_until(|signals| {
        drop(signals);
        None
    });
}

#[test]
fn a_close_event_is_held_until_the_handle_closes() {
    let _lock = lock();
    held_until(|signals| {
        signals.handle().close();
        Some(signals)
    });
}

#[test]
fn a_close_event_is_held_until_its_signal_is_removed() {
    let _lock = lock();
    held_until(|signals| {
        assert!(signals.handle().remove_signal(SIGCLOSE));
        Some(signals) // still listening for SIGTERM
    });
}

#[test]
fn shutdown_and_iterator_share_the_console_handler() {
    let _lock = lock();
    let shutdown = sigmux::Shutdown::new().unwrap();
    let mut signals = Signals::new([SIGCLOSE]).unwrap();
    let handler = simulate(CTRL_CLOSE);
    assert_eq!(wait_for(&mut signals, &[SIGCLOSE]), [SIGCLOSE]);
    assert!(shutdown.wait_timeout(Duration::from_secs(10)).is_some());
    drop(signals);
    thread::sleep(Duration::from_millis(200));
    assert!(
        !handler.is_finished(),
        "released before the Shutdown was done"
    );
    drop(shutdown);
    assert!(!handler.join().unwrap());
}

/// The `signals` example (built by `cargo test` with the tests), under a real Ctrl-C it
/// presses itself: the same code path as on Unix, and the default handler's exit status.
#[test]
fn the_signals_example_handles_a_real_ctrl_c() {
    let _lock = lock();
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
        .join("signals.exe");
    assert!(
        example.exists(),
        "{} not built (run the whole `cargo test`, which builds the examples)",
        example.display()
    );
    // The Ctrl-C goes to every process on the console, this one included: take it here too.
    let mut ours = Signals::new([SIGINT]).unwrap();
    let out = std::process::Command::new(&example)
        .arg("--press-ctrl-c")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(3) {
        // No console to press Ctrl-C in: only an explicit opt-out passes.
        assert!(
            std::env::var_os("SIGMUX_TEST_NO_CONSOLE").is_some(),
            "no console (under wine, run with WINE_PTY=1): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    assert!(
        stdout.contains("got SIGINT: stopping") && stdout.contains("cleanup done"),
        "{:?}",
        stdout
    );
    assert_eq!(
        out.status.code(),
        Some(0xC000_013Au32 as i32),
        "{:?}",
        stdout
    );
    drop(ours.pending());
}
