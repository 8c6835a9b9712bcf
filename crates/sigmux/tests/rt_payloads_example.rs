//! The `rt_payloads` example, run as a child process and driven by its own `--send-to` mode:
//! it prints every payload, in order, and the sender as claimed.
//!
//! The example's code is compiled into this test (`#[path]` module) and run in a forked,
//! single-threaded child whose stdout is a pipe (one thread: the handler never runs twice at
//! once, which the example's order promise needs).
//!
//! Not under ThreadSanitizer (`--cfg sigmux_tsan`, set by `ci/sanitizers.sh`): it keeps one
//! deferred instance per signal number, so queued real-time signals are lost under it by
//! design, which is what these tests count.
#![cfg(all(
    any(target_os = "linux", target_os = "android"),
    feature = "extended-siginfo",
    not(sigmux_tsan)
))]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::io::FromRawFd;

#[allow(dead_code)] // its `main` is not used here
#[path = "../examples/rt_payloads.rs"]
mod example;

#[test]
fn prints_every_payload_in_order() {
    let n = 2000;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // Hold the standard streams' locks across the fork so the child never inherits them held.
    let (out, err) = (std::io::stdout().lock(), std::io::stderr().lock());
    // SAFETY: the child only runs the example (glibc's allocator is fork-safe) and leaves with
    // `_exit`; it has one thread.
    let child = unsafe { libc::fork() };
    drop((out, err));
    assert!(child >= 0);
    if child == 0 {
        // SAFETY: plain descriptor operations on descriptors this process owns.
        unsafe {
            libc::alarm(30);
            libc::dup2(fds[1], 1);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        let args = vec!["--count".to_string(), n.to_string()];
        let code = match example::imp::run(&args) {
            Ok(()) => 0,
            Err(_) => 1,
        };
        // SAFETY: leaving the forked child.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: the write end belongs to this process; the read end is handed to `File` once.
    let read = unsafe {
        libc::close(fds[1]);
        File::from_raw_fd(fds[0])
    };
    let mut lines = BufReader::new(read).lines();
    // The first line names the receiver's pid.
    let pid: libc::pid_t = loop {
        let line = lines.next().expect("the example printed nothing").unwrap();
        if let Some(rest) = line.strip_prefix("rt_payloads: pid ") {
            break rest.split(',').next().unwrap().parse().unwrap();
        }
    };
    assert_eq!(pid, child);
    // Drive it with its own sender mode, from this (another) process.
    example::imp::send(pid, n).unwrap();
    let me = std::process::id();
    let mut next = 0;
    let mut done = None;
    for line in lines {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("payload ") {
            assert_eq!(
                rest,
                format!("{} from pid {} (claimed, unverified)", next, me),
                "payload line"
            );
            next += 1;
        } else if line.starts_with("done:") {
            done = Some(line);
        }
    }
    sigmux_testkit::wait_for(child).assert_success();
    assert_eq!(next, n);
    assert_eq!(
        done.as_deref(),
        Some(&*format!(
            "done: {} received, 0 lost, handler ran {} times",
            n, n
        ))
    );
}
