//! Unix: handler actions registered through the registry, a pipe for waking, POSIX timers (or
//! a thread) for the deadline.
//!
//! The handler action (`on_signal`) is the only code here that runs in a signal handler. It
//! uses one compare-and-swap, `write` on a non-blocking pipe, `timer_settime` and, for a
//! second signal, [`die_by_signal`]: all async-signal-safe. It reads `Shared` through the
//! `Arc<Inner>` its closure owns (a dereference, no reference counting; the closure is dropped
//! by `unregister`, in a normal thread).
//!
//! Why `timer_settime` for the deadline: it is on POSIX's list of async-signal-safe functions,
//! so the handler can arm a timer created beforehand, and the timer delivers the first signal
//! itself (which then takes the "second signal" path and kills by it). `alarm` is on the list
//! too, but it has one-second resolution and there is one per process, so it would replace a
//! program's own `alarm` (and `SIGALRM` kills by `SIGALRM`, not by the first signal);
//! `setitimer` is not on the list.
//!
//! The byte written on the first request is never read: the pipe stays readable, so any number
//! of blocking waiters and the waker thread see it with `poll`. A byte that arrives without a
//! request of ours (a forked child's handler writes to the shared pipe) is read away by the
//! waiter that sees it; if a request is found right after, the waiter writes a byte back so no
//! other waiter misses it.

use std::io;
use std::os::unix::io::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use libc::c_int;
use sigmux_registry::{Options, Registration};

use super::{Cause, Inner};
use crate::low_level::die_by_signal;
use crate::sys;

/// The platform part of `Inner`: what the handler action and the waiters use.
pub(crate) struct Shared {
    read: OwnedFd,
    write: OwnedFd,
    /// One timer per signal, created before any handler can run and never changed after.
    timers: Vec<(c_int, Timer)>,
    deadline: Option<Duration>,
}

impl Shared {
    pub(crate) fn new(signals: &[c_int], deadline: Option<Duration>) -> io::Result<Shared> {
        let (read, write) = sys::pipe()?;
        sys::set_nonblocking(read.as_raw_fd())?;
        let mut timers = Vec::new();
        if let Some(deadline) = deadline {
            if Timer::AVAILABLE {
                for &signal in signals {
                    timers.push((signal, Timer::new(signal, deadline)?));
                }
            }
        }
        Ok(Shared {
            read,
            write,
            timers,
            deadline,
        })
    }
}

/// The handler action of `signal`. Async-signal-safe: see the module docs.
fn on_signal(inner: &Inner, signal: c_int) {
    if inner.try_request(Cause::Signal(signal)) {
        if let Some((_, timer)) = inner.sys.timers.iter().find(|(s, _)| *s == signal) {
            timer.arm();
        }
        sys::write_byte(inner.sys.write.as_raw_fd());
    } else {
        // A second termination signal (or one after the program's own request): now.
        die_by_signal(signal);
    }
}

/// What `Shutdown` owns: the registrations.
pub(crate) struct Installed {
    registrations: Vec<Registration>,
}

impl Installed {
    pub(crate) fn install(
        inner: &Arc<Inner>,
        signals: &[c_int],
        deadline: Option<Duration>,
        take_ignored: bool,
    ) -> io::Result<Installed> {
        let mut registrations = Vec::with_capacity(signals.len());
        for &signal in signals {
            let action = |inner: Arc<Inner>| move || on_signal(&inner, signal);
            let keep = Options::new().keep_ignored(!take_ignored);
            // SAFETY: `on_signal` is async-signal-safe (module docs); the closure owns an Arc
            // that it only dereferences, and is dropped by `unregister`, outside handlers.
            let id = match unsafe {
                sigmux_registry::try_register(signal, keep.restore(true), action(Arc::clone(inner)))
            } {
                Ok(id) => id,
                // The signal was validated, so `InvalidInput` means sigmux handles it already
                // with other options (without `restore`): join it as it is, asking for nothing
                // but the override of a kept ignore if wanted. It stays caught after we leave.
                Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                    let join = if take_ignored {
                        Options::new().keep_ignored(false)
                    } else {
                        Options::new()
                    };
                    // SAFETY: as above.
                    unsafe {
                        sigmux_registry::try_register(signal, join, action(Arc::clone(inner)))
                    }?
                }
                Err(e) => return Err(e),
            };
            registrations.push(Registration::from(id));
        }
        if deadline.is_some() && !Timer::AVAILABLE {
            let inner = Arc::clone(inner);
            thread::Builder::new()
                .name("sigmux-shutdown-deadline".into())
                .spawn(move || deadline_thread(&inner))?;
        }
        Ok(Installed { registrations })
    }

    pub(crate) fn uninstall(&mut self) {
        // Each drop unregisters: when it returns, the action runs nowhere.
        self.registrations.clear();
    }
}

/// Waits for a request until `deadline`; `None` on timeout or when closed.
pub(crate) fn wait(inner: &Inner, deadline: Option<Instant>) -> Option<Cause> {
    let fd = inner.sys.read.as_raw_fd();
    loop {
        if let Some(cause) = inner.cause() {
            return Some(cause);
        }
        if inner.closed.load(Ordering::SeqCst) {
            return None;
        }
        let timeout = match deadline {
            None => -1,
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return None;
                }
                // Rounded up, so we never wake before the deadline and spin.
                let left = deadline - now;
                let ms = left.as_millis() + u128::from(left.subsec_nanos() % 1_000_000 != 0);
                c_int::try_from(ms).unwrap_or(c_int::MAX)
            }
        };
        if readable(fd, timeout) && inner.cause().is_none() && !inner.closed.load(Ordering::SeqCst)
        {
            // Not our byte (a forked child's): read it away, then look again.
            sys::drain(fd, false);
            if inner.cause().is_some() || inner.closed.load(Ordering::SeqCst) {
                // We may have read the real byte: put one back for the other waiters.
                sys::write_byte(inner.sys.write.as_raw_fd());
            }
        }
    }
}

/// Whether `fd` became readable within `timeout` milliseconds (-1: no limit). `EINTR` counts
/// as "not yet" (the caller loops).
fn readable(fd: RawFd, timeout: c_int) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut pfd, 1, timeout) };
    n > 0 && pfd.revents & (libc::POLLIN | libc::POLLHUP) != 0
}

/// Wakes the waiters after a request made by the program (not in a handler).
pub(crate) fn notify(inner: &Inner) {
    sys::write_byte(inner.sys.write.as_raw_fd());
    inner.wake_all();
}

/// Disarms the deadline and wakes the helper threads so they see `closed`.
pub(crate) fn notify_closed(inner: &Inner) {
    for (_, timer) in &inner.sys.timers {
        timer.disarm();
    }
    sys::write_byte(inner.sys.write.as_raw_fd());
}

/// Starts the thread that wakes the futures. Returns whether it started.
pub(crate) fn start_waking(inner: &Arc<Inner>) -> bool {
    let inner = Arc::clone(inner);
    thread::Builder::new()
        .name("sigmux-shutdown-waker".into())
        .spawn(move || {
            // Returns on a request or when closed; either way the futures should look.
            let _ = wait(&inner, None);
            inner.wake_all();
        })
        .is_ok()
}

/// Where there are no POSIX timers: waits for the first signal, then until the deadline, then
/// ends the process by that signal (from this ordinary thread).
fn deadline_thread(inner: &Inner) {
    let Some(Cause::Signal(signal)) = wait(inner, None) else {
        return;
    };
    let Some(limit) = inner.sys.deadline else {
        return;
    };
    let end = Instant::now() + limit;
    loop {
        let now = Instant::now();
        if inner.closed.load(Ordering::SeqCst) {
            return;
        }
        if now >= end {
            die_by_signal(signal);
        }
        // Short steps, so a drop of the `Shutdown` is noticed.
        thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(sigmux_shutdown_deadline_thread)
))]
mod timer {
    use std::io;
    use std::time::Duration;

    use libc::c_int;

    /// A POSIX timer that sends `signal` to the process once, `delay` after it is armed.
    pub(crate) struct Timer {
        id: libc::timer_t,
        delay: libc::itimerspec,
    }

    // SAFETY: a `timer_t` is a process-wide kernel handle; the timer calls may be made from any
    // thread.
    unsafe impl Send for Timer {}
    // SAFETY: as above; `arm` only reads.
    unsafe impl Sync for Timer {}

    impl Timer {
        pub(crate) const AVAILABLE: bool = true;

        pub(crate) fn new(signal: c_int, delay: Duration) -> io::Result<Timer> {
            // SAFETY: an all-zero sigevent is a valid value of this plain C struct.
            let mut event: libc::sigevent = unsafe { std::mem::zeroed() };
            event.sigev_notify = libc::SIGEV_SIGNAL;
            event.sigev_signo = signal;
            // SAFETY: an all-zero timer_t (a pointer) is valid storage for timer_create's
            // output.
            let mut id: libc::timer_t = unsafe { std::mem::zeroed() };
            // SAFETY: `event` and `id` are valid for the duration of the call.
            crate::sys::cvt(unsafe {
                libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut id)
            })?;
            // A zero delay would disarm the timer: make it the shortest one instead.
            let nanos = if delay.is_zero() {
                1
            } else {
                delay.subsec_nanos() as libc::c_long
            };
            let delay = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    // Capped to fit a 32-bit `time_t` (`as _`: the type is deprecated on musl).
                    tv_sec: delay.as_secs().min(i32::MAX as u64) as _,
                    tv_nsec: nanos,
                },
            };
            Ok(Timer { id, delay })
        }

        /// Arms the timer. Async-signal-safe (`timer_settime` is on the POSIX list).
        pub(crate) fn arm(&self) {
            // SAFETY: `id` is a live timer (deleted only on drop, after the handler actions are
            // unregistered); `delay` is valid for reads.
            unsafe { libc::timer_settime(self.id, 0, &self.delay, std::ptr::null_mut()) };
        }

        /// Disarms the timer.
        pub(crate) fn disarm(&self) {
            // SAFETY: an all-zero itimerspec (a zero `it_value`) disarms the timer.
            let zero: libc::itimerspec = unsafe { std::mem::zeroed() };
            // SAFETY: `id` is a live timer; `zero` is valid for reads.
            unsafe { libc::timer_settime(self.id, 0, &zero, std::ptr::null_mut()) };
        }
    }

    impl Drop for Timer {
        fn drop(&mut self) {
            // SAFETY: `id` is a live timer, deleted once here.
            unsafe { libc::timer_delete(self.id) };
        }
    }
}

#[cfg(not(all(
    any(target_os = "linux", target_os = "android"),
    not(sigmux_shutdown_deadline_thread)
)))]
mod timer {
    use std::io;
    use std::time::Duration;

    use libc::c_int;

    /// No POSIX timers here: the deadline thread does the job.
    pub(crate) struct Timer(());

    impl Timer {
        pub(crate) const AVAILABLE: bool = false;

        pub(crate) fn new(_signal: c_int, _delay: Duration) -> io::Result<Timer> {
            Ok(Timer(()))
        }

        pub(crate) fn arm(&self) {}

        pub(crate) fn disarm(&self) {}
    }
}

use timer::Timer;
