//! What `low_level::pipe` does when the reader of its descriptor is gone, as documented in
//! `low_level::pipe` ("A reader that is gone"): the handler's `write` to a pipe raises
//! `SIGPIPE`, whose disposition decides what follows; a socket raises nothing (Linux,
//! Android: `MSG_NOSIGNAL`).
//!
//! Each scenario runs in a forked child with an alarm watchdog: one of them must die.
#![cfg(unix)]

use std::os::unix::io::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use libc::{SIGPIPE, SIGUSR1};
use sigmux::low_level::{pipe, raise};
use sigmux_testkit::{in_child, Outcome};

/// An OS pipe whose read end is already closed: returns the write end.
fn pipe_without_reader() -> OwnedFd {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both are ours, freshly made; the read end is closed here and never used again.
    unsafe {
        libc::close(fds[0]);
        OwnedFd::from_raw_fd(fds[1])
    }
}

fn set_sigpipe(disposition: libc::sighandler_t) {
    // SAFETY: SIG_DFL and SIG_IGN are valid dispositions for SIGPIPE; no handler is involved.
    assert_ne!(unsafe { libc::signal(SIGPIPE, disposition) }, libc::SIG_ERR);
}

#[test]
fn a_pipe_without_reader_kills_the_process_when_sigpipe_has_its_default_action() {
    let outcome = in_child(10, || {
        set_sigpipe(libc::SIG_DFL);
        pipe::register_raw(SIGUSR1, pipe_without_reader()).unwrap();
        raise(SIGUSR1).unwrap();
        0
    });
    assert_eq!(outcome, Outcome::Signaled(SIGPIPE));
}

#[test]
fn a_pipe_without_reader_costs_nothing_when_sigpipe_is_ignored_as_rust_sets_it() {
    in_child(10, || {
        set_sigpipe(libc::SIG_IGN);
        pipe::register_raw(SIGUSR1, pipe_without_reader()).unwrap();
        raise(SIGUSR1).unwrap();
        raise(SIGUSR1).unwrap();
        0
    })
    .assert_success();
}

#[test]
fn a_pipe_without_reader_runs_a_sigpipe_action_inside_the_handler() {
    in_child(10, || {
        let broken = Arc::new(AtomicBool::new(false));
        sigmux::flag::register(SIGPIPE, Arc::clone(&broken)).unwrap();
        pipe::register_raw(SIGUSR1, pipe_without_reader()).unwrap();
        raise(SIGUSR1).unwrap();
        // Raised by the write in the handler, on this thread, so handled before `raise`
        // returned.
        assert!(broken.load(Ordering::SeqCst));
        0
    })
    .assert_success();
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn a_socket_without_peer_raises_no_sigpipe() {
    use std::os::unix::net::UnixStream;

    in_child(10, || {
        set_sigpipe(libc::SIG_DFL);
        let (read, write) = UnixStream::pair().unwrap();
        drop(read);
        pipe::register(SIGUSR1, write).unwrap();
        raise(SIGUSR1).unwrap();
        raise(SIGUSR1).unwrap();
        0
    })
    .assert_success();
}

/// The documented default: the Rust runtime ignores `SIGPIPE` before `main`.
#[test]
fn a_rust_program_starts_with_sigpipe_ignored() {
    in_child(10, || {
        // SAFETY: an all-zero `sigaction` is a valid value of this plain C struct.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a null `act` only reads the disposition into `old`, a valid out-pointer.
        let r = unsafe { libc::sigaction(SIGPIPE, std::ptr::null(), &mut old) };
        assert_eq!(r, 0);
        assert_eq!(old.sa_sigaction, libc::SIG_IGN);
        0
    })
    .assert_success();
}

/// The guide's promise (pitfalls, "`SIGPIPE`"): with `SIGPIPE` registered, an ordinary write to
/// a pipe without reader still fails with `EPIPE` (`BrokenPipe`), and the action runs too —
/// even where the host left `SIGPIPE` at its default action, which would otherwise kill.
#[test]
fn a_registered_sigpipe_runs_its_action_and_the_write_still_fails_with_broken_pipe() {
    use std::io::Write;

    in_child(10, || {
        set_sigpipe(libc::SIG_DFL);
        let broken = Arc::new(AtomicBool::new(false));
        sigmux::flag::register(SIGPIPE, Arc::clone(&broken)).unwrap();
        let mut file = std::fs::File::from(pipe_without_reader());
        let error = file.write(b"x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
        assert_eq!(error.raw_os_error(), Some(libc::EPIPE));
        // Raised in this thread by the write, so handled before `write` returned.
        assert!(broken.load(Ordering::SeqCst));
        0
    })
    .assert_success();
}
