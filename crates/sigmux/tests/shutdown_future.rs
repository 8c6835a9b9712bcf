//! `Shutdown::wait_async` without any runtime: a minimal executor (thread parking) drives the
//! futures, so the future is shown to need nothing but `std::task`. The runtimes (tokio,
//! async-std, smol) are exercised in `sigmux-stress/tests/shutdown_runtimes.rs`.
#![cfg(unix)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use libc::SIGTERM;
use sigmux::shutdown::{Cause, Shutdown};
use sigmux_testkit::in_child;

struct Unpark {
    thread: Thread,
    wakes: AtomicUsize,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Polls `future` until it is ready or `timeout` passes; returns the output and how many
/// times it was polled.
fn block_on<F: Future>(future: F, timeout: Duration) -> (Option<F::Output>, usize) {
    let unpark = Arc::new(Unpark {
        thread: thread::current(),
        wakes: AtomicUsize::new(0),
    });
    let waker = Waker::from(Arc::clone(&unpark));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let deadline = Instant::now() + timeout;
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return (Some(out), polls);
        }
        let now = Instant::now();
        if now >= deadline {
            return (None, polls);
        }
        thread::park_timeout(deadline - now);
    }
}

fn kill_self_later(after: Duration) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        thread::sleep(after);
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(libc::getpid(), SIGTERM) };
    })
}

#[test]
fn future_is_woken_by_a_signal_and_not_polled_in_a_loop() {
    in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        let sender = kill_self_later(Duration::from_millis(100));
        let (out, polls) = block_on(shutdown.wait_async(), Duration::from_secs(10));
        assert_eq!(out, Some(Cause::Signal(SIGTERM)));
        // Woken, not spinning: a handful of polls (spurious unparks are allowed).
        assert!(polls < 50, "polled {} times", polls);
        sender.join().unwrap();
        0
    })
    .assert_success();
}

#[test]
fn future_stays_pending_without_a_request() {
    in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        let (out, _) = block_on(shutdown.wait_async(), Duration::from_millis(200));
        assert_eq!(out, None);
        0
    })
    .assert_success();
}

#[test]
fn many_futures_on_many_threads_all_complete() {
    in_child(20, || {
        let shutdown = Arc::new(Shutdown::new().unwrap());
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let shutdown = Arc::clone(&shutdown);
                thread::spawn(move || {
                    // Two futures per thread, one dropped while pending.
                    let (none, _) = block_on(shutdown.wait_async(), Duration::from_millis(10));
                    assert_eq!(none, None);
                    block_on(shutdown.wait_async(), Duration::from_secs(10)).0
                })
            })
            .collect();
        kill_self_later(Duration::from_millis(100)).join().unwrap();
        for task in tasks {
            assert_eq!(task.join().unwrap(), Some(Cause::Signal(SIGTERM)));
        }
        // A future made after the request is ready at once.
        assert_eq!(
            block_on(shutdown.wait_async(), Duration::ZERO).0,
            Some(Cause::Signal(SIGTERM))
        );
        0
    })
    .assert_success();
}

#[test]
fn a_program_request_wakes_the_futures() {
    in_child(20, || {
        let shutdown = Arc::new(Shutdown::new().unwrap());
        let requester = {
            let shutdown = Arc::clone(&shutdown);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(100));
                shutdown.request()
            })
        };
        let (out, _) = block_on(shutdown.wait_async(), Duration::from_secs(10));
        assert_eq!(out, Some(Cause::Program));
        assert!(requester.join().unwrap());
        0
    })
    .assert_success();
}
