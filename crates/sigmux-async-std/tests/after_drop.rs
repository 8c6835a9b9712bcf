//! `Handle::close` after the stream is gone, and deliveries racing its drop, must never raise
//! `SIGPIPE` — checked with `SIGPIPE` at its default action (as in a C host; the Rust runtime
//! ignores it), in forked children.
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use sigmux::consts::SIGUSR1;
use sigmux_async_std::Signals;
use sigmux_testkit::in_child;

fn default_sigpipe() {
    // SAFETY: restores the default disposition of SIGPIPE in this (forked) child only.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

#[test]
fn close_after_the_stream_is_dropped_is_harmless() {
    in_child(10, || {
        default_sigpipe();
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
    in_child(10, || {
        default_sigpipe();
        let handle = smol::block_on(async {
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
    in_child(30, || {
        default_sigpipe();
        let stop = Arc::new(AtomicBool::new(false));
        // Keep SIGUSR1 caught from the start, so the flood never meets its default action.
        let first = Signals::new([SIGUSR1]).unwrap();
        let flood = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: sends SIGUSR1 to this process, which has it registered.
                    unsafe { libc::kill(libc::getpid(), SIGUSR1) };
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
