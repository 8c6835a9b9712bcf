//! The async-io stream on async-std and smol: readiness, batching, cross-thread wake-ups,
//! close, eager registration. Every scenario uses SIGUSR1/SIGUSR2 and so takes the
//! process-wide test lock.
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use async_std::future::timeout;
use futures_lite::future::yield_now;
use futures_lite::StreamExt;
use sigmux::consts::{SIGUSR1, SIGUSR2};
use sigmux::low_level::raise;
use sigmux_async_std::{Signals, SignalsInfo};

const PATIENCE: Duration = Duration::from_secs(10);

/// Polls the stream exactly once.
async fn poll_once(signals: &mut Signals) -> Poll<Option<i32>> {
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(signals.poll_recv(cx))).await
}

/// Gives the executor and the reactor a few turns.
async fn let_reactor_run() {
    for _ in 0..10 {
        yield_now().await;
    }
}

async fn next_within_patience(signals: &mut Signals) -> Option<i32> {
    timeout(PATIENCE, signals.next())
        .await
        .expect("no signal within the patience")
}

#[test]
fn not_ready_before_a_signal_ready_after() {
    let _lock = sigmux_testkit::lock();
    async_std::task::block_on(async {
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
    smol::block_on(async {
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

/// A boxed test body, so one scenario can run on either executor.
type Body = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

fn signals_from_another_thread(block_on: fn(Body)) {
    let (go, go_rx) = mpsc::channel::<()>();
    let raiser = thread::spawn(move || {
        for () in go_rx {
            raise(SIGUSR1).unwrap();
        }
    });
    let go2 = go.clone();
    block_on(Box::pin(async move {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        for _ in 0..20 {
            assert!(poll_once(&mut signals).await.is_pending());
            go2.send(()).unwrap();
            assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
        }
    }));
    drop(go);
    raiser.join().unwrap();
}

#[test]
fn signals_from_another_thread_wake_async_std() {
    let _lock = sigmux_testkit::lock();
    signals_from_another_thread(async_std::task::block_on);
}

#[test]
fn signals_from_another_thread_wake_smol() {
    let _lock = sigmux_testkit::lock();
    signals_from_another_thread(smol::block_on);
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
fn close_before_the_first_poll_ends_the_stream() {
    let _lock = sigmux_testkit::lock();
    smol::block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        signals.handle().close();
        raise(SIGUSR1).unwrap();
        assert_eq!(poll_once(&mut signals).await, Poll::Ready(None));
        assert!(futures_core::stream::FusedStream::is_terminated(&signals));
    });
}

#[test]
fn registers_at_creation_not_on_first_poll() {
    let _lock = sigmux_testkit::lock();
    // SIGUSR1's default action would end this test process if the registration were lazy.
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    raise(SIGUSR1).unwrap();
    smol::block_on(async {
        assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
    });
}

#[test]
fn any_exfiltrator_streams() {
    use sigmux::iterator::exfiltrator::WithRawSiginfo;

    let _lock = sigmux_testkit::lock();
    async_std::task::block_on(async {
        let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR2]).unwrap();
        raise(SIGUSR2).unwrap();
        let info = timeout(PATIENCE, signals.recv()).await.unwrap().unwrap();
        assert_eq!(info.si_signo, SIGUSR2);
    });
}

#[test]
fn handle_adds_signals_from_another_thread() {
    let _lock = sigmux_testkit::lock();
    smol::block_on(async {
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

#[test]
fn remove_signal_through_the_handle_takes_effect_at_once() {
    let _lock = sigmux_testkit::lock();
    smol::block_on(async {
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
    for bad in [-1, 0, libc::SIGKILL, libc::SIGSTOP, 1000, i32::MAX] {
        let err = Signals::new([SIGUSR1, bad]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{}", bad);
        assert!(err.to_string().contains(&bad.to_string()), "{}", err);
    }
    let signals = Signals::new([SIGUSR1]).unwrap();
    let err = signals.handle().add_signal(1000).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_full_pipe_loses_no_wake_up() {
    let _lock = sigmux_testkit::lock();
    async_std::task::block_on(async {
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
    smol::block_on(async {
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
    smol::block_on(async {
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1]).unwrap();
        raise(SIGUSR1).unwrap();
        let origin = timeout(PATIENCE, signals.next()).await.unwrap().unwrap();
        let sender = origin.process.expect("raise tells who sent it");
        assert_eq!(sender.pid as u32, std::process::id());
        // SAFETY: getuid has no preconditions.
        assert_eq!(sender.uid, unsafe { libc::getuid() });
    });
}

// The surface every adapter shares: `add_signal`, `remove_signal`, `handle`, `is_closed` on
// the stream itself, and the re-exports that spare a second dependency.

#[test]
fn add_signal_on_the_stream_reports_the_signal_and_rejects_bad_numbers() {
    let _lock = sigmux_testkit::lock();
    async_std::task::block_on(async {
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
    async_std::task::block_on(async {
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
    async_std::task::block_on(async {
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
    use sigmux_async_std::consts::signal::SIGUSR1 as USR1;
    use sigmux_async_std::exfiltrator::{SignalOnly, WithOrigin};
    async_std::task::block_on(async {
        let _plain = SignalsInfo::<SignalOnly>::new([USR1]).unwrap();
        let mut signals = SignalsInfo::<WithOrigin>::new([USR1]).unwrap();
        raise(USR1).unwrap();
        let origin = timeout(PATIENCE, signals.recv()).await.unwrap().unwrap();
        assert_eq!(origin.signal, USR1);
    });
}
