//! Promises of `low_level::siginfo` beyond tests/siginfo.rs: a kernel-generated signal has no
//! process, `Origin::status` of a stopped and a continued child is the signal that stopped or
//! continued it, and a message-queue notification carries its payload.
//!
//! This binary arms real timers (`setitimer`), so it does not use `in_child`, whose watchdog is
//! an `alarm`: the tests take the test lock instead.
#![cfg(all(target_os = "linux", feature = "extended-siginfo"))]

use std::process::Command;

use libc::{SIGALRM, SIGCHLD};
use sigmux::iterator::exfiltrator::WithOrigin;
use sigmux::iterator::SignalsInfo;
use sigmux::low_level::siginfo::{Cause, Chld, Origin};

/// The next origin of a signal from `pid` (others, e.g. other children, are skipped).
fn next_from(signals: &mut SignalsInfo<WithOrigin>, pid: libc::pid_t) -> Origin {
    signals
        .forever()
        .find(|o| o.process.map(|p| p.pid) == Some(pid))
        .unwrap()
}

#[test]
fn a_signal_the_kernel_generates_has_cause_kernel_and_no_process() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGALRM]).unwrap();
    // ITIMER_REAL expiry is sent by the kernel itself (SI_KERNEL on Linux).
    let timer = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: 0,
            tv_usec: 10_000,
        },
    };
    // SAFETY: `timer` is valid for reads; the old value is not requested.
    let armed = unsafe { libc::setitimer(libc::ITIMER_REAL, &timer, std::ptr::null_mut()) };
    assert_eq!(armed, 0);
    let origin = signals.forever().next().unwrap();
    assert_eq!(origin.signal, SIGALRM);
    assert_eq!(origin.cause, Cause::Kernel);
    assert_eq!(origin.process, None);
    assert_eq!((origin.value, origin.status), (None, None));
}

#[test]
fn a_stopped_and_a_continued_child_report_the_signal_as_status() {
    let _lock = sigmux_testkit::lock();
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGCHLD]).unwrap();
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    // One change at a time: SIGCHLD is a classic signal and would coalesce.
    // SAFETY: signalling our own, unreaped child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let stopped = next_from(&mut signals, pid);
    assert_eq!(stopped.cause, Cause::Chld(Chld::Stopped));
    assert_eq!(stopped.status, Some(libc::SIGSTOP));
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let continued = next_from(&mut signals, pid);
    assert_eq!(continued.cause, Cause::Chld(Chld::Continued));
    assert_eq!(continued.status, Some(libc::SIGCONT));
    child.kill().unwrap();
    let killed = next_from(&mut signals, pid);
    assert_eq!(killed.cause, Cause::Chld(Chld::Killed));
    assert_eq!(killed.status, Some(libc::SIGKILL));
    child.wait().unwrap();
}

#[cfg(target_env = "gnu")]
#[test]
fn a_message_queue_notification_carries_its_payload() {
    let _lock = sigmux_testkit::lock();
    let sig = libc::SIGRTMIN() + 3;
    let mut signals = SignalsInfo::<WithOrigin>::new([sig]).unwrap();
    let name = format!("/sigmux-promises-{}\0", std::process::id());
    // SAFETY: a NUL-terminated name; default attributes.
    let mq = unsafe {
        libc::mq_open(
            name.as_ptr().cast(),
            libc::O_CREAT | libc::O_RDWR | libc::O_EXCL,
            0o600 as libc::mode_t,
            std::ptr::null_mut::<libc::mq_attr>(),
        )
    };
    if mq == -1 {
        // No message queues in this environment (e.g. /dev/mqueue missing): nothing to check.
        eprintln!("skipped: mq_open: {}", std::io::Error::last_os_error());
        return;
    }
    // SAFETY: the name is ours; the queue stays open through `mq`.
    unsafe { libc::mq_unlink(name.as_ptr().cast()) };
    // SAFETY: an all-zero sigevent is valid; the fields set below are the ones SIGEV_SIGNAL
    // reads.
    let mut event: libc::sigevent = unsafe { std::mem::zeroed() };
    event.sigev_notify = libc::SIGEV_SIGNAL;
    event.sigev_signo = sig;
    event.sigev_value = libc::sigval {
        sival_ptr: 77 as *mut libc::c_void,
    };
    // SAFETY: an open queue and a valid sigevent; then one valid message.
    unsafe {
        assert_eq!(libc::mq_notify(mq, &event), 0);
        assert_eq!(libc::mq_send(mq, b"x".as_ptr().cast(), 1, 0), 0);
    }
    let origin = signals.forever().next().unwrap();
    // SAFETY: our open queue.
    unsafe { libc::mq_close(mq) };
    assert_eq!(origin.signal, sig);
    assert_eq!(
        origin.cause,
        Cause::Sent(sigmux::low_level::siginfo::Sent::MesgQ)
    );
    assert_eq!(origin.value.map(|v| v.ptr), Some(77));
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    assert_eq!(origin.process.map(|p| p.pid), Some(me));
}
