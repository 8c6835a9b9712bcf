//! Taking control of dispositions: restore on last removal, install options, safe queries.
//! Every scenario runs in a forked child with an alarm watchdog and is judged by `waitpid`.
#![cfg(unix)]

use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libc::c_int;
use sigmux_registry::{
    disposition, ignore, register, set_default_action, try_register, unregister, Disposition,
    Options, Registration,
};
use sigmux_testkit::{in_child, Outcome};

fn raise(sig: c_int) {
    // SAFETY: raising a signal the scenario expects.
    unsafe { libc::raise(sig) };
}

fn restore() -> Options {
    Options::new().restore(true)
}

static PREV_HITS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn counting_prev(_sig: c_int) {
    PREV_HITS.fetch_add(1, Ordering::SeqCst);
}

fn install_counting_prev(sig: c_int) {
    // SAFETY: a one-argument handler, the form `signal` installs.
    let old = unsafe { libc::signal(sig, counting_prev as *const () as libc::sighandler_t) };
    assert_ne!(old, libc::SIG_ERR);
}

#[test]
fn after_restore_the_default_action_kills() {
    let outcome = in_child(10, || {
        // SAFETY: empty action.
        let id = unsafe { try_register(libc::SIGUSR1, restore(), || ()) }.unwrap();
        raise(libc::SIGUSR1); // handled: survives
        assert!(unregister(id));
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Default);
        raise(libc::SIGUSR1); // default action: terminates
        0
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGUSR1));
}

#[test]
fn without_restore_the_handler_stays() {
    in_child(10, || {
        // SAFETY: empty action.
        let id = unsafe { register(libc::SIGUSR1, || ()) }.unwrap();
        assert!(unregister(id));
        assert!(matches!(
            disposition(libc::SIGUSR1).unwrap(),
            Disposition::Sigmux { actions: 0, .. }
        ));
        raise(libc::SIGUSR1);
        0
    })
    .assert_success();
}

#[test]
fn after_restore_the_previous_handler_gets_the_signal() {
    in_child(10, || {
        install_counting_prev(libc::SIGUSR2);
        let ours = Arc::new(AtomicUsize::new(0));
        let o = Arc::clone(&ours);
        // SAFETY: atomics only.
        let id = unsafe {
            try_register(libc::SIGUSR2, restore(), move || {
                o.fetch_add(1, Ordering::SeqCst);
            })
        }
        .unwrap();
        raise(libc::SIGUSR2);
        assert_eq!(
            (
                PREV_HITS.load(Ordering::SeqCst),
                ours.load(Ordering::SeqCst)
            ),
            (1, 1)
        );
        assert!(unregister(id));
        assert!(matches!(
            disposition(libc::SIGUSR2).unwrap(),
            Disposition::Handler { address, .. } if address == counting_prev as *const () as usize
        ));
        raise(libc::SIGUSR2);
        assert_eq!(
            (
                PREV_HITS.load(Ordering::SeqCst),
                ours.load(Ordering::SeqCst)
            ),
            (2, 1)
        );
        0
    })
    .assert_success();
}

#[test]
fn after_restore_an_ignored_signal_stays_ignored() {
    in_child(10, || {
        ignore(libc::SIGUSR1).unwrap();
        // SAFETY: empty action.
        let id = unsafe { try_register(libc::SIGUSR1, restore(), || ()) }.unwrap();
        assert!(unregister(id));
        assert_eq!(disposition(libc::SIGUSR1).unwrap(), Disposition::Ignore);
        raise(libc::SIGUSR1); // ignored: survives
        0
    })
    .assert_success();
}

#[test]
fn no_restore_over_another_librarys_handler() {
    in_child(10, || {
        // SAFETY: empty action.
        let id = unsafe { try_register(libc::SIGUSR2, restore(), || ()) }.unwrap();
        // Another library installs over us.
        install_counting_prev(libc::SIGUSR2);
        assert!(unregister(id));
        assert!(matches!(
            disposition(libc::SIGUSR2).unwrap(),
            Disposition::Handler { address, .. } if address == counting_prev as *const () as usize
        ));
        0
    })
    .assert_success();
}

#[test]
fn guard_drop_restores() {
    let outcome = in_child(10, || {
        // SAFETY: empty action.
        let id = unsafe { try_register(libc::SIGUSR1, restore(), || ()) }.unwrap();
        let guard = Registration::from(id);
        assert_eq!(guard.id(), id);
        drop(guard);
        assert!(!unregister(id));
        raise(libc::SIGUSR1);
        0
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGUSR1));
}

/// Go's `signal.Stop` guarantee: a flood of signals while actions with `restore` come and go.
/// Every signal is sent only after the previous one was counted (a handshake), so a single
/// lost delivery stalls the sender and fails the test; none may hit `SIG_DFL` either (that
/// would kill the child).
#[test]
fn removal_racing_a_flood_loses_nothing() {
    in_child(60, || {
        install_counting_prev(libc::SIGUSR1);
        // SAFETY: pthread_self is always safe.
        let target = unsafe { libc::pthread_self() } as usize;
        let ours = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let d = Arc::clone(&done);
        let sender = std::thread::spawn(move || {
            let mut sent = 0usize;
            while !d.load(Ordering::SeqCst) {
                // SAFETY: the main thread outlives the sender (it joins it).
                unsafe { libc::pthread_kill(target as libc::pthread_t, libc::SIGUSR1) };
                sent += 1;
                let deadline = Instant::now() + Duration::from_secs(10);
                while PREV_HITS.load(Ordering::SeqCst) < sent {
                    assert!(Instant::now() < deadline, "signal {} was lost", sent);
                    std::thread::yield_now();
                }
            }
            sent
        });
        for _ in 0..2000 {
            let o = Arc::clone(&ours);
            // SAFETY: atomics only.
            let id = unsafe {
                try_register(libc::SIGUSR1, restore(), move || {
                    o.fetch_add(1, Ordering::SeqCst);
                })
            }
            .unwrap();
            std::thread::yield_now();
            assert!(unregister(id));
        }
        done.store(true, Ordering::SeqCst);
        let sent = sender.join().unwrap();
        // Every signal reached the restored handler (directly, or chained through ours).
        assert_eq!(PREV_HITS.load(Ordering::SeqCst), sent);
        assert!(ours.load(Ordering::SeqCst) <= sent);
        0
    })
    .assert_success();
}

#[test]
fn onstack_runs_on_the_alternate_stack() {
    in_child(10, || {
        static ADDR: AtomicUsize = AtomicUsize::new(0);
        let size = 256 * 1024;
        let stack = Box::leak(vec![0u8; size].into_boxed_slice());
        let lo = stack.as_ptr() as usize;
        let ss = libc::stack_t {
            ss_sp: stack.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: size,
        };
        // SAFETY: a valid, leaked (so never freed) stack for this thread.
        assert_eq!(unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) }, 0);
        let record = || {
            let marker = 0u8;
            ADDR.store(
                std::hint::black_box(&marker) as *const u8 as usize,
                Ordering::SeqCst,
            );
        };
        // SAFETY: stores to an atomic.
        unsafe { try_register(libc::SIGUSR1, Options::new().onstack(true), record) }.unwrap();
        // SAFETY: as above.
        unsafe { try_register(libc::SIGUSR2, Options::new().onstack(false), record) }.unwrap();
        let on_alt = |a: usize| a >= lo && a < lo + size;
        raise(libc::SIGUSR1);
        assert!(
            on_alt(ADDR.load(Ordering::SeqCst)),
            "SA_ONSTACK handler not on the alt stack"
        );
        raise(libc::SIGUSR2);
        assert!(
            !on_alt(ADDR.load(Ordering::SeqCst)),
            "handler without SA_ONSTACK on it"
        );
        match disposition(libc::SIGUSR1).unwrap() {
            Disposition::Sigmux { options, .. } => assert_eq!(options.get_onstack(), Some(true)),
            other => panic!("{:?}", other),
        }
        0
    })
    .assert_success();
}

/// A thread blocks in `read` on an empty pipe; signals are sent to it until its read returns
/// or 20 have been handled (`hits` counts them). Returns what `read` returned and its errno.
fn read_interrupted_by(sig: c_int, hits: &AtomicUsize) -> (isize, i32) {
    let mut fds = [0; 2];
    // SAFETY: valid out-array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (rd, wr) = (fds[0], fds[1]);
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        // SAFETY: pthread_self is always safe.
        tx.send(unsafe { libc::pthread_self() } as usize).unwrap();
        let mut b = 0u8;
        // SAFETY: valid buffer of one byte.
        let n = unsafe { libc::read(rd, (&mut b as *mut u8).cast(), 1) };
        (
            n,
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        )
    });
    let tid = rx.recv().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let start = hits.load(Ordering::SeqCst);
    while !reader.is_finished()
        && hits.load(Ordering::SeqCst) < start + 20
        && Instant::now() < deadline
    {
        // SAFETY: the reader thread is alive until joined.
        unsafe { libc::pthread_kill(tid as libc::pthread_t, sig) };
        std::thread::sleep(Duration::from_millis(2));
    }
    if !reader.is_finished() {
        // The read was restarted every time: unblock it with a byte.
        // SAFETY: valid one-byte buffer.
        unsafe { libc::write(wr, b"x".as_ptr().cast(), 1) };
    }
    reader.join().unwrap()
}

#[test]
fn restart_off_makes_read_fail_with_eintr() {
    in_child(20, || {
        static HITS: AtomicUsize = AtomicUsize::new(0);
        let count = || {
            HITS.fetch_add(1, Ordering::SeqCst);
        };
        // SAFETY: atomics only.
        unsafe { try_register(libc::SIGUSR1, Options::new().restart(false), count) }.unwrap();
        // SAFETY: as above.
        unsafe { try_register(libc::SIGUSR2, Options::new().restart(true), count) }.unwrap();
        assert_eq!(read_interrupted_by(libc::SIGUSR1, &HITS), (-1, libc::EINTR));
        // With SA_RESTART the read is restarted and returns the byte written at the end.
        assert_eq!(read_interrupted_by(libc::SIGUSR2, &HITS).0, 1);
        0
    })
    .assert_success();
}

#[test]
fn conflicting_options_are_an_error() {
    in_child(10, || {
        // SAFETY: empty actions.
        unsafe { try_register(libc::SIGUSR1, Options::new().onstack(true), || ()) }.unwrap();
        // SAFETY: never installed.
        let e = unsafe { try_register(libc::SIGUSR1, Options::new().onstack(false), || ()) }
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("onstack"), "{}", e);
        // Not asking accepts what is there; asking for the same value is fine.
        // SAFETY: empty actions.
        unsafe { try_register(libc::SIGUSR1, Options::new(), || ()) }.unwrap();
        // SAFETY: empty actions.
        unsafe { try_register(libc::SIGUSR1, Options::new().onstack(true), || ()) }.unwrap();
        // SAFETY: empty action: the compatible function accepts whatever is installed.
        unsafe { register(libc::SIGUSR1, || ()) }.unwrap();
        0
    })
    .assert_success();
}

#[test]
fn default_options_apply_to_the_compatible_functions() {
    in_child(10, || {
        // SAFETY: empty action.
        unsafe { register(libc::SIGUSR2, || ()) }.unwrap();
        sigmux_registry::set_default_options(Options::new().onstack(true).restart(false)).unwrap();
        // SAFETY: empty action.
        unsafe { register(libc::SIGUSR1, || ()) }.unwrap();
        // A signal installed already is not changed.
        match disposition(libc::SIGUSR2).unwrap() {
            Disposition::Sigmux { options, .. } => {
                assert_eq!(options.get_onstack(), Some(false));
                assert_eq!(options.get_restart(), Some(true));
            }
            other => panic!("{:?}", other),
        }
        match disposition(libc::SIGUSR1).unwrap() {
            Disposition::Sigmux { options, actions } => {
                assert_eq!(actions, 1);
                assert_eq!(options.get_onstack(), Some(true));
                assert_eq!(options.get_restart(), Some(false));
            }
            other => panic!("{:?}", other),
        }
        0
    })
    .assert_success();
}

#[test]
fn checked_registration_never_panics() {
    in_child(10, || {
        let bad = [
            -1,
            0,
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGILL,
            libc::SIGFPE,
            32,
            33,
            65,
            1000,
            c_int::MAX,
        ];
        for sig in bad {
            // SAFETY: never installed.
            let e = unsafe { try_register(sig, Options::new(), || ()) }.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", sig);
            assert!(e.to_string().contains(&sig.to_string()), "{}", e);
        }
        0
    })
    .assert_success();
}

#[test]
fn ignore_and_default_refuse_owned_signals() {
    in_child(10, || {
        ignore(libc::SIGUSR2).unwrap();
        assert_eq!(disposition(libc::SIGUSR2).unwrap(), Disposition::Ignore);
        set_default_action(libc::SIGUSR2).unwrap();
        assert_eq!(disposition(libc::SIGUSR2).unwrap(), Disposition::Default);
        // SAFETY: empty action.
        let id = unsafe { try_register(libc::SIGUSR2, restore(), || ()) }.unwrap();
        assert_eq!(ignore(libc::SIGUSR2).unwrap_err().kind(), ErrorKind::Other);
        assert_eq!(
            set_default_action(libc::SIGUSR2).unwrap_err().kind(),
            ErrorKind::Other
        );
        assert!(unregister(id));
        ignore(libc::SIGUSR2).unwrap();
        assert_eq!(ignore(1000).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert!(ignore(libc::SIGKILL).is_err());
        0
    })
    .assert_success();
}
