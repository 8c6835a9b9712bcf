//! The `shutdown` example, run as a child process: the parent sends it signals and checks how
//! it ends (`waitpid` status through `ExitStatus`) and when, with generous time bounds.
//!
//! The example's code is compiled into this test (`#[path]` module) and run by re-executing
//! this test executable with `SIGMUX_SHUTDOWN_EXAMPLE_ARGS` set: the child is a fresh
//! process, single-purpose, under `cargo test` and `cargo nextest run` alike.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use libc::{c_int, SIGINT, SIGTERM};

/// Long enough for a loaded machine; the bounds below only need to separate "at once" from
/// "after the cleanup", which are seconds apart.
const PATIENCE: Duration = Duration::from_secs(20);

#[allow(dead_code)] // its `main` is not used here
#[path = "../examples/shutdown.rs"]
mod example;

const ARGS: &str = "SIGMUX_SHUTDOWN_EXAMPLE_ARGS";

/// The child's entry point: runs the example when re-executed with `ARGS` set; otherwise a
/// test that does nothing.
#[test]
fn example_in_child() {
    if let Ok(args) = std::env::var(ARGS) {
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        let _ = example::run(&args);
        // `run` ends the process itself; getting here is a failure.
        std::process::exit(99);
    }
}

/// The lines the example prints (the test harness of the child prints its own as well).
const OURS: &[&str] = &["ready", "cleanup started", "cleanup done"];

/// One of `OURS` if `line` is or ends with it (the child's harness may have started the line
/// with `test example_in_child ... `).
fn ours(line: &str) -> Option<String> {
    OURS.iter()
        .find(|want| line == **want || line.ends_with(&format!(" {}", want)))
        .map(|want| want.to_string())
}

struct Run {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Run {
    /// Starts the example and waits for `ready`.
    fn start(args: &[&str]) -> Run {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "example_in_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ARGS, args.join(" "))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut run = Run {
            child,
            lines,
            seen: Vec::new(),
        };
        run.expect("ready");
        run
    }

    /// Waits (absolute deadline) for the line `want`; panics if it does not come.
    fn expect(&mut self, want: &str) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let line = ours(&line);
                    let hit = line.as_deref() == Some(want);
                    self.seen.extend(line);
                    if hit {
                        return Instant::now();
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no line {:?}; saw {:?}", want, self.seen);
                }
            }
        }
    }

    fn signal(&self, sig: c_int) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
        let sent = unsafe { libc::kill(pid, sig) };
        assert_eq!(sent, 0);
    }

    /// Waits for the child to end (absolute deadline); returns its status and every line it
    /// printed.
    fn finish(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("the example did not end; saw {:?}", self.seen);
            }
            thread::sleep(Duration::from_millis(5));
        };
        // The reader thread ends at end of file.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.extend(ours(&line));
        }
        (status, self.seen)
    }
}

#[test]
fn term_runs_the_cleanup_then_dies_by_term() {
    let mut run = Run::start(&["--cleanup-ms", "300"]);
    let sent = Instant::now();
    run.signal(SIGTERM);
    run.expect("cleanup started");
    let (status, lines) = run.finish();
    let took = sent.elapsed();
    assert_eq!(
        status.signal(),
        Some(SIGTERM),
        "{:?}, lines {:?}",
        status,
        lines
    );
    assert_eq!(status.code(), None);
    assert_eq!(lines, ["ready", "cleanup started", "cleanup done"]);
    assert!(
        took >= Duration::from_millis(300),
        "cleanup cut short: {:?}",
        took
    );
}

#[test]
fn int_dies_by_int_after_the_cleanup() {
    let run = Run::start(&["--cleanup-ms", "100"]);
    run.signal(SIGINT);
    let (status, lines) = run.finish();
    assert_eq!(status.signal(), Some(SIGINT), "{:?}", status);
    assert_eq!(lines, ["ready", "cleanup started", "cleanup done"]);
}

#[test]
fn second_int_during_the_cleanup_dies_by_int_at_once() {
    // A cleanup far longer than the patience of the test: only the second signal ends it.
    let mut run = Run::start(&["--cleanup-ms", "60000"]);
    run.signal(SIGINT);
    run.expect("cleanup started");
    let second = Instant::now();
    run.signal(SIGINT);
    let (status, lines) = run.finish();
    assert_eq!(status.signal(), Some(SIGINT), "{:?}", status);
    assert!(!lines.iter().any(|l| l == "cleanup done"), "{:?}", lines);
    assert!(second.elapsed() < Duration::from_secs(10));
}

#[test]
fn second_signal_of_another_kind_dies_by_that_second_signal() {
    let mut run = Run::start(&["--cleanup-ms", "60000"]);
    run.signal(SIGTERM);
    run.expect("cleanup started");
    run.signal(SIGINT);
    let (status, _) = run.finish();
    assert_eq!(status.signal(), Some(SIGINT), "{:?}", status);
}

#[test]
fn deadline_kills_by_the_first_signal_near_the_deadline() {
    let mut run = Run::start(&["--cleanup-ms", "60000", "--deadline-ms", "500"]);
    let sent = Instant::now();
    run.signal(SIGTERM);
    run.expect("cleanup started");
    let (status, lines) = run.finish();
    let took = sent.elapsed();
    assert_eq!(status.signal(), Some(SIGTERM), "{:?}", status);
    assert!(!lines.iter().any(|l| l == "cleanup done"), "{:?}", lines);
    assert!(
        took >= Duration::from_millis(500),
        "before the deadline: {:?}",
        took
    );
    assert!(
        took < Duration::from_secs(10),
        "far after the deadline: {:?}",
        took
    );
}

#[test]
fn deadline_kills_by_int_when_int_came_first() {
    let run = Run::start(&["--cleanup-ms", "60000", "--deadline-ms", "200"]);
    run.signal(SIGINT);
    let (status, _) = run.finish();
    assert_eq!(status.signal(), Some(SIGINT), "{:?}", status);
}

#[test]
fn cleanup_within_the_deadline_is_not_cut_short() {
    let run = Run::start(&["--cleanup-ms", "300", "--deadline-ms", "5000"]);
    let sent = Instant::now();
    run.signal(SIGTERM);
    let (status, lines) = run.finish();
    let took = sent.elapsed();
    assert_eq!(status.signal(), Some(SIGTERM), "{:?}", status);
    assert_eq!(lines, ["ready", "cleanup started", "cleanup done"]);
    assert!(took >= Duration::from_millis(300));
    assert!(
        took < Duration::from_secs(5),
        "waited for the deadline: {:?}",
        took
    );
}
