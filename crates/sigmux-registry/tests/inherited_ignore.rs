//! A signal ignored when the process started (as under `nohup`) is recognised, and the
//! `keep_ignored` option keeps it ignored until a registration explicitly overrides it.
//!
//! The test re-executes its own binary with `SIGHUP` set to `SIG_IGN` across `exec`, and the
//! inner run checks what the library saw at start.
#![cfg(unix)]

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use sigmux_registry::{disposition, ignored_at_start, try_register, Disposition, Options};

const INNER: &str = "SIGMUX_TEST_INHERITED_IGNORE_INNER";

#[test]
fn inherited_ignore_is_seen_and_kept_on_request() {
    if std::env::var_os(INNER).is_some() {
        inner();
        return;
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "inherited_ignore_is_seen_and_kept_on_request",
        "--test-threads=1",
    ])
    .env(INNER, "1");
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            libc::signal(libc::SIGUSR2, libc::SIG_DFL);
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

fn inner() {
    static HITS: AtomicUsize = AtomicUsize::new(0);
    let count = || {
        HITS.fetch_add(1, Ordering::SeqCst);
    };
    // The record is taken before `main`: changing the disposition behind sigmux's back before
    // the first query does not change the answer.
    // SAFETY: plain disposition changes of a signal nobody handles here.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_DFL) };
    assert!(ignored_at_start(libc::SIGHUP).unwrap());
    assert!(!ignored_at_start(libc::SIGUSR2).unwrap());
    // SAFETY: as above: back to the inherited state for the rest of the scenario.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
    assert_eq!(
        ignored_at_start(1000).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );

    // Kept ignored: the action is registered but the handler is not installed.
    // SAFETY: atomics only.
    unsafe { try_register(libc::SIGHUP, Options::new().keep_ignored(true), count) }.unwrap();
    assert_eq!(disposition(libc::SIGHUP).unwrap(), Disposition::Ignore);
    // SAFETY: raising an ignored signal.
    unsafe { libc::raise(libc::SIGHUP) };
    assert_eq!(HITS.load(Ordering::SeqCst), 0);

    // Not asking either way accepts the kept ignore.
    // SAFETY: atomics only.
    unsafe { try_register(libc::SIGHUP, Options::new(), count) }.unwrap();
    assert_eq!(disposition(libc::SIGHUP).unwrap(), Disposition::Ignore);

    // An explicit override installs the handler: every registered action now runs.
    // SAFETY: atomics only.
    unsafe { try_register(libc::SIGHUP, Options::new().keep_ignored(false), count) }.unwrap();
    assert!(matches!(
        disposition(libc::SIGHUP).unwrap(),
        Disposition::Sigmux { actions: 3, .. }
    ));
    // SAFETY: raising a handled signal.
    unsafe { libc::raise(libc::SIGHUP) };
    assert_eq!(HITS.load(Ordering::SeqCst), 3);

    // A signal that was not ignored at start is installed even when keeping is asked for.
    // SAFETY: atomics only.
    unsafe { try_register(libc::SIGUSR2, Options::new().keep_ignored(true), count) }.unwrap();
    assert!(matches!(
        disposition(libc::SIGUSR2).unwrap(),
        Disposition::Sigmux { .. }
    ));
}
