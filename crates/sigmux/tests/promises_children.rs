//! Promises of `sigmux::child` not pinned by the scenarios in tests/children/: the `Child`
//! handed to `watch` is dropped once its exit is reported (closing the pipes not taken), and
//! on an error it is dropped without being killed or waited for; the helper thread of
//! `exit()` is named `sigmux-children` and stops when the set is dropped. Each runs on both
//! mechanisms, in a forked child (`in_child`: descriptors and threads are counted).
#![cfg(target_os = "linux")]

use std::future::Future;
use std::io;
use std::os::unix::io::AsRawFd;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use sigmux::child::{Children, Mechanism, Options};
use sigmux_testkit::{in_child, wait_until};

const MECHANISMS: [Mechanism; 2] = [Mechanism::Pidfd, Mechanism::Sigchld];

fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

#[test]
fn the_pipes_not_taken_are_closed_once_the_exit_is_reported() {
    for mechanism in MECHANISMS {
        in_child(20, move || {
            let c = Children::with_options(Options::new().mechanism(mechanism)).unwrap();
            // Exits once its stdin reaches end of file: only the `Child` keeps it open.
            let child = Command::new("sh")
                .args(["-c", "read _; exit 3"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let stdin = child.stdin.as_ref().unwrap().as_raw_fd();
            let stdout = child.stdout.as_ref().unwrap().as_raw_fd();
            let pid = c.watch(child).unwrap();
            assert!(is_open(stdin) && is_open(stdout), "kept while watched");
            // Nothing reported yet: the child waits for its stdin, which the set holds.
            assert!(c.wait_timeout(Duration::from_millis(50)).unwrap().is_none());
            // SAFETY: our own watched child, not reaped yet.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
            let exit = c.wait().unwrap().unwrap();
            assert_eq!(exit.pid(), pid);
            assert!(
                !is_open(stdin) && !is_open(stdout),
                "closed after the report"
            );
            0
        })
        .assert_success();
    }
}

#[test]
fn a_child_whose_watch_fails_is_neither_killed_nor_waited_for() {
    for mechanism in MECHANISMS {
        in_child(20, move || {
            let c = Children::with_options(Options::new().mechanism(mechanism)).unwrap();
            // Exits once `gate` is closed, so it cannot end (and be reaped by the `Child`'s
            // own look in `watch`) before the error.
            let (gate_read, gate) = std::os::unix::net::UnixStream::pair().unwrap();
            let child = Command::new("sh")
                .args(["-c", "read _; exit 5"])
                .stdin(Stdio::from(std::os::unix::io::OwnedFd::from(gate_read)))
                .spawn()
                .unwrap();
            let pid = child.id();
            c.watch_pid(pid).unwrap();
            // Watched already: the error drops the `Child`…
            assert_eq!(
                c.watch(child).unwrap_err().kind(),
                io::ErrorKind::AlreadyExists
            );
            drop(gate);
            // …which neither killed it (it exits with its own status) nor reaped it (the set,
            // watching the pid, still collects that status).
            let status = c
                .wait_pid(pid, Some(Duration::from_secs(10)))
                .unwrap()
                .unwrap();
            assert_eq!(status.code(), Some(5));
            0
        })
        .assert_success();
    }
}

/// Threads of this process named `name`.
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .map(|comm| comm.trim_end() == name)
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn the_future_helper_thread_is_named_and_stops_when_the_set_is_dropped() {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    for mechanism in MECHANISMS {
        in_child(20, move || {
            let c = Children::with_options(Options::new().mechanism(mechanism)).unwrap();
            // Ends when its stdin closes, i.e. when the set drops its `Child`.
            c.watch(
                Command::new("sh")
                    .args(["-c", "read _"])
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(threads_named("sigmux-children"), 0);
            {
                let mut future = Box::pin(c.exit());
                let waker = Waker::from(Arc::new(Noop));
                assert!(future
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending());
            }
            assert!(wait_until(Duration::from_secs(10), || threads_named(
                "sigmux-children"
            ) == 1));
            drop(c);
            assert_eq!(threads_named("sigmux-children"), 0, "joined by the drop");
            0
        })
        .assert_success();
    }
}

#[test]
fn a_watched_child_reaped_by_somebody_else_leaves_the_set_unreported() {
    for mechanism in MECHANISMS {
        in_child(20, move || {
            let c = Children::with_options(Options::new().mechanism(mechanism)).unwrap();
            let mut child = Command::new("sh").args(["-c", "exit 6"]).spawn().unwrap();
            let pid = child.id();
            c.watch_pid(pid).unwrap();
            // Breaking the rule: std reaps the watched child itself.
            assert_eq!(child.wait().unwrap().code(), Some(6));
            // The set's next look finds it gone: no exit, no hang, nothing left.
            assert!(c.wait().unwrap().is_none());
            assert!(c.is_empty());
            0
        })
        .assert_success();
    }
}

fn is_subreaper() -> bool {
    let mut on: libc::c_int = 0;
    // SAFETY: PR_GET_CHILD_SUBREAPER writes one int through the valid pointer.
    let r = unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut on as *mut libc::c_int) };
    assert_eq!(r, 0);
    on != 0
}

#[test]
fn orphan_reaping_makes_the_process_a_subreaper_for_good() {
    for mechanism in MECHANISMS {
        in_child(20, move || {
            assert!(!is_subreaper());
            let c = Children::with_options(Options::new().mechanism(mechanism).reap_orphans(true))
                .unwrap();
            assert!(is_subreaper());
            drop(c);
            assert!(is_subreaper(), "stays on after the set is dropped");
            0
        })
        .assert_success();
    }
}

fn descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn pidfd_costs_one_descriptor_per_watched_child() {
    in_child(20, || {
        let c = Children::with_options(Options::new().mechanism(Mechanism::Pidfd)).unwrap();
        let (gate_read, gate) = std::os::unix::net::UnixStream::pair().unwrap();
        let gate_read = std::os::unix::io::OwnedFd::from(gate_read);
        let base = descriptors();
        for _ in 0..3 {
            c.watch(
                Command::new("sh")
                    .args(["-c", "read _"])
                    .stdin(Stdio::from(gate_read.try_clone().unwrap()))
                    .spawn()
                    .unwrap(),
            )
            .unwrap();
        }
        assert_eq!(descriptors(), base + 3);
        drop((gate, gate_read));
        for _ in 0..3 {
            c.wait().unwrap().unwrap();
        }
        assert_eq!(
            descriptors(),
            base - 2,
            "the pidfds are closed (and both ends of the gate)"
        );
        0
    })
    .assert_success();
}
