//! The platform layer of [`child`](super): pidfds and epoll (Linux), `waitpid` on one pid, the
//! orphan pass, and `poll` on one descriptor. Every call here names a single pid or a pidfd,
//! except [`peek_any_exited`], which only the opt-in orphan reaper uses.

use std::io;
use std::os::unix::io::RawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use libc::{c_int, pid_t};

#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::sys::cvt;

fn errno_is(err: &io::Error, code: c_int) -> bool {
    err.raw_os_error() == Some(code)
}

/// `waitpid(pid, WNOHANG)` for exactly one pid (`pid > 0`, checked by the caller), retried on
/// `EINTR`. `Ok(None)` while it runs.
pub(super) fn waitpid_nohang(pid: pid_t) -> io::Result<Option<ExitStatus>> {
    debug_assert!(pid > 0);
    loop {
        let mut status: c_int = 0;
        // SAFETY: `status` is a valid out-pointer; `pid > 0` names one process.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Ok(Some(ExitStatus::from_raw(status)));
        }
        if r == 0 {
            return Ok(None);
        }
        let err = io::Error::last_os_error();
        if !errno_is(&err, libc::EINTR) {
            return Err(err);
        }
    }
}

/// Whether `pid` is a child of this process that has not been reaped, without reaping it
/// (`waitid(P_PID, WNOWAIT)`): `ECHILD` becomes `Ok(false)`.
pub(super) fn is_unreaped_child(pid: pid_t) -> io::Result<bool> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value of this plain C struct.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid out-pointer; WNOWAIT leaves the child waitable.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        if errno_is(&err, libc::ECHILD) {
            return Ok(false);
        }
        if !errno_is(&err, libc::EINTR) {
            return Err(err);
        }
    }
}

/// The pid of some exited, unreaped child of this process, left unreaped
/// (`waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT)`); `None` if there is none. Only the opt-in
/// orphan reaper calls it.
pub(super) fn peek_any_exited() -> io::Result<Option<pid_t>> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value of this plain C struct.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid out-pointer; WNOWAIT leaves the child waitable.
        let r = unsafe {
            libc::waitid(
                libc::P_ALL,
                0,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if r == 0 {
            // SAFETY: waitid filled in a SIGCHLD-style siginfo (or left it zeroed: pid 0).
            let pid = unsafe { info.si_pid() };
            return Ok(if pid > 0 { Some(pid) } else { None });
        }
        let err = io::Error::last_os_error();
        if errno_is(&err, libc::ECHILD) {
            return Ok(None);
        }
        if !errno_is(&err, libc::EINTR) {
            return Err(err);
        }
    }
}

/// Makes this process a child subreaper (Linux): orphaned descendants are re-parented to it
/// instead of to init. Elsewhere a no-op returning `false`.
pub(super) fn become_subreaper() -> io::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument.
        cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong) })?;
        Ok(true)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        Ok(false)
    }
}

/// Empties the non-blocking wake-up pipe `fd` (reads until it would block).
pub(super) fn drain(fd: RawFd) {
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n < buf.len() as isize {
            return;
        }
    }
}

/// Waits until `fd` is readable or `timeout` passes (`None`: no limit). Returns early (with
/// `Ok`) on `EINTR`; callers loop against an absolute deadline.
pub(super) fn poll_readable(fd: RawFd, timeout: Option<Duration>) -> io::Result<()> {
    let ms: c_int = match timeout {
        None => -1,
        // Round up, so a short remaining time never turns into a busy loop of 0 ms polls.
        Some(t) => {
            let ms = t.as_micros().saturating_add(999) / 1000;
            ms.min(c_int::MAX as u128) as c_int
        }
    };
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let err = io::Error::last_os_error();
        if !errno_is(&err, libc::EINTR) {
            return Err(err);
        }
    }
    Ok(())
}

/// pidfds and epoll (Linux 5.4+: `pidfd_open` is 5.3, `waitid(P_PIDFD)` 5.4).
#[cfg(target_os = "linux")]
pub(super) mod pidfd {
    use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};

    use super::*;

    /// `pidfd_open(pid, 0)`: a close-on-exec descriptor that refers to this very process
    /// (never to a later process that reuses the number).
    pub(in super::super) fn open(pid: pid_t) -> io::Result<OwnedFd> {
        // SAFETY: the system call takes two integers and returns a new descriptor or -1.
        let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as c_int) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }

    /// `waitid(P_PIDFD, fd, flags)`; `Ok(None)` when no state change is there (WNOHANG).
    fn waitid_pidfd(fd: RawFd, flags: c_int) -> io::Result<Option<libc::siginfo_t>> {
        loop {
            // SAFETY: an all-zero siginfo_t is a valid value of this plain C struct.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is a valid out-pointer; `fd` is a descriptor number (EBADF if
            // stale).
            let r = unsafe { libc::waitid(libc::P_PIDFD, fd as libc::id_t, &mut info, flags) };
            if r == 0 {
                // SAFETY: waitid filled in a SIGCHLD-style siginfo, or left it zeroed.
                return Ok(if unsafe { info.si_pid() } == 0 {
                    None
                } else {
                    Some(info)
                });
            }
            let err = io::Error::last_os_error();
            if !errno_is(&err, libc::EINTR) {
                return Err(err);
            }
        }
    }

    /// Reaps the process behind `fd` if it has exited.
    pub(in super::super) fn wait_nohang(fd: &OwnedFd) -> io::Result<Option<ExitStatus>> {
        let info = match waitid_pidfd(fd.as_raw_fd(), libc::WEXITED | libc::WNOHANG)? {
            Some(info) => info,
            None => return Ok(None),
        };
        // SAFETY: filled in by waitid for an exited child.
        let status = unsafe { info.si_status() };
        let raw = match info.si_code {
            libc::CLD_EXITED => (status & 0xff) << 8,
            libc::CLD_KILLED => status & 0x7f,
            libc::CLD_DUMPED => (status & 0x7f) | 0x80,
            _ => return Ok(None),
        };
        Ok(Some(ExitStatus::from_raw(raw)))
    }

    /// Whether `fd`'s process is a child of ours that nobody reaped yet (`ECHILD`: no).
    pub(in super::super) fn is_unreaped_child(fd: &OwnedFd) -> io::Result<bool> {
        match waitid_pidfd(
            fd.as_raw_fd(),
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        ) {
            Ok(_) => Ok(true),
            Err(e) if errno_is(&e, libc::ECHILD) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether pidfds work here, all the way to `waitid(P_PIDFD)`: a pidfd of this process
    /// gives `ECHILD` (it is not our child) on 5.4+, `EINVAL` on 5.3, and `pidfd_open` gives
    /// `ENOSYS` (or `EPERM` under some seccomp filters) before that.
    pub(in super::super) fn supported() -> bool {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        match open(me) {
            Ok(fd) => matches!(
                waitid_pidfd(fd.as_raw_fd(), libc::WEXITED | libc::WNOHANG),
                Err(ref e) if errno_is(e, libc::ECHILD)
            ),
            Err(_) => false,
        }
    }

    /// An epoll instance, close-on-exec.
    pub(in super::super) fn epoll() -> io::Result<OwnedFd> {
        // SAFETY: plain system call; returns a new descriptor or -1.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Adds `fd` (readable, level-triggered) with `token`; `oneshot` disables it after its
    /// first event (see [`rearm`]).
    pub(in super::super) fn add(
        epoll: &OwnedFd,
        fd: RawFd,
        token: u64,
        oneshot: bool,
    ) -> io::Result<()> {
        ctl(epoll, libc::EPOLL_CTL_ADD, fd, token, oneshot)
    }

    /// Re-enables a one-shot registration whose event fired too early.
    pub(in super::super) fn rearm(epoll: &OwnedFd, fd: RawFd, token: u64) -> io::Result<()> {
        ctl(epoll, libc::EPOLL_CTL_MOD, fd, token, true)
    }

    fn ctl(epoll: &OwnedFd, op: c_int, fd: RawFd, token: u64, oneshot: bool) -> io::Result<()> {
        let mut events = libc::EPOLLIN as u32;
        if oneshot {
            events |= libc::EPOLLONESHOT as u32;
        }
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a valid event for the duration of the call.
        cvt(unsafe { libc::epoll_ctl(epoll.as_raw_fd(), op, fd, &mut ev) })?;
        Ok(())
    }

    /// Up to [`BATCH`] tokens of ready descriptors, without waiting, appended to `out`.
    /// Returns whether the batch was full (more may be ready once these are handled).
    pub(in super::super) fn ready(epoll: &OwnedFd, out: &mut Vec<u64>) -> io::Result<bool> {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
        loop {
            // SAFETY: `evs` has room for BATCH events.
            let n =
                unsafe { libc::epoll_wait(epoll.as_raw_fd(), evs.as_mut_ptr(), BATCH as c_int, 0) };
            if n < 0 {
                let err = io::Error::last_os_error();
                if errno_is(&err, libc::EINTR) {
                    continue;
                }
                return Err(err);
            }
            let n = n as usize;
            out.extend(evs.iter().take(n).map(|ev| ev.u64));
            return Ok(n == BATCH);
        }
    }

    /// How many ready descriptors one [`ready`] call returns at most.
    pub(in super::super) const BATCH: usize = 64;
}
