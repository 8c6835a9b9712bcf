//! `Shutdown` in processes of their own: installation at creation, blocking waits, the exit
//! status without a signal, restoring on drop, `nohup`, fork, bad input. Scenarios that end
//! the process or change dispositions run in a forked child (`in_child`, with a watchdog);
//! those that need a disposition inherited at `exec` re-execute this test binary.
#![cfg(unix)]

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use libc::{SIGHUP, SIGINT, SIGTERM};
use sigmux::shutdown::{Cause, Shutdown};
use sigmux_registry::{disposition, Disposition};
use sigmux_testkit::{in_child, Outcome};

fn kill_self_later(sig: libc::c_int, after: Duration) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        thread::sleep(after);
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(libc::getpid(), sig) };
    })
}

#[test]
fn handlers_are_installed_at_creation_not_at_first_wait() {
    in_child(20, || {
        assert_eq!(disposition(SIGTERM).unwrap(), Disposition::Default);
        let shutdown = Shutdown::new().unwrap();
        assert!(matches!(
            disposition(SIGTERM).unwrap(),
            Disposition::Sigmux { .. }
        ));
        assert!(matches!(
            disposition(SIGINT).unwrap(),
            Disposition::Sigmux { .. }
        ));
        // A signal before anyone looks is not lost (and does not kill).
        sigmux::low_level::raise(SIGTERM).unwrap();
        assert!(shutdown.is_requested());
        assert_eq!(shutdown.cause(), Some(Cause::Signal(SIGTERM)));
        assert_eq!(shutdown.wait(), Cause::Signal(SIGTERM));
        0
    })
    .assert_success();
}

#[test]
fn wait_blocks_until_a_signal_from_another_thread() {
    in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        assert_eq!(shutdown.wait_timeout(Duration::from_millis(100)), None);
        let sender = kill_self_later(SIGINT, Duration::from_millis(50));
        assert_eq!(shutdown.wait(), Cause::Signal(SIGINT));
        sender.join().unwrap();
        // Stays requested; every later wait returns at once.
        assert_eq!(
            shutdown.wait_timeout(Duration::from_secs(5)),
            Some(Cause::Signal(SIGINT))
        );
        0
    })
    .assert_success();
}

#[test]
fn wait_timeout_wakes_for_a_signal_long_before_the_timeout() {
    in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        let start = Instant::now();
        let sender = kill_self_later(SIGTERM, Duration::from_millis(50));
        assert_eq!(
            shutdown.wait_timeout(Duration::from_secs(10)),
            Some(Cause::Signal(SIGTERM))
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        sender.join().unwrap();
        0
    })
    .assert_success();
}

#[test]
fn many_blocked_threads_all_wake() {
    in_child(20, || {
        let shutdown = std::sync::Arc::new(Shutdown::new().unwrap());
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let shutdown = std::sync::Arc::clone(&shutdown);
                thread::spawn(move || shutdown.wait_timeout(Duration::from_secs(10)))
            })
            .collect();
        kill_self_later(SIGTERM, Duration::from_millis(50))
            .join()
            .unwrap();
        for waiter in waiters {
            assert_eq!(waiter.join().unwrap(), Some(Cause::Signal(SIGTERM)));
        }
        0
    })
    .assert_success();
}

#[test]
fn finish_after_a_signal_dies_by_it() {
    let outcome = in_child(20, || {
        let shutdown = Shutdown::builder().signal(SIGHUP).install().unwrap();
        sigmux::low_level::raise(SIGHUP).unwrap();
        shutdown.finish(0)
    });
    assert_eq!(outcome, Outcome::Signaled(SIGHUP));
}

#[test]
fn finish_without_a_signal_exits_with_the_status() {
    let outcome = in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        shutdown.finish(4)
    });
    assert_eq!(outcome, Outcome::Exited(4));
}

#[test]
fn finish_after_a_program_request_exits_with_the_status() {
    let outcome = in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        assert!(shutdown.request());
        assert!(!shutdown.request());
        assert_eq!(shutdown.wait(), Cause::Program);
        shutdown.finish(3)
    });
    assert_eq!(outcome, Outcome::Exited(3));
}

#[test]
fn a_signal_after_a_program_request_terminates_at_once() {
    let outcome = in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        shutdown.request();
        sigmux::low_level::raise(SIGTERM).unwrap();
        drop(shutdown);
        0
    });
    assert_eq!(outcome, Outcome::Signaled(SIGTERM));
}

#[test]
fn dropped_shutdown_gives_the_default_action_back() {
    let outcome = in_child(20, || {
        let shutdown = Shutdown::new().unwrap();
        drop(shutdown);
        assert_eq!(disposition(SIGTERM).unwrap(), Disposition::Default);
        assert_eq!(disposition(SIGINT).unwrap(), Disposition::Default);
        sigmux::low_level::raise(SIGTERM).unwrap();
        0 // not reached: SIGTERM terminates again
    });
    assert_eq!(outcome, Outcome::Signaled(SIGTERM));
}

#[test]
fn dropped_shutdown_puts_back_an_ignore_it_replaced() {
    in_child(20, || {
        sigmux_registry::ignore(SIGTERM).unwrap();
        drop(Shutdown::new().unwrap());
        assert_eq!(disposition(SIGTERM).unwrap(), Disposition::Ignore);
        0
    })
    .assert_success();
}

#[test]
fn joins_a_signal_sigmux_already_handles() {
    in_child(20, || {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        sigmux::flag::register(SIGTERM, std::sync::Arc::clone(&flag)).unwrap();
        let shutdown = Shutdown::new().unwrap();
        sigmux::low_level::raise(SIGTERM).unwrap();
        assert_eq!(shutdown.cause(), Some(Cause::Signal(SIGTERM)));
        assert!(flag.load(std::sync::atomic::Ordering::SeqCst));
        drop(shutdown);
        // The flag's registration keeps SIGTERM caught.
        flag.store(false, std::sync::atomic::Ordering::SeqCst);
        sigmux::low_level::raise(SIGTERM).unwrap();
        assert!(flag.load(std::sync::atomic::Ordering::SeqCst));
        0
    })
    .assert_success();
}

#[test]
fn dropping_after_a_request_disarms_the_deadline() {
    in_child(20, || {
        let shutdown = Shutdown::builder()
            .deadline(Duration::from_millis(200))
            .install()
            .unwrap();
        sigmux::low_level::raise(SIGTERM).unwrap();
        assert!(shutdown.is_requested());
        drop(shutdown); // default action back: a deadline firing now would kill us
        let until = Instant::now() + Duration::from_millis(800);
        while Instant::now() < until {
            thread::sleep(Duration::from_millis(20));
        }
        0
    })
    .assert_success();
}

#[test]
fn a_signal_in_a_forked_child_does_not_request_the_parents_shutdown() {
    in_child(30, || {
        let shutdown = Shutdown::new().unwrap();
        // SAFETY: the child only raises a signal and `_exit`s.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // The child's request writes to the pipe it shares with us, then it ends.
            let _ = sigmux::low_level::raise(SIGTERM);
            sigmux::low_level::exit(0);
        }
        assert_eq!(sigmux_testkit::wait_for(pid), Outcome::Exited(0));
        assert_eq!(shutdown.wait_timeout(Duration::from_millis(300)), None);
        assert!(!shutdown.is_requested());
        // And it still works for us.
        kill_self_later(SIGINT, Duration::from_millis(20))
            .join()
            .unwrap();
        assert_eq!(
            shutdown.wait_timeout(Duration::from_secs(10)),
            Some(Cause::Signal(SIGINT))
        );
        0
    })
    .assert_success();
}

#[test]
fn signals_that_do_not_terminate_by_default_are_refused() {
    for sig in [
        libc::SIGCHLD,
        libc::SIGTSTP,
        libc::SIGWINCH,
        libc::SIGKILL,
        0,
        1000,
    ] {
        let err = Shutdown::builder().signal(sig).install().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{}", sig);
        assert!(err.to_string().contains(&sig.to_string()), "{}", err);
    }
}

// ---------------------------------------------------------------------------------------------
// nohup: SIGHUP ignored when the process starts. The disposition must be inherited through
// exec, so these re-execute this test binary with SIGHUP ignored.

const SCENARIO: &str = "SIGMUX_SHUTDOWN_SCENARIO";

/// The child's entry point; does nothing unless re-executed with `SCENARIO` set.
#[test]
fn scenario_in_child() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    if scenario == "flush" {
        let shutdown = Shutdown::new().unwrap();
        sigmux::low_level::raise(SIGTERM).unwrap();
        print!("still in the buffer");
        shutdown.finish(0)
    }
    let take = scenario == "take";
    let shutdown = Shutdown::builder()
        .signal(SIGHUP)
        .take_ignored(take)
        .install()
        .unwrap();
    if take {
        assert!(matches!(
            disposition(SIGHUP).unwrap(),
            Disposition::Sigmux { .. }
        ));
    } else {
        assert_eq!(disposition(SIGHUP).unwrap(), Disposition::Ignore);
    }
    sigmux::low_level::raise(SIGHUP).unwrap();
    assert_eq!(shutdown.is_requested(), take);
    shutdown.finish(7)
}

#[test]
fn finish_flushes_stdout_before_dying() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "scenario_in_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SCENARIO, "flush")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(SIGTERM), "{:?}", out.status);
    assert!(String::from_utf8_lossy(&out.stdout).contains("still in the buffer"));
}

fn run_under_nohup(scenario: &str) -> std::process::ExitStatus {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "scenario_in_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SCENARIO, scenario)
        .stdout(Stdio::null());
    // SAFETY: only `signal`, async-signal-safe, runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::signal(SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("child hung");
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn under_nohup_hup_stays_ignored() {
    let status = run_under_nohup("keep");
    assert_eq!(status.code(), Some(7), "{:?}", status);
}

#[test]
fn under_nohup_hup_is_taken_over_when_asked() {
    let status = run_under_nohup("take");
    assert_eq!(status.signal(), Some(SIGHUP), "{:?}", status);
}

// ---------------------------------------------------------------------------------------------
// low_level::die_by_signal, which `finish` and the second signal use.

fn no_core_files() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `none` is valid for reads.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
}

#[test]
fn die_by_signal_kills_by_a_handled_and_blocked_signal() {
    let outcome = in_child(20, || {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        sigmux::flag::register(SIGTERM, flag).unwrap();
        // Blocked in this thread, as inside its own handler.
        // SAFETY: plain sigset manipulation on a local.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        sigmux::low_level::die_by_signal(SIGTERM)
    });
    assert_eq!(outcome, Outcome::Signaled(SIGTERM));
}

#[test]
fn die_by_signal_of_a_core_dumping_signal_dies_by_it() {
    let outcome = in_child(20, || {
        no_core_files();
        sigmux::low_level::die_by_signal(libc::SIGQUIT)
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGQUIT));
}

#[test]
fn die_by_signal_of_a_signal_that_does_not_kill_exits_with_128_plus_it() {
    let outcome = in_child(20, || sigmux::low_level::die_by_signal(libc::SIGCHLD));
    assert_eq!(outcome, Outcome::Exited(128 + libc::SIGCHLD));
}

// ---------------------------------------------------------------------------------------------
// What it costs in threads (Linux: counted in /proc/self/task).

#[cfg(all(target_os = "linux", not(sigmux_shutdown_deadline_thread)))]
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

// (Not with the deadline thread of systems without POSIX timers, which this counts as extra.)
#[cfg(all(target_os = "linux", not(sigmux_shutdown_deadline_thread)))]
#[test]
fn no_thread_until_a_future_waits_and_none_after_the_request() {
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    in_child(20, || {
        let base = threads();
        let shutdown = Shutdown::builder()
            .deadline(Duration::from_secs(3600))
            .install()
            .unwrap();
        assert_eq!(threads(), base, "a thread for the handlers or the deadline");
        assert_eq!(shutdown.wait_timeout(Duration::from_millis(10)), None);
        assert_eq!(threads(), base, "a thread for a blocking wait");
        let mut future = Box::pin(shutdown.wait_async());
        let waker = Waker::from(Arc::new(Noop));
        let pending = future.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(pending.is_pending());
        assert_eq!(threads(), base + 1, "the waker thread");
        shutdown.request();
        assert!(sigmux_testkit::wait_until(Duration::from_secs(10), || {
            threads() == base
        }));
        0
    })
    .assert_success();
}
