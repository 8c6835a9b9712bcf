//! Proves the handler side of every pattern is free of allocation: a test-only global
//! allocator aborts the process if it is entered by a thread that is inside a signal handler.
//!
//! "Inside a handler" is marked by two extra actions registered around the action under test:
//! the registry runs a signal's actions in registration order within one handler invocation,
//! so `enter` (registered first) stores the handling thread's `pthread_self` and `leave`
//! (registered last) clears it. Real signals are used, raised in the thread and sent from
//! other threads.
#![cfg(all(unix, feature = "iterator"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use libc::c_int;
use sigmux::iterator::exfiltrator::WithRawSiginfo;
use sigmux::iterator::{Signals, SignalsInfo};
use sigmux::low_level::{self, pipe};
use sigmux::{flag, SigId};

/// The `pthread_self` of the thread currently running the actions under test, or 0.
static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);
/// How many handler invocations were guarded (to prove the guard was active).
static GUARDED: AtomicUsize = AtomicUsize::new(0);

struct Guard;

impl Guard {
    fn check(&self) {
        // SAFETY: pthread_self cannot fail.
        let me = unsafe { libc::pthread_self() } as usize;
        if IN_HANDLER.load(Ordering::SeqCst) == me {
            let msg = b"allocator entered inside a signal handler\n";
            // SAFETY: write and abort are async-signal-safe; the buffer is valid.
            unsafe {
                libc::write(2, msg.as_ptr().cast(), msg.len());
                libc::abort();
            }
        }
    }
}

// SAFETY: forwards to the system allocator after the check.
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.check();
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.check();
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.check();
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.check();
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Guard = Guard;

/// Registers `enter`, then whatever `under_test` registers, then `leave`.
fn guarded<T>(signal: c_int, under_test: impl FnOnce() -> T) -> (T, [SigId; 2]) {
    // SAFETY: both actions are an atomic store or two — async-signal-safe.
    let enter = unsafe {
        low_level::register(signal, || {
            IN_HANDLER.store(libc::pthread_self() as usize, Ordering::SeqCst);
            GUARDED.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    let result = under_test();
    // SAFETY: as above.
    let leave =
        unsafe { low_level::register(signal, || IN_HANDLER.store(0, Ordering::SeqCst)) }.unwrap();
    (result, [enter, leave])
}

fn release(ids: [SigId; 2]) {
    for id in ids {
        assert!(low_level::unregister(id));
    }
}

/// Raises `signal` in this thread, then sends it from another thread.
fn deliver_both_ways(signal: c_int) {
    let before = GUARDED.load(Ordering::SeqCst);
    low_level::raise(signal).unwrap();
    thread::spawn(move || {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(libc::getpid(), signal) };
    })
    .join()
    .unwrap();
    // The raise ran synchronously; the kill may be handled by any thread: wait for it.
    assert!(sigmux_testkit::wait_until(
        std::time::Duration::from_secs(10),
        || GUARDED.load(Ordering::SeqCst) >= before + 2
    ));
}

#[test]
fn flags_do_not_allocate_in_the_handler() {
    let _lock = sigmux_testkit::lock();
    let sig = libc::SIGUSR1;
    let b = Arc::new(AtomicBool::new(false));
    static STATIC_FLAG: AtomicBool = AtomicBool::new(false);
    let n = Arc::new(AtomicUsize::new(0));
    let never = Arc::new(AtomicBool::new(false));
    let (ids, guard) = guarded(sig, || {
        vec![
            flag::register(sig, Arc::clone(&b)).unwrap(),
            flag::register(sig, &STATIC_FLAG).unwrap(),
            flag::register_usize(sig, Arc::clone(&n), 42).unwrap(),
            flag::register_conditional_shutdown(sig, 3, Arc::clone(&never)).unwrap(),
            flag::register_conditional_default(sig, Arc::clone(&never)).unwrap(),
        ]
    });
    deliver_both_ways(sig);
    assert!(b.load(Ordering::SeqCst) && STATIC_FLAG.load(Ordering::SeqCst));
    assert_eq!(n.load(Ordering::SeqCst), 42);
    release(guard);
    for id in ids {
        assert!(low_level::unregister(id));
    }
}

#[test]
fn pipe_does_not_allocate_in_the_handler() {
    let _lock = sigmux_testkit::lock();
    let sig = libc::SIGUSR2;
    let (mut socket_read, socket_write) = UnixStream::pair().unwrap();
    let (pipe_read, pipe_write) = {
        let mut fds = [0 as c_int; 2];
        // SAFETY: `fds` has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        use std::os::unix::io::FromRawFd;
        // SAFETY: freshly created, owned by nobody else.
        unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::os::unix::io::OwnedFd::from_raw_fd(fds[1]),
            )
        }
    };
    let (ids, guard) = guarded(sig, || {
        [
            pipe::register(sig, socket_write).unwrap(),
            pipe::register_raw(sig, pipe_write).unwrap(),
        ]
    });
    deliver_both_ways(sig);
    let mut two = [0u8; 2];
    socket_read.read_exact(&mut two).unwrap();
    (&pipe_read).read_exact(&mut two).unwrap();
    release(guard);
    for id in ids {
        assert!(low_level::unregister(id));
    }
}

#[test]
fn iterator_does_not_allocate_in_the_handler_with_any_exfiltrator() {
    let _lock = sigmux_testkit::lock();
    let sig = libc::SIGWINCH;

    let (mut signals, guard) = guarded(sig, || Signals::new([sig]).unwrap());
    deliver_both_ways(sig);
    assert_eq!(signals.wait().collect::<Vec<_>>(), [sig]);
    release(guard);

    let (mut signals, guard) = guarded(sig, || SignalsInfo::<WithRawSiginfo>::new([sig]).unwrap());
    deliver_both_ways(sig);
    assert!(signals.wait().all(|info| info.si_signo == sig));
    release(guard);

    #[cfg(feature = "extended-siginfo")]
    {
        use sigmux::iterator::exfiltrator::WithOrigin;
        let (mut signals, guard) = guarded(sig, || SignalsInfo::<WithOrigin>::new([sig]).unwrap());
        deliver_both_ways(sig);
        assert!(signals.wait().all(|origin| origin.signal == sig));
        release(guard);
    }

    #[cfg(feature = "extended-siginfo")]
    {
        use sigmux::iterator::exfiltrator::lossless::{Lossless, Record};
        // The ring is allocated here, before the handler can use it; with a capacity of 2 the
        // flood below also takes the full-ring (loss-counting) path inside the handler.
        let lossless = Lossless::new(2);
        let (mut signals, guard) = guarded(sig, || {
            SignalsInfo::with_exfiltrator([sig], lossless.clone()).unwrap()
        });
        for _ in 0..4 {
            deliver_both_ways(sig);
        }
        let mut seen = 0;
        while seen < lossless.handler_runs(sig) {
            for record in signals.pending() {
                match record {
                    Record::Delivered(_) => seen += 1,
                    Record::Lost(lost) => seen += lost.count,
                    _ => unreachable!(),
                }
            }
        }
        assert!(lossless.lost(sig) > 0, "the full-ring path was not taken");
        release(guard);
    }

    // close() runs outside handlers, but signals arriving around it must stay safe too.
    let (signals, guard) = guarded(sig, || Signals::new([sig]).unwrap());
    signals.handle().close();
    deliver_both_ways(sig);
    release(guard);
}

#[test]
fn the_guard_itself_catches_an_allocating_action() {
    // `in_child` takes the test lock itself.
    let outcome = sigmux_testkit::in_child(10, || {
        let sig = libc::SIGUSR1;
        let (_, guard) = guarded(sig, || {
            // SAFETY: deliberately NOT async-signal-safe: it allocates, and must be caught.
            unsafe { low_level::register(sig, || drop(std::hint::black_box(Box::new(1u64)))) }
                .unwrap()
        });
        low_level::raise(sig).unwrap();
        release(guard);
        0
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Signaled(libc::SIGABRT));
}

#[test]
fn shutdown_does_not_allocate_in_the_handler() {
    use sigmux::shutdown::{Cause, Shutdown};
    use std::time::Duration;
    let _lock = sigmux_testkit::lock();
    let sig = libc::SIGUSR1;
    // The first signal: request, arm the deadline timer, write the pipe.
    let (shutdown, guard) = guarded(sig, || {
        Shutdown::builder()
            .signal(sig)
            .deadline(Duration::from_secs(3600))
            .install()
            .unwrap()
    });
    let before = GUARDED.load(Ordering::SeqCst);
    low_level::raise(sig).unwrap();
    assert_eq!(GUARDED.load(Ordering::SeqCst), before + 1);
    assert_eq!(shutdown.cause(), Some(Cause::Signal(sig)));
    release(guard);
    drop(shutdown); // disarms the deadline, restores SIGUSR1, SIGTERM and SIGINT
}

#[test]
fn shutdown_second_signal_dies_without_allocating() {
    // The second signal ends the process by itself from inside the handler: SIGUSR1, not the
    // guard's SIGABRT. (`in_child` takes the test lock itself.)
    let outcome = sigmux_testkit::in_child(10, || {
        let sig = libc::SIGUSR1;
        let (_shutdown, _guard) = guarded(sig, || {
            sigmux::Shutdown::builder()
                .signal(sig)
                .deadline(std::time::Duration::from_secs(3600))
                .install()
                .unwrap()
        });
        low_level::raise(sig).unwrap();
        // Sent from another thread, handled wherever the kernel likes.
        thread::spawn(move || {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(libc::getpid(), sig) };
        })
        .join()
        .unwrap();
        thread::sleep(std::time::Duration::from_secs(5));
        0
    });
    assert_eq!(outcome, sigmux_testkit::Outcome::Signaled(libc::SIGUSR1));
}

#[test]
fn child_watchers_sigchld_action_does_not_allocate_in_the_handler() {
    use sigmux::child::{Children, Mechanism, Options};
    let _lock = sigmux_testkit::lock();
    let sig = libc::SIGCHLD;
    let (children, guard) = guarded(sig, || {
        // The SIGCHLD action is registered by the constructor (the fallback path, and the
        // orphan reaper on either path).
        Children::with_options(Options::new().mechanism(Mechanism::Sigchld)).unwrap()
    });
    deliver_both_ways(sig);
    // And a real child's exit.
    let before = GUARDED.load(Ordering::SeqCst);
    let pid = children
        .watch(std::process::Command::new("true").spawn().unwrap())
        .unwrap();
    let exit = children.wait().unwrap().unwrap();
    assert_eq!((exit.pid(), exit.status().code()), (pid, Some(0)));
    assert!(sigmux_testkit::wait_until(
        std::time::Duration::from_secs(10),
        || GUARDED.load(Ordering::SeqCst) > before
    ));
    release(guard);
    drop(children);
}
