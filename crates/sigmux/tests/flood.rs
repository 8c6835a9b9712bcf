//! A flood of one signal cannot hide another that arrives in the middle of it: every signal
//! has its own pending bit, and a self-pipe that fills up drops wake-up bytes, never signals.
#![cfg(all(unix, feature = "iterator"))]

use std::os::unix::io::OwnedFd;

use libc::{SIGUSR1, SIGUSR2};
use sigmux::iterator::backend::{self_pipe, SignalDelivery};
use sigmux::iterator::exfiltrator::SignalOnly;
use sigmux::iterator::Signals;
use sigmux::low_level::raise;

/// More deliveries than a pipe has bytes of room (64 KiB on Linux), so a pipe-based delivery's
/// pipe fills up long before the flood ends.
const FLOOD: usize = 70_000;

/// Raises `SIGUSR1` `FLOOD` times with one `SIGUSR2` halfway, before anyone looks.
fn flood_with_one_other_in_the_middle() {
    for i in 0..FLOOD {
        if i == FLOOD / 2 {
            raise(SIGUSR2).unwrap();
        }
        raise(SIGUSR1).unwrap();
    }
}

#[test]
fn blocking_iterator_reports_the_signal_in_the_middle_of_a_flood() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    flood_with_one_other_in_the_middle();
    assert_eq!(signals.wait().collect::<Vec<_>>(), [SIGUSR1, SIGUSR2]);
}

#[test]
fn pipe_delivery_reports_the_signal_in_the_middle_of_a_flood_that_fills_its_pipe() {
    let _lock = sigmux_testkit::lock();
    let (read, write) = self_pipe().unwrap();
    let mut delivery: SignalDelivery<OwnedFd, SignalOnly> =
        SignalDelivery::with_pipe(read, write, SignalOnly, [SIGUSR1, SIGUSR2]).unwrap();
    flood_with_one_other_in_the_middle();
    assert_eq!(delivery.pending().collect::<Vec<_>>(), [SIGUSR1, SIGUSR2]);
}
