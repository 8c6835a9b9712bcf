//! Lossless delivery through mio 1.x: 100,000 `sigqueue` payloads from another process arrive
//! exactly once, in order.
//!
//! Runs in a forked, single-threaded child (`in_child`, which takes the test lock): the
//! handler then never runs twice at once, so the order it stores in is the kernel's (see
//! `sigmux::iterator::exfiltrator::lossless`).
#![cfg(all(
    any(target_os = "linux", target_os = "android"),
    feature = "support-v1_0"
))]

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use mio_1_0::{Events, Interest, Poll, Token};
use sigmux::iterator::exfiltrator::lossless::{Lossless, Record};
use sigmux_mio::v1_0::SignalsInfo;

const N: usize = 100_000;

#[test]
fn every_payload_once_in_order() {
    sigmux_testkit::in_child(120, || {
        let sig = libc::SIGRTMIN() + 1;
        let lossless = Lossless::new(N);
        let mut signals = SignalsInfo::with_exfiltrator([sig], lossless.clone()).unwrap();
        let mut poll = Poll::new().unwrap();
        poll.registry()
            .register(&mut signals, Token(1), Interest::READABLE)
            .unwrap();
        let mut events = Events::with_capacity(8);
        // SAFETY: getpid cannot fail.
        let child = sigmux_testkit::rt::flood(unsafe { libc::getpid() }, &[sig], N, 60);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut next = 0;
        while next < N {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "only {} of {} arrived", next, N);
            match poll.poll(&mut events, Some(left)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => panic!("poll: {}", e),
            }
            for record in signals.pending() {
                match record {
                    Record::Delivered(delivery) => {
                        assert_eq!(delivery.value.unwrap().ptr, next, "out of order");
                        next += 1;
                    }
                    other => panic!("unexpected {:?} after {}", other, next),
                }
            }
        }
        sigmux_testkit::wait_for(child).assert_success();
        assert_eq!(lossless.lost(sig), 0);
        assert_eq!(lossless.handler_runs(sig), N);
        0
    })
    .assert_success();
}
