//! Attacks on the registry's documented promises (issue #11): each scenario once broke a
//! sentence of the docs. Every scenario runs in a forked child with an `alarm` watchdog, so a
//! hang fails instead of blocking, and is judged by `waitpid`.
#![cfg(unix)]
// The late-frame scenarios rely on the Linux kernel's frame order and run only there.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use std::io::ErrorKind;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;
use sigmux_registry::{
    disposition, ignore, register, set_default_action, try_register, unregister, Disposition,
    Options,
};
use sigmux_testkit::{in_child, jump, wait_until};

fn raise(sig: c_int) {
    // SAFETY: raising a signal the scenario expects.
    unsafe { libc::raise(sig) };
}

fn restore() -> Options {
    Options::new().restore(true)
}

fn sigset(sigs: &[c_int]) -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is a valid value to initialise.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for &s in sigs {
        // SAFETY: as above.
        unsafe { libc::sigaddset(&mut set, s) };
    }
    set
}

fn thread_mask(how: c_int, sigs: &[c_int]) {
    let set = sigset(sigs);
    // SAFETY: valid set, null old set.
    let r = unsafe { libc::pthread_sigmask(how, &set, std::ptr::null_mut()) };
    assert_eq!(r, 0);
}

/// Installs a one-argument handler with `flags` and `mask` (`sigaction`, no `SA_SIGINFO`).
fn install_plain(sig: c_int, handler: extern "C" fn(c_int), flags: c_int, mask: &[c_int]) {
    // SAFETY: all-zero is a valid sigaction; then filled in.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler as *const () as usize;
    sa.sa_flags = flags;
    sa.sa_mask = sigset(mask);
    // SAFETY: valid pointers; the handler has the one-argument form.
    let r = unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) };
    assert_eq!(r, 0);
}

// ---------------------------------------------------------------------------------------------
// Item 2: a late frame of sigmux's handler (built before the restore, run after it) must reach
// the restored disposition.
//
// Deterministic nesting: thread T blocks A and B, sends both to itself, and unblocks both with
// one `pthread_sigmask`. On the way back to user space the Linux kernel builds B's frame first
// (it dequeues the lowest pending signal first) and A's frame on top of it, so A's handler runs
// first while B's frame — of sigmux's handler, built while sigmux was installed — waits under
// it. A's handler holds until the main thread has removed B's last action with `restore`; then
// B's frame runs.

const LATE_B: c_int = libc::SIGUSR1;
const LATE_A: c_int = libc::SIGUSR2;

static A_RUNNING: AtomicBool = AtomicBool::new(false);
static REMOVED: AtomicBool = AtomicBool::new(false);
static RESTORED_HITS: AtomicUsize = AtomicUsize::new(0);
static ACTION_HITS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn hold_until_removed(_sig: c_int) {
    A_RUNNING.store(true, Ordering::SeqCst);
    while !REMOVED.load(Ordering::SeqCst) {
        std::hint::spin_loop();
    }
}

extern "C" fn count_restored(_sig: c_int) {
    RESTORED_HITS.fetch_add(1, Ordering::SeqCst);
}

// B's frame must be built first.
const _: () = assert!(LATE_B < LATE_A);

fn late_frame_round() {
    install_plain(LATE_A, hold_until_removed, 0, &[]);
    // The main thread never takes A or B; T inherits the blocked mask.
    thread_mask(libc::SIG_BLOCK, &[LATE_A, LATE_B]);
    // SAFETY: counts into an atomic.
    let id = unsafe {
        try_register(LATE_B, restore(), || {
            ACTION_HITS.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    let t = thread::spawn(|| {
        // SAFETY: signalling this very thread; both signals are blocked, so they stay pending.
        unsafe {
            libc::pthread_kill(libc::pthread_self(), LATE_B);
            libc::pthread_kill(libc::pthread_self(), LATE_A);
        }
        thread_mask(libc::SIG_UNBLOCK, &[LATE_A, LATE_B]);
    });
    assert!(wait_until(Duration::from_secs(5), || A_RUNNING.load(Ordering::SeqCst)));
    assert!(unregister(id));
    REMOVED.store(true, Ordering::SeqCst);
    t.join().unwrap();
}

// The frame order is the Linux kernel's (see above).
#[cfg(target_os = "linux")]
#[test]
fn late_frame_after_restore_reaches_the_restored_handler() {
    in_child(10, || {
        install_plain(LATE_B, count_restored, 0, &[]);
        late_frame_round();
        // Exactly one of the two saw the delivery: the action or the restored handler.
        assert_eq!(
            ACTION_HITS.load(Ordering::SeqCst) + RESTORED_HITS.load(Ordering::SeqCst),
            1
        );
        0
    })
    .assert_success();
}

// The frame order is the Linux kernel's (see above).
#[cfg(target_os = "linux")]
#[test]
fn late_frame_after_restore_to_default_gets_the_default_action() {
    let outcome = in_child(10, || {
        late_frame_round();
        // Survived: the delivery reached neither the action nor the default action.
        assert_eq!(ACTION_HITS.load(Ordering::SeqCst), 1, "delivery lost");
        0
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Signaled(LATE_B));
}

// The frame order is the Linux kernel's (see above).
#[cfg(target_os = "linux")]
#[test]
fn late_frame_after_restore_to_ignore_is_dropped() {
    in_child(10, || {
        // SAFETY: a plain disposition change before sigmux touches the signal.
        unsafe { libc::signal(LATE_B, libc::SIG_IGN) };
        late_frame_round();
        assert_eq!(disposition(LATE_B).unwrap(), Disposition::Ignore);
        0
    })
    .assert_success();
}

// ---------------------------------------------------------------------------------------------
// Item 5: a second `keep_ignored(true)` registration of a signal kept ignored is accepted.

const INNER: &str = "SIGMUX_TEST_ATTACKS_KEEP_IGNORED_INNER";

#[test]
fn second_keep_ignored_registration_is_accepted() {
    if std::env::var_os(INNER).is_some() {
        assert!(sigmux_registry::ignored_at_start(libc::SIGHUP).unwrap());
        let keep = Options::new().keep_ignored(true);
        // SAFETY: empty actions.
        unsafe { try_register(libc::SIGHUP, keep, || ()) }.unwrap();
        // SAFETY: as above.
        unsafe { try_register(libc::SIGHUP, keep, || ()) }.unwrap();
        assert_eq!(disposition(libc::SIGHUP).unwrap(), Disposition::Ignore);
        return;
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "second_keep_ignored_registration_is_accepted",
        "--test-threads=1",
    ])
    .env(INNER, "1");
    // SAFETY: only an async-signal-safe call between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner run failed: {:?}\n{}\n{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Item 8: a previous handler that leaves with `siglongjmp` must not wedge the registry.

#[test]
fn previous_handler_leaving_with_siglongjmp_does_not_block_unregister() {
    in_child(5, || {
        static HITS: AtomicUsize = AtomicUsize::new(0);
        // SAFETY: installing the C test handler (one-argument form).
        unsafe { libc::signal(libc::SIGUSR1, jump::handler_address()) };
        // SAFETY: counts into an atomic.
        let id = unsafe {
            register(libc::SIGUSR1, || {
                HITS.fetch_add(1, Ordering::SeqCst);
            })
        }
        .unwrap();
        assert!(
            jump::raise_and_jump(libc::SIGUSR1),
            "the handler did not jump"
        );
        // The previous handler left the delivery: sigmux's actions did not run for it.
        assert_eq!(HITS.load(Ordering::SeqCst), 0);
        // Not armed: the previous handler returns, the action runs.
        raise(libc::SIGUSR1);
        assert_eq!(HITS.load(Ordering::SeqCst), 1);
        // Neither waits for the abandoned delivery.
        assert!(unregister(id));
        // SAFETY: empty action.
        let id = unsafe { register(libc::SIGUSR2, || ()) }.unwrap();
        assert!(unregister(id));
        0
    })
    .assert_success();
}

// ---------------------------------------------------------------------------------------------
// Item 9: the previous handler is chained as the kernel would run it: a one-shot handler once,
// with its `sa_mask` blocked.

static ONE_SHOT_HITS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn one_shot(_sig: c_int) {
    ONE_SHOT_HITS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn one_shot_previous_handler_runs_once() {
    in_child(10, || {
        static HITS: AtomicUsize = AtomicUsize::new(0);
        install_plain(libc::SIGUSR1, one_shot, libc::SA_RESETHAND, &[]);
        // SAFETY: counts into an atomic.
        let id = unsafe {
            try_register(libc::SIGUSR1, restore(), || {
                HITS.fetch_add(1, Ordering::SeqCst);
            })
        }
        .unwrap();
        for _ in 0..3 {
            raise(libc::SIGUSR1);
        }
        assert_eq!(ONE_SHOT_HITS.load(Ordering::SeqCst), 1);
        assert_eq!(HITS.load(Ordering::SeqCst), 3);
        // The kernel would have reset it to the default action at its first delivery: that is
        // what comes back.
        assert!(unregister(id));
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Default);
        0
    })
    .assert_success();
}

#[test]
fn unfired_one_shot_previous_handler_is_restored() {
    in_child(10, || {
        install_plain(libc::SIGUSR1, one_shot, libc::SA_RESETHAND, &[]);
        // SAFETY: empty action.
        let id = unsafe { try_register(libc::SIGUSR1, restore(), || ()) }.unwrap();
        assert!(unregister(id));
        assert!(matches!(
            disposition(libc::SIGUSR1).unwrap(),
            Disposition::Handler { address, flags }
                if address == one_shot as *const () as usize && flags & libc::SA_RESETHAND != 0
        ));
        raise(libc::SIGUSR1);
        assert_eq!(ONE_SHOT_HITS.load(Ordering::SeqCst), 1);
        0
    })
    .assert_success();
}

static MASKED_HITS: AtomicUsize = AtomicUsize::new(0);
static MASKED_SEEN_INSIDE: AtomicUsize = AtomicUsize::new(usize::MAX);

extern "C" fn masking_prev(_sig: c_int) {
    // SAFETY: raise is async-signal-safe.
    unsafe { libc::raise(libc::SIGUSR2) };
    MASKED_SEEN_INSIDE.store(MASKED_HITS.load(Ordering::SeqCst), Ordering::SeqCst);
}

#[test]
fn previous_handlers_mask_is_blocked_while_it_runs() {
    in_child(10, || {
        install_plain(libc::SIGUSR1, masking_prev, 0, &[libc::SIGUSR2]);
        // SAFETY: counting into an atomic; an empty action.
        unsafe {
            register(libc::SIGUSR2, || {
                MASKED_HITS.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
            register(libc::SIGUSR1, || ()).unwrap();
        }
        raise(libc::SIGUSR1);
        // SIGUSR2 waited until the previous handler had returned, then arrived.
        assert_eq!(MASKED_SEEN_INSIDE.load(Ordering::SeqCst), 0);
        assert_eq!(MASKED_HITS.load(Ordering::SeqCst), 1);
        0
    })
    .assert_success();
}

static DEPTH: AtomicUsize = AtomicUsize::new(0);
static MAX_DEPTH: AtomicUsize = AtomicUsize::new(0);
static NODEFER_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Raises its own signal once from inside itself and records how deep calls nest.
extern "C" fn nodefer_prev(sig: c_int) {
    let depth = DEPTH.fetch_add(1, Ordering::SeqCst) + 1;
    MAX_DEPTH.fetch_max(depth, Ordering::SeqCst);
    if NODEFER_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        // SAFETY: raise is async-signal-safe.
        unsafe { libc::raise(sig) };
    }
    DEPTH.fetch_sub(1, Ordering::SeqCst);
}

/// The documented limit: a previous handler's own `SA_NODEFER` is not honoured (its signal
/// stays blocked while it runs) unless sigmux's handler has `nodefer` too.
fn nodefer_depth(sigmux_nodefer: bool) -> usize {
    install_plain(libc::SIGUSR1, nodefer_prev, libc::SA_NODEFER, &[]);
    let options = Options::new().nodefer(sigmux_nodefer);
    // SAFETY: empty action.
    unsafe { try_register(libc::SIGUSR1, options, || ()) }.unwrap();
    raise(libc::SIGUSR1);
    assert_eq!(NODEFER_CALLS.load(Ordering::SeqCst), 2);
    MAX_DEPTH.load(Ordering::SeqCst)
}

#[test]
fn previous_handlers_nodefer_needs_sigmux_nodefer() {
    in_child(10, || {
        assert_eq!(nodefer_depth(false), 1);
        0
    })
    .assert_success();
    in_child(10, || {
        assert_eq!(nodefer_depth(true), 2);
        0
    })
    .assert_success();
}

// ---------------------------------------------------------------------------------------------
// Item 10: a restore that could not happen (another library was installed over sigmux) is
// retried once sigmux's handler is back; with no actions registered, `ignore` and
// `set_default_action` always work.

fn query(sig: c_int) -> libc::sigaction {
    // SAFETY: all-zero is a valid sigaction; a null `act` only reads.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut sa), 0);
        sa
    }
}

extern "C" fn other_library(_sig: c_int) {}

/// Registers with `restore`, lets "another library" install over sigmux, removes the last
/// action (the restore is skipped), then the other library puts sigmux's handler back.
fn skipped_restore_then_sigmux_back(sig: c_int) {
    // SAFETY: empty action.
    let id = unsafe { try_register(sig, restore().nodefer(true), || ()) }.unwrap();
    let sigmux = query(sig);
    install_plain(sig, other_library, 0, &[]);
    assert!(unregister(id));
    assert!(matches!(
        disposition(sig).unwrap(),
        Disposition::Handler { address, .. } if address == other_library as *const () as usize
    ));
    // SAFETY: putting back exactly what was read.
    let r = unsafe { libc::sigaction(sig, &sigmux, std::ptr::null_mut()) };
    assert_eq!(r, 0);
}

#[test]
fn skipped_restore_is_retried_by_disposition() {
    in_child(10, || {
        skipped_restore_then_sigmux_back(libc::SIGUSR1);
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Default);
        ignore(libc::SIGUSR1).unwrap();
        0
    })
    .assert_success();
}

#[test]
fn skipped_restore_is_retried_by_ignore() {
    in_child(10, || {
        skipped_restore_then_sigmux_back(libc::SIGUSR1);
        ignore(libc::SIGUSR1).unwrap();
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Ignore);
        raise(libc::SIGUSR1);
        0
    })
    .assert_success();
}

#[test]
fn skipped_restore_is_retried_by_registration() {
    in_child(10, || {
        skipped_restore_then_sigmux_back(libc::SIGUSR1);
        // The signal was let go of: a new first registration settles its options anew.
        // SAFETY: empty action.
        let id = unsafe { try_register(libc::SIGUSR1, restore().nodefer(false), || ()) }.unwrap();
        assert!(unregister(id));
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Default);
        0
    })
    .assert_success();
}

#[test]
fn ignore_and_set_default_work_with_no_actions() {
    in_child(10, || {
        static HITS: AtomicUsize = AtomicUsize::new(0);
        // Without restore, sigmux's handler stays after the last action goes.
        // SAFETY: counts into an atomic.
        let id = unsafe {
            register(libc::SIGUSR1, || {
                HITS.fetch_add(1, Ordering::SeqCst);
            })
        }
        .unwrap();
        assert!(unregister(id));
        ignore(libc::SIGUSR1).unwrap();
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Ignore);
        raise(libc::SIGUSR1);
        set_default_action(libc::SIGUSR1).unwrap();
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Default);
        // A new registration installs again and works.
        // SAFETY: counts into an atomic.
        let id = unsafe {
            register(libc::SIGUSR1, || {
                HITS.fetch_add(1, Ordering::SeqCst);
            })
        }
        .unwrap();
        raise(libc::SIGUSR1);
        assert_eq!(HITS.load(Ordering::SeqCst), 1);
        // With actions registered, they refuse.
        assert_eq!(ignore(libc::SIGUSR1).unwrap_err().kind(), ErrorKind::Other);
        assert!(unregister(id));
        0
    })
    .assert_success();
}

// ---------------------------------------------------------------------------------------------
// Item 11: `disposition` answers only states that existed.

#[test]
fn disposition_reports_only_states_that_existed() {
    in_child(30, || {
        let stop = Arc::new(AtomicBool::new(false));
        let churn = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: empty action.
                    let id = unsafe { try_register(libc::SIGUSR1, restore(), || ()) }.unwrap();
                    assert!(unregister(id));
                    n += 1;
                }
                n
            })
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut seen = 0u64;
        let mut bad = None;
        while Instant::now() < deadline && bad.is_none() {
            match disposition(libc::SIGUSR1).unwrap() {
                Disposition::Default => {}
                Disposition::Sigmux {
                    actions: 1,
                    options,
                } if options.get_restore() == Some(true) => seen += 1,
                other => bad = Some(other),
            }
        }
        stop.store(true, Ordering::Relaxed);
        let churned = churn.join().unwrap();
        assert!(churned > 0);
        assert_eq!(
            bad, None,
            "a state that never existed ({} owned seen)",
            seen
        );
        0
    })
    .assert_success();
}
