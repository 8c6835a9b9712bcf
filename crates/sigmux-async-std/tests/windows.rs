//! The async-std / smol stream on Windows (run under wine by `ci/windows.sh`): raised C
//! runtime signals, a console Ctrl-C (through sigmux's console handler, run as Windows runs
//! it), cross-thread wake-ups, close, and the closing console event held until the stream is
//! dropped.
#![cfg(windows)]

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use futures_core::stream::FusedStream;
use futures_lite::StreamExt;
use sigmux::consts::{SIGCLOSE, SIGINT, SIGTERM};
use sigmux::low_level::raise;
use sigmux::shutdown::__simulate_console_event as simulate;
use sigmux_async_std::Signals;

const PATIENCE: Duration = Duration::from_secs(10);
const CTRL_C: u32 = 0;
const CTRL_CLOSE: u32 = 2;

/// Signal state and the console handler are process-wide: one test at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

async fn next(signals: &mut Signals) -> Option<i32> {
    async_std::future::timeout(PATIENCE, signals.next())
        .await
        .expect("no signal within the patience")
}

#[test]
fn raised_signals_arrive_in_order_under_async_std() {
    let _lock = lock();
    async_std::task::block_on(async {
        let mut signals = Signals::new([SIGTERM, SIGINT]).unwrap();
        raise(SIGTERM).unwrap();
        raise(SIGINT).unwrap();
        assert_eq!(next(&mut signals).await, Some(SIGINT));
        assert_eq!(next(&mut signals).await, Some(SIGTERM));
    });
}

#[test]
fn a_signal_from_another_thread_wakes_smol() {
    let _lock = lock();
    smol::block_on(async {
        let mut signals = Signals::new([SIGTERM]).unwrap();
        let raiser = thread::spawn(|| {
            thread::sleep(Duration::from_millis(100));
            raise(SIGTERM).unwrap();
        });
        assert_eq!(next(&mut signals).await, Some(SIGTERM));
        raiser.join().unwrap();
    });
}

#[test]
fn a_console_ctrl_c_arrives_as_sigint() {
    let _lock = lock();
    async_std::task::block_on(async {
        let mut signals = Signals::new([SIGINT]).unwrap();
        let handler = simulate(CTRL_C);
        assert_eq!(next(&mut signals).await, Some(SIGINT));
        assert!(
            handler.join().unwrap(),
            "Ctrl-C not taken: the process would die"
        );
    });
}

#[test]
fn close_ends_the_stream_of_a_waiting_task() {
    let _lock = lock();
    async_std::task::block_on(async {
        let mut signals = Signals::new([SIGTERM]).unwrap();
        let handle = signals.handle();
        // Ended for good: a second `next` is `None` at once too, and the stream says so.
        let task = async_std::task::spawn(async move {
            let got = (signals.next().await, signals.next().await);
            (got, signals.is_terminated())
        });
        async_std::task::sleep(Duration::from_millis(50)).await;
        handle.close();
        let got = async_std::future::timeout(PATIENCE, task).await.unwrap();
        assert_eq!(got, ((None, None), true));
    });
}

#[test]
fn a_close_event_is_held_until_the_stream_is_dropped() {
    let _lock = lock();
    let mut signals = Signals::new([SIGCLOSE]).unwrap();
    let handler = simulate(CTRL_CLOSE);
    smol::block_on(async {
        assert_eq!(next(&mut signals).await, Some(SIGCLOSE));
    });
    thread::sleep(Duration::from_millis(300));
    assert!(
        !handler.is_finished(),
        "Windows would kill us before the cleanup"
    );
    drop(signals);
    let deadline = Instant::now() + PATIENCE;
    while !handler.is_finished() {
        assert!(Instant::now() < deadline, "still held after the drop");
        thread::sleep(Duration::from_millis(10));
    }
    assert!(!handler.join().unwrap());
}
