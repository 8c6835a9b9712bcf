//! Promises of `low_level` on Windows: `die_by_signal` and `emulate_default_handler` of
//! `SIGINT`/`SIGTERM` end the process as the C runtime's default action does (exit status 3),
//! even with a handler registered; the errors of `raise` and `emulate_default_handler` are a
//! bare `InvalidInput` (no message). The process-ending scenarios run in a re-executed child.
#![cfg(windows)]

use std::io::ErrorKind;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sigmux::consts::{SIGINT, SIGTERM};
use sigmux::low_level;

const CHILD: &str = "SIGMUX_PROMISES_WIN_CHILD";

/// The child's entry point; does nothing unless re-executed with `CHILD` set.
#[test]
fn child_entry() {
    let Ok(scenario) = std::env::var(CHILD) else {
        return;
    };
    // A handler is registered in every scenario: the default action must still happen.
    for sig in [SIGINT, SIGTERM] {
        sigmux::flag::register(sig, Arc::new(AtomicBool::new(false))).unwrap();
    }
    match scenario.as_str() {
        "die-term" => low_level::die_by_signal(SIGTERM),
        "die-int" => low_level::die_by_signal(SIGINT),
        "emulate-term" => {
            let _ = low_level::emulate_default_handler(SIGTERM);
        }
        "emulate-int" => {
            let _ = low_level::emulate_default_handler(SIGINT);
        }
        other => panic!("unknown scenario {}", other),
    }
    // Not reached.
    std::process::exit(99);
}

fn run(scenario: &str) -> Option<i32> {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD, scenario)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .code()
}

#[test]
fn die_by_signal_exits_with_status_3_like_the_default_action() {
    assert_eq!(run("die-term"), Some(3));
    assert_eq!(run("die-int"), Some(3));
}

#[test]
fn emulate_default_handler_exits_with_status_3_like_the_default_action() {
    assert_eq!(run("emulate-term"), Some(3));
    assert_eq!(run("emulate-int"), Some(3));
}

#[test]
fn errors_are_a_bare_invalid_input() {
    for sig in [-1, 1000, i32::MAX] {
        let err = low_level::raise(sig).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", sig);
        assert!(err.get_ref().is_none(), "{}: {:?}", sig, err);
        let err = low_level::emulate_default_handler(sig).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", sig);
        assert!(err.get_ref().is_none(), "{}: {:?}", sig, err);
    }
}

#[test]
fn term_signals_are_term_and_int() {
    assert_eq!(sigmux::consts::TERM_SIGNALS, &[SIGTERM, SIGINT]);
}

// `SIGABRT_COMPAT` is left out: wine's C runtime refuses 6 (real Windows accepts it).
#[test]
fn sigbreak_can_be_handled() {
    use std::sync::atomic::Ordering;
    let brk = Arc::new(AtomicBool::new(false));
    let id = sigmux::flag::register(sigmux::consts::SIGBREAK, Arc::clone(&brk)).unwrap();
    low_level::raise(sigmux::consts::SIGBREAK).unwrap();
    assert!(brk.load(Ordering::SeqCst));
    assert!(low_level::unregister(id));
}
