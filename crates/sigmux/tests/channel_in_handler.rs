//! `low_level::channel::Channel` used as documented: a handler sends, ordinary code receives,
//! and the handler may interrupt a `recv` on the same thread without deadlock; the values one
//! thread's handlers send come out in order.
#![cfg(all(unix, feature = "channel"))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use libc::SIGUSR1;
use sigmux::low_level::channel::Channel;

#[test]
fn handlers_interrupting_recv_on_its_own_thread_neither_deadlock_nor_reorder() {
    sigmux_testkit::in_child(30, || {
        let channel: &'static Channel<usize> = Box::leak(Box::new(Channel::new()));
        let next: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        // SAFETY: the action does an atomic add and a `Channel::send` of a plain number,
        // both async-signal-safe; SIGUSR1 is not forbidden.
        unsafe {
            sigmux::low_level::register(SIGUSR1, move || {
                channel.send(next.fetch_add(1, Ordering::Relaxed));
            })
        }
        .unwrap();
        let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
        // SAFETY: pthread_self has no preconditions.
        let receiver = ThreadId(unsafe { libc::pthread_self() });
        let sender = thread::spawn(move || {
            let mut sent = 0usize;
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: the receiving thread lives until `stop` is set and this thread is
                // joined.
                unsafe { libc::pthread_kill(receiver.get(), SIGUSR1) };
                sent += 1;
                if sent % 64 == 0 {
                    thread::yield_now();
                }
            }
        });
        // Every delivery lands on this thread, mostly inside `recv` (the loop does little
        // else), so the handler's `send` interrupts it.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut last: Option<usize> = None;
        let mut received = 0usize;
        while Instant::now() < deadline {
            if let Some(value) = channel.recv() {
                assert!(
                    last.map_or(true, |prev| value > prev),
                    "{:?} then {}",
                    last,
                    value
                );
                last = Some(value);
                received += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        sender.join().unwrap();
        assert!(received > 100, "only {} values received", received);
        0
    })
    .assert_success();
}

/// A thread's `pthread_t`, to hand to another thread (a raw pointer on musl, so not `Send`
/// by itself).
struct ThreadId(libc::pthread_t);

// SAFETY: a thread id is a plain value; moving it to another thread touches nothing.
unsafe impl Send for ThreadId {}

impl ThreadId {
    fn get(&self) -> libc::pthread_t {
        self.0
    }
}
