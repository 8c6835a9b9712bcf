//! The tokio stream on Windows (run under wine by `ci/windows.sh`): raised C runtime signals,
//! console events (through sigmux's console handler, run as Windows runs it), cross-thread
//! wake-ups, close, and the closing console event held until the stream is dropped.
#![cfg(windows)]

use std::sync::Mutex;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use sigmux::consts::{SIGCLOSE, SIGINT, SIGTERM};
use sigmux::low_level::raise;
use sigmux::shutdown::__simulate_console_event as simulate;
use sigmux_tokio::Signals;
use tokio::runtime::{Builder, Runtime};
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(10);
const CTRL_C: u32 = 0;
const CTRL_CLOSE: u32 = 2;

/// Signal state and the console handler are process-wide: one test at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn poll_once(signals: &mut Signals) -> Poll<Option<i32>> {
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(signals.poll_recv(cx))).await
}

async fn next_within_patience(signals: &mut Signals) -> Option<i32> {
    timeout(PATIENCE, signals.recv())
        .await
        .expect("no signal within the patience")
}

#[test]
fn not_ready_before_a_signal_ready_after_in_order() {
    let _lock = lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGTERM, SIGINT]).unwrap();
        assert!(poll_once(&mut signals).await.is_pending());
        raise(SIGTERM).unwrap();
        raise(SIGINT).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGINT));
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGTERM));
        assert!(poll_once(&mut signals).await.is_pending());
    });
}

fn from_another_thread(rt: Runtime) {
    let _lock = lock();
    rt.block_on(async {
        let mut signals = Signals::new([SIGTERM]).unwrap();
        let raiser = thread::spawn(|| {
            thread::sleep(Duration::from_millis(100));
            raise(SIGTERM).unwrap();
        });
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGTERM));
        raiser.join().unwrap();
    });
}

#[test]
fn a_signal_from_another_thread_wakes_a_current_thread_runtime() {
    from_another_thread(current_thread());
}

#[test]
fn a_signal_from_another_thread_wakes_a_multi_thread_runtime() {
    from_another_thread(multi_thread());
}

#[test]
fn a_console_ctrl_c_arrives_as_sigint() {
    let _lock = lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGINT]).unwrap();
        let handler = simulate(CTRL_C);
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGINT));
        assert!(
            handler.join().unwrap(),
            "Ctrl-C not taken: the process would die"
        );
    });
}

#[test]
fn close_ends_the_stream_of_a_waiting_task() {
    let _lock = lock();
    multi_thread().block_on(async {
        let mut signals = Signals::new([SIGTERM]).unwrap();
        let handle = signals.handle();
        // Ended for good: a second receive is `None` at once too.
        let task = tokio::spawn(async move { (signals.recv().await, signals.recv().await) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        handle.close();
        assert_eq!(
            timeout(PATIENCE, task).await.unwrap().unwrap(),
            (None, None)
        );
    });
}

#[test]
fn made_and_raised_outside_a_runtime() {
    let _lock = lock();
    // SIGTERM's default action would end this test process if nothing were registered.
    let mut signals = Signals::new([SIGTERM]).unwrap();
    raise(SIGTERM).unwrap();
    current_thread().block_on(async {
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGTERM));
    });
}

#[test]
fn a_close_event_is_held_until_the_stream_is_dropped() {
    let _lock = lock();
    let rt = current_thread();
    let mut signals = Signals::new([SIGCLOSE]).unwrap();
    let handler = simulate(CTRL_CLOSE);
    rt.block_on(async {
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGCLOSE));
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

#[cfg(feature = "futures-v0_3")]
#[test]
fn is_a_futures_stream() {
    use futures::stream::StreamExt;
    let _lock = lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGTERM]).unwrap();
        raise(SIGTERM).unwrap();
        assert_eq!(
            timeout(PATIENCE, signals.next()).await.unwrap(),
            Some(SIGTERM)
        );
    });
}
