//! The scenarios every async adapter's stream must pass, written once: sigmux-tokio and
//! sigmux-async-std each expand [`stream_scenarios!`](crate::stream_scenarios) (in a module per
//! executor they support) and [`after_drop_scenarios!`](crate::after_drop_scenarios); what only
//! one runtime has (spawned tasks, a runtime that dies under the stream, `FusedStream`) stays in
//! that adapter's own tests, with the same helpers
//! ([`stream_helpers!`](crate::stream_helpers)).
//!
//! The macros name the adapter crate and three functions of the runtime at hand:
//! `block_on(future) -> output`, `timeout(duration, future)` (its `Result` is only checked with
//! `is_err`/`expect`) and `yield_now()`. The expanding crate needs `sigmux` (the stream's
//! signals come from `sigmux::low_level::raise`) and `sigmux-testkit` as dependencies.

/// The Unix stream scenarios, as `#[test]` functions: readiness, batching, wake-ups from other
/// threads, close, eager registration, any exfiltrator, the shared surface (`handle`,
/// `add_signal`, `remove_signal`, `is_closed`, re-exports), bad input, a full wake-up pipe,
/// cancel safety and `WithOrigin`. Each takes the process-wide [`lock`](crate::lock): they use
/// SIGUSR1 and SIGUSR2.
///
/// ```ignore
/// mod on_smol {
///     sigmux_testkit::stream_scenarios! {
///         adapter: sigmux_async_std,
///         block_on: smol::block_on,
///         timeout: async_std::future::timeout,
///         yield_now: futures_lite::future::yield_now,
///     }
/// }
/// ```
#[macro_export]
macro_rules! stream_scenarios {
    (
        adapter: $adapter:ident,
        block_on: $block_on:path,
        timeout: $timeout:path,
        yield_now: $yield_now:path $(,)?
    ) => {
        $crate::stream_helpers! {
            adapter: $adapter,
            timeout: $timeout,
            yield_now: $yield_now,
        }

        #[test]
        fn not_ready_before_a_signal_ready_after() {
            let _lock = $crate::lock();
            $block_on(async {
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
            let _lock = $crate::lock();
            $block_on(async {
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

        #[test]
        fn signals_from_another_thread_wake_the_stream() {
            let _lock = $crate::lock();
            let (go, go_rx) = std::sync::mpsc::channel::<()>();
            let raiser = std::thread::spawn(move || {
                for () in go_rx {
                    raise(SIGUSR1).unwrap();
                }
            });
            $block_on(async {
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
        fn close_before_the_first_poll_ends_the_stream() {
            let _lock = $crate::lock();
            $block_on(async {
                let mut signals = Signals::new([SIGUSR1]).unwrap();
                signals.handle().close();
                raise(SIGUSR1).unwrap();
                assert_eq!(poll_once(&mut signals).await, Poll::Ready(None));
                assert_eq!(
                    poll_once(&mut signals).await,
                    Poll::Ready(None),
                    "stays ended"
                );
            });
        }

        #[test]
        fn registers_at_creation_not_on_first_poll() {
            let _lock = $crate::lock();
            // Made outside the executor. SIGUSR1's default action would end this test process
            // if the registration were lazy.
            let mut signals = Signals::new([SIGUSR1]).unwrap();
            raise(SIGUSR1).unwrap();
            $block_on(async {
                assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
            });
        }

        #[test]
        fn any_exfiltrator_streams() {
            let _lock = $crate::lock();
            $block_on(async {
                let mut signals =
                    SignalsInfo::<$adapter::exfiltrator::WithRawSiginfo>::new([SIGUSR2]).unwrap();
                raise(SIGUSR2).unwrap();
                let info = $timeout(PATIENCE, signals.recv()).await.unwrap().unwrap();
                assert_eq!(info.si_signo, SIGUSR2);
            });
        }

        #[test]
        fn with_origin_tells_the_sender_pid_and_uid() {
            let _lock = $crate::lock();
            $block_on(async {
                let mut signals =
                    SignalsInfo::<$adapter::exfiltrator::WithOrigin>::new([SIGUSR1]).unwrap();
                raise(SIGUSR1).unwrap();
                let origin = $timeout(PATIENCE, signals.recv()).await.unwrap().unwrap();
                assert_eq!(origin.signal, SIGUSR1);
                let sender = origin.process.expect("raise tells who sent it");
                assert_eq!(sender.pid as u32, std::process::id());
                // SAFETY: getuid has no preconditions.
                assert_eq!(sender.uid, unsafe { $crate::libc::getuid() });
                // The re-exported exfiltrators are sigmux's own: no second dependency needed.
                let _plain =
                    SignalsInfo::<$adapter::exfiltrator::SignalOnly>::new([SIGUSR1]).unwrap();
            });
        }

        #[test]
        fn handle_adds_signals_from_another_thread() {
            let _lock = $crate::lock();
            $block_on(async {
                let mut signals = Signals::new([SIGUSR1]).unwrap();
                let handle = signals.handle();
                std::thread::spawn(move || handle.add_signal(SIGUSR2))
                    .join()
                    .unwrap()
                    .unwrap();
                raise(SIGUSR2).unwrap();
                assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR2));
            });
        }

        #[test]
        fn remove_signal_through_the_handle_takes_effect_at_once() {
            let _lock = $crate::lock();
            $block_on(async {
                // Keeps SIGUSR1 handled (and checks it still sees it) whatever happens to
                // `signals`.
                let mut keeper = Signals::new([SIGUSR1]).unwrap();
                let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
                let handle = signals.handle();
                raise(SIGUSR1).unwrap();
                raise(SIGUSR2).unwrap();
                assert!(std::thread::spawn(move || handle.remove_signal(SIGUSR1))
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

        // `add_signal`, `remove_signal` and `is_closed` on the stream itself, as on every
        // adapter.

        #[test]
        fn add_signal_on_the_stream_reports_the_signal_and_rejects_bad_numbers() {
            let _lock = $crate::lock();
            $block_on(async {
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
            let _lock = $crate::lock();
            $block_on(async {
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
            let _lock = $crate::lock();
            $block_on(async {
                let mut signals = Signals::new([SIGUSR1]).unwrap();
                let handle = signals.handle();
                assert!(!signals.is_closed());
                handle.close();
                assert!(signals.is_closed());
                assert_eq!(next_within_patience(&mut signals).await, None);
            });
        }

        #[test]
        fn bad_signal_numbers_are_errors_not_panics() {
            let _lock = $crate::lock();
            let check = || {
                for bad in [
                    -1,
                    0,
                    $crate::libc::SIGKILL,
                    $crate::libc::SIGSTOP,
                    1000,
                    i32::MAX,
                ] {
                    let err = Signals::new([SIGUSR1, bad]).unwrap_err();
                    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{}", bad);
                    assert!(err.to_string().contains(&bad.to_string()), "{}", err);
                }
            };
            check(); // outside the executor
            $block_on(async { check() });
            let signals = Signals::new([SIGUSR1]).unwrap();
            let err = signals.handle().add_signal(1000).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        }

        #[test]
        fn a_full_pipe_loses_no_wake_up() {
            let _lock = $crate::lock();
            $block_on(async {
                let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
                // More wake-up bytes than a pipe holds (64 KiB on Linux): later writes fail,
                // which the handler ignores; the signals themselves are still recorded.
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
            let _lock = $crate::lock();
            $block_on(async {
                let mut signals = Signals::new([SIGUSR1]).unwrap();
                // A `recv` dropped while waiting (its waker registered) ...
                let waited = $timeout(std::time::Duration::from_millis(20), signals.recv()).await;
                assert!(waited.is_err());
                raise(SIGUSR1).unwrap();
                // ... and one dropped before its first poll lose nothing.
                drop(signals.recv());
                assert_eq!(next_within_patience(&mut signals).await, Some(SIGUSR1));
            });
        }
    };
}

/// What the stream scenarios use, for an adapter's own scenarios beside them: the imports
/// (`Context`, `Poll`, `SIGUSR1`, `SIGUSR2`, `Signals`, `SignalsInfo`, `raise`), `PATIENCE`,
/// `poll_once(&mut signals)` (exactly one poll), `let_reactor_run()` (a few turns of the
/// executor) and `next_within_patience(&mut signals)`. Not every test file uses them all.
#[macro_export]
macro_rules! stream_helpers {
    (adapter: $adapter:ident, timeout: $timeout:path, yield_now: $yield_now:path $(,)?) => {
        #[allow(unused_imports)]
        use std::task::{Context, Poll};

        #[allow(unused_imports)]
        use sigmux::low_level::raise;
        #[allow(unused_imports)]
        use $adapter::consts::signal::{SIGUSR1, SIGUSR2};
        #[allow(unused_imports)]
        use $adapter::{Signals, SignalsInfo};

        #[allow(dead_code)]
        const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

        /// Polls the stream exactly once.
        #[allow(dead_code)]
        async fn poll_once(signals: &mut Signals) -> Poll<Option<i32>> {
            std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(signals.poll_recv(cx))).await
        }

        /// Gives the executor and its reactor a few turns.
        #[allow(dead_code)]
        async fn let_reactor_run() {
            for _ in 0..10 {
                $yield_now().await;
            }
        }

        #[allow(dead_code)]
        async fn next_within_patience(signals: &mut Signals) -> Option<i32> {
            $timeout(PATIENCE, signals.recv())
                .await
                .expect("no signal within the patience")
        }
    };
}

/// `Handle::close` after the stream is gone, and deliveries racing its drop, never raise
/// `SIGPIPE` — checked with `SIGPIPE` at its default action (as in a C host; the Rust runtime
/// ignores it), each in a forked child ([`in_child`](crate::in_child)), so they take no lock.
#[macro_export]
macro_rules! after_drop_scenarios {
    (adapter: $adapter:ident, block_on: $block_on:path $(,)?) => {
        use $adapter::consts::signal::SIGUSR1;
        use $adapter::Signals;

        fn default_sigpipe() {
            // SAFETY: restores the default disposition of SIGPIPE in this (forked) child only.
            unsafe { $crate::libc::signal($crate::libc::SIGPIPE, $crate::libc::SIG_DFL) };
        }

        #[test]
        fn close_after_the_stream_is_dropped_is_harmless() {
            $crate::in_child(10, || {
                default_sigpipe();
                // Made outside an executor (its pipe not attached to any reactor).
                let signals = Signals::new([SIGUSR1]).unwrap();
                let handle = signals.handle();
                drop(signals);
                handle.close();
                handle.close();
                assert!(handle.is_closed());
                0
            })
            .assert_success();
        }

        #[test]
        fn close_after_a_stream_that_was_polled_is_dropped_is_harmless() {
            $crate::in_child(10, || {
                default_sigpipe();
                let handle = $block_on(async {
                    let mut signals = Signals::new([SIGUSR1]).unwrap();
                    sigmux::low_level::raise(SIGUSR1).unwrap();
                    assert_eq!(signals.recv().await, Some(SIGUSR1));
                    signals.handle()
                });
                handle.close();
                handle.close();
                0
            })
            .assert_success();
        }

        #[test]
        fn deliveries_racing_the_drop_never_raise_sigpipe() {
            use std::sync::atomic::{AtomicBool, Ordering};
            use std::sync::Arc;

            $crate::in_child(30, || {
                default_sigpipe();
                let stop = Arc::new(AtomicBool::new(false));
                // Keep SIGUSR1 caught from the start, so the flood never meets its default
                // action.
                let first = Signals::new([SIGUSR1]).unwrap();
                let flood = {
                    let stop = Arc::clone(&stop);
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            // SAFETY: sends SIGUSR1 to this process, which has it registered.
                            unsafe { $crate::libc::kill($crate::libc::getpid(), SIGUSR1) };
                        }
                    })
                };
                for _ in 0..300 {
                    drop(Signals::new([SIGUSR1]).unwrap());
                }
                drop(first);
                stop.store(true, Ordering::Relaxed);
                flood.join().unwrap();
                0
            })
            .assert_success();
        }
    };
}
