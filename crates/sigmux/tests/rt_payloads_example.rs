//! The `rt_payloads` example, run as a child process and driven by its own `--send-to` mode:
//! it prints every payload, in order, and the sender as claimed.
//!
//! The example's code is compiled into this test (`#[path]` module) and run by re-executing
//! this test executable with `SIGMUX_RT_PAYLOADS_ARGS` set.
#![cfg(all(
    any(target_os = "linux", target_os = "android"),
    feature = "extended-siginfo"
))]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[allow(dead_code)] // its `main` is not used here
#[path = "../examples/rt_payloads.rs"]
mod example;

const ARGS: &str = "SIGMUX_RT_PAYLOADS_ARGS";

/// The child's entry point when re-executed with `ARGS` set; otherwise does nothing.
#[test]
fn example_in_child() {
    if let Ok(args) = std::env::var(ARGS) {
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        let code = match example::imp::run(&args) {
            Ok(()) => 0,
            Err(_) => 1,
        };
        std::process::exit(code);
    }
}

#[test]
fn prints_every_payload_in_order() {
    let n = 2000;
    // `--test-threads=1`: libtest then runs the test on its main thread, so the child has one
    // thread and the handler never runs twice at once (the example's order promise).
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "example_in_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ARGS, format!("--count {}", n))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The first line names the receiver's pid.
    let pid: libc::pid_t = loop {
        let line = lines.next().expect("the example printed nothing").unwrap();
        // (libtest prints "test example_in_child ... " before it on the same line.)
        if let Some((_, rest)) = line.split_once("rt_payloads: pid ") {
            break rest.split(',').next().unwrap().parse().unwrap();
        }
    };
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
    assert!(child.wait().unwrap().success());
    assert_eq!(next, n);
    assert_eq!(
        done.as_deref(),
        Some(&*format!(
            "done: {} received, 0 lost, handler ran {} times",
            n, n
        ))
    );
}
