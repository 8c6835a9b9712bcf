//! Test support for the sigmux crates (not published).
//!
//! Signal dispositions are process-wide, so tests that touch them must not run concurrently in
//! one process (`cargo test` runs the tests of one binary on several threads). This crate offers
//! the two ways the workspace isolates them:
//!
//! * [`lock`]: a process-wide test lock, for tests inside one binary that share signals;
//! * [`in_child`]: run a scenario in a forked child with an `alarm` watchdog and report how it
//!   ended, for scenarios that terminate the process, change dispositions for good or must not
//!   leak state into the other tests.
//!
//! It also holds the scenarios every async adapter's stream must pass, as macros the adapters'
//! tests expand ([`adapters`]).
#![cfg(unix)]

pub mod adapters;

/// For the macros of [`adapters`], which expand in crates that may not name `libc` themselves.
#[doc(hidden)]
pub use libc;

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static LOCK: Mutex<()> = Mutex::new(());

/// Takes the process-wide test lock. A test that panicked while holding it does not poison it
/// for the others.
pub fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How a forked child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The child exited with this status (0 is success, 101 a panic in the scenario).
    Exited(i32),
    /// The child was killed by this signal (`SIGALRM` means the watchdog fired).
    Signaled(i32),
}

impl Outcome {
    /// Panics with a readable message unless the child exited with status 0.
    #[track_caller]
    pub fn assert_success(self) {
        match self {
            Outcome::Exited(0) => {}
            Outcome::Signaled(libc::SIGALRM) => panic!("child hit the alarm watchdog (hang)"),
            other => panic!("child failed: {:?}", other),
        }
    }
}

/// Runs `scenario` in a forked child process with `alarm(watchdog_secs)` armed, waits for it
/// and reports how it ended (see [`fork_child`] for what the child does).
///
/// It takes the process-wide [`lock`] around the fork, so no other test of this binary that
/// follows the same discipline is in the middle of changing signal state while the child is
/// made (a lock held at fork time would stay held forever in the child). Do not call it while
/// holding [`lock`].
pub fn in_child<F: FnOnce() -> i32>(watchdog_secs: u32, scenario: F) -> Outcome {
    let _serial = lock();
    wait_for(fork_child(watchdog_secs, scenario))
}

/// Forks a child that runs `scenario` with `alarm(watchdog_secs)` armed and `_exit`s with the
/// status it returns (101 if it panics, the message written to the real standard error); it
/// never returns into the test harness. Returns the child's pid, to reap with [`wait_for`].
///
/// Only the calling thread exists in the child, so the scenario must not rely on locks that
/// other threads might hold — except the standard output and error locks, which are held
/// across the fork (the harness's threads print results under them), so the scenario can write
/// or flush them. Use [`in_child`] from a test; this, from inside one, for a second process.
pub fn fork_child<F: FnOnce() -> i32>(watchdog_secs: u32, scenario: F) -> libc::pid_t {
    // Taken by this thread, so the child (where this thread lives on) owns them and releases
    // them below; the parent releases them once the child exists.
    let out = std::io::stdout().lock();
    let err = std::io::stderr().lock();
    // SAFETY: fork has no memory-safety preconditions; the child only runs the scenario and
    // then `_exit`s, never returning into the (multi-threaded) harness.
    let pid = unsafe { libc::fork() };
    drop((out, err));
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: alarm and _exit are always safe to call.
        unsafe { libc::alarm(watchdog_secs) };
        let code = match panic::catch_unwind(AssertUnwindSafe(scenario)) {
            Ok(code) => code,
            Err(payload) => {
                // The harness captures this thread's output in the child's memory, where
                // nobody reads it: write the message to the real stderr.
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string panic)".to_string());
                let line = format!("in_child: scenario panicked: {}\n", msg);
                // SAFETY: writing a valid buffer to fd 2.
                unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
                101
            }
        };
        // SAFETY: see above; `_exit` skips the parent's atexit handlers, as a child should.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Sends `signal` to this whole process with `kill` (any thread may take it, unlike
/// `raise`, which targets the calling thread).
pub fn kill_self(signal: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    let sent = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
}

/// Waits for the child `pid` and decodes its status.
pub fn wait_for(pid: libc::pid_t) -> Outcome {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.raw_os_error(),
            Some(libc::EINTR),
            "waitpid failed: {}",
            err
        );
    }
    if libc::WIFSIGNALED(status) {
        Outcome::Signaled(libc::WTERMSIG(status))
    } else {
        Outcome::Exited(libc::WEXITSTATUS(status))
    }
}

/// Polls `cond` until it holds or the absolute `deadline` (from now) passes; returns whether it
/// held. Uses an absolute deadline, so signal floods (which restart relative sleeps) cannot
/// stretch it.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A previous handler written in C that leaves the delivery with `siglongjmp`, as C programs
/// commonly do to recover from a signal (compiled from `src/jump.c`).
pub mod jump {
    use libc::c_int;

    extern "C" {
        fn sigmux_testkit_jumping_handler(sig: c_int);
        fn sigmux_testkit_raise_and_jump(sig: c_int) -> c_int;
    }

    /// The address of the jumping handler, a one-argument (`sa_handler`) function, to install
    /// with `signal` or `sigaction`. It jumps only out of a delivery raised by
    /// [`raise_and_jump`]; otherwise it returns.
    pub fn handler_address() -> libc::sighandler_t {
        sigmux_testkit_jumping_handler as *const () as libc::sighandler_t
    }

    /// Raises `sig` (to the calling thread) from C, after a `sigsetjmp` that saves the signal
    /// mask. Returns `true` if the handler jumped back out of the delivery, `false` if `raise`
    /// returned normally.
    pub fn raise_and_jump(sig: c_int) -> bool {
        // SAFETY: the C function only calls sigsetjmp and raise; the jump lands in its own
        // frame, which is still live.
        unsafe { sigmux_testkit_raise_and_jump(sig) != 0 }
    }
}

/// Floods of queued real-time signals from another process, for the lossless-delivery tests.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod rt {
    use libc::{c_int, pid_t};

    /// Forks a sender process that `sigqueue`s `signals[i % signals.len()]` with payload `i`
    /// (as `sival_ptr`) to `to`, for every `i` in `0..count`, retrying on `EAGAIN` (the
    /// per-user limit of queued signals), then exits with 0 (2 on another error; an `alarm`
    /// of `watchdog_secs` ends a stuck sender). Returns its pid: reap it with
    /// [`wait_for`](crate::wait_for). The sender only calls async-signal-safe functions.
    pub fn flood(to: pid_t, signals: &[c_int], count: usize, watchdog_secs: u32) -> pid_t {
        assert!(!signals.is_empty());
        // Allocated before the fork.
        let signals = signals.to_vec();
        // SAFETY: the child only calls async-signal-safe functions and leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
        if pid != 0 {
            return pid;
        }
        // SAFETY: alarm is async-signal-safe.
        unsafe { libc::alarm(watchdog_secs) };
        let mut which = 0;
        for i in 0..count {
            let sig = signals.get(which).copied().unwrap_or(0);
            which = (which + 1) % signals.len();
            let value = libc::sigval {
                sival_ptr: i as *mut libc::c_void,
            };
            loop {
                // SAFETY: sigqueue has no memory-safety preconditions.
                if unsafe { libc::sigqueue(to, sig, value) } == 0 {
                    break;
                }
                // (Reads errno; allocates nothing.)
                let errno = std::io::Error::last_os_error().raw_os_error();
                if errno != Some(libc::EAGAIN) {
                    // SAFETY: leaving the forked child.
                    unsafe { libc::_exit(2) };
                }
                // SAFETY: sched_yield has no preconditions.
                unsafe { libc::sched_yield() };
            }
        }
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(0) }
    }

    /// Blocks `signals` in the calling thread (and in every thread it creates from now on).
    pub fn block(signals: &[c_int]) {
        mask(libc::SIG_BLOCK, signals)
    }

    /// Unblocks `signals` in the calling thread only.
    pub fn unblock(signals: &[c_int]) {
        mask(libc::SIG_UNBLOCK, signals)
    }

    fn mask(how: c_int, signals: &[c_int]) {
        // SAFETY: the set is initialised by sigemptyset before use; pthread_sigmask only
        // reads it.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &sig in signals {
                libc::sigaddset(&mut set, sig);
            }
            assert_eq!(
                libc::pthread_sigmask(how, &set, std::ptr::null_mut()),
                0,
                "pthread_sigmask"
            );
        }
    }
}
