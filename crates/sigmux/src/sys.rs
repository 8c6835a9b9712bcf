//! The platform layer for descriptors and `siginfo_t`: the `cfg`s on the operating system for
//! those live here (which signal numbers are valid is the registry's `check`; how the
//! blocking iterator sleeps is `iterator/wake`).
//!
//! The rest of the crate asks this module two kinds of questions:
//!
//! * how to make and use the file descriptors of a self-pipe ([`pipe`], [`WakeFd`] helpers,
//!   [`drain`], [`read_blocking`]);
//! * how to read the fields of a `siginfo_t` without a C shim ([`si_code`], [`si_pid`], …).
//!
//! Raw calls go through [`cvt`], which turns the C convention of returning `-1` and setting
//! `errno` into an [`io::Error`].
//!
//! Functions documented as *async-signal-safe* only make system calls listed as such by POSIX
//! and touch no memory besides their arguments and the stack.

#[cfg(unix)]
use std::io;

#[cfg(unix)]
use libc::c_int;

/// The number of per-signal slots the iterator keeps; every valid signal is below it (the
/// registry's table size: the registry decides what a valid signal is).
#[cfg(all(feature = "iterator", unix))]
pub(crate) const MAX_SIGNUM: usize = sigmux_registry::__SLOTS;

/// The number of per-signal slots the iterator keeps on Windows: the C runtime's signals and
/// the console events' numbers above them (`SIGCLOSE` …
/// `SIGSHUTDOWN`).
#[cfg(all(feature = "iterator", windows))]
pub(crate) const MAX_SIGNUM: usize = {
    let console = crate::consts::SIGSHUTDOWN as usize + 1;
    if sigmux_registry::__SLOTS > console {
        sigmux_registry::__SLOTS
    } else {
        console
    }
};

/// Turns a `-1` result into the current `errno` as an [`io::Error`].
#[cfg(unix)]
pub(crate) fn cvt<T: Copy + PartialEq + From<i8>>(result: T) -> io::Result<T> {
    if result == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

// ---------------------------------------------------------------------------------------------
// File descriptors.

#[cfg(not(windows))]
mod fds {
    use std::os::unix::io::{FromRawFd, OwnedFd, RawFd};

    use super::*;

    /// `MSG_DONTWAIT`, plus `MSG_NOSIGNAL` where it exists so a closed reader never raises
    /// `SIGPIPE` inside a signal handler.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) const SEND_FLAGS: c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    #[cfg(target_os = "aix")]
    pub(crate) const SEND_FLAGS: c_int = libc::MSG_NONBLOCK;
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "aix")))]
    pub(crate) const SEND_FLAGS: c_int = libc::MSG_DONTWAIT;

    /// Adds `flag` to the flags read with `get` and written with `set` (`F_GETFD`/`F_SETFD` or
    /// `F_GETFL`/`F_SETFL`).
    fn add_flag(fd: RawFd, get: c_int, set: c_int, flag: c_int) -> io::Result<()> {
        // SAFETY: fcntl with these commands only reads or writes the descriptor's flags; an
        // invalid descriptor gives EBADF.
        let old = cvt(unsafe { libc::fcntl(fd, get) })?;
        if old & flag == 0 {
            // SAFETY: as above.
            cvt(unsafe { libc::fcntl(fd, set, old | flag) })?;
        }
        Ok(())
    }

    /// Sets `FD_CLOEXEC`.
    pub(crate) fn set_cloexec(fd: RawFd) -> io::Result<()> {
        add_flag(fd, libc::F_GETFD, libc::F_SETFD, libc::FD_CLOEXEC)
    }

    /// Sets `O_NONBLOCK`.
    pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
        add_flag(fd, libc::F_GETFL, libc::F_SETFL, libc::O_NONBLOCK)
    }

    /// Whether the descriptor is a socket (so `send`/`recv` with `MSG_DONTWAIT` work on it).
    pub(crate) fn is_socket(fd: RawFd) -> io::Result<bool> {
        // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a valid out-pointer for the duration of the call.
        cvt(unsafe { libc::fstat(fd, &mut st) })?;
        Ok(st.st_mode & libc::S_IFMT == libc::S_IFSOCK)
    }

    /// Creates a pipe for the iterator: both ends close-on-exec, the read end blocking (so a
    /// waiting reader needs a single `read`), the write end non-blocking (so a handler never
    /// blocks on a full pipe).
    pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
        let mut fds = [-1 as c_int; 2];
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "freebsd",
            target_os = "dragonfly",
            target_os = "netbsd",
            target_os = "openbsd"
        ))]
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
        #[cfg(not(any(
            target_os = "linux",
            target_os = "android",
            target_os = "freebsd",
            target_os = "dragonfly",
            target_os = "netbsd",
            target_os = "openbsd"
        )))]
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
        // SAFETY: pipe succeeded, so both descriptors are open and owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        use std::os::unix::io::AsRawFd;
        set_cloexec(read.as_raw_fd())?;
        set_cloexec(write.as_raw_fd())?;
        set_nonblocking(write.as_raw_fd())?;
        Ok((read, write))
    }

    /// Sends one byte without blocking and without `SIGPIPE`, ignoring every error (a full
    /// buffer already means the reader will wake up). Async-signal-safe.
    pub(crate) fn send_byte(fd: RawFd) {
        let byte = b'X';
        // SAFETY: the buffer is one valid byte on the stack; errors are ignored on purpose.
        unsafe { libc::send(fd, (&byte as *const u8).cast(), 1, SEND_FLAGS) };
    }

    /// Writes one byte to a non-blocking descriptor, ignoring every error. Async-signal-safe.
    pub(crate) fn write_byte(fd: RawFd) {
        let byte = b'X';
        // SAFETY: the buffer is one valid byte on the stack; errors are ignored on purpose.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }

    /// One blocking `read` into `buf`, retried on `EINTR`. Returns the number of bytes read
    /// (0 at end of file).
    #[cfg(feature = "iterator")]
    pub(crate) fn read_blocking(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Empties the read end without ever blocking: `recv(MSG_DONTWAIT)` on sockets, `poll` with
    /// a zero timeout and `read` on anything else. Errors are ignored: the worst outcome is a
    /// spurious wake-up later.
    pub(crate) fn drain(fd: RawFd, socket: bool) {
        let mut buf = [0u8; 256];
        loop {
            if socket {
                // SAFETY: `buf` is valid for writes of its length.
                let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), SEND_FLAGS) };
                if n <= 0 {
                    return;
                }
            } else {
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: `pfd` is one valid pollfd.
                let ready = unsafe { libc::poll(&mut pfd, 1, 0) };
                if ready <= 0 || pfd.revents & libc::POLLIN == 0 {
                    return;
                }
                // SAFETY: `buf` is valid for writes of its length.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if n <= 0 {
                    return;
                }
            }
        }
    }
}

#[cfg(not(windows))]
pub(crate) use fds::*;

// ---------------------------------------------------------------------------------------------
// siginfo_t fields, read in Rust (no C shim).

/// The `si_code` of a `siginfo_t`. Async-signal-safe.
#[cfg(all(
    feature = "extended-siginfo-raw",
    not(windows),
    not(any(target_os = "netbsd", target_os = "openbsd"))
))]
pub(crate) fn si_code(info: &libc::siginfo_t) -> c_int {
    info.si_code
}

/// The `si_code` of a `siginfo_t`. Async-signal-safe.
#[cfg(all(
    feature = "extended-siginfo-raw",
    any(target_os = "netbsd", target_os = "openbsd")
))]
pub(crate) fn si_code(info: &libc::siginfo_t) -> c_int {
    // SAFETY: the accessor reads a field every siginfo_t has.
    unsafe { info.si_code() }
}

#[cfg(all(not(windows), feature = "extended-siginfo-raw"))]
pub(crate) use siginfo::*;

#[cfg(all(not(windows), feature = "extended-siginfo-raw"))]
mod siginfo {
    /// `by_platform!(all { items })` keeps the items on the platforms whose libc gives access
    /// to `si_pid`, `si_uid`, `si_status` and `si_value`; `by_platform!(not { items })` on the
    /// others. The one list of those platforms.
    macro_rules! by_platform {
        ($keep:ident { $($item:item)* }) => {
            $(
                #[cfg($keep(any(
                    target_os = "linux",
                    target_os = "android",
                    target_os = "macos",
                    target_os = "ios",
                    target_os = "freebsd",
                    target_os = "dragonfly",
                    target_os = "netbsd",
                    target_os = "openbsd"
                )))]
                $item
            )*
        };
    }

    by_platform!(all {
        /// Whether this platform's libc gives access to `si_pid`, `si_uid`, `si_status` and
        /// `si_value`.
        pub(crate) const HAS_FIELDS: bool = true;

        /// The fields, read through libc's accessors.
        mod fields {
            use libc::{c_int, siginfo_t};

            /// One accessor: `$name(info)` reads `info.$name()`.
            macro_rules! field {
                ($name:ident -> $ty:ty) => {
                    /// Reads the field of that name. Async-signal-safe.
                    ///
                    /// # Safety
                    ///
                    /// `info` must come from the kernel (or be built consistently): its
                    /// `si_signo` and `si_code` must say this member of the union is filled in.
                    pub(crate) unsafe fn $name(info: &siginfo_t) -> $ty {
                        // SAFETY: forwarded to the caller (see `# Safety`).
                        unsafe { info.$name() }
                    }
                };
            }
            field!(si_pid -> libc::pid_t);
            field!(si_uid -> libc::uid_t);
            field!(si_status -> c_int);

            /// `si_value` as `(sival_int, sival_ptr as usize)`. Async-signal-safe.
            ///
            /// # Safety
            ///
            /// `info` must come from the kernel (or be built consistently): its `si_code` must
            /// say the signal was queued (`SI_QUEUE`, `SI_MESGQ`, timers).
            pub(crate) unsafe fn si_value(info: &siginfo_t) -> (c_int, usize) {
                // SAFETY: forwarded to the caller.
                let value: libc::sigval = unsafe { info.si_value() };
                // In C, `union sigval { int sival_int; void *sival_ptr; }`: both members start
                // at offset 0, so the int is the first `c_int` of the union's bytes on every
                // ABI.
                // SAFETY: `libc::sigval` is at least as large as a c_int and suitably aligned.
                let int =
                    unsafe { std::ptr::read((&value as *const libc::sigval).cast::<c_int>()) };
                (int, value.sival_ptr as usize)
            }
        }
    });

    by_platform!(not {
        /// Whether this platform's libc gives access to `si_pid`, `si_uid`, `si_status` and
        /// `si_value`.
        pub(crate) const HAS_FIELDS: bool = false;

        /// The fields: not readable on this platform, so always the default values.
        mod fields {
            use libc::{c_int, pid_t, siginfo_t, uid_t};

            /// `si_pid`: 0 here.
            ///
            /// # Safety
            ///
            /// None on this platform.
            pub(crate) unsafe fn si_pid(_: &siginfo_t) -> pid_t {
                0
            }

            /// `si_uid`: 0 here.
            ///
            /// # Safety
            ///
            /// None on this platform.
            pub(crate) unsafe fn si_uid(_: &siginfo_t) -> uid_t {
                0
            }

            /// `si_status`: 0 here.
            ///
            /// # Safety
            ///
            /// None on this platform.
            pub(crate) unsafe fn si_status(_: &siginfo_t) -> c_int {
                0
            }

            /// `si_value`: `(0, 0)` here.
            ///
            /// # Safety
            ///
            /// None on this platform.
            pub(crate) unsafe fn si_value(_: &siginfo_t) -> (c_int, usize) {
                (0, 0)
            }
        }
    });

    pub(crate) use fields::{si_pid, si_status, si_uid, si_value};
}

/// What `si_code` says about a signal, decoded with this platform's constants.
///
/// The `SI_*` causes (`Kernel` … `MesgQ`) are only decoded on Linux and Android, the systems
/// for which `libc` names those codes: elsewhere they are never built, hence the narrow
/// `allow`.
#[cfg(all(feature = "extended-siginfo-raw", not(windows)))]
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    Unknown,
    Kernel,
    User,
    TKill,
    Queue,
    MesgQ,
    Exited,
    Killed,
    Dumped,
    Trapped,
    Stopped,
    Continued,
}

/// Decodes `si_code` of a signal `signo`. The `CLD_*` codes only mean something for
/// `SIGCHLD` (for other signals the same numbers are fault codes). Async-signal-safe.
#[cfg(all(feature = "extended-siginfo-raw", not(windows)))]
pub(crate) fn decode_code(signo: c_int, code: c_int) -> Code {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        match code {
            libc::SI_KERNEL => return Code::Kernel,
            libc::SI_USER => return Code::User,
            libc::SI_TKILL => return Code::TKill,
            libc::SI_QUEUE => return Code::Queue,
            libc::SI_MESGQ => return Code::MesgQ,
            _ => {}
        }
    }
    if signo == libc::SIGCHLD {
        return match code {
            libc::CLD_EXITED => Code::Exited,
            libc::CLD_KILLED => Code::Killed,
            libc::CLD_DUMPED => Code::Dumped,
            libc::CLD_TRAPPED => Code::Trapped,
            libc::CLD_STOPPED => Code::Stopped,
            libc::CLD_CONTINUED => Code::Continued,
            _ => Code::Unknown,
        };
    }
    Code::Unknown
}

/// Whether the platform fills `si_pid`/`si_uid` without a meaningful `si_code` (Apple), so
/// they are read whenever non-zero.
#[cfg(all(feature = "extended-siginfo-raw", not(windows)))]
pub(crate) const PROCESS_WITHOUT_CODE: bool = cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos"
));
