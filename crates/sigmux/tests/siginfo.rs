//! `WithOrigin` decodes `siginfo_t` in Rust: sender pid/uid, cause, the value of a queued
//! signal and the status of a child for `SIGCHLD`.
#![cfg(all(unix, feature = "extended-siginfo"))]

use libc::{SIGCHLD, SIGUSR1};
use sigmux::iterator::exfiltrator::WithOrigin;
use sigmux::iterator::SignalsInfo;
use sigmux::low_level::siginfo::{Cause, Chld, Origin, Sent};

fn me() -> (libc::pid_t, libc::uid_t) {
    // SAFETY: getpid and getuid cannot fail.
    unsafe { (libc::getpid(), libc::getuid()) }
}

fn next(signals: &mut SignalsInfo<WithOrigin>) -> Origin {
    signals.forever().next().unwrap()
}

#[test]
fn kill_reports_the_sender() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1]).unwrap();
    let (pid, uid) = me();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, SIGUSR1) };
    let origin = next(&mut signals);
    assert_eq!(origin.signal, SIGUSR1);
    assert_eq!(origin.cause, Cause::Sent(Sent::User));
    let process = origin.process.unwrap();
    assert_eq!((process.pid, process.uid), (pid, uid));
    assert_eq!(origin.value, None);
    assert_eq!(origin.status, None);
    assert!(format!("{:?}", origin).contains("SIGUSR1"));
}

#[cfg(target_os = "linux")]
#[test]
fn raise_is_a_tkill_on_linux() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGUSR1]).unwrap();
    sigmux::low_level::raise(SIGUSR1).unwrap();
    let origin = next(&mut signals);
    assert_eq!(origin.cause, Cause::Sent(Sent::TKill));
    assert_eq!(origin.process.unwrap().pid, me().0);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn sigqueue_value_is_reported_for_each_delivery() {
    let _lock = sigmux_testkit::lock();
    let rt = libc::SIGRTMIN() + 2;
    let mut signals = SignalsInfo::<WithOrigin>::new([rt]).unwrap();
    for value in [7, 8, 9] {
        let sigval = libc::sigval {
            sival_ptr: value as usize as *mut libc::c_void,
        };
        // Queued to this thread (as `sigqueue` does to the process, with the same `SI_QUEUE`
        // code): so no other thread, like the test harness's, has to run the handler, which
        // ThreadSanitizer would defer for as long as that thread sleeps.
        // SAFETY: our own live thread; no memory-safety preconditions otherwise.
        let queued = unsafe { libc::pthread_sigqueue(libc::pthread_self(), rt, sigval) };
        assert_eq!(queued, 0);
    }
    // Real-time signals queued to one thread arrive in order.
    let got: Vec<_> = signals.forever().take(3).collect();
    for (origin, value) in got.iter().zip([7, 8, 9]) {
        assert_eq!(origin.signal, rt);
        assert_eq!(origin.cause, Cause::Sent(Sent::Queue));
        let v = origin.value.unwrap();
        assert_eq!(v.ptr, value);
        // On little-endian targets the int member aliases the low bits of the pointer.
        #[cfg(target_endian = "little")]
        assert_eq!(v.int, value as i32);
        assert_eq!(origin.process.unwrap().pid, me().0);
    }
}

fn spawn_child(exit_code: i32, die_by: Option<i32>) -> libc::pid_t {
    // SAFETY: the child only calls async-signal-safe functions and _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        if let Some(sig) = die_by {
            // SAFETY: async-signal-safe; the child dies here.
            unsafe { libc::kill(libc::getpid(), sig) };
        }
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(exit_code) };
    }
    pid
}

fn child_event(signals: &mut SignalsInfo<WithOrigin>, pid: libc::pid_t) -> Origin {
    loop {
        let origin = next(signals);
        if origin.process.map(|p| p.pid) == Some(pid) {
            return origin;
        }
    }
}

#[test]
fn sigchld_reports_the_child_and_its_exit_status() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGCHLD]).unwrap();
    let pid = spawn_child(7, None);
    let origin = child_event(&mut signals, pid);
    assert_eq!(
        sigmux_testkit::wait_for(pid),
        sigmux_testkit::Outcome::Exited(7)
    );
    assert_eq!(origin.signal, SIGCHLD);
    assert_eq!(origin.cause, Cause::Chld(Chld::Exited));
    assert_eq!(origin.status, Some(7));
    assert_eq!(origin.process.unwrap().uid, me().1);

    let pid = spawn_child(0, Some(libc::SIGKILL));
    let origin = child_event(&mut signals, pid);
    sigmux_testkit::wait_for(pid);
    assert_eq!(origin.cause, Cause::Chld(Chld::Killed));
    assert_eq!(origin.status, Some(libc::SIGKILL));
}
