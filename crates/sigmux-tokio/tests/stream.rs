//! The tokio stream: readiness, batching, cross-thread wake-ups, close, eager registration,
//! errors, a runtime that dies under the stream. Every scenario uses SIGUSR1/SIGUSR2 and so
//! takes the process-wide test lock.
#![cfg(unix)]

use std::future::Future;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use sigmux::consts::{SIGUSR1, SIGUSR2};
use sigmux::low_level::raise;
use sigmux_tokio::{Signals, SignalsInfo};
use tokio::runtime::{Builder, Runtime};
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(10);

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

/// Polls the stream exactly once.
async fn poll_once(signals: &mut Signals) -> Poll<Option<i32>> {
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(signals.poll_recv(cx))).await
}

/// Lets the runtime run its reactor a few times.
async fn let_reactor_run() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

async fn next_within_patience(signals: &mut Signals) -> Option<i32> {
    timeout(PATIENCE, signals.recv())
        .await
        .expect("no signal within the patience")
}

#[test]
fn not_ready_before_a_signal_ready_after() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        assert!(poll_once(&mut signals).await.is_pending());
        let_reactor_run().await;
        assert!(poll_once(&mut signals).await.is_pending());

        raise(SIGUSR1).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));

        let_reactor_run().await;
        assert!(poll_once(&mut signals).await.is_pending());
    });
}

#[test]
fn several_signals_in_one_batch() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        for _ in 0..3 {
            raise(SIGUSR2).unwrap();
            raise(SIGUSR1).unwrap();
        }
        // Coalesced per kind, in numeric order.
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
        let_reactor_run().await;
        assert!(poll_once(&mut signals).await.is_pending());
    });
}

fn signals_from_another_thread(rt: Runtime) {
    let (go, go_rx) = mpsc::channel::<()>();
    let raiser = thread::spawn(move || {
        for () in go_rx {
            raise(SIGUSR1).unwrap();
        }
    });
    rt.block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        for _ in 0..20 {
            assert!(poll_once(&mut signals).await.is_pending());
            go.send(()).unwrap();
            assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
        }
    });
    drop(go);
    raiser.join().unwrap();
}

#[test]
fn signals_from_another_thread_wake_a_current_thread_runtime() {
    let _lock = sigmux_testkit::lock();
    signals_from_another_thread(current_thread());
}

#[test]
fn signals_from_another_thread_wake_a_multi_thread_runtime() {
    let _lock = sigmux_testkit::lock();
    signals_from_another_thread(multi_thread());
}

#[test]
fn a_waiting_task_completes_only_after_a_signal() {
    let _lock = sigmux_testkit::lock();
    multi_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let (started, started_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = started.send(());
            signals.recv().await
        });
        started_rx.await.unwrap();
        let_reactor_run().await;
        assert!(!task.is_finished());

        raise(SIGUSR1).unwrap();
        let got = timeout(PATIENCE, task).await.unwrap().unwrap();
        assert_eq!(got, Some(SIGUSR1));
    });
}

#[test]
fn close_ends_the_stream_of_a_waiting_task() {
    let _lock = sigmux_testkit::lock();
    multi_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let handle = signals.handle();
        let (started, started_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = started.send(());
            let first = signals.recv().await;
            (first, signals.recv().await, signals.take_error().is_none())
        });
        started_rx.await.unwrap();
        thread::spawn(move || handle.close()).join().unwrap();
        let (first, second, no_error) = timeout(PATIENCE, task).await.unwrap().unwrap();
        assert_eq!(first, None);
        assert_eq!(second, None, "stays ended");
        assert!(no_error);
    });
}

#[test]
fn close_before_the_first_poll_ends_the_stream() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        signals.handle().close();
        raise(SIGUSR1).unwrap();
        assert_eq!(poll_once(&mut signals).await, Poll::Ready(None));
    });
}

#[test]
fn made_outside_a_runtime_registers_at_once() {
    let _lock = sigmux_testkit::lock();
    // SIGUSR1's default action would end this test process if the registration were lazy.
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    raise(SIGUSR1).unwrap();
    current_thread().block_on(async {
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
    });
}

#[test]
fn polled_outside_a_runtime_ends_with_an_error() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(signals.poll_recv(&mut cx), Poll::Ready(None));
    assert!(signals.take_error().is_some());
    assert!(signals.take_error().is_none());
}

#[test]
fn a_dead_reactor_hands_the_stream_to_the_next_runtime() {
    let _lock = sigmux_testkit::lock();
    let first = current_thread();
    let mut signals = first.block_on(async { Signals::new([SIGUSR1]).unwrap() });
    drop(first);
    current_thread().block_on(async {
        assert_eq!(poll_once(&mut signals).await, Poll::Pending);
        raise(SIGUSR1).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
    });
    assert!(signals.take_error().is_none());
}

#[test]
fn any_exfiltrator_streams() {
    use sigmux::iterator::exfiltrator::WithRawSiginfo;

    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR2]).unwrap();
        raise(SIGUSR2).unwrap();
        let info = timeout(PATIENCE, signals.recv()).await.unwrap().unwrap();
        assert_eq!(info.si_signo, SIGUSR2);
    });
}

#[test]
fn handle_adds_signals_from_another_thread() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let handle = signals.handle();
        thread::spawn(move || handle.add_signal(SIGUSR2))
            .join()
            .unwrap()
            .unwrap();
        raise(SIGUSR2).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
    });
}

#[cfg(feature = "futures-v0_3")]
#[test]
fn a_fused_stream_for_futures() {
    use futures::stream::{FusedStream, StreamExt};

    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        raise(SIGUSR2).unwrap();
        raise(SIGUSR1).unwrap();
        let two: Vec<i32> = timeout(PATIENCE, (&mut signals).take(2).collect())
            .await
            .unwrap();
        assert_eq!(two, [SIGUSR1, SIGUSR2]);
        assert!(!signals.is_terminated());
        signals.handle().close();
        assert_eq!(signals.next().await, None);
        assert!(signals.is_terminated());
    });
}

// Keeps the helper future types honest: the stream is Unpin and Send, as users rely on.
#[allow(dead_code)]
fn assert_traits() {
    fn unpin_send<T: Unpin + Send + 'static>() {}
    fn send_future<F: Future + Send>(_: F) {}
    unpin_send::<Signals>();
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    send_future(signals.recv());
}

#[test]
fn remove_signal_through_the_handle_takes_effect_at_once() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        // Keeps SIGUSR1 handled (and checks it still sees it) whatever happens to `signals`.
        let mut keeper = Signals::new([SIGUSR1]).unwrap();
        let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        let handle = signals.handle();
        raise(SIGUSR1).unwrap();
        raise(SIGUSR2).unwrap();
        assert!(thread::spawn(move || handle.remove_signal(SIGUSR1))
            .join()
            .unwrap());
        // Already pending, yet no longer reported.
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
        let_reactor_run().await;
        assert!(poll_once(&mut signals).await.is_pending());
        assert_eq!(next_within_patience(&mut keeper).await, Some(SIGUSR1));

        // And it can come back.
        signals.handle().add_signal(SIGUSR1).unwrap();
        raise(SIGUSR1).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
    });
}

#[test]
fn bad_signal_numbers_are_errors_not_panics() {
    let _lock = sigmux_testkit::lock();
    let check = || {
        for bad in [-1, 0, libc::SIGKILL, libc::SIGSTOP, 1000, i32::MAX] {
            let err = Signals::new([SIGUSR1, bad]).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{}", bad);
            assert!(err.to_string().contains(&bad.to_string()), "{}", err);
        }
    };
    check(); // outside a runtime
    current_thread().block_on(async { check() });
    let signals = Signals::new([SIGUSR1]).unwrap();
    let err = signals.handle().add_signal(1000).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_full_pipe_loses_no_wake_up() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        // More wake-up bytes than a pipe holds (64 KiB on Linux): later writes fail, which the
        // handler ignores; the signals themselves are still recorded.
        for _ in 0..70_000 {
            raise(SIGUSR1).unwrap();
        }
        raise(SIGUSR2).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
        let_reactor_run().await;
        assert!(poll_once(&mut signals).await.is_pending());
        // The pipe was emptied: the next signal wakes the stream again.
        raise(SIGUSR2).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
    });
}

#[test]
fn recv_is_cancel_safe() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        // A `recv` dropped while waiting (its waker registered) ...
        assert!(timeout(Duration::from_millis(20), signals.recv())
            .await
            .is_err());
        raise(SIGUSR1).unwrap();
        // ... and one dropped before its first poll lose nothing.
        drop(signals.recv());
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
    });
}

#[test]
fn with_origin_tells_the_sender_pid_and_uid() {
    use sigmux::iterator::exfiltrator::WithOrigin;

    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1]).unwrap();
        raise(SIGUSR1).unwrap();
        let origin = timeout(PATIENCE, signals.recv()).await.unwrap().unwrap();
        let sender = origin.process.expect("raise tells who sent it");
        assert_eq!(sender.pid as u32, std::process::id());
        // SAFETY: getuid has no preconditions.
        assert_eq!(sender.uid, unsafe { libc::getuid() });
    });
}

// A stream whose runtime was dropped: the next runtime that polls it takes it over, and a
// poll outside any runtime ends it with an error that says what happened.

/// Runtime A polls the stream (so it is registered with A's reactor, a waker waiting there),
/// A is dropped, a signal arrives while no runtime lives, then runtime B polls.
fn a_dropped_then_b_polls(a: Runtime, b: Runtime, mut signals: Signals) {
    a.block_on(async {
        assert_eq!(poll_once(&mut signals).await, Poll::Pending);
    });
    drop(a);
    raise(SIGUSR1).unwrap();
    b.block_on(async {
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
        // Still waiting on B's reactor: a later signal from another thread wakes it.
        assert_eq!(poll_once(&mut signals).await, Poll::Pending);
        let sender = thread::spawn(|| raise(SIGUSR2).unwrap());
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
        sender.join().unwrap();
    });
    assert!(signals.take_error().is_none());
}

#[test]
fn made_outside_polled_by_a_a_dropped_then_polled_by_b_keeps_working() {
    let _lock = sigmux_testkit::lock();
    let signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    a_dropped_then_b_polls(current_thread(), current_thread(), signals);
}

#[test]
fn made_in_a_multi_thread_a_dropped_then_polled_by_b_keeps_working() {
    let _lock = sigmux_testkit::lock();
    let a = multi_thread();
    let signals = a.block_on(async { Signals::new([SIGUSR1, SIGUSR2]).unwrap() });
    a_dropped_then_b_polls(a, current_thread(), signals);
}

#[test]
fn polled_by_another_runtime_while_its_own_lives_it_keeps_working() {
    let _lock = sigmux_testkit::lock();
    let home = multi_thread();
    let mut signals = home.block_on(async { Signals::new([SIGUSR1]).unwrap() });
    current_thread().block_on(async {
        assert_eq!(poll_once(&mut signals).await, Poll::Pending);
        let sender = thread::spawn(|| raise(SIGUSR1).unwrap());
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
        sender.join().unwrap();
    });
    assert!(signals.take_error().is_none());
    drop(home);
}

#[test]
fn moves_on_through_several_dead_runtimes() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    for _ in 0..3 {
        let rt = current_thread();
        rt.block_on(async {
            assert_eq!(poll_once(&mut signals).await, Poll::Pending);
            raise(SIGUSR1).unwrap();
            assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
        });
    }
}

#[test]
fn after_its_runtime_died_a_poll_outside_any_runtime_says_so() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    let a = current_thread();
    a.block_on(async {
        assert_eq!(poll_once(&mut signals).await, Poll::Pending);
    });
    drop(a);
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(signals.poll_recv(&mut cx), Poll::Ready(None));
    let error = signals.take_error().expect("the reason is kept");
    let message = error.to_string();
    assert!(message.contains("shut down"), "{message}");
    assert!(message.contains("outside"), "{message}");
}

// The surface every adapter shares: `add_signal`, `remove_signal`, `handle`, `is_closed` on
// the stream itself, and the re-exports that spare a second dependency.

#[test]
fn add_signal_on_the_stream_reports_the_signal_and_rejects_bad_numbers() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        signals.add_signal(SIGUSR2).unwrap();
        signals.add_signal(SIGUSR2).unwrap();
        raise(SIGUSR2).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
        let error = signals.add_signal(1000).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("1000"));
    });
}

#[test]
fn remove_signal_on_the_stream_drops_arrivals_not_yet_taken() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        raise(SIGUSR1).unwrap();
        assert!(signals.remove_signal(SIGUSR1));
        assert!(!signals.remove_signal(SIGUSR1));
        raise(SIGUSR1).unwrap();
        raise(SIGUSR2).unwrap();
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
        assert!(poll_once(&mut signals).await.is_pending());
    });
}

#[test]
fn is_closed_on_the_stream_follows_its_handle() {
    let _lock = sigmux_testkit::lock();
    current_thread().block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let handle = signals.handle();
        assert!(!signals.is_closed());
        handle.close();
        assert!(signals.is_closed());
        assert_eq!(next_within_patience(&mut signals).await, None);
    });
}

#[test]
fn the_crate_re_exports_consts_and_exfiltrators() {
    let _lock = sigmux_testkit::lock();
    use sigmux_tokio::consts::signal::SIGUSR1 as USR1;
    use sigmux_tokio::exfiltrator::{SignalOnly, WithOrigin};
    current_thread().block_on(async {
        let _plain = SignalsInfo::<SignalOnly>::new([USR1]).unwrap();
        let mut signals = SignalsInfo::<WithOrigin>::new([USR1]).unwrap();
        raise(USR1).unwrap();
        let origin = timeout(PATIENCE, signals.recv()).await.unwrap().unwrap();
        assert_eq!(origin.signal, USR1);
    });
}
