//! After `fork`, the child can register, unregister and receive signals without deadlock,
//! even when the fork happened while another thread was registering or was inside the signal
//! handler. Each scenario runs in a forked child (the "parent" below) with an alarm watchdog;
//! the grandchildren made by the scenario have their own watchdogs.
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use sigmux_registry::{register, unregister};
use sigmux_testkit::{in_child, wait_for, Outcome};

/// Forks; the grandchild registers, raises, checks and unregisters, under its own watchdog.
fn fork_and_use_registry() -> Outcome {
    // SAFETY: the child only uses the registry, atomics and `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: always safe.
        unsafe { libc::alarm(5) };
        static HITS: AtomicUsize = AtomicUsize::new(0);
        // SAFETY: atomics only.
        let id = unsafe {
            register(libc::SIGUSR2, || {
                HITS.fetch_add(1, Ordering::SeqCst);
            })
        };
        let ok = match id {
            Ok(id) => {
                // SAFETY: raising a handled signal.
                unsafe { libc::raise(libc::SIGUSR2) };
                HITS.load(Ordering::SeqCst) == 1 && unregister(id)
            }
            Err(_) => false,
        };
        // SAFETY: leaving the child without running the parent's atexit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    wait_for(pid)
}

#[test]
fn fork_while_another_thread_registers() {
    in_child(60, || {
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let churner = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                // SAFETY: empty action.
                let id = unsafe { register(libc::SIGUSR1, || ()) }.unwrap();
                assert!(unregister(id));
            }
        });
        for round in 0..200 {
            assert_eq!(
                fork_and_use_registry(),
                Outcome::Exited(0),
                "round {}",
                round
            );
        }
        stop.store(true, Ordering::Relaxed);
        churner.join().unwrap();
        0
    })
    .assert_success();
}

#[test]
fn fork_while_another_thread_is_inside_the_handler() {
    in_child(60, || {
        static INSIDE: AtomicBool = AtomicBool::new(false);
        static RELEASE: AtomicBool = AtomicBool::new(false);
        // An action that holds its thread inside the handler until released.
        // SAFETY: atomics and a spin: async-signal-safe.
        unsafe {
            register(libc::SIGUSR1, || {
                INSIDE.store(true, Ordering::SeqCst);
                while !RELEASE.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
            })
        }
        .unwrap();
        let stuck = thread::spawn(|| {
            // SAFETY: raising a handled signal on this thread.
            unsafe { libc::raise(libc::SIGUSR1) };
        });
        while !INSIDE.load(Ordering::SeqCst) {
            thread::yield_now();
        }
        // The handler's reader count is held by `stuck`; the child must not wait for it.
        for round in 0..20 {
            assert_eq!(
                fork_and_use_registry(),
                Outcome::Exited(0),
                "round {}",
                round
            );
        }
        RELEASE.store(true, Ordering::SeqCst);
        stuck.join().unwrap();
        0
    })
    .assert_success();
}
