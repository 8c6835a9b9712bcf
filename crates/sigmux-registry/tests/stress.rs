//! Stress: threads register and unregister in a loop while another raises signals
//! continuously. Every action that stays registered for the whole run runs exactly once per
//! raise; nothing crashes; every removed action is dropped (nothing leaks).
#![cfg(unix)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;

const SIGNALS: [c_int; 2] = [libc::SIGUSR1, libc::SIGUSR2];

/// Counts live closures: incremented on creation, decremented on drop.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn permanent_actions_run_once_per_raise_while_others_churn() {
    let permanent: Vec<Arc<AtomicUsize>> = (0..4).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let mut ids = Vec::new();
    for (i, counter) in permanent.iter().enumerate() {
        let c = Arc::clone(counter);
        // SAFETY: atomics only.
        let id = unsafe {
            sigmux_registry::register(SIGNALS[i % 2], move || {
                c.fetch_add(1, Ordering::Relaxed);
            })
        }
        .unwrap();
        ids.push(id);
    }

    let live = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let churners: Vec<_> = (0..3)
        .map(|t| {
            let stop = Arc::clone(&stop);
            let live = Arc::clone(&live);
            thread::spawn(move || {
                let mut held = Vec::new();
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    live.fetch_add(1, Ordering::SeqCst);
                    let tracked = Tracked(Arc::clone(&live));
                    // SAFETY: touches nothing.
                    let id = unsafe {
                        sigmux_registry::register(SIGNALS[(n + t) % 2], move || {
                            let _ = &tracked;
                        })
                    }
                    .unwrap();
                    held.push(id);
                    // Remove in a different order than added, keeping up to 8 alive.
                    if held.len() > 8 {
                        let victim = held.swap_remove(n % held.len());
                        assert!(sigmux_registry::unregister(victim));
                    }
                    n += 1;
                }
                for id in held {
                    assert!(sigmux_registry::unregister(id));
                }
                n
            })
        })
        .collect();

    // Raise for a bounded time (absolute deadline) or count, whichever comes first.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut raised = [0usize; 2];
    while Instant::now() < deadline && raised[0] < 100_000 {
        for (k, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: raising a handled signal.
            assert_eq!(unsafe { libc::raise(sig) }, 0);
            raised[k] += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let churned: usize = churners.into_iter().map(|c| c.join().unwrap()).sum();

    for (i, counter) in permanent.iter().enumerate() {
        assert_eq!(
            counter.load(Ordering::Relaxed),
            raised[i % 2],
            "action {}",
            i
        );
    }
    assert!(churned > 0);
    // Every churned closure was dropped by unregister.
    assert_eq!(live.load(Ordering::SeqCst), 0);
    for id in ids {
        assert!(sigmux_registry::unregister(id));
    }
    // The permanent closures are gone too: we hold the only other references.
    for counter in &permanent {
        assert_eq!(Arc::strong_count(counter), 1);
    }
}
