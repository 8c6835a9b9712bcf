//! Clocks, CPU pinning and the raw libc calls the measurements share (one `-1` check).

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use libc::c_int;

/// Turns a libc `-1` return into the current `io::Error`.
fn check(ret: c_int) -> io::Result<c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn now(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both clocks used here always exist on
    // Linux, so the call cannot fail.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// CPU time consumed by the calling thread, in nanoseconds (user and system, including the
/// kernel's signal delivery work done on this thread's behalf).
pub(crate) fn thread_cpu_ns() -> u64 {
    now(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// Monotonic wall clock in nanoseconds, comparable across the threads of a process.
pub(crate) fn mono_ns() -> u64 {
    now(libc::CLOCK_MONOTONIC)
}

/// Pins the calling thread (and the threads it creates later) to one CPU.
pub(crate) fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET only writes inside the set
    // (it ignores numbers beyond its capacity) and sched_setaffinity reads `size_of` bytes.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        check(libc::sched_setaffinity(
            0,
            std::mem::size_of::<libc::cpu_set_t>(),
            &set,
        ))?;
    }
    Ok(())
}

/// Whether the calling thread may run on `cpu` (per its current affinity mask).
pub(crate) fn cpu_allowed(cpu: usize) -> bool {
    // SAFETY: an all-zero cpu_set_t is valid; sched_getaffinity writes at most `size_of`
    // bytes into it; CPU_ISSET is only reached for numbers inside the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0
            && cpu < libc::CPU_SETSIZE as usize
            && libc::CPU_ISSET(cpu, &set)
    }
}

/// The first CPU the calling thread may run on.
pub(crate) fn first_allowed_cpu() -> Option<usize> {
    (0..libc::CPU_SETSIZE as usize).find(|&c| cpu_allowed(c))
}

/// Sends `signal` to the calling thread; its handler has run when this returns.
pub(crate) fn raise(signal: c_int) {
    // SAFETY: raise has no memory-safety preconditions.
    unsafe { libc::raise(signal) };
}

/// Sends `signal` to the whole process (the kernel picks the receiving thread).
pub(crate) fn kill_self(signal: c_int) {
    // SAFETY: kill has no memory-safety preconditions; the target is this process.
    unsafe { libc::kill(libc::getpid(), signal) };
}

/// Per-signal hit counters of [`raw_handler`].
pub(crate) static RAW_HITS: [AtomicUsize; 65] = [const { AtomicUsize::new(0) }; 65];

/// The floor: a bare `SA_SIGINFO` handler that increments one atomic counter.
/// Async-signal-safe (one atomic add, no panic path).
extern "C" fn raw_handler(signal: c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    if let Some(hits) = usize::try_from(signal).ok().and_then(|i| RAW_HITS.get(i)) {
        hits.fetch_add(1, Relaxed);
    }
}

/// Installs `handler` for `signal` with the flags the registries use
/// (`SA_SIGINFO | SA_RESTART`).
pub(crate) fn install(
    signal: c_int,
    handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut libc::c_void),
) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is a valid starting value; the handler is an
    // `extern "C"` function of the three-argument form that SA_SIGINFO announces.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = handler as libc::sighandler_t;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        check(libc::sigemptyset(&mut act.sa_mask))?;
        check(libc::sigaction(signal, &act, std::ptr::null_mut()))?;
    }
    Ok(())
}

/// Installs the counting floor handler for `signal`.
pub(crate) fn install_raw(signal: c_int) -> io::Result<()> {
    install(signal, raw_handler)
}

/// Blocks `signals` in the calling thread (threads created afterwards inherit the mask).
pub(crate) fn block(signals: &[c_int]) -> io::Result<()> {
    // SAFETY: the set is initialised by sigemptyset before use and only read by the call.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        check(libc::sigemptyset(&mut set))?;
        for &s in signals {
            check(libc::sigaddset(&mut set, s))?;
        }
        let ret = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if ret != 0 {
            return Err(io::Error::from_raw_os_error(ret));
        }
    }
    Ok(())
}

/// `read` that retries on `EINTR`.
pub(crate) fn read(fd: c_int, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: the pointer and length describe `buf`, which is writable.
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

/// Whether `fd` is readable right now (a zero-timeout `poll`).
pub(crate) fn readable(fd: c_int) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let n = check(unsafe { libc::poll(&mut pfd, 1, 0) })?;
    Ok(n > 0)
}

/// Makes a pipe with `O_CLOEXEC` and the given extra flags on both ends.
pub(crate) fn pipe(flags: c_int) -> io::Result<[c_int; 2]> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | flags) })?;
    Ok(fds)
}

/// Sets `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: c_int) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    unsafe {
        let flags = check(libc::fcntl(fd, libc::F_GETFL))?;
        check(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(())
}

/// Makes a `signalfd` for `signals` (which must be blocked in every thread).
pub(crate) fn signalfd(signals: &[c_int]) -> io::Result<c_int> {
    // SAFETY: the set is initialised by sigemptyset before use and only read by the call.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        check(libc::sigemptyset(&mut set))?;
        for &s in signals {
            check(libc::sigaddset(&mut set, s))?;
        }
        check(libc::signalfd(-1, &set, libc::SFD_CLOEXEC))
    }
}

/// Arms an `alarm` watchdog: the process dies by `SIGALRM` after `secs` seconds.
pub(crate) fn watchdog(secs: u32) {
    // SAFETY: alarm has no memory-safety preconditions.
    unsafe { libc::alarm(secs) };
}
