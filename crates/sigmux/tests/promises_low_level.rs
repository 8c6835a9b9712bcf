//! Promises of `low_level` (and of the `flag` functions built on it) that no other test pins
//! down: the bare OS errors of `raise` and `emulate_default_handler`, what `exit`,
//! `die_by_signal` and an armed `register_conditional_shutdown` skip (atexit hooks,
//! destructors, C stdio buffers), `emulate_default_handler` of a stop signal, and that the
//! functions documented as async-signal-safe do not allocate inside a handler.
//!
//! Every scenario runs in a forked child (`in_child`, alarm watchdog). The allocation guard
//! below is process-wide and armed only inside those children, which have a single thread.
#![cfg(unix)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::ErrorKind;
use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;

use libc::c_int;
use sigmux::low_level;
use sigmux_testkit::{in_child, Outcome};

// ---------------------------------------------------------------------------------------------
// An allocator that aborts when entered while `IN_HANDLER` is set (set by the action under test
// around the calls it checks).

static IN_HANDLER: AtomicBool = AtomicBool::new(false);

struct Guard;

impl Guard {
    fn check(&self) {
        if IN_HANDLER.load(Ordering::SeqCst) {
            let msg = b"promises_low_level: allocation inside a signal handler\n";
            // SAFETY: write and abort are async-signal-safe; the buffer is valid.
            unsafe {
                libc::write(2, msg.as_ptr().cast(), msg.len());
                libc::abort();
            }
        }
    }
}

// SAFETY: forwards every call to the system allocator unchanged, after a check that does not
// allocate.
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.check();
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.check();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.check();
        // SAFETY: `ptr` came from `System` through this allocator, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.check();
        // SAFETY: as for `dealloc`, and the caller's contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Guard = Guard;

// ---------------------------------------------------------------------------------------------
// Errors.

#[test]
fn raise_of_a_bad_number_is_the_bare_einval() {
    for sig in [-1, 1000, c_int::MAX] {
        let err = low_level::raise(sig).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", sig);
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{}", sig);
        // No message of ours (building one would allocate).
        assert!(err.get_ref().is_none(), "{}: {:?}", sig, err);
    }
}

#[test]
fn emulate_default_handler_of_an_unknown_signal_is_the_bare_einval() {
    let unknown = [-1, 0, 1000, c_int::MAX];
    #[cfg(target_os = "linux")]
    let unknown = [
        unknown[0],
        unknown[1],
        unknown[2],
        unknown[3],
        libc::SIGRTMIN(),
    ];
    for sig in unknown {
        let err = low_level::emulate_default_handler(sig).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", sig);
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{}", sig);
        assert!(err.get_ref().is_none(), "{}: {:?}", sig, err);
    }
}

// ---------------------------------------------------------------------------------------------
// What `exit`, `die_by_signal` and an armed conditional shutdown skip.

/// The write end of the witness pipe, for the atexit hook.
static WITNESS: AtomicI32 = AtomicI32::new(-1);

fn note(byte: u8) {
    // SAFETY: writing one valid byte to a descriptor (an error is ignored: the test then sees
    // nothing, which it reports).
    unsafe { libc::write(WITNESS.load(Ordering::SeqCst), [byte].as_ptr().cast(), 1) };
}

extern "C" fn atexit_hook() {
    note(b'A');
}

/// Writes `D` to the witness when dropped.
struct Destructor;

impl Drop for Destructor {
    fn drop(&mut self) {
        note(b'D');
    }
}

/// In the child: registers an atexit hook that writes `A`, and leaves `F` in a C stdio buffer
/// (a `FILE` on a pipe is fully buffered) that only a flush delivers.
fn arm_witness(write_fd: c_int) {
    WITNESS.store(write_fd, Ordering::SeqCst);
    // SAFETY: registering a valid `extern "C" fn`; `fdopen` of a fresh duplicate that the
    // `FILE` then owns; `fwrite` of one valid byte into it.
    unsafe {
        assert_eq!(libc::atexit(atexit_hook), 0);
        let file = libc::fdopen(libc::dup(write_fd), b"w\0".as_ptr().cast());
        assert!(!file.is_null());
        assert_eq!(libc::fwrite(b"F".as_ptr().cast(), 1, 1, file), 1);
    }
}

/// Runs `end` in a forked child after arming the witness with a live [`Destructor`]; returns
/// how the child ended and what the witness received.
fn witnessed(end: impl FnOnce() -> i32) -> (Outcome, String) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fresh descriptors owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let write_fd = write.as_raw_fd();
    let outcome = in_child(20, move || {
        arm_witness(write_fd);
        let _destructor = Destructor;
        end()
    });
    drop(write);
    // Read what the (dead) child wrote, without waiting for end of file: other tests' forked
    // children may hold a copy of the write end for a moment.
    // SAFETY: setting O_NONBLOCK on our own descriptor.
    unsafe { libc::fcntl(read.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    let mut buf = [0u8; 16];
    // SAFETY: `buf` is valid for writes of its length.
    let n = unsafe { libc::read(read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    let got = String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned();
    (outcome, got)
}

#[test]
fn the_witness_sees_atexit_hooks_stdio_flushes_and_destructors() {
    // The detector itself: `libc::exit` runs the hook and flushes; leaving the scope drops.
    let (outcome, got) = witnessed(|| {
        // SAFETY: ends the forked child the ordinary C way.
        unsafe { libc::exit(7) }
    });
    assert_eq!(outcome, Outcome::Exited(7));
    assert!(got.contains('A') && got.contains('F'), "{:?}", got);
    let (outcome, got) = witnessed(|| 0);
    assert_eq!(outcome, Outcome::Exited(0));
    assert_eq!(got, "D");
}

#[test]
fn exit_runs_no_atexit_hook_no_destructor_and_flushes_no_stdio_buffer() {
    let (outcome, got) = witnessed(|| low_level::exit(7));
    assert_eq!((outcome, got.as_str()), (Outcome::Exited(7), ""));
}

#[test]
fn an_armed_conditional_shutdown_exits_like_exit() {
    let (outcome, got) = witnessed(|| {
        let armed = Arc::new(AtomicBool::new(true));
        sigmux::flag::register_conditional_shutdown(libc::SIGUSR1, 5, armed).unwrap();
        low_level::raise(libc::SIGUSR1).unwrap();
        99
    });
    assert_eq!((outcome, got.as_str()), (Outcome::Exited(5), ""));
}

#[test]
fn die_by_signal_runs_no_atexit_hook_no_destructor_and_flushes_no_stdio_buffer() {
    let (outcome, got) = witnessed(|| low_level::die_by_signal(libc::SIGTERM));
    assert_eq!(
        (outcome, got.as_str()),
        (Outcome::Signaled(libc::SIGTERM), "")
    );
    // Also on the `128 + signal` exit path of a signal that does not kill.
    let (outcome, got) = witnessed(|| low_level::die_by_signal(libc::SIGWINCH));
    assert_eq!(
        (outcome, got.as_str()),
        (Outcome::Exited(128 + libc::SIGWINCH), "")
    );
}

// ---------------------------------------------------------------------------------------------
// emulate_default_handler of a stop signal: stops by SIGSTOP, returns once continued.

#[test]
fn emulate_default_handler_of_a_stop_signal_stops_and_returns_ok_once_continued() {
    // A custom fork: the parent must see the stop (in_child's wait does not report stops).
    let _serial = sigmux_testkit::lock();
    // SAFETY: the child runs only async-signal-safe code (the function under test is
    // documented as such) and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: alarm and _exit are async-signal-safe.
        unsafe { libc::alarm(20) };
        let code = match low_level::emulate_default_handler(libc::SIGTSTP) {
            Ok(()) => 0,
            Err(_) => 1,
        };
        // SAFETY: as above.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    loop {
        // SAFETY: our child; a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.raw_os_error(), Some(libc::EINTR), "waitpid: {}", err);
    }
    assert!(libc::WIFSTOPPED(status), "not stopped: {:#x}", status);
    assert_eq!(libc::WSTOPSIG(status), libc::SIGSTOP);
    // SAFETY: continuing our own stopped child.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    assert_eq!(sigmux_testkit::wait_for(pid), Outcome::Exited(0));
}

// ---------------------------------------------------------------------------------------------
// Async-signal-safe: no allocation inside a handler.

#[test]
fn async_signal_safe_helpers_do_not_allocate_in_a_handler() {
    static RESULTS: AtomicUsize = AtomicUsize::new(0);
    let outcome = in_child(20, || {
        // SAFETY: the action is what is under test: documented async-signal-safe calls,
        // checked by the allocation guard, and atomic stores.
        unsafe {
            low_level::register(libc::SIGUSR1, || {
                IN_HANDLER.store(true, Ordering::SeqCst);
                let mut ok = 0;
                if low_level::raise(-1).is_err() {
                    ok += 1;
                }
                if low_level::emulate_default_handler(1000).is_err() {
                    ok += 1;
                }
                if low_level::emulate_default_handler(libc::SIGCHLD).is_ok() {
                    ok += 1;
                }
                if low_level::signal_name(libc::SIGTERM) == Some("SIGTERM") {
                    ok += 1;
                }
                if low_level::signal_name(1000).is_none() {
                    ok += 1;
                }
                IN_HANDLER.store(false, Ordering::SeqCst);
                RESULTS.store(ok, Ordering::SeqCst);
            })
        }
        .unwrap();
        low_level::raise(libc::SIGUSR1).unwrap();
        RESULTS.load(Ordering::SeqCst) as i32
    });
    assert_eq!(outcome, Outcome::Exited(5));
}

#[test]
#[cfg_attr(
    sigmux_tsan,
    ignore = "ThreadSanitizer defers the handler past the scenario's return: the child exits first"
)]
fn emulate_default_handler_in_a_handler_dies_by_the_signal_without_allocating() {
    // An allocation would abort (SIGABRT) instead.
    let outcome = in_child(20, || {
        // SAFETY: as above; the call ends the process.
        unsafe {
            low_level::register(libc::SIGTERM, || {
                IN_HANDLER.store(true, Ordering::SeqCst);
                let _ = low_level::emulate_default_handler(libc::SIGTERM);
            })
        }
        .unwrap();
        low_level::raise(libc::SIGTERM).unwrap();
        99
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGTERM));
}

#[test]
fn armed_conditional_default_and_shutdown_do_not_allocate_in_the_handler() {
    let outcome = in_child(20, || {
        let armed = Arc::new(AtomicBool::new(true));
        // SAFETY: one atomic store.
        unsafe { low_level::register(libc::SIGTERM, || IN_HANDLER.store(true, Ordering::SeqCst)) }
            .unwrap();
        sigmux::flag::register_conditional_default(libc::SIGTERM, Arc::clone(&armed)).unwrap();
        low_level::raise(libc::SIGTERM).unwrap();
        99
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGTERM));
    let outcome = in_child(20, || {
        let armed = Arc::new(AtomicBool::new(true));
        // SAFETY: one atomic store.
        unsafe { low_level::register(libc::SIGUSR2, || IN_HANDLER.store(true, Ordering::SeqCst)) }
            .unwrap();
        sigmux::flag::register_conditional_shutdown(libc::SIGUSR2, 6, Arc::clone(&armed)).unwrap();
        low_level::raise(libc::SIGUSR2).unwrap();
        99
    });
    assert_eq!(outcome, Outcome::Exited(6));
}

#[test]
fn the_guard_catches_an_allocating_action() {
    let outcome = in_child(20, || {
        // SAFETY: deliberately not async-signal-safe: the guard must abort the child.
        unsafe {
            low_level::register(libc::SIGUSR1, || {
                IN_HANDLER.store(true, Ordering::SeqCst);
                drop(std::hint::black_box(Box::new(1u64)));
                IN_HANDLER.store(false, Ordering::SeqCst);
            })
        }
        .unwrap();
        low_level::raise(libc::SIGUSR1).unwrap();
        0
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGABRT));
}
