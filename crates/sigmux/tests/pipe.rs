//! The self-pipe registration: descriptor flags, socket vs pipe writes, closing exactly once.
#![cfg(unix)]

use std::io::Read;
use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixStream};

use libc::{c_int, SIGUSR1};
use sigmux::low_level::{pipe, raise, unregister};

fn raw_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: freshly created, owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn fd_flags(fd: RawFd) -> c_int {
    // SAFETY: F_GETFD only reads flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) }
}

fn status_flags(fd: RawFd) -> c_int {
    // SAFETY: F_GETFL only reads flags.
    unsafe { libc::fcntl(fd, libc::F_GETFL) }
}

#[test]
fn pipe_write_end_gets_cloexec_and_nonblock_and_is_closed_once() {
    let _lock = sigmux_testkit::lock();
    let (read, write) = raw_pipe();
    let write_fd = write.as_raw_fd();
    assert_eq!(fd_flags(write_fd) & libc::FD_CLOEXEC, 0);
    let id = pipe::register_raw(SIGUSR1, write).unwrap();
    assert_ne!(fd_flags(write_fd) & libc::FD_CLOEXEC, 0);
    assert_ne!(status_flags(write_fd) & libc::O_NONBLOCK, 0);
    // The read end is not ours to touch.
    assert_eq!(status_flags(read.as_raw_fd()) & libc::O_NONBLOCK, 0);

    raise(SIGUSR1).unwrap();
    let mut file = std::fs::File::from(read);
    let mut byte = [0u8];
    file.read_exact(&mut byte).unwrap();
    assert_eq!(&byte, b"X");

    assert!(unregister(id));
    // Closed by the unregistration…
    assert_eq!(fd_flags(write_fd), -1);
    // …and only then: a descriptor that reuses the number stays open.
    let (again_read, again_write) = raw_pipe();
    let reused = [again_read.as_raw_fd(), again_write.as_raw_fd()];
    assert!(!unregister(id));
    for fd in reused {
        assert_ne!(fd_flags(fd), -1);
    }
}

#[test]
fn socket_is_written_with_send_and_keeps_its_blocking_mode() {
    let _lock = sigmux_testkit::lock();
    let mut fds = [0 as c_int; 2];
    // Plain socketpair (UnixStream::pair would already set close-on-exec).
    // SAFETY: `fds` has room for two descriptors.
    let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) };
    assert_eq!(r, 0);
    // SAFETY: freshly created, owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let write_fd = write.as_raw_fd();
    let id = pipe::register_raw(SIGUSR1, write).unwrap();
    assert_ne!(fd_flags(write_fd) & libc::FD_CLOEXEC, 0);
    assert_eq!(status_flags(write_fd) & libc::O_NONBLOCK, 0);
    raise(SIGUSR1).unwrap();
    let mut read = UnixStream::from(read);
    let mut byte = [0u8];
    read.read_exact(&mut byte).unwrap();
    assert_eq!(&byte, b"X");
    assert!(unregister(id));
}

#[test]
fn datagram_socket_gets_no_empty_probe_message() {
    let _lock = sigmux_testkit::lock();
    let (read, write) = UnixDatagram::pair().unwrap();
    let id = pipe::register(SIGUSR1, write).unwrap();
    raise(SIGUSR1).unwrap();
    let mut buf = [0u8; 8];
    // The very first datagram is the signal's byte.
    assert_eq!(read.recv(&mut buf).unwrap(), 1);
    assert_eq!(&buf[..1], b"X");
    read.set_nonblocking(true).unwrap();
    assert!(read.recv(&mut buf).is_err());
    assert!(unregister(id));
}

#[test]
fn full_pipe_never_blocks_the_handler() {
    let _lock = sigmux_testkit::lock();
    let (read, write) = UnixStream::pair().unwrap();
    let id = pipe::register(SIGUSR1, write).unwrap();
    // Far more signals than the socket buffer holds bytes would block a blocking write.
    read.set_nonblocking(true).unwrap();
    for _ in 0..20_000 {
        raise(SIGUSR1).unwrap();
    }
    let mut total = 0;
    let mut buf = [0u8; 4096];
    let mut r = &read;
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        total += n;
    }
    assert!(total > 0);
    // Coalesced: the full buffer dropped bytes (one per signal would be 20,000).
    assert!(total < 20_000, "{} bytes for 20,000 signals", total);
    assert!(unregister(id));
}
