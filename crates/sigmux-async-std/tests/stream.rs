//! The async-io stream. The scenarios every adapter's stream passes (readiness, batching,
//! cross-thread wake-ups, close, eager registration, the shared surface, errors) run under
//! async-std and under smol; then spawned tasks and the `futures` stream traits. Every
//! scenario uses SIGUSR1/SIGUSR2 and so takes the process-wide test lock.
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use async_std::future::timeout;
use futures_core::stream::FusedStream;
use futures_lite::StreamExt;

mod on_async_std {
    sigmux_testkit::stream_scenarios! {
        adapter: sigmux_async_std,
        block_on: async_std::task::block_on,
        timeout: async_std::future::timeout,
        yield_now: futures_lite::future::yield_now,
    }
}

mod on_smol {
    sigmux_testkit::stream_scenarios! {
        adapter: sigmux_async_std,
        block_on: smol::block_on,
        timeout: async_std::future::timeout,
        yield_now: futures_lite::future::yield_now,
    }
}

sigmux_testkit::stream_helpers! {
    adapter: sigmux_async_std,
    timeout: async_std::future::timeout,
    yield_now: futures_lite::future::yield_now,
}

#[test]
fn a_waiting_task_completes_only_after_a_signal() {
    let _lock = sigmux_testkit::lock();
    async_std::task::block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let (started, started_rx) = async_std::channel::bounded(1);
        let done = Arc::new(AtomicBool::new(false));
        let task_done = Arc::clone(&done);
        let task = async_std::task::spawn(async move {
            started.send(()).await.unwrap();
            let got = signals.next().await;
            task_done.store(true, Ordering::SeqCst);
            got
        });
        started_rx.recv().await.unwrap();
        let_reactor_run().await;
        assert!(!done.load(Ordering::SeqCst));

        raise(SIGUSR1).unwrap();
        assert_eq!(timeout(PATIENCE, task).await.unwrap(), Some(SIGUSR1));
        assert!(done.load(Ordering::SeqCst));
    });
}

#[test]
fn close_ends_the_stream_of_a_waiting_task() {
    let _lock = sigmux_testkit::lock();
    let executor = smol::Executor::new();
    smol::block_on(executor.run(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let handle = signals.handle();
        let (started, started_rx) = smol::channel::bounded(1);
        let task = executor.spawn(async move {
            started.send(()).await.unwrap();
            let first = signals.next().await;
            (first, signals.next().await, signals.take_error().is_none())
        });
        started_rx.recv().await.unwrap();
        thread::spawn(move || handle.close()).join().unwrap();
        let (first, second, no_error) = timeout(PATIENCE, task).await.unwrap();
        assert_eq!(first, None);
        assert_eq!(second, None, "stays ended");
        assert!(no_error);
    }));
}

#[test]
fn a_closed_stream_is_a_terminated_futures_stream() {
    let _lock = sigmux_testkit::lock();
    smol::block_on(async {
        let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        raise(SIGUSR2).unwrap();
        raise(SIGUSR1).unwrap();
        // `StreamExt::next`, as users of futures-lite write it.
        assert_eq!(
            timeout(PATIENCE, signals.next()).await.unwrap(),
            Some(SIGUSR1)
        );
        assert_eq!(
            timeout(PATIENCE, signals.next()).await.unwrap(),
            Some(SIGUSR2)
        );
        assert!(!signals.is_terminated());
        signals.handle().close();
        raise(SIGUSR1).unwrap();
        assert_eq!(poll_once(&mut signals).await, Poll::Ready(None));
        assert!(signals.is_terminated());
        assert_eq!(signals.next().await, None);
    });
}
