//! The tokio stream. The scenarios every adapter's stream passes (readiness, batching,
//! cross-thread wake-ups, close, eager registration, the shared surface, errors) run on a
//! current-thread and a multi-thread runtime; then what is tokio's own: spawned tasks, a
//! runtime that dies under the stream, a poll outside any runtime, `futures` integration.
//! Every scenario uses SIGUSR1/SIGUSR2 and so takes the process-wide test lock.
#![cfg(unix)]

use std::future::Future;
use std::thread;

use tokio::runtime::{Builder, Runtime};
use tokio::time::timeout;

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

fn on_current_thread<F: Future>(future: F) -> F::Output {
    current_thread().block_on(future)
}

fn on_multi_thread<F: Future>(future: F) -> F::Output {
    multi_thread().block_on(future)
}

mod current_thread {
    sigmux_testkit::stream_scenarios! {
        adapter: sigmux_tokio,
        block_on: super::on_current_thread,
        timeout: tokio::time::timeout,
        yield_now: tokio::task::yield_now,
    }
}

mod multi_thread {
    sigmux_testkit::stream_scenarios! {
        adapter: sigmux_tokio,
        block_on: super::on_multi_thread,
        timeout: tokio::time::timeout,
        yield_now: tokio::task::yield_now,
    }
}

sigmux_testkit::stream_helpers! {
    adapter: sigmux_tokio,
    timeout: tokio::time::timeout,
    yield_now: tokio::task::yield_now,
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
