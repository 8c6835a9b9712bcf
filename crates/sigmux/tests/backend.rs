//! The generic backend the async adapters use: `SignalDelivery` over a caller's socket pair,
//! `SignalIterator::poll_signal` with a non-blocking readiness check, `PollResult`s.
#![cfg(all(unix, feature = "iterator"))]

use std::io::{ErrorKind, Read};
use std::os::unix::net::UnixStream;

use libc::{SIGUSR1, SIGUSR2};
use sigmux::iterator::backend::{OwningSignalIterator, PollResult, SignalDelivery};
use sigmux::iterator::exfiltrator::SignalOnly;
use sigmux::low_level::raise;

/// What an adapter does when its reactor says "readable": a non-blocking read.
fn has_signals(read: &mut UnixStream) -> std::io::Result<bool> {
    match read.read(&mut [0u8; 16]) {
        Ok(n) => Ok(n > 0),
        Err(err) if err.kind() == ErrorKind::WouldBlock => Ok(false),
        Err(err) => Err(err),
    }
}

fn delivery() -> SignalDelivery<UnixStream, SignalOnly> {
    let (read, write) = UnixStream::pair().unwrap();
    read.set_nonblocking(true).unwrap();
    SignalDelivery::with_pipe(read, write, SignalOnly, [SIGUSR1]).unwrap()
}

#[test]
fn poll_signal_yields_then_pending_then_closed() {
    let _lock = sigmux_testkit::lock();
    let mut iter: OwningSignalIterator<UnixStream, SignalOnly> =
        OwningSignalIterator::new(delivery());
    assert!(matches!(
        iter.poll_signal(&mut has_signals),
        PollResult::Pending
    ));
    raise(SIGUSR1).unwrap();
    match iter.poll_signal(&mut has_signals) {
        PollResult::Signal(sig) => assert_eq!(sig, SIGUSR1),
        other => panic!("expected a signal, got {:?}", other),
    }
    assert!(matches!(
        iter.poll_signal(&mut has_signals),
        PollResult::Pending
    ));

    let handle = iter.handle();
    handle.add_signal(SIGUSR2).unwrap();
    raise(SIGUSR2).unwrap();
    assert!(matches!(
        iter.poll_signal(&mut has_signals),
        PollResult::Signal(SIGUSR2)
    ));

    handle.close();
    assert!(matches!(
        iter.poll_signal(&mut has_signals),
        PollResult::Closed
    ));
}

#[test]
fn pending_drains_the_socket_and_reports_once() {
    let _lock = sigmux_testkit::lock();
    let mut delivery = delivery();
    raise(SIGUSR1).unwrap();
    raise(SIGUSR1).unwrap();
    assert_eq!(delivery.pending().collect::<Vec<_>>(), [SIGUSR1]);
    // The bytes were drained with the batch: nothing left to wake a reactor.
    let mut byte = [0u8];
    let err = delivery.get_read_mut().read(&mut byte).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
}

#[test]
fn poll_pending_asks_the_callback_and_stops_when_closed() {
    let _lock = sigmux_testkit::lock();
    let mut delivery = delivery();
    assert!(delivery.poll_pending(&mut has_signals).unwrap().is_none());
    raise(SIGUSR1).unwrap();
    let batch = delivery.poll_pending(&mut has_signals).unwrap().unwrap();
    assert_eq!(batch.collect::<Vec<_>>(), [SIGUSR1]);
    delivery.handle().close();
    let mut called = false;
    let result = delivery.poll_pending(&mut |_: &mut UnixStream| {
        called = true;
        Ok(true)
    });
    assert!(result.unwrap().is_none());
    assert!(!called, "a closed delivery does not poll");
}

#[test]
fn a_pipe_works_as_the_read_end_too() {
    let _lock = sigmux_testkit::lock();
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    use std::os::unix::io::{FromRawFd, OwnedFd};
    // SAFETY: freshly created, owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut delivery = SignalDelivery::with_pipe(read, write, SignalOnly, [SIGUSR1]).unwrap();
    raise(SIGUSR1).unwrap();
    // pending() drains a blocking pipe without blocking, and a second call finds nothing.
    assert_eq!(delivery.pending().collect::<Vec<_>>(), [SIGUSR1]);
    assert_eq!(delivery.pending().count(), 0);
}

fn pipe_delivery() -> SignalDelivery<std::os::unix::io::OwnedFd, SignalOnly> {
    let (read, write) = sigmux::iterator::backend::self_pipe().unwrap();
    SignalDelivery::with_pipe(read, write, SignalOnly, [SIGUSR1]).unwrap()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn close_after_the_delivery_is_dropped_never_raises_sigpipe() {
    sigmux_testkit::in_child(10, || {
        // SAFETY: SIGPIPE's default action (as in a C host), in this forked child only.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let before = open_descriptors();
        let delivery = pipe_delivery();
        let handle = delivery.handle();
        let other = handle.clone();
        drop(delivery);
        handle.close();
        drop(handle);
        other.close();
        assert!(other.is_closed());
        drop(other);
        // The duplicate read end kept for the handles went with the last one.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(open_descriptors(), before);
        0
    })
    .assert_success();
}

#[test]
fn a_dropped_delivery_without_handles_keeps_no_descriptor() {
    sigmux_testkit::in_child(10, || {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let before = open_descriptors();
        drop(pipe_delivery());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(open_descriptors(), before);
        0
    })
    .assert_success();
}

#[test]
fn is_inherited_only_in_a_forked_child_and_shut_down_unregisters() {
    sigmux_testkit::in_child(10, || {
        let delivery = pipe_delivery();
        assert!(!delivery.is_inherited());
        // SAFETY: the child only checks and `_exit`s.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let made_here = pipe_delivery();
            let ok = delivery.is_inherited() && !made_here.is_inherited();
            // SAFETY: leaves the child at once.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        assert_eq!(
            sigmux_testkit::wait_for(pid),
            sigmux_testkit::Outcome::Exited(0)
        );
        assert!(!delivery.is_inherited());
        delivery.shut_down();
        assert!(delivery.handle().add_signal(SIGUSR2).is_err());
        0
    })
    .assert_success();
}

fn fd_flags(fd: i32) -> (i32, i32) {
    // SAFETY: fcntl queries on a descriptor number; nothing is dereferenced.
    unsafe {
        (
            libc::fcntl(fd, libc::F_GETFD),
            libc::fcntl(fd, libc::F_GETFL),
        )
    }
}

#[test]
fn self_pipe_ends_are_close_on_exec_and_non_blocking() {
    use std::os::unix::io::AsRawFd;

    let (read, write) = sigmux::iterator::backend::self_pipe().unwrap();
    for fd in [read.as_raw_fd(), write.as_raw_fd()] {
        let (fd_flags, status) = fd_flags(fd);
        assert_ne!(fd_flags & libc::FD_CLOEXEC, 0);
        assert_ne!(status & libc::O_NONBLOCK, 0);
    }
}

#[test]
fn with_pipe_makes_a_pipe_write_end_close_on_exec_and_non_blocking() {
    use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};

    let _lock = sigmux_testkit::lock();
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: freshly created, owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let write_fd = write.as_raw_fd();
    let (before, status) = fd_flags(write_fd);
    assert_eq!(
        (before & libc::FD_CLOEXEC, status & libc::O_NONBLOCK),
        (0, 0)
    );
    let delivery = SignalDelivery::with_pipe(read, write, SignalOnly, [SIGUSR1]).unwrap();
    let (after, status) = fd_flags(write_fd);
    assert_ne!(after & libc::FD_CLOEXEC, 0);
    assert_ne!(status & libc::O_NONBLOCK, 0);
    drop(delivery);
}

/// `SignalDelivery` stays covariant in its read end's type, as in signal-hook.
#[allow(dead_code)]
fn covariant<'short, 'long: 'short>(
    delivery: SignalDelivery<&'long std::fs::File, SignalOnly>,
) -> SignalDelivery<&'short std::fs::File, SignalOnly> {
    delivery
}
