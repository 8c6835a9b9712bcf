//! Bad input, the portable part: the functions that exist on every platform — Windows
//! included, where this runs under wine in CI — each case in its own process.
//!
//! There is no `fork` on Windows, so each case re-executes this test binary, running only
//! `child_runs_one_case` with the case named in an environment variable; the child prints one
//! result line. The values are the platform's: -1, 0, the `FORBIDDEN` signals, numbers that are
//! not signals here (on Windows: those the C runtime does not know), the maximum + 1, 1000 and
//! `i32::MAX`. The rules are the ones of `bad_input.rs` (Unix-only, fork-based, which covers
//! every function of every crate there).

use std::io;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libc::c_int;
use sigmux_registry::Options;

mod common;
use common::{verdict, Class, Rule, Seen};

const CASE_VAR: &str = "SIGMUX_BAD_INPUT_CASE";

/// The largest signal number of the platform.
#[cfg(target_os = "linux")]
fn max_signal() -> c_int {
    libc::SIGRTMAX()
}
#[cfg(windows)]
fn max_signal() -> c_int {
    22 // SIGABRT
}
#[cfg(not(any(target_os = "linux", windows)))]
fn max_signal() -> c_int {
    31
}

fn values() -> Vec<(String, c_int, Class)> {
    let mut v = vec![
        ("-1".to_string(), -1, Class::Invalid),
        ("0".into(), 0, Class::Invalid),
    ];
    for &sig in sigmux_registry::FORBIDDEN {
        let name = sigmux::low_level::signal_name(sig).unwrap_or("?");
        v.push((format!("{} ({})", name, sig), sig, Class::Forbidden));
    }
    #[cfg(target_os = "linux")]
    for sig in 32..libc::SIGRTMIN() {
        v.push((sig.to_string(), sig, Class::Reserved));
    }
    // Numbers below the maximum that the C runtime does not know (SIGHUP's, SIGKILL's, …).
    #[cfg(windows)]
    for sig in [1, 3, 9, 13] {
        v.push((sig.to_string(), sig, Class::Reserved));
    }
    let max = max_signal();
    v.push((format!("max+1 ({})", max + 1), max + 1, Class::Invalid));
    v.push(("1000".into(), 1000, Class::Invalid));
    v.push(("i32::MAX".into(), i32::MAX, Class::Invalid));
    v
}

type Call = fn(c_int) -> io::Result<String>;

fn ok<T>(r: io::Result<T>) -> io::Result<String> {
    r.map(|_| "Ok".to_string())
}

fn empty() {}

fn register(s: c_int) -> io::Result<String> {
    // SAFETY: the action is empty: async-signal-safe.
    ok(unsafe { sigmux_registry::register(s, empty) })
}

fn register_signal_unchecked(s: c_int) -> io::Result<String> {
    // SAFETY: the action is empty: async-signal-safe.
    ok(unsafe { sigmux_registry::register_signal_unchecked(s, empty) })
}

fn try_register(s: c_int) -> io::Result<String> {
    // SAFETY: the action is empty: async-signal-safe.
    ok(unsafe { sigmux_registry::try_register(s, Options::new(), empty) })
}

fn low_level_register(s: c_int) -> io::Result<String> {
    // SAFETY: the action is empty: async-signal-safe.
    ok(unsafe { sigmux::low_level::register(s, empty) })
}

#[allow(deprecated)]
fn unregister_signal(s: c_int) -> io::Result<String> {
    Ok(sigmux_registry::unregister_signal(s).to_string())
}

fn funcs() -> Vec<(&'static str, Rule, Call)> {
    vec![
        ("sigmux_registry::register", Rule::CompatPanics, register),
        (
            "sigmux_registry::register_signal_unchecked",
            Rule::Unchecked,
            register_signal_unchecked,
        ),
        ("sigmux_registry::try_register", Rule::Checked, try_register),
        (
            "sigmux_registry::unregister_signal",
            Rule::Remove,
            unregister_signal,
        ),
        ("sigmux_registry::disposition", Rule::Query, |s| {
            sigmux_registry::disposition(s).map(|d| format!("{:?}", d))
        }),
        ("sigmux_registry::ignore", Rule::Dispose, |s| {
            ok(sigmux_registry::ignore(s))
        }),
        ("sigmux_registry::set_default_action", Rule::Dispose, |s| {
            ok(sigmux_registry::set_default_action(s))
        }),
        ("sigmux_registry::ignored_at_start", Rule::Query, |s| {
            sigmux_registry::ignored_at_start(s).map(|b| b.to_string())
        }),
        ("sigmux::flag::register", Rule::Checked, |s| {
            ok(sigmux::flag::register(s, Arc::new(AtomicBool::new(false))))
        }),
        ("sigmux::flag::register_usize", Rule::Checked, |s| {
            ok(sigmux::flag::register_usize(
                s,
                Arc::new(AtomicUsize::new(0)),
                1,
            ))
        }),
        (
            "sigmux::flag::register_conditional_shutdown",
            Rule::Checked,
            |s| {
                ok(sigmux::flag::register_conditional_shutdown(
                    s,
                    1,
                    Arc::new(AtomicBool::new(false)),
                ))
            },
        ),
        (
            "sigmux::flag::register_conditional_default",
            Rule::Checked,
            |s| {
                ok(sigmux::flag::register_conditional_default(
                    s,
                    Arc::new(AtomicBool::new(false)),
                ))
            },
        ),
        (
            "sigmux::low_level::register",
            Rule::CompatPanics,
            low_level_register,
        ),
        ("sigmux::low_level::raise", Rule::Sends, |s| {
            ok(sigmux::low_level::raise(s))
        }),
        (
            "sigmux::low_level::emulate_default_handler",
            Rule::Sends,
            |s| ok(sigmux::low_level::emulate_default_handler(s)),
        ),
        ("sigmux::low_level::signal_name", Rule::Name, |s| {
            Ok(format!("{:?}", sigmux::low_level::signal_name(s)))
        }),
    ]
}

/// The signal the "process goes on" check raises.
#[cfg(unix)]
const CHECK_SIGNAL: c_int = libc::SIGUSR2;
#[cfg(not(unix))]
const CHECK_SIGNAL: c_int = libc::SIGTERM;

fn goes_on() -> bool {
    let flag = Arc::new(AtomicBool::new(false));
    match sigmux::flag::register(CHECK_SIGNAL, Arc::clone(&flag)) {
        Ok(id) => {
            let raised = sigmux::low_level::raise(CHECK_SIGNAL).is_ok();
            raised && flag.load(Ordering::SeqCst) && sigmux::low_level::unregister(id)
        }
        Err(_) => false,
    }
}

/// The child side: runs the case named in `CASE_VAR` (does nothing when it is not set).
#[test]
fn child_runs_one_case() {
    let case = match std::env::var(CASE_VAR) {
        Ok(case) => case,
        Err(_) => return,
    };
    let (index, value) = case.split_once(':').expect("index:value");
    let (_, _, call) = funcs()[index.parse::<usize>().unwrap()];
    let value: c_int = value.parse().unwrap();
    std::panic::set_hook(Box::new(|_| {}));
    let (kind, detail) = match std::panic::catch_unwind(move || call(value)) {
        Ok(Ok(what)) => ("ok".to_string(), what),
        Ok(Err(e)) => (format!("err:{:?}", e.kind()), e.to_string()),
        Err(payload) => (
            "panic".to_string(),
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        ),
    };
    let _ = std::panic::take_hook();
    println!(
        "\nCASE\t{}\t{}\t{}",
        kind,
        detail.replace(['\t', '\n'], " "),
        goes_on()
    );
}

/// Runs one case in a fresh process, with an absolute deadline.
fn run_case(index: usize, value: c_int) -> Seen {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_runs_one_case",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CASE_VAR, format!("{}:{}", index, value))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("re-execute the test binary");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut out = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let report = out.lines().find_map(|l| l.strip_prefix("CASE\t")).map(|l| {
        let mut p = l.splitn(3, '\t');
        Seen::Reported {
            kind: p.next().unwrap_or("").to_string(),
            detail: p.next().unwrap_or("").to_string(),
            goes_on: p.next() == Some("true"),
        }
    });
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Seen::Killed(sig);
        }
        if let Some(sig) = status.stopped_signal() {
            return Seen::Stopped(sig);
        }
    }
    match (report, status.code()) {
        (Some(report), Some(0)) => report,
        (_, code) => Seen::Exited(code.unwrap_or(-1)),
    }
}

#[test]
fn bad_input_portable_functions() {
    if std::env::var(CASE_VAR).is_ok() {
        return; // a child: only `child_runs_one_case` runs there
    }
    let values = values();
    let mut failures = Vec::new();
    let mut table = format!("| function ({}) |", std::env::consts::OS);
    for (name, _, _) in &values {
        table.push_str(&format!(" {} |", name));
    }
    table.push_str(&format!("\n|---|{}\n", "---|".repeat(values.len())));
    for (index, (name, rule, _)) in funcs().into_iter().enumerate() {
        table.push_str(&format!("| `{}` |", name));
        for &(ref vname, value, class) in &values {
            #[cfg(unix)]
            if rule == Rule::Sends && (value == libc::SIGSTOP) {
                // Stopping the child would leave it stopped: the fork-based test covers it.
                table.push_str(" (see bad_input.rs) |");
                continue;
            }
            let seen = run_case(index, value);
            let v = verdict(rule, value, class, &seen);
            table.push_str(&format!(" {} |", v.mark));
            if !v.good {
                failures.push(format!("{}({}): {} — {}", name, vname, v.mark, v.detail));
            }
        }
        table.push('\n');
    }
    println!("{}", table);
    assert!(
        failures.is_empty(),
        "bad-input failures:\n{}",
        failures.join("\n")
    );
}
