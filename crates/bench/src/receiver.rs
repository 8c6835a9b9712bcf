//! Everything that waits for a signal — hand-written floors, blocking iterators and async
//! streams — behind one interface, so that the wake-up, flood and footprint measurements
//! are written once.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::task::Poll;
use std::time::Duration;

use futures_lite::{Stream, StreamExt};
use libc::{c_int, SIGUSR1, SIGUSR2};

use crate::alloc::Meter;
use crate::imp::Imp;
use crate::sys;

/// Something a thread can wait on for signals.
pub(crate) trait Receiver {
    /// Waits for `n` deliveries, calling `on_wake` with the signal number of each as soon
    /// as the waiting code sees it.
    fn serve(&mut self, n: usize, on_wake: &mut dyn FnMut(c_int)) -> io::Result<()>;

    /// Everything reported from now until nothing new has come for `idle`.
    fn drain(&mut self, idle: Duration) -> io::Result<Vec<c_int>>;
}

/// Process-wide preparation, before any thread is spawned: `signalfd` needs its signals
/// blocked in every thread.
pub(crate) fn prepare_process(imp: Imp, signals: &[c_int]) -> io::Result<()> {
    match imp {
        Imp::Signalfd => sys::block(signals),
        _ => Ok(()),
    }
}

/// Creates `imp`'s receiver for `signals`; `meter` brackets only the creation of the
/// listening object (a runtime it needs is made before).
pub(crate) fn open(
    imp: Imp,
    signals: &[c_int],
    meter: &mut Meter,
) -> io::Result<Box<dyn Receiver>> {
    Ok(match imp {
        Imp::Futex => Box::new(FutexRx),
        Imp::Signalfd => Box::new(RecordsRx(SignalfdRx(metered(meter, || {
            sys::signalfd(signals)
        })?))),
        Imp::RawPipe => Box::new(RecordsRx(metered(meter, || RawPipeRx::new(signals))?)),
        Imp::RawFutex => Box::new(metered(meter, || RawFutexRx::new(signals))?),
        Imp::HookIter => Box::new(BlockingRx(metered(meter, || {
            signal_hook::iterator::Signals::new(signals)
        })?)),
        Imp::SigmuxIter => Box::new(BlockingRx(metered(meter, || {
            sigmux::iterator::Signals::new(signals)
        })?)),
        Imp::TokioSignal => tokio_rx(meter, || tokio_signal_stream(signals))?,
        Imp::HookTokio => tokio_rx(meter, || boxed(signal_hook_tokio::Signals::new(signals)))?,
        Imp::SigmuxTokio => tokio_rx(meter, || boxed(sigmux_tokio::Signals::new(signals)))?,
        Imp::AsyncSignal => async_io_rx(meter, || async_signal_stream(signals))?,
        Imp::HookAsyncStd => async_io_rx(meter, || {
            boxed(signal_hook_async_std::Signals::new(signals))
        })?,
        Imp::SigmuxAsyncStd => {
            async_io_rx(meter, || boxed(sigmux_async_std::Signals::new(signals)))?
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{} is not a receiver", imp.name()),
            ))
        }
    })
}

fn metered<T>(meter: &mut Meter, make: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    meter.start();
    let made = make();
    meter.stop();
    made
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the signal source ended")
}

// ---- the futex floor: no signal at all ----

/// Set by the sender before it unparks the receiving thread.
pub(crate) static FUTEX_GO: AtomicBool = AtomicBool::new(false);

/// Parks until [`FUTEX_GO`] is set (std's park is a futex wait on Linux).
struct FutexRx;

impl Receiver for FutexRx {
    fn serve(&mut self, n: usize, on_wake: &mut dyn FnMut(c_int)) -> io::Result<()> {
        for _ in 0..n {
            while !FUTEX_GO.swap(false, Ordering::Acquire) {
                std::thread::park();
            }
            on_wake(0);
        }
        Ok(())
    }

    fn drain(&mut self, _idle: Duration) -> io::Result<Vec<c_int>> {
        Ok(Vec::new())
    }
}

// ---- descriptors: signalfd and the raw self-pipe ----

/// Reads one record per delivery from a descriptor.
trait Records {
    fn fd(&self) -> c_int;
    /// Reads one record (blocking) and returns its signal number.
    fn read_one(&mut self) -> io::Result<c_int>;
}

/// A [`Records`] source as a receiver.
struct RecordsRx<T>(T);

impl<T: Records> Receiver for RecordsRx<T> {
    fn serve(&mut self, n: usize, on_wake: &mut dyn FnMut(c_int)) -> io::Result<()> {
        for _ in 0..n {
            let signal = self.0.read_one()?;
            on_wake(signal);
        }
        Ok(())
    }

    fn drain(&mut self, _idle: Duration) -> io::Result<Vec<c_int>> {
        // Every handler ran before this is called: what is there is all there will be.
        let mut out = Vec::new();
        while sys::readable(self.0.fd())? {
            out.push(self.0.read_one()?);
        }
        Ok(out)
    }
}

/// A `signalfd` descriptor.
struct SignalfdRx(c_int);

impl Records for SignalfdRx {
    fn fd(&self) -> c_int {
        self.0
    }

    fn read_one(&mut self) -> io::Result<c_int> {
        // SAFETY: signalfd_siginfo is plain data; zeroes are a valid value.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        // SAFETY: the slice covers exactly `info`, which outlives it.
        let buf = unsafe {
            std::slice::from_raw_parts_mut(
                (&mut info as *mut libc::signalfd_siginfo).cast::<u8>(),
                std::mem::size_of::<libc::signalfd_siginfo>(),
            )
        };
        sys::read(self.0, buf)?;
        Ok(info.ssi_signo as c_int)
    }
}

/// Write end of the raw self-pipe, read by the handler.
static PIPE_WR: AtomicI32 = AtomicI32::new(-1);

/// The raw self-pipe handler: writes the signal number as one byte.
/// Async-signal-safe: one atomic load and one `write`; errno is saved and restored.
extern "C" fn pipe_handler(signal: c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let byte = signal as u8;
    // SAFETY: errno is thread-local; we restore what the interrupted code saw. `write`
    // gets a valid one-byte buffer; a failed write (full pipe) only loses a wake-up byte.
    unsafe {
        let errno = *libc::__errno_location();
        libc::write(
            PIPE_WR.load(Ordering::Relaxed),
            (&byte as *const u8).cast(),
            1,
        );
        *libc::__errno_location() = errno;
    }
}

/// The read end of a self-pipe fed by [`pipe_handler`].
struct RawPipeRx(c_int);

impl RawPipeRx {
    fn new(signals: &[c_int]) -> io::Result<RawPipeRx> {
        let [rd, wr] = sys::pipe(0)?;
        sys::set_nonblocking(wr)?;
        PIPE_WR.store(wr, Ordering::Relaxed);
        for &s in signals {
            sys::install(s, pipe_handler)?;
        }
        Ok(RawPipeRx(rd))
    }
}

impl Records for RawPipeRx {
    fn fd(&self) -> c_int {
        self.0
    }

    fn read_one(&mut self) -> io::Result<c_int> {
        let mut byte = [0u8];
        sys::read(self.0, &mut byte)?;
        Ok(c_int::from(byte[0]))
    }
}

// ---- the raw futex handler ----

/// Bumped by [`futex_handler`]; the receiver sleeps on it.
static WAKE_COUNT: AtomicU32 = AtomicU32::new(0);

/// A hand-written handler waking a futex: a counter bump and one `FUTEX_WAKE`.
/// Async-signal-safe: errno is saved and restored.
extern "C" fn futex_handler(_: c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: errno is thread-local and restored; FUTEX_WAKE only uses the address.
    unsafe {
        let errno = *libc::__errno_location();
        WAKE_COUNT.fetch_add(1, Ordering::Release);
        libc::syscall(
            libc::SYS_futex,
            WAKE_COUNT.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
        *libc::__errno_location() = errno;
    }
}

/// Sleeps in `FUTEX_WAIT` until [`futex_handler`] bumps the counter.
struct RawFutexRx {
    seen: u32,
}

impl RawFutexRx {
    fn new(signals: &[c_int]) -> io::Result<RawFutexRx> {
        for &s in signals {
            sys::install(s, futex_handler)?;
        }
        Ok(RawFutexRx {
            seen: WAKE_COUNT.load(Ordering::Acquire),
        })
    }
}

impl Receiver for RawFutexRx {
    fn serve(&mut self, n: usize, on_wake: &mut dyn FnMut(c_int)) -> io::Result<()> {
        for _ in 0..n {
            loop {
                let now = WAKE_COUNT.load(Ordering::Acquire);
                if now != self.seen {
                    self.seen = now;
                    break;
                }
                // SAFETY: a live static word; returns on a wake-up, a signal, or at once if
                // the counter moved meanwhile.
                unsafe {
                    libc::syscall(
                        libc::SYS_futex,
                        WAKE_COUNT.as_ptr(),
                        libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                        now,
                        std::ptr::null::<libc::timespec>(),
                    );
                }
            }
            on_wake(0);
        }
        Ok(())
    }

    fn drain(&mut self, _idle: Duration) -> io::Result<Vec<c_int>> {
        Ok(Vec::new())
    }
}

// ---- blocking iterators ----

/// A signal-hook 0.4 compatible `iterator::Signals`.
trait Blocking {
    /// Blocks until a signal is reported.
    fn next_signal(&mut self) -> Option<c_int>;
    /// What is reported right now, without blocking.
    fn pending_now(&mut self) -> Vec<c_int>;
}

impl Blocking for signal_hook::iterator::Signals {
    fn next_signal(&mut self) -> Option<c_int> {
        self.forever().next()
    }

    fn pending_now(&mut self) -> Vec<c_int> {
        self.pending().collect()
    }
}

impl Blocking for sigmux::iterator::Signals {
    fn next_signal(&mut self) -> Option<c_int> {
        self.forever().next()
    }

    fn pending_now(&mut self) -> Vec<c_int> {
        self.pending().collect()
    }
}

struct BlockingRx<T>(T);

impl<T: Blocking> Receiver for BlockingRx<T> {
    fn serve(&mut self, n: usize, on_wake: &mut dyn FnMut(c_int)) -> io::Result<()> {
        for _ in 0..n {
            on_wake(self.0.next_signal().ok_or_else(gone)?);
        }
        Ok(())
    }

    fn drain(&mut self, _idle: Duration) -> io::Result<Vec<c_int>> {
        let mut out = Vec::new();
        loop {
            let batch = self.0.pending_now();
            if batch.is_empty() {
                return Ok(out);
            }
            out.extend(batch);
        }
    }
}

// ---- async streams ----

type BoxStream = Pin<Box<dyn Stream<Item = c_int>>>;

fn boxed<S: Stream<Item = c_int> + 'static>(made: io::Result<S>) -> io::Result<BoxStream> {
    Ok(Box::pin(made?))
}

/// The executor a stream needs.
enum Exec {
    /// A current-thread tokio runtime with all drivers.
    Tokio(tokio::runtime::Runtime),
    /// async-io's `block_on` (what async-std and smol run on).
    AsyncIo,
}

impl Exec {
    fn block_on<T>(&self, fut: impl Future<Output = T>) -> T {
        match self {
            Exec::Tokio(rt) => rt.block_on(fut),
            Exec::AsyncIo => async_io::block_on(fut),
        }
    }

    async fn sleep(&self, d: Duration) {
        match self {
            Exec::Tokio(_) => tokio::time::sleep(d).await,
            Exec::AsyncIo => {
                async_io::Timer::after(d).await;
            }
        }
    }
}

struct StreamRx {
    exec: Exec,
    stream: BoxStream,
}

impl Receiver for StreamRx {
    fn serve(&mut self, n: usize, on_wake: &mut dyn FnMut(c_int)) -> io::Result<()> {
        let StreamRx { exec, stream } = self;
        exec.block_on(async {
            for _ in 0..n {
                on_wake(stream.next().await.ok_or_else(gone)?);
            }
            Ok(())
        })
    }

    fn drain(&mut self, idle: Duration) -> io::Result<Vec<c_int>> {
        let StreamRx { exec, stream } = self;
        Ok(exec.block_on(async {
            let mut out = Vec::new();
            loop {
                let timeout = async {
                    exec.sleep(idle).await;
                    None
                };
                match futures_lite::future::or(stream.next(), timeout).await {
                    Some(s) => out.push(s),
                    None => return out,
                }
            }
        }))
    }
}

fn tokio_rx(
    meter: &mut Meter,
    make: impl FnOnce() -> io::Result<BoxStream>,
) -> io::Result<Box<dyn Receiver>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stream = {
        let _inside = rt.enter();
        metered(meter, make)?
    };
    Ok(Box::new(StreamRx {
        exec: Exec::Tokio(rt),
        stream,
    }))
}

fn async_io_rx(
    meter: &mut Meter,
    make: impl FnOnce() -> io::Result<BoxStream>,
) -> io::Result<Box<dyn Receiver>> {
    // Start async-io's reactor, its poller and its helper thread first, and let them
    // settle: an application on async-std or smol has them running already.
    let (a, b) = std::os::unix::net::UnixStream::pair()?;
    let (a, b) = (async_io::Async::new(a)?, async_io::Async::new(b)?);
    async_io::block_on(async_io::Timer::after(Duration::from_millis(1)));
    drop((a, b));
    std::thread::sleep(Duration::from_millis(50));
    Ok(Box::new(StreamRx {
        exec: Exec::AsyncIo,
        stream: metered(meter, make)?,
    }))
}

/// `tokio::signal::unix::signal` for each signal, merged into one stream.
fn tokio_signal_stream(signals: &[c_int]) -> io::Result<BoxStream> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut listeners = signals
        .iter()
        .map(|&s| Ok((s, signal(SignalKind::from_raw(s))?)))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Box::pin(futures_lite::stream::poll_fn(move |cx| {
        for (s, listener) in &mut listeners {
            if let Poll::Ready(Some(())) = listener.poll_recv(cx) {
                return Poll::Ready(Some(*s));
            }
        }
        Poll::Pending
    })))
}

/// async-signal's `Signals`, its closed enum mapped back to numbers.
fn async_signal_stream(signals: &[c_int]) -> io::Result<BoxStream> {
    use async_signal::Signal;
    let kinds = signals
        .iter()
        .map(|&s| match s {
            SIGUSR1 => Ok(Signal::Usr1),
            SIGUSR2 => Ok(Signal::Usr2),
            other => Err(io::Error::other(format!("signal {other} not mapped"))),
        })
        .collect::<io::Result<Vec<_>>>()?;
    let stream = async_signal::Signals::new(kinds)?.map(|r| match r {
        Ok(Signal::Usr1) => SIGUSR1,
        Ok(Signal::Usr2) => SIGUSR2,
        _ => -1,
    });
    Ok(Box::pin(stream))
}
