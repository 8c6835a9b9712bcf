//! The process handler both libraries install through their registries, as a program sees it:
//! its `sigaction` flags, the mask while it runs, chaining to a handler installed before,
//! signals that were ignored, `errno`; each scenario run against signal-hook 0.4.6 and sigmux
//! and compared.
#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;

use libc::{c_int, SIGUSR1, SIGUSR2};
use sigmux_conformance::{note, same};

fn raise(sig: c_int) {
    // SAFETY: raise has no memory-safety preconditions.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

/// The current disposition of `sig`: `default`, `ignore` or `handler` with its flags.
fn disposition(sig: c_int) -> String {
    // SAFETY: all-zero is a valid sigaction; querying with a null new action.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer, null new action.
    let r = unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) };
    assert_eq!(r, 0);
    match old.sa_sigaction {
        libc::SIG_DFL => "default".to_string(),
        libc::SIG_IGN => "ignore".to_string(),
        _ => {
            let named = [
                (libc::SA_SIGINFO, "SIGINFO"),
                (libc::SA_RESTART, "RESTART"),
                (libc::SA_ONSTACK, "ONSTACK"),
                (libc::SA_NODEFER, "NODEFER"),
                (libc::SA_RESETHAND, "RESETHAND"),
                (libc::SA_NOCLDSTOP, "NOCLDSTOP"),
                (libc::SA_NOCLDWAIT, "NOCLDWAIT"),
            ];
            let flags: Vec<&str> = named
                .iter()
                .filter(|(f, _)| old.sa_flags & *f != 0)
                .map(|(_, n)| *n)
                .collect();
            // SAFETY: `old.sa_mask` is an initialised sigset.
            let masked: Vec<c_int> = (1..=64)
                .filter(|&s| unsafe { libc::sigismember(&old.sa_mask, s) } == 1)
                .collect();
            format!("handler flags {:?} mask {:?}", flags, masked)
        }
    }
}

fn set_disposition(sig: c_int, handler: libc::sighandler_t, flags: c_int) {
    // SAFETY: all-zero is a valid sigaction.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    act.sa_sigaction = handler;
    act.sa_flags = flags;
    // SAFETY: a valid action; the old one is not wanted.
    let r = unsafe { libc::sigaction(sig, &act, std::ptr::null_mut()) };
    assert_eq!(r, 0);
}

static PREVIOUS_RAN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn previous_handler(_: c_int) {
    PREVIOUS_RAN.fetch_add(1, Ordering::SeqCst);
}

extern "C" fn previous_siginfo_handler(_: c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let code = unsafe { (*info).si_code };
    PREVIOUS_RAN.fetch_add(
        if code == libc::SI_TKILL { 10 } else { 1 },
        Ordering::SeqCst,
    );
}

same!(installed_handler_flags_and_mask {
    for sig in [SIGUSR1, libc::SIGCHLD, libc::SIGTERM] {
        note(format!("{} before: {}", sig, disposition(sig)));
        let _signals = lib::iterator::Signals::new([sig]).unwrap();
        note(format!("{} with an iterator: {}", sig, disposition(sig)));
        drop(_signals);
        note(format!("{} after its drop: {}", sig, disposition(sig)));
    }
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    lib::flag::register(libc::SIGWINCH, flag).unwrap();
    note(format!("flag on SIGWINCH: {}", disposition(libc::SIGWINCH)));
});

same!(mask_while_an_action_runs {
    static MASKED_USR2: AtomicI32 = AtomicI32::new(-1);
    static MASKED_SELF: AtomicI32 = AtomicI32::new(-1);
    // SAFETY: the action calls pthread_sigmask and sigismember (async-signal-safe) and stores
    // into atomics.
    unsafe {
        lib::low_level::register(SIGUSR1, || {
            let mut now: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut now);
            MASKED_USR2.store(libc::sigismember(&now, SIGUSR2), Ordering::SeqCst);
            MASKED_SELF.store(libc::sigismember(&now, SIGUSR1), Ordering::SeqCst);
        })
    }
    .unwrap();
    raise(SIGUSR1);
    note(format!(
        "in the SIGUSR1 action: SIGUSR1 blocked {}, SIGUSR2 blocked {}",
        MASKED_SELF.load(Ordering::SeqCst),
        MASKED_USR2.load(Ordering::SeqCst)
    ));
});

same!(a_handler_installed_before_still_runs {
    set_disposition(SIGUSR1, previous_handler as *const () as libc::sighandler_t, 0);
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    raise(SIGUSR1);
    note(format!(
        "previous ran {} / iterator: {:?}",
        PREVIOUS_RAN.load(Ordering::SeqCst),
        signals.pending().collect::<Vec<_>>()
    ));
    drop(signals);
    raise(SIGUSR1);
    note(format!("after the iterator's drop: previous ran {}", PREVIOUS_RAN.load(Ordering::SeqCst)));
});

same!(a_siginfo_handler_installed_before_gets_the_siginfo {
    set_disposition(
        SIGUSR2,
        previous_siginfo_handler as *const () as libc::sighandler_t,
        libc::SA_SIGINFO,
    );
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    // SAFETY: the action only does an atomic add.
    unsafe {
        lib::low_level::register(SIGUSR2, move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    raise(SIGUSR2);
    note(format!(
        "previous (10 = saw SI_TKILL): {} / action: {}",
        PREVIOUS_RAN.load(Ordering::SeqCst),
        count.load(Ordering::SeqCst)
    ));
});

same!(a_signal_ignored_before_registration {
    set_disposition(SIGUSR1, libc::SIG_IGN, 0);
    note(format!("before: {}", disposition(SIGUSR1)));
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    note(format!("with an iterator: {}", disposition(SIGUSR1)));
    raise(SIGUSR1);
    note(format!("iterator: {:?}", signals.pending().collect::<Vec<_>>()));
});

same!(errno_survives_the_handler {
    // The pipe is full, so the handler's write fails with EAGAIN inside the handler.
    let mut fds = [-1; 2];
    // SAFETY: a valid array of two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fcntl and write on our own descriptors.
    unsafe {
        libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK);
        while libc::write(fds[1], b"f".as_ptr().cast(), 1) == 1 {}
    }
    use std::os::fd::FromRawFd;
    // SAFETY: our own open descriptor, handed over once.
    let write = unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[1]) };
    lib::low_level::pipe::register(SIGUSR1, write).unwrap();
    let _signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    // SAFETY: __errno_location returns this thread's errno.
    unsafe { *libc::__errno_location() = libc::ENOTTY };
    raise(SIGUSR1);
    // SAFETY: as above.
    let errno = unsafe { *libc::__errno_location() };
    note(format!("errno after the handler: {}", errno));
});

same!(fifty_iterators_and_flags_on_one_signal {
    let mut iterators: Vec<_> =
        (0..50).map(|_| lib::iterator::Signals::new([SIGUSR2]).unwrap()).collect();
    let count = Arc::new(AtomicUsize::new(0));
    for _ in 0..50 {
        let c = Arc::clone(&count);
        // SAFETY: the action only does an atomic add.
        unsafe {
            lib::low_level::register(SIGUSR2, move || {
                c.fetch_add(1, Ordering::SeqCst);
            })
        }
        .unwrap();
    }
    raise(SIGUSR2);
    let saw = iterators.iter_mut().map(|s| s.pending().count()).filter(|&n| n == 1).count();
    note(format!("iterators that saw it: {}, actions run: {}", saw, count.load(Ordering::SeqCst)));
});

same!(a_forked_child_receives_with_the_inherited_iterator {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    let outcome = sigmux_conformance::fork_outcome(|| {
        raise(SIGUSR1);
        let got: Vec<c_int> = signals.wait().collect();
        // SAFETY: ends the forked process with a code saying what it saw.
        unsafe { libc::_exit(if got == [SIGUSR1] { 0 } else { 3 }) };
    });
    note(format!("child: {}", outcome));
    note(format!("parent's slots untouched: {:?}", signals.pending().collect::<Vec<_>>()));
    raise(SIGUSR2);
    note(format!("parent still receives: {:?}", signals.wait().collect::<Vec<_>>()));
});
