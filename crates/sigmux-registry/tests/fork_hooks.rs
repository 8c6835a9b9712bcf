//! The ordered fork-hook list (`sigmux_registry::__fork`): listed `prepare` hooks run in
//! registration order before the registry takes its lock; `parent`/`child` after the
//! registry's, last listed first; the child counts the fork. Runs in a forked child with a
//! watchdog (a wrong order deadlocks: the first hook takes the registry lock).
#![cfg(unix)]

use std::sync::atomic::{AtomicUsize, Ordering};

use sigmux_registry::__fork::{forks, register, Hooks};
use sigmux_testkit::{in_child, wait_for, Outcome};

/// What ran, in order: each entry is a small code, appended with `record`.
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicUsize = AtomicUsize::new(0);
static LOG: [AtomicUsize; 16] = [ZERO; 16];
static LEN: AtomicUsize = AtomicUsize::new(0);

fn record(code: usize) {
    if let Some(slot) = LOG.get(LEN.fetch_add(1, Ordering::SeqCst)) {
        slot.store(code, Ordering::SeqCst);
    }
}

fn logged() -> Vec<usize> {
    let len = LEN.load(Ordering::SeqCst).min(LOG.len());
    LOG[..len]
        .iter()
        .map(|s| s.load(Ordering::SeqCst))
        .collect()
}

// Codes: tens = which hook list entry, ones = 1 prepare, 2 parent, 3 child.
static FIRST: Hooks = Hooks {
    prepare: || {
        // Takes (and releases) the registry lock: deadlocks if the registry's own prepare
        // ran first.
        std::hint::black_box(sigmux_registry::default_options());
        record(11);
    },
    parent: || record(12),
    child: || record(13),
};
static SECOND: Hooks = Hooks {
    prepare: || record(21),
    parent: || record(22),
    child: || record(23),
};

#[test]
fn hooks_run_in_the_documented_order() {
    in_child(20, || {
        assert!(register(&FIRST));
        assert!(register(&SECOND));
        assert!(register(&FIRST), "registering again is a no-op");
        let before = forks();
        // SAFETY: the child only uses atomics and `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let ok = logged() == [11, 21, 23, 13] && forks() == before + 1;
            // SAFETY: leaving the child without the parent's atexit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        assert_eq!(
            wait_for(pid),
            Outcome::Exited(0),
            "child saw {:?}",
            logged()
        );
        assert_eq!(logged(), [11, 21, 22, 12]);
        assert_eq!(forks(), before);
        0
    })
    .assert_success();
}
