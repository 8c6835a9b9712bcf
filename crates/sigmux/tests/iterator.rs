//! Semantics of the blocking iterator shared with signal-hook: idempotent `add_signal`, `close`
//! ends `forever` and makes `wait` return, stale wake-ups give empty batches (never a hang),
//! each pending signal is reported once per batch, signals from other threads arrive.
#![cfg(all(unix, feature = "iterator"))]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use libc::{SIGUSR1, SIGUSR2};
use sigmux::iterator::exfiltrator::WithRawSiginfo;
use sigmux::iterator::{Signals, SignalsInfo};
use sigmux::low_level::raise;

const LONG: Duration = Duration::from_secs(10);

#[test]
fn add_signal_is_idempotent() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1, SIGUSR1]).unwrap();
    signals.add_signal(SIGUSR1).unwrap();
    signals.handle().add_signal(SIGUSR1).unwrap();
    raise(SIGUSR1).unwrap();
    assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
    // Registered once: a single removal removes it.
    assert!(signals.remove_signal(SIGUSR1));
    assert!(!signals.remove_signal(SIGUSR1));
}

#[test]
fn each_pending_signal_once_per_batch_in_order() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR2, SIGUSR1]).unwrap();
    for _ in 0..3 {
        raise(SIGUSR2).unwrap();
        raise(SIGUSR1).unwrap();
    }
    assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1, SIGUSR2]);
    assert_eq!(signals.pending().count(), 0);
}

#[test]
fn stale_wake_up_gives_an_empty_batch_not_a_hang() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    raise(SIGUSR1).unwrap();
    let batch = signals.wait();
    // Arrives after the pipe was read but before the batch is looked at: reported now…
    raise(SIGUSR1).unwrap();
    assert_eq!(batch.collect::<Vec<_>>(), [SIGUSR1]);
    // …and its byte makes the next wait return at once, with nothing.
    assert_eq!(signals.wait().count(), 0);
    // The iterator still works afterwards.
    raise(SIGUSR1).unwrap();
    assert_eq!(signals.wait().collect::<Vec<_>>(), [SIGUSR1]);
}

#[test]
fn close_ends_forever_in_another_thread() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    let handle = signals.handle();
    let ended = Arc::new(AtomicBool::new(false));
    let thread = thread::spawn({
        let ended = Arc::clone(&ended);
        move || {
            for _ in &mut signals {}
            ended.store(true, Ordering::SeqCst);
        }
    });
    assert!(!handle.is_closed());
    handle.close();
    assert!(handle.is_closed());
    assert!(sigmux_testkit::wait_until(LONG, || ended.load(Ordering::SeqCst)));
    thread.join().unwrap();
}

#[test]
fn close_makes_wait_return_at_once() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1]).unwrap();
    let handle = signals.handle();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let n = signals.wait().count();
        tx.send(n).unwrap();
        // Once closed, wait never blocks again.
        for _ in 0..100 {
            signals.wait().count();
        }
        assert!(signals.forever().next().is_none());
        signals
    });
    handle.close();
    assert_eq!(rx.recv_timeout(LONG).unwrap(), 0);
    let signals = waiter.join().unwrap();
    assert!(signals.is_closed());
}

#[test]
#[cfg_attr(
    sigmux_tsan,
    ignore = "a signal sent to the process may land on the harness's main thread, where \
              ThreadSanitizer defers its handler until that thread reaches an interceptor, which \
              it never does while it waits for the test (hung once)"
)]
fn signals_sent_from_other_threads_wake_the_reader() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    for (i, sig) in [SIGUSR1, SIGUSR2, SIGUSR1].into_iter().enumerate() {
        let sender = thread::spawn(move || {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(libc::getpid(), sig) };
        });
        let got = signals.forever().next();
        assert_eq!(got, Some(sig), "round {}", i);
        sender.join().unwrap();
    }
}

#[test]
fn raw_siginfo_reports_every_queued_delivery() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR1]).unwrap();
    raise(SIGUSR1).unwrap();
    raise(SIGUSR1).unwrap();
    raise(SIGUSR1).unwrap();
    let got: Vec<_> = signals.pending().map(|info| info.si_signo).collect();
    assert_eq!(got, [SIGUSR1; 3]);
}

#[test]
fn handle_outliving_the_iterator_cannot_register() {
    let _lock = sigmux_testkit::lock();
    let signals = Signals::new([SIGUSR1]).unwrap();
    let handle = signals.handle();
    drop(signals);
    assert!(handle.add_signal(SIGUSR2).is_err());
    assert!(!handle.remove_signal(SIGUSR1));
    handle.close();
}
