//! The adapter for mio 0.6 (`Evented`): readiness, batching, close.
#![cfg(all(unix, feature = "support-v0_6"))]

use std::io::ErrorKind;
use std::thread;
use std::time::{Duration, Instant};

use mio_0_6::{Events, Poll, PollOpt, Ready, Token};
use sigmux::consts::{SIGUSR1, SIGUSR2};
use sigmux::iterator::exfiltrator::WithRawSiginfo;
use sigmux::low_level::raise;
use sigmux_mio::v0_6::{Signals, SignalsInfo};

const TOKEN: Token = Token(3);

fn ready_within(poll: &Poll, events: &mut Events, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match poll.poll(events, Some(left)) {
            Ok(_)
                if events
                    .iter()
                    .any(|e| e.token() == TOKEN && e.readiness().is_readable()) =>
            {
                return true
            }
            Ok(_) if left.is_zero() => return false,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("poll failed: {}", e),
        }
    }
}

#[test]
fn readiness_follows_signals() {
    let _lock = sigmux_testkit::lock();
    let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    let poll = Poll::new().unwrap();
    poll.register(&signals, TOKEN, Ready::readable(), PollOpt::level())
        .unwrap();
    let mut events = Events::with_capacity(8);

    assert!(!ready_within(&poll, &mut events, Duration::ZERO));

    raise(SIGUSR2).unwrap();
    raise(SIGUSR1).unwrap();
    assert!(ready_within(&poll, &mut events, Duration::from_secs(10)));
    assert_eq!(signals.pending().collect::<Vec<_>>(), [SIGUSR1, SIGUSR2]);
    // Level-triggered, so any byte left in the socket would show up here.
    assert!(!ready_within(&poll, &mut events, Duration::ZERO));
}

#[test]
fn close_from_another_thread_wakes_the_poll() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithRawSiginfo>::new([SIGUSR1]).unwrap();
    let poll = Poll::new().unwrap();
    poll.register(&signals, TOKEN, Ready::readable(), PollOpt::edge())
        .unwrap();
    let mut events = Events::with_capacity(8);

    let handle = signals.handle();
    let closer = thread::spawn(move || handle.close());
    assert!(ready_within(&poll, &mut events, Duration::from_secs(10)));
    closer.join().unwrap();
    assert!(signals.is_closed());
    assert_eq!(signals.pending().count(), 0);
    poll.deregister(&signals).unwrap();
}

#[test]
fn close_after_the_signals_are_dropped_is_harmless() {
    sigmux_testkit::in_child(10, || {
        // SAFETY: SIGPIPE's default action (as in a C host), in this forked child only.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        let signals = Signals::new([SIGUSR1]).unwrap();
        let poll = Poll::new().unwrap();
        poll.register(&signals, TOKEN, Ready::readable(), PollOpt::level())
            .unwrap();
        let handle = signals.handle();
        poll.deregister(&signals).unwrap();
        drop(signals);
        handle.close();
        handle.close();
        0
    })
    .assert_success();
}
