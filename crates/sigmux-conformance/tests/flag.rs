//! `flag`: flags set by signals, conditional shutdown and default action, each scenario run
//! against signal-hook 0.4.6 and sigmux and compared. Scenarios that end a process observe it
//! from outside (`fork_outcome`: the exit status `waitpid` reports).
#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use libc::{c_int, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use sigmux_conformance::{differs, fork_outcome, note, res, same};

fn raise(sig: c_int) {
    // SAFETY: raise has no memory-safety preconditions.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

same!(register_arc_sets_the_flag_until_unregistered {
    let flag = Arc::new(AtomicBool::new(false));
    let id = lib::flag::register(SIGUSR1, Arc::clone(&flag)).unwrap();
    note(format!("before: {}", flag.load(Ordering::SeqCst)));
    raise(SIGUSR1);
    note(format!("after raise: {}", flag.load(Ordering::SeqCst)));
    flag.store(false, Ordering::SeqCst);
    note(format!("unregister: {}", lib::low_level::unregister(id)));
    note(format!("unregister again: {}", lib::low_level::unregister(id)));
    raise(SIGUSR1);
    note(format!("after unregister and raise: {}", flag.load(Ordering::SeqCst)));
    note(format!("references left: {}", Arc::strong_count(&flag)));
});

same!(register_static_flag {
    static FLAG: AtomicBool = AtomicBool::new(false);
    let id = lib::flag::register(SIGUSR2, &FLAG).unwrap();
    raise(SIGUSR2);
    note(format!("after raise: {}", FLAG.load(Ordering::SeqCst)));
    FLAG.store(false, Ordering::SeqCst);
    lib::low_level::unregister(id);
    raise(SIGUSR2);
    note(format!("after unregister: {}", FLAG.load(Ordering::SeqCst)));
});

same!(one_flag_on_several_signals_and_several_flags_on_one_signal {
    let a = Arc::new(AtomicBool::new(false));
    let b = Arc::new(AtomicBool::new(false));
    lib::flag::register(SIGUSR1, Arc::clone(&a)).unwrap();
    lib::flag::register(SIGUSR2, Arc::clone(&a)).unwrap();
    lib::flag::register(SIGUSR2, Arc::clone(&b)).unwrap();
    raise(SIGUSR2);
    note(format!("a {} b {}", a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)));
    a.store(false, Ordering::SeqCst);
    b.store(false, Ordering::SeqCst);
    raise(SIGUSR1);
    note(format!("a {} b {}", a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)));
});

same!(register_usize_stores_the_value_and_later_registrations_run_later {
    let value = Arc::new(AtomicUsize::new(0));
    lib::flag::register_usize(SIGUSR1, Arc::clone(&value), 7).unwrap();
    raise(SIGUSR1);
    note(format!("one action: {}", value.load(Ordering::SeqCst)));
    let id = lib::flag::register_usize(SIGUSR1, Arc::clone(&value), 42).unwrap();
    raise(SIGUSR1);
    note(format!("two actions: {}", value.load(Ordering::SeqCst)));
    lib::low_level::unregister(id);
    raise(SIGUSR1);
    note(format!("second removed: {}", value.load(Ordering::SeqCst)));
    lib::flag::register_usize(SIGUSR2, Arc::clone(&value), usize::MAX).unwrap();
    raise(SIGUSR2);
    note(format!("max: {}", value.load(Ordering::SeqCst)));
});

same!(register_usize_static {
    static VALUE: AtomicUsize = AtomicUsize::new(0);
    lib::flag::register_usize(SIGUSR2, &VALUE, 3).unwrap();
    raise(SIGUSR2);
    note(VALUE.load(Ordering::SeqCst));
});

same!(conditional_shutdown_exits_only_when_armed {
    let armed = Arc::new(AtomicBool::new(false));
    note(fork_outcome(|| {
        lib::flag::register_conditional_shutdown(SIGUSR1, 7, Arc::clone(&armed)).unwrap();
        raise(SIGUSR1);
        note("survived while not armed");
        armed.store(true, Ordering::SeqCst);
        raise(SIGUSR1);
        note("not reached");
    }));
});

same!(conditional_shutdown_with_static_condition {
    static ARMED: AtomicBool = AtomicBool::new(true);
    note(fork_outcome(|| {
        lib::flag::register_conditional_shutdown(SIGTERM, 0, &ARMED).unwrap();
        raise(SIGTERM);
    }));
});

same!(conditional_default_terminates_only_when_armed {
    let armed = Arc::new(AtomicBool::new(false));
    note(fork_outcome(|| {
        lib::flag::register_conditional_default(SIGTERM, Arc::clone(&armed)).unwrap();
        raise(SIGTERM);
        note("survived while not armed");
        armed.store(true, Ordering::SeqCst);
        raise(SIGTERM);
        note("not reached");
    }));
});

same!(conditional_default_per_kind_of_default_action {
    // Term, Stop and Ignore kinds of default action, each in its own process.
    for sig in [SIGUSR2, libc::SIGTSTP, libc::SIGWINCH, libc::SIGCHLD, libc::SIGQUIT] {
        let outcome = fork_outcome(|| {
            lib::flag::register_conditional_default(sig, Arc::new(AtomicBool::new(true)))
                .unwrap();
            raise(sig);
        });
        note(format!("{}: {}", sigmux_conformance::sig_text(sig), outcome));
    }
});

same!(conditional_default_of_a_signal_without_a_name_is_an_error {
    let armed = Arc::new(AtomicBool::new(true));
    for sig in [libc::SIGRTMIN(), libc::SIGRTMAX()] {
        let r = lib::flag::register_conditional_default(sig, Arc::clone(&armed));
        note(format!("{}: {}", sig, res(&r.map(|_| ()))));
    }
});

same!(double_ctrl_c_pattern_from_the_docs {
    note(fork_outcome(|| {
        let term_now = Arc::new(AtomicBool::new(false));
        for &sig in lib::consts::TERM_SIGNALS {
            lib::flag::register_conditional_shutdown(sig, 1, Arc::clone(&term_now)).unwrap();
            lib::flag::register(sig, Arc::clone(&term_now)).unwrap();
        }
        raise(SIGINT);
        note(format!("first SIGINT: armed {}", term_now.load(Ordering::SeqCst)));
        raise(SIGTERM);
        note("not reached");
    }));
});

same!(flags_on_numbers_both_refuse_with_an_error {
    // Numbers where signal-hook's registry gets EINVAL from sigaction (no panic).
    let flag = Arc::new(AtomicBool::new(false));
    let value = Arc::new(AtomicUsize::new(0));
    for sig in [0, 32, 65, 1000] {
        note(format!(
            "{}: register {} usize {} shutdown {}",
            sig,
            res(&lib::flag::register(sig, Arc::clone(&flag)).map(|_| ())),
            res(&lib::flag::register_usize(sig, Arc::clone(&value), 1).map(|_| ())),
            res(&lib::flag::register_conditional_shutdown(sig, 1, Arc::clone(&flag)).map(|_| ())),
        ));
    }
});

// signal-hook hands a forbidden signal to its registry, which panics ("Attempted to register
// forbidden signal"), and a negative number to sigaction (EINVAL). sigmux promises an
// `InvalidInput` error for every bad number from the flag functions (crate docs, "Bad input
// is an error, not an abort").
differs!(differs_on_purpose_flag_on_a_forbidden_signal_is_an_error {
    for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGILL, -1] {
        let outcome = fork_outcome(|| {
            let r = lib::flag::register(sig, Arc::new(AtomicBool::new(false)));
            note(format!("{}: {}", sig, res(&r.map(|_| ()))));
        });
        note(outcome);
    }
}, |signal_hook, sigmux| {
    assert_eq!(
        signal_hook,
        "exited(101)\nexited(101)\nexited(101)\n-1: Err(InvalidInput)\nexited(0)\nend: exited(0)"
    );
    assert_eq!(
        sigmux,
        "9: Err(InvalidInput)\nexited(0)\n19: Err(InvalidInput)\nexited(0)\n\
         4: Err(InvalidInput)\nexited(0)\n-1: Err(InvalidInput)\nexited(0)\nend: exited(0)"
    );
});
