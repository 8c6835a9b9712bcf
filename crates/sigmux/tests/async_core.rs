//! `backend::AsyncCore` on its own, over a `ReactorPipe` with no reactor at all: the plain read
//! end, "readable" whenever asked (a busy reactor). What every async adapter inherits: signals
//! one at a time, the end after `close`, errors kept and signals unregistered, the readiness
//! cleared after a short read. SIGUSR1/SIGUSR2, under the process-wide test lock.
#![cfg(all(unix, feature = "iterator"))]

use std::fs::File;
use std::io::{Error, ErrorKind, Read};
use std::os::unix::io::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use libc::{SIGUSR1, SIGUSR2};
use sigmux::iterator::backend::{AsyncCore, ReactorPipe};
use sigmux::iterator::exfiltrator::SignalOnly;
use sigmux::low_level::raise;

/// How often a `Plain` was told its pipe is empty; and a switch that makes reads fail.
static CLEARS: AtomicUsize = AtomicUsize::new(0);
static FAIL: AtomicBool = AtomicBool::new(false);

/// The plain read end.
#[derive(Debug)]
struct Plain {
    read: Option<File>,
}

impl ReactorPipe for Plain {
    const NAME: &'static str = "plain";
    const IN_CHILD: &'static str = "make a new one";

    fn new(read: OwnedFd) -> Result<Self, Error> {
        Ok(Plain {
            read: Some(File::from(read)),
        })
    }

    fn try_read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if FAIL.load(Ordering::SeqCst) {
            return Err(Error::new(ErrorKind::Other, "the reactor broke"));
        }
        self.read.as_ref().map_or(Ok(0), |mut read| read.read(buf))
    }

    /// No reactor to wait on: `Pending` (nothing to wake; the test polls again itself).
    fn poll_readable(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Pending
    }

    fn clear_readiness(&mut self) {
        CLEARS.fetch_add(1, Ordering::SeqCst);
    }

    fn abandon(&mut self) {
        std::mem::forget(self.read.take());
    }
}

impl AsRawFd for Plain {
    fn as_raw_fd(&self) -> RawFd {
        self.read.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }
}

fn poll(core: &mut AsyncCore<Plain, SignalOnly>) -> Poll<Option<i32>> {
    let waker = noop_waker();
    core.poll_recv(&mut Context::from_waker(&waker))
}

fn noop_waker() -> std::task::Waker {
    use std::task::{RawWaker, RawWakerVTable};
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: every function of the vtable ignores the (null) data pointer.
    unsafe { std::task::Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

#[test]
fn yields_signals_one_at_a_time_then_pending_and_clears_readiness() {
    let _lock = sigmux_testkit::lock();
    FAIL.store(false, Ordering::SeqCst);
    let mut core = AsyncCore::<Plain, SignalOnly>::open([SIGUSR1, SIGUSR2], SignalOnly).unwrap();
    assert_eq!(poll(&mut core), Poll::Pending);
    raise(SIGUSR2).unwrap();
    raise(SIGUSR1).unwrap();
    let clears = CLEARS.load(Ordering::SeqCst);
    // The batch taken at the first poll is lazy: it sees both signals without a read.
    assert_eq!(poll(&mut core), Poll::Ready(Some(SIGUSR1)));
    assert_eq!(poll(&mut core), Poll::Ready(Some(SIGUSR2)));
    // Then the pipe's two bytes are read at once (a short read), and the readiness cleared.
    assert_eq!(poll(&mut core), Poll::Pending);
    assert_eq!(CLEARS.load(Ordering::SeqCst), clears + 1);
    assert!(!core.is_terminated());
    assert!(core.take_error().is_none());
}

#[test]
fn ends_for_good_after_close() {
    let _lock = sigmux_testkit::lock();
    FAIL.store(false, Ordering::SeqCst);
    let mut core = AsyncCore::<Plain, SignalOnly>::open([SIGUSR1], SignalOnly).unwrap();
    core.handle().close();
    assert_eq!(poll(&mut core), Poll::Ready(None));
    assert!(core.is_terminated());
    raise(SIGUSR1).unwrap();
    assert_eq!(poll(&mut core), Poll::Ready(None));
    assert!(core.take_error().is_none());
}

#[test]
fn an_error_ends_it_keeps_the_error_and_unregisters_its_signals() {
    let _lock = sigmux_testkit::lock();
    FAIL.store(false, Ordering::SeqCst);
    let mut core = AsyncCore::<Plain, SignalOnly>::open([SIGUSR1], SignalOnly).unwrap();
    raise(SIGUSR1).unwrap();
    assert_eq!(poll(&mut core), Poll::Ready(Some(SIGUSR1)));
    FAIL.store(true, Ordering::SeqCst);
    raise(SIGUSR1).unwrap();
    assert_eq!(poll(&mut core), Poll::Ready(None));
    FAIL.store(false, Ordering::SeqCst);
    assert!(core.is_terminated());
    let error = core.take_error().expect("the error is kept");
    assert_eq!(error.to_string(), "the reactor broke");
    assert!(core.take_error().is_none());
    assert!(
        core.handle().add_signal(SIGUSR2).is_err(),
        "unregistered for good"
    );
}
