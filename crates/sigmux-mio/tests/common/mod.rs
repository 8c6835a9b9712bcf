//! Scenarios shared by the mio 0.7, 0.8 and 1.x test files. Each file binds `mio` to its mio
//! version and `adapter` to the matching module, then expands `mio_scenarios!()`.
//!
//! Every scenario takes the process-wide test lock: they all use SIGUSR1/SIGUSR2.

/// Expands the scenarios into test functions of the calling file.
macro_rules! mio_scenarios {
    () => {
        use std::io::ErrorKind;
        use std::sync::mpsc;
        use std::thread;
        use std::time::{Duration, Instant};

        use libc::c_int;
        use mio::{Events, Interest, Poll, Token};
        use sigmux::consts::{SIGUSR1, SIGUSR2};
        use sigmux::low_level::raise;

        const TOKEN: Token = Token(7);
        const PATIENCE: Duration = Duration::from_secs(10);

        fn registered<E>(signals: &mut adapter::SignalsInfo<E>) -> Poll
        where
            E: sigmux::iterator::exfiltrator::Exfiltrator,
        {
            let poll = Poll::new().unwrap();
            poll.registry()
                .register(signals, TOKEN, Interest::READABLE)
                .unwrap();
            poll
        }

        /// Polls without waiting; whether our token was reported.
        fn ready_now(poll: &mut Poll, events: &mut Events) -> bool {
            loop {
                match poll.poll(events, Some(Duration::ZERO)) {
                    Ok(()) => return events.iter().any(|e| e.token() == TOKEN),
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => panic!("poll failed: {}", e),
                }
            }
        }

        /// Waits (up to an absolute deadline) until our token is reported readable.
        fn wait_ready(poll: &mut Poll, events: &mut Events) {
            let deadline = Instant::now() + PATIENCE;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(!left.is_zero(), "no readiness within {:?}", PATIENCE);
                match poll.poll(events, Some(left)) {
                    Ok(()) => {
                        if let Some(event) = events.iter().find(|e| e.token() == TOKEN) {
                            assert!(event.is_readable());
                            return;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => panic!("poll failed: {}", e),
                }
            }
        }

        #[test]
        fn not_ready_before_a_signal_ready_after() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);

            assert!(!ready_now(&mut poll, &mut events));
            assert_eq!(signals.pending().count(), 0);

            raise(SIGUSR1).unwrap();
            wait_ready(&mut poll, &mut events);
            assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);

            // Taking the signals empties the socket: no readiness is left behind.
            assert!(!ready_now(&mut poll, &mut events));
            assert_eq!(signals.pending().count(), 0);
        }

        #[test]
        fn several_signals_in_one_batch() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);

            for _ in 0..3 {
                raise(SIGUSR2).unwrap();
                raise(SIGUSR1).unwrap();
            }
            wait_ready(&mut poll, &mut events);
            let batch: Vec<c_int> = signals.pending().collect();
            assert_eq!(batch, [SIGUSR1, SIGUSR2], "coalesced, in numeric order");
            assert!(!ready_now(&mut poll, &mut events));
        }

        #[test]
        fn signals_from_another_thread_wake_the_poll() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);

            let (go, go_rx) = mpsc::channel::<()>();
            let raiser = thread::spawn(move || {
                // One signal per request; the main thread asks right before it waits.
                for () in go_rx {
                    raise(SIGUSR1).unwrap();
                }
            });
            for _ in 0..20 {
                assert!(!ready_now(&mut poll, &mut events));
                go.send(()).unwrap();
                wait_ready(&mut poll, &mut events);
                assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
            }
            drop(go);
            raiser.join().unwrap();
        }

        #[test]
        fn close_wakes_the_poll_and_is_visible() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);
            let handle = signals.handle();
            assert!(!signals.is_closed());

            let closer = thread::spawn(move || handle.close());
            wait_ready(&mut poll, &mut events);
            closer.join().unwrap();
            assert!(signals.is_closed());
            assert_eq!(signals.pending().count(), 0);
        }

        #[test]
        fn handle_adds_a_signal_from_another_thread() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);

            let handle = signals.handle();
            thread::spawn(move || handle.add_signal(SIGUSR2))
                .join()
                .unwrap()
                .unwrap();
            signals.add_signal(SIGUSR2).unwrap(); // already there: no change
            raise(SIGUSR2).unwrap();
            wait_ready(&mut poll, &mut events);
            assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR2]);
        }

        #[test]
        fn any_exfiltrator_is_an_event_source() {
            use sigmux::iterator::exfiltrator::WithRawSiginfo;

            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::SignalsInfo::<WithRawSiginfo>::new([SIGUSR1]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);

            raise(SIGUSR1).unwrap();
            wait_ready(&mut poll, &mut events);
            let infos: Vec<libc::siginfo_t> = signals.pending().collect();
            assert_eq!(infos.len(), 1);
            assert_eq!(infos[0].si_signo, SIGUSR1);

            poll.registry().deregister(&mut signals).unwrap();
            raise(SIGUSR1).unwrap();
            assert!(!ready_now(&mut poll, &mut events));
            assert_eq!(
                signals.pending().count(),
                1,
                "still recorded, just not polled"
            );
        }

        #[test]
        fn the_crate_re_exports_consts_and_exfiltrators() {
            use sigmux_mio::consts::signal::SIGUSR1 as USR1;
            use sigmux_mio::exfiltrator::{SignalOnly, WithRawSiginfo};

            let _lock = sigmux_testkit::lock();
            let _plain = adapter::SignalsInfo::<SignalOnly>::new([USR1]).unwrap();
            let mut signals = adapter::SignalsInfo::<WithRawSiginfo>::new([USR1]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);
            raise(USR1).unwrap();
            wait_ready(&mut poll, &mut events);
            assert_eq!(
                signals.pending().next().map(|info| info.si_signo),
                Some(USR1)
            );
        }

        #[test]
        fn remove_signal_stops_reporting_it_at_once() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);

            raise(SIGUSR1).unwrap();
            raise(SIGUSR2).unwrap();
            assert!(signals.remove_signal(SIGUSR1));
            assert!(!signals.remove_signal(SIGUSR1), "already gone");
            wait_ready(&mut poll, &mut events);
            assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR2]);

            // Through a handle, from another thread, too. Another instance keeps SIGUSR2 and
            // must still see it.
            let mut other = adapter::Signals::new([SIGUSR2]).unwrap();
            let handle = signals.handle();
            assert!(thread::spawn(move || handle.remove_signal(SIGUSR2))
                .join()
                .unwrap());
            raise(SIGUSR2).unwrap();
            assert!(!ready_now(&mut poll, &mut events));
            assert_eq!(signals.pending().count(), 0);
            assert_eq!(other.pending().collect::<Vec<_>>(), [SIGUSR2]);
        }

        #[test]
        fn bad_signal_numbers_are_errors_not_panics() {
            let _lock = sigmux_testkit::lock();
            for bad in [-1, 0, libc::SIGKILL, libc::SIGSTOP, 1000, c_int::MAX] {
                let err = adapter::Signals::new([SIGUSR1, bad]).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "signal {}", bad);
                assert!(err.to_string().contains(&bad.to_string()), "{}", err);
            }
            let signals = adapter::Signals::new([SIGUSR1]).unwrap();
            assert_eq!(
                signals.add_signal(1000).unwrap_err().kind(),
                ErrorKind::InvalidInput
            );
        }

        #[test]
        fn a_full_pipe_loses_no_wake_up() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);
            // More wake-up bytes than a pipe holds (64 KiB on Linux): later writes fail, which
            // the handler ignores; the signals themselves are still recorded.
            for _ in 0..70_000 {
                raise(SIGUSR1).unwrap();
            }
            raise(SIGUSR2).unwrap();
            wait_ready(&mut poll, &mut events);
            assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1, SIGUSR2]);
            assert!(!ready_now(&mut poll, &mut events), "the pipe was emptied");
            raise(SIGUSR2).unwrap();
            wait_ready(&mut poll, &mut events);
            assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR2]);
        }

        /// Restores the default action of SIGPIPE (the Rust runtime ignores it; a C host
        /// does not) in a forked child.
        fn default_sigpipe() {
            // SAFETY: changes SIGPIPE's disposition in the calling (forked) child only.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        }

        /// Sends `signal` to this process (not only this thread).
        fn kill_self(signal: c_int) {
            // SAFETY: plain kill of our own process with a registered signal.
            assert_eq!(unsafe { libc::kill(libc::getpid(), signal) }, 0);
        }

        #[test]
        fn close_after_the_signals_are_dropped_is_harmless() {
            sigmux_testkit::in_child(10, || {
                default_sigpipe();
                let mut signals = adapter::Signals::new([SIGUSR1]).unwrap();
                let poll = registered(&mut signals);
                let handle = signals.handle();
                poll.registry().deregister(&mut signals).unwrap();
                drop(signals);
                handle.close();
                handle.close();
                assert!(handle.is_closed());
                drop(poll);
                0
            })
            .assert_success();
        }

        #[test]
        fn deliveries_racing_the_drop_never_raise_sigpipe() {
            sigmux_testkit::in_child(30, || {
                use std::sync::atomic::{AtomicBool, Ordering};
                use std::sync::Arc;

                default_sigpipe();
                let stop = Arc::new(AtomicBool::new(false));
                // SIGUSR1 stays caught throughout, so the flood never meets its default action.
                let first = adapter::Signals::new([SIGUSR1]).unwrap();
                let flood = {
                    let stop = Arc::clone(&stop);
                    thread::spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            kill_self(SIGUSR1);
                        }
                    })
                };
                for _ in 0..300 {
                    drop(adapter::Signals::new([SIGUSR1]).unwrap());
                }
                drop(first);
                stop.store(true, Ordering::Relaxed);
                flood.join().unwrap();
                0
            })
            .assert_success();
        }

        /// The documented recipe after `fork`: in the child, a new `Poll` (never the parent's)
        /// with the inherited `Signals` or new ones registered; the parent's readiness is
        /// neither raised by the child's signals nor taken by the child.
        #[test]
        fn after_fork_a_new_poll_in_the_child_works_and_the_parent_keeps_its_wake_ups() {
            sigmux_testkit::in_child(30, || {
                let mut signals = adapter::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
                let mut poll = registered(&mut signals);
                let mut events = Events::with_capacity(8);
                // SAFETY: the child runs the recipe and `_exit`s.
                let child = unsafe { libc::fork() };
                assert!(child >= 0);
                if child == 0 {
                    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        // SAFETY: alarm is always safe to call.
                        unsafe { libc::alarm(10) };
                        let mut own_poll = registered(&mut signals);
                        let mut fresh = adapter::Signals::new([SIGUSR1]).unwrap();
                        let fresh_poll = Poll::new().unwrap();
                        fresh_poll
                            .registry()
                            .register(&mut fresh, Token(8), Interest::READABLE)
                            .unwrap();
                        kill_self(SIGUSR1);
                        wait_ready(&mut own_poll, &mut events);
                        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
                        assert_eq!(fresh.pending().collect::<Vec<_>>(), [SIGUSR1]);
                    }))
                    .map_or(101, |()| 0);
                    // SAFETY: leaves the child without running the parent's destructors.
                    unsafe { libc::_exit(code) };
                }
                assert_eq!(
                    sigmux_testkit::wait_for(child),
                    sigmux_testkit::Outcome::Exited(0)
                );
                assert!(!ready_now(&mut poll, &mut events));
                assert_eq!(signals.pending().count(), 0);
                kill_self(SIGUSR2);
                wait_ready(&mut poll, &mut events);
                assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR2]);
                0
            })
            .assert_success();
        }

        #[test]
        fn a_signal_before_the_source_is_registered_is_not_lost() {
            let _lock = sigmux_testkit::lock();
            let mut signals = adapter::Signals::new([SIGUSR1]).unwrap();
            raise(SIGUSR1).unwrap();
            let mut poll = registered(&mut signals);
            let mut events = Events::with_capacity(8);
            wait_ready(&mut poll, &mut events);
            assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
        }
    };
}
