//! Unit tests of the blocking iterator, run with both ways of blocking on a system that has
//! both: the semaphore one is what [`SignalsInfo::new`] picks here, the self-pipe one is what
//! other systems get.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use libc::{SIGUSR1, SIGUSR2};

use super::*;
use crate::low_level::raise;

type Make = fn(&[c_int]) -> Signals;

fn each_kind(scenario: impl Fn(Make)) {
    let _lock = sigmux_testkit::lock();
    let kinds: [Make; 2] = [
        |signals| Signals::new(signals).unwrap(),
        |signals| Signals::with_self_pipe(signals, SignalOnly).unwrap(),
    ];
    for make in kinds {
        scenario(make);
    }
}

#[test]
fn a_wake_up_left_by_a_reported_signal_gives_one_empty_batch() {
    each_kind(|make| {
        let mut signals = make(&[SIGUSR1]);
        raise(SIGUSR1).unwrap();
        let batch = signals.wait();
        raise(SIGUSR1).unwrap(); // reported by `batch`, but its wake-up stays
        assert_eq!(batch.collect::<Vec<_>>(), [SIGUSR1]);
        assert_eq!(signals.wait().count(), 0);
        raise(SIGUSR1).unwrap();
        assert_eq!(signals.wait().collect::<Vec<_>>(), [SIGUSR1]);
    });
}

#[test]
fn pending_consumes_the_wake_ups_so_wait_then_blocks_for_a_new_signal() {
    each_kind(|make| {
        let mut signals = make(&[SIGUSR1]);
        raise(SIGUSR1).unwrap();
        raise(SIGUSR1).unwrap();
        assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
        let done = Arc::new(AtomicBool::new(false));
        let sender = thread::spawn({
            let done = Arc::clone(&done);
            move || {
                while !done.load(Ordering::SeqCst) {
                    raise(SIGUSR1).unwrap();
                    thread::sleep(Duration::from_millis(1));
                }
            }
        });
        // Had `pending` left a wake-up behind, this would return an empty batch at once.
        let got = signals.wait().collect::<Vec<_>>();
        done.store(true, Ordering::SeqCst);
        sender.join().unwrap();
        assert_eq!(got, [SIGUSR1]);
    });
}

#[test]
fn close_from_another_thread_ends_forever() {
    each_kind(|make| {
        let mut signals = make(&[SIGUSR1]);
        let handle = signals.handle();
        let ended = Arc::new(AtomicBool::new(false));
        let reader = thread::spawn({
            let ended = Arc::clone(&ended);
            move || {
                let count = signals.forever().count();
                ended.store(true, Ordering::SeqCst);
                count
            }
        });
        handle.close();
        assert!(sigmux_testkit::wait_until(Duration::from_secs(10), || {
            ended.load(Ordering::SeqCst)
        }));
        assert_eq!(reader.join().unwrap(), 0);
    });
}

#[test]
fn wait_timeout_returns_an_empty_batch_once_the_time_is_up() {
    each_kind(|make| {
        let mut signals = make(&[SIGUSR1]);
        let start = Instant::now();
        assert_eq!(signals.wait_timeout(Duration::from_millis(50)).count(), 0);
        assert!(start.elapsed() >= Duration::from_millis(50));
        // Nothing was consumed or left behind by the timeout.
        raise(SIGUSR1).unwrap();
        let got = signals
            .wait_timeout(Duration::from_secs(60))
            .collect::<Vec<_>>();
        assert_eq!(got, [SIGUSR1]);
    });
}

#[test]
fn wait_timeout_returns_at_once_when_something_is_pending() {
    each_kind(|make| {
        let mut signals = make(&[SIGUSR1]);
        raise(SIGUSR1).unwrap();
        let start = Instant::now();
        let got = signals
            .wait_timeout(Duration::from_secs(600))
            .collect::<Vec<_>>();
        assert_eq!(got, [SIGUSR1]);
        assert!(start.elapsed() < Duration::from_secs(300));
    });
}

/// A reader blocked in `wait_timeout` (on another thread) returns at once for `event`,
/// with what it found, long before its timeout.
fn wait_timeout_ends_for(make: Make, event: impl FnOnce(&Handle)) -> Vec<c_int> {
    let mut signals = make(&[SIGUSR1]);
    let handle = signals.handle();
    let reader = thread::spawn(move || {
        let start = Instant::now();
        let got = signals.wait_timeout(Duration::from_secs(600)).collect();
        (got, start.elapsed())
    });
    thread::sleep(Duration::from_millis(20)); // usually asleep by now; either way works
    event(&handle);
    let (got, took) = reader.join().unwrap();
    assert!(took < Duration::from_secs(300), "{:?}", took);
    got
}

#[test]
#[cfg_attr(
    sigmux_tsan,
    ignore = "a signal sent to the process may land on the harness's main thread, where \
              ThreadSanitizer defers its handler until that thread reaches an interceptor, which \
              it never does while it waits for the test (hung once)"
)]
fn wait_timeout_is_woken_by_a_signal() {
    each_kind(|make| {
        let got = wait_timeout_ends_for(make, |_| {
            // SAFETY: sends SIGUSR1 (handled) to this process.
            unsafe { libc::kill(libc::getpid(), SIGUSR1) };
        });
        assert_eq!(got, [SIGUSR1]);
    });
}

#[test]
fn wait_timeout_is_woken_by_close() {
    each_kind(|make| {
        let got = wait_timeout_ends_for(make, |handle| handle.close());
        assert_eq!(got, []);
    });
}

#[test]
fn auto_traits_are_those_of_signal_hook() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Signals>();
    send_sync::<SignalsInfo<exfiltrator::WithRawSiginfo>>();
    send_sync::<Handle>();
    send_sync::<Pending<SignalOnly>>();
}

/// The self-pipe reader (the only one off Linux) has no byte left for a delivery that a
/// batch dropped part-way did not yield; `wait` must still return it at once.
#[test]
fn the_self_pipe_wait_returns_at_once_while_a_delivery_is_queued() {
    sigmux_testkit::in_child(10, || {
        let mut signals =
            SignalsInfo::with_self_pipe([SIGUSR1], exfiltrator::WithRawSiginfo).unwrap();
        raise(SIGUSR1).unwrap();
        raise(SIGUSR1).unwrap();
        assert_eq!(signals.pending().next().map(|i| i.si_signo), Some(SIGUSR1));
        assert_eq!(
            signals.wait().map(|i| i.si_signo).collect::<Vec<_>>(),
            [SIGUSR1]
        );
        raise(SIGUSR1).unwrap();
        raise(SIGUSR1).unwrap();
        assert_eq!(signals.pending().next().map(|i| i.si_signo), Some(SIGUSR1));
        assert_eq!(signals.forever().next().map(|i| i.si_signo), Some(SIGUSR1));
        0
    })
    .assert_success();
}

#[test]
fn a_signal_from_another_thread_wakes_a_blocked_reader() {
    each_kind(|make| {
        let mut signals = make(&[SIGUSR2]);
        let sender = thread::spawn(|| raise(SIGUSR2).unwrap());
        assert_eq!(signals.forever().next(), Some(SIGUSR2));
        sender.join().unwrap();
    });
}
