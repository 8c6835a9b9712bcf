//! A batch dropped part-way leaves what it has not yielded pending, as signal-hook 0.4.6
//! does: the next batch reports it, and `wait` returns at once while anything is queued.
//!
//! Each scenario runs in a forked child with an alarm watchdog (a stranded delivery makes
//! `wait` block for ever).
#![cfg(all(unix, feature = "extended-siginfo"))]

use libc::{c_int, SIGUSR1, SIGUSR2};
use sigmux::iterator::exfiltrator::{WithOrigin, WithRawSiginfo};
use sigmux::iterator::SignalsInfo;
use sigmux::low_level::raise;

/// Signals raised on this thread are handled before `raise` returns, one delivery each (no
/// coalescing in the kernel).
fn raise_all(signals: &[c_int]) {
    for &signal in signals {
        raise(signal).unwrap();
    }
}

fn origin_numbers(batch: impl Iterator<Item = sigmux::low_level::siginfo::Origin>) -> Vec<c_int> {
    batch.map(|o| o.signal).collect()
}

fn raw_numbers(batch: impl Iterator<Item = libc::siginfo_t>) -> Vec<c_int> {
    batch.map(|i| i.si_signo).collect()
}

#[test]
fn with_origin_a_batch_dropped_after_one_item_leaves_the_rest_for_the_next_batch() {
    sigmux_testkit::in_child(10, || {
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1, SIGUSR2]).unwrap();
        raise_all(&[SIGUSR1, SIGUSR1, SIGUSR2]);
        let first = signals.pending().next().map(|o| o.signal);
        assert_eq!(first, Some(SIGUSR1));
        // signal-hook 0.4.6 reports the second SIGUSR1 and the SIGUSR2 here.
        assert_eq!(origin_numbers(signals.pending()), [SIGUSR1, SIGUSR2]);
        assert_eq!(origin_numbers(signals.pending()), [] as [c_int; 0]);
        0
    })
    .assert_success();
}

#[test]
fn with_raw_siginfo_a_batch_dropped_after_one_item_leaves_the_rest_for_the_next_batch() {
    sigmux_testkit::in_child(10, || {
        let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR1, SIGUSR2]).unwrap();
        raise_all(&[SIGUSR1, SIGUSR1, SIGUSR2]);
        let mut batch = signals.pending();
        assert_eq!(batch.next().map(|i| i.si_signo), Some(SIGUSR1));
        drop(batch);
        assert_eq!(raw_numbers(signals.pending()), [SIGUSR1, SIGUSR2]);
        0
    })
    .assert_success();
}

#[test]
fn breaking_out_of_forever_keeps_the_second_delivery() {
    sigmux_testkit::in_child(10, || {
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1]).unwrap();
        raise_all(&[SIGUSR1, SIGUSR1]);
        #[allow(clippy::never_loop)]
        for origin in &mut signals {
            assert_eq!(origin.signal, SIGUSR1);
            break;
        }
        assert_eq!(origin_numbers(signals.pending()), [SIGUSR1]);
        0
    })
    .assert_success();
}

#[test]
fn wait_returns_at_once_while_a_delivery_is_queued() {
    sigmux_testkit::in_child(10, || {
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1]).unwrap();
        raise_all(&[SIGUSR1, SIGUSR1]);
        assert_eq!(signals.pending().next().map(|o| o.signal), Some(SIGUSR1));
        // The wake-ups were consumed by `pending`; only the queued delivery is left.
        assert_eq!(origin_numbers(signals.wait()), [SIGUSR1]);
        0
    })
    .assert_success();
}

#[test]
fn forever_returns_a_queued_delivery_without_waiting_for_a_new_signal() {
    sigmux_testkit::in_child(10, || {
        let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR1]).unwrap();
        raise_all(&[SIGUSR1, SIGUSR1]);
        assert_eq!(signals.pending().next().map(|i| i.si_signo), Some(SIGUSR1));
        assert_eq!(signals.forever().next().map(|i| i.si_signo), Some(SIGUSR1));
        0
    })
    .assert_success();
}

#[test]
fn the_adapters_delivery_keeps_what_a_dropped_batch_did_not_yield() {
    use std::os::unix::net::UnixStream;

    use sigmux::iterator::backend::SignalDelivery;

    sigmux_testkit::in_child(10, || {
        let (read, write) = UnixStream::pair().unwrap();
        let mut delivery =
            SignalDelivery::with_pipe(read, write, WithRawSiginfo, [SIGUSR1, SIGUSR2]).unwrap();
        raise_all(&[SIGUSR1, SIGUSR1, SIGUSR2]);
        assert_eq!(delivery.pending().next().map(|i| i.si_signo), Some(SIGUSR1));
        assert_eq!(raw_numbers(delivery.pending()), [SIGUSR1, SIGUSR2]);
        0
    })
    .assert_success();
}
