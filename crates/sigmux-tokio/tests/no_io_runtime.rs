//! A runtime built without I/O (`enable_io`) cannot host the stream: polling there must end
//! the stream with an error and unregister its signals, never panic — and never leave a
//! handler writing into a closed pipe (`SIGPIPE` at its default action, as in a C host).
#![cfg(unix)]

use std::task::{Context, Poll};

use sigmux::consts::SIGUSR1;
use sigmux::low_level::raise;
use sigmux_testkit::in_child;
use sigmux_tokio::Signals;
use tokio::runtime::{Builder, Runtime};

fn default_sigpipe() {
    // SAFETY: restores the default disposition of SIGPIPE in this (forked) child only.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

fn without_io() -> Runtime {
    Builder::new_current_thread().enable_time().build().unwrap()
}

fn poll_once(signals: &mut Signals) -> Poll<Option<i32>> {
    let waker = futures::task::noop_waker();
    signals.poll_recv(&mut Context::from_waker(&waker))
}

#[test]
fn polled_on_a_runtime_without_io_ends_with_an_error_not_a_panic() {
    in_child(10, || {
        default_sigpipe();
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let rt = without_io();
        let first = rt.block_on(async { poll_once(&mut signals) });
        assert_eq!(first, Poll::Ready(None));
        let error = signals.take_error().expect("the reason is kept");
        assert!(error.to_string().contains("enable_io"), "{}", error);
        assert_eq!(poll_once(&mut signals), Poll::Ready(None));
        // Its signals were unregistered: the delivery takes no new ones either.
        assert!(signals.handle().add_signal(libc::SIGUSR2).is_err());
        // The stream is over: its signal is unregistered, and a signal now neither reaches a
        // closed pipe (SIGPIPE) nor anything else.
        raise(SIGUSR1).unwrap();
        raise(SIGUSR1).unwrap();
        0
    })
    .assert_success();
}

#[test]
fn made_inside_a_runtime_without_io_does_not_panic_and_joins_a_later_runtime() {
    in_child(10, || {
        default_sigpipe();
        let mut signals = without_io().block_on(async { Signals::new([SIGUSR1]).unwrap() });
        raise(SIGUSR1).unwrap();
        let rt = Builder::new_current_thread().enable_all().build().unwrap();
        let got = rt.block_on(async { signals.recv().await });
        assert_eq!(got, Some(SIGUSR1));
        0
    })
    .assert_success();
}

#[test]
fn after_its_runtime_died_a_runtime_without_io_ends_it_with_an_error_not_a_panic() {
    in_child(10, || {
        default_sigpipe();
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        let first = Builder::new_current_thread().enable_all().build().unwrap();
        assert_eq!(
            first.block_on(async { poll_once(&mut signals) }),
            Poll::Pending
        );
        drop(first);
        let rt = without_io();
        assert_eq!(
            rt.block_on(async { poll_once(&mut signals) }),
            Poll::Ready(None)
        );
        let error = signals.take_error().expect("the reason is kept");
        assert!(error.to_string().contains("enable_io"), "{}", error);
        raise(SIGUSR1).unwrap();
        0
    })
    .assert_success();
}
