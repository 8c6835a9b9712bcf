//! Promises of `shutdown`'s "Cost" paragraph not pinned by tests/shutdown_process.rs: one pipe
//! (two descriptors), one POSIX timer per signal for a deadline on Linux (no descriptor, no
//! thread), and the `wait_async` helper thread ending when the `Shutdown` is dropped. Each
//! scenario runs in a forked child (`in_child`): it counts the process's resources.
#![cfg(target_os = "linux")]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use sigmux::Shutdown;
use sigmux_testkit::{in_child, wait_until};

fn descriptors() -> usize {
    // The directory iterator's own descriptor is counted in both readings.
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// POSIX timers of this process (one "ID:" line each).
fn posix_timers() -> usize {
    std::fs::read_to_string("/proc/self/timers")
        .unwrap()
        .lines()
        .filter(|line| line.starts_with("ID:"))
        .count()
}

#[test]
fn a_shutdown_costs_one_pipe() {
    in_child(20, || {
        let base = descriptors();
        let shutdown = Shutdown::new().unwrap();
        assert_eq!(descriptors(), base + 2);
        drop(shutdown);
        0
    })
    .assert_success();
}

#[cfg(not(sigmux_shutdown_deadline_thread))]
#[test]
fn a_deadline_costs_one_posix_timer_per_signal_and_no_descriptor_or_thread() {
    in_child(20, || {
        let (fds, tasks) = (descriptors(), threads());
        assert_eq!(posix_timers(), 0);
        let shutdown = Shutdown::builder()
            .signal(libc::SIGHUP)
            .deadline(Duration::from_secs(3600))
            .install()
            .unwrap();
        // TERM, INT and HUP.
        assert_eq!(posix_timers(), 3);
        assert_eq!(descriptors(), fds + 2, "only the pipe");
        assert_eq!(threads(), tasks);
        drop(shutdown);
        0
    })
    .assert_success();
}

#[test]
fn the_wait_async_helper_thread_ends_when_the_shutdown_is_dropped() {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    in_child(20, || {
        let base = threads();
        let shutdown = Shutdown::new().unwrap();
        let mut future = Box::pin(shutdown.wait_async());
        let waker = Waker::from(Arc::new(Noop));
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        assert_eq!(threads(), base + 1, "the helper thread");
        drop(future);
        drop(shutdown);
        // No request was made: only the drop can end it.
        assert!(wait_until(Duration::from_secs(10), || threads() == base));
        0
    })
    .assert_success();
}

#[test]
fn the_deadline_does_not_apply_to_a_program_request() {
    let outcome = in_child(20, || {
        let shutdown = Shutdown::builder()
            .deadline(Duration::from_millis(100))
            .install()
            .unwrap();
        assert!(shutdown.request());
        // Well past the deadline (absolute, so a signal cannot stretch it).
        let until = std::time::Instant::now() + Duration::from_millis(600);
        while std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        shutdown.finish(4)
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Exited(4));
}

#[test]
fn dropping_leaves_a_signal_first_installed_without_restore_caught_with_no_action() {
    let outcome = in_child(20, || {
        // sigmux's handler for SIGTERM is installed here, without `Options::restore`…
        let id = sigmux::flag::register(
            libc::SIGTERM,
            Arc::new(std::sync::atomic::AtomicBool::new(false)),
        )
        .unwrap();
        assert!(sigmux::low_level::unregister(id));
        let shutdown = Shutdown::new().unwrap();
        drop(shutdown);
        // …so after the drop SIGTERM stays caught, with no action: it does not terminate.
        sigmux::low_level::raise(libc::SIGTERM).unwrap();
        0
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Exited(0));
}

#[test]
fn a_real_time_signal_is_a_termination_signal_and_finish_dies_by_it() {
    // Its default action terminates, so `install` accepts it (ShutdownBuilder::signal).
    let sig = libc::SIGRTMIN() + 1;
    let outcome = in_child(20, move || {
        let shutdown = Shutdown::builder().signal(sig).install().unwrap();
        sigmux::low_level::raise(sig).unwrap();
        assert_eq!(shutdown.cause(), Some(sigmux::shutdown::Cause::Signal(sig)));
        shutdown.finish(0)
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Signaled(sig));
}
