//! A child forked while another thread keeps adding and removing signals can use the
//! iterator it inherited: drop it, add a signal, remove one. No lock of the iterator may be
//! left held in the child by a thread the child does not have.
//!
//! One scenario per delivery kind; 100 forks each, every child under an alarm watchdog.
#![cfg(unix)]

use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use libc::{SIGUSR1, SIGUSR2, SIGWINCH};
use sigmux::iterator::backend::{Handle, SignalDelivery};
use sigmux::iterator::exfiltrator::SignalOnly;
use sigmux::iterator::Signals;
use sigmux_testkit::Outcome;

const FORKS: usize = 100;

/// What a child does with what it inherited.
#[derive(Clone, Copy, Debug)]
enum Act {
    Drop,
    Add,
    Remove,
}

/// Forks `FORKS` children while a thread churns `add_signal`/`remove_signal` on `handle`;
/// each child does one [`Act`] (dropping is `drop_it`) and exits. Returns the failures (it
/// stops at the third).
fn fork_during_churn(handle: Handle, mut drop_it: impl FnMut()) -> Vec<(Act, Outcome)> {
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    // Two threads, so the mutex is nearly always held, often by a thread waiting for the
    // registry's lock (which the registry's own fork hook takes).
    let churners: Vec<_> = [SIGUSR2, SIGWINCH]
        .into_iter()
        .map(|signal| {
            let (stop, rounds) = (Arc::clone(&stop), Arc::clone(&rounds));
            let handle = handle.clone();
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    handle.add_signal(signal).unwrap();
                    handle.remove_signal(signal);
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // The churn is under way before the first fork.
    assert!(sigmux_testkit::wait_until(
        std::time::Duration::from_secs(10),
        || rounds.load(Ordering::Relaxed) > 10
    ));
    let mut failures = Vec::new();
    for i in 0..FORKS {
        let act = [Act::Drop, Act::Add, Act::Remove][i % 3];
        // SAFETY: the child only runs the code below (async-signal-safe calls, and the
        // iterator's own operations, which are what this test checks) and `_exit`s.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: alarm has no preconditions; the default SIGALRM action ends a hang.
            unsafe { libc::alarm(5) };
            let ok = match act {
                Act::Drop => {
                    drop_it();
                    true
                }
                Act::Add => handle.add_signal(SIGUSR2).is_ok(),
                Act::Remove => {
                    handle.remove_signal(SIGUSR2);
                    true
                }
            };
            // SAFETY: leaving the child without running the parent's destructors.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let outcome = sigmux_testkit::wait_for(pid);
        if outcome != Outcome::Exited(0) {
            failures.push((act, outcome));
            if failures.len() == 3 {
                break; // enough to tell, and each hang costs the child's watchdog
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    for churner in churners {
        churner.join().unwrap();
    }
    failures
}

/// The whole scenario runs in a child of the test process, under its own watchdog: a fork
/// hook that deadlocked would hang the forking thread itself.
#[test]
fn children_forked_during_churn_drop_add_and_remove_without_hanging() {
    sigmux_testkit::in_child(120, || {
        let mut signals = Some(Signals::new([SIGUSR1]).unwrap());
        let handle = signals.as_ref().unwrap().handle();
        let failures = fork_during_churn(handle, || drop(signals.take()));
        assert!(
            failures.is_empty(),
            "Signals: {} children failed before {} forks were done: {:?}",
            failures.len(),
            FORKS,
            failures
        );
        drop(signals);

        let (read, write) = UnixStream::pair().unwrap();
        let delivery = SignalDelivery::with_pipe(read, write, SignalOnly, [SIGUSR1]).unwrap();
        let mut delivery = Some(delivery);
        let handle = delivery.as_ref().unwrap().handle();
        let failures = fork_during_churn(handle, || drop(delivery.take()));
        assert!(
            failures.is_empty(),
            "SignalDelivery: {} children failed before {} forks were done: {:?}",
            failures.len(),
            FORKS,
            failures
        );
        0
    })
    .assert_success();
}
