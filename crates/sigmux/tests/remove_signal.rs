//! `Handle::remove_signal`: once it returns, the signal is no longer reported by that
//! iterator (not even arrivals not yet read); other signals are unaffected.
#![cfg(all(unix, feature = "iterator"))]

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use libc::{SIGUSR1, SIGUSR2};
use sigmux::iterator::exfiltrator::WithRawSiginfo;
use sigmux::iterator::{Signals, SignalsInfo};
use sigmux::low_level::raise;

#[test]
fn removes_pending_and_future_deliveries_of_that_signal_only() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    let handle = signals.handle();
    raise(SIGUSR1).unwrap();
    raise(SIGUSR2).unwrap();
    assert!(handle.remove_signal(SIGUSR1));
    assert!(
        !handle.remove_signal(SIGUSR1),
        "second removal reports nothing to remove"
    );
    assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR2]);

    // Still caught by the process (the disposition stays), but not reported.
    raise(SIGUSR1).unwrap();
    raise(SIGUSR2).unwrap();
    assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR2]);

    // And it can come back.
    handle.add_signal(SIGUSR1).unwrap();
    raise(SIGUSR1).unwrap();
    assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1]);
}

#[test]
fn removes_queued_siginfos_too() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGUSR1).unwrap();
    raise(SIGUSR1).unwrap();
    raise(SIGUSR2).unwrap();
    assert!(signals.remove_signal(SIGUSR1));
    let got: Vec<_> = signals.pending().map(|info| info.si_signo).collect();
    assert_eq!(got, [SIGUSR2]);
}

#[test]
fn removal_from_another_thread_while_the_reader_blocks() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    let handle = signals.handle();
    let (tx, rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        for sig in &mut signals {
            tx.send(sig).unwrap();
        }
    });
    assert!(handle.remove_signal(SIGUSR1));
    raise(SIGUSR1).unwrap();
    raise(SIGUSR2).unwrap();
    // SIGUSR2 arrives; SIGUSR1 was never reported before it (signals of one batch come in
    // increasing order, and SIGUSR1 < SIGUSR2).
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), SIGUSR2);
    handle.close();
    reader.join().unwrap();
    assert!(rx.try_iter().all(|sig| sig != SIGUSR1));
}
