//! The portable blocking iterator's sleep: waiting on its self-pipe, with or without a
//! deadline.

use std::io;
use std::os::unix::io::RawFd;
use std::time::{Duration, Instant};

use crate::sys;

/// How many bytes one wake-up reads from the pipe; more than that means a spurious wake-up
/// later, never a lost signal.
const READ_CHUNK: usize = 256;

/// Blocks until the (blocking) read end `fd` has a byte, then reads up to [`READ_CHUNK`] of
/// them; or gives up at `deadline`. Returns whether bytes were read (`false`: timed out).
/// `EINTR` is retried, with what is left of the deadline.
pub(crate) fn wait(fd: RawFd, deadline: Option<Instant>) -> io::Result<bool> {
    if let Some(deadline) = deadline {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            let ms = poll_timeout(left);
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: `pfd` is one valid pollfd for the duration of the call.
            let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
            if ready > 0 {
                break;
            }
            if ready < 0 {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
    }
    let mut buf = [0u8; READ_CHUNK];
    sys::read_blocking(fd, &mut buf).map(|_| true)
}

/// A `poll` timeout in milliseconds: rounded up (so a wait never ends before the deadline)
/// and capped.
fn poll_timeout(left: Duration) -> libc::c_int {
    let ms = (left.as_nanos() + 999_999) / 1_000_000;
    libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
}
