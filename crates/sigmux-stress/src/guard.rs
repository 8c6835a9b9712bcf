//! The allocation guard: proves a handler path never allocates, with real signals.
//!
//! # How it works
//!
//! * [`wrap_handler`] reads the handler installed for a signal (sigmux's), remembers it and
//!   installs [`trampoline`] in its place with the same flags and mask. The trampoline bumps a
//!   thread-local depth counter, calls the remembered handler and lowers the counter again —
//!   the same trick as the `asguard` `LD_PRELOAD` tool, but inside the process, so it also works
//!   where the tool cannot be preloaded and catches Rust allocations that never reach `malloc`.
//! * [`Guard`] is a global allocator forwarding to [`System`]. Every allocation, reallocation
//!   or deallocation made while the depth counter is non-zero is counted in
//!   [`violations`]; in [`Mode::Abort`] it also writes a message and aborts the process at
//!   once (for tests, where a backtrace-free abort is the clearest failure).
//!
//! The depth counter is a `const`-initialised thread-local `Cell` without a destructor, which
//! Rust compiles to a plain TLS access: reading it from a handler (or from the allocator) never
//! allocates or registers anything.
//!
//! sigmux installs its handler once per signal and keeps it (unless a registration asks for
//! [`restore`](sigmux_registry::Options::restore)), so wrapping after the first registration of
//! a signal covers every later registration too, including actions added and removed while
//! signals arrive.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

use libc::{c_int, c_void, siginfo_t};

/// Slots for signal numbers `0..MAX_SIG`.
const MAX_SIG: usize = 128;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The handlers the trampoline forwards to, by signal number (0 = not wrapped).
#[allow(clippy::declare_interior_mutable_const)] // only used to initialise the array below
const UNWRAPPED: AtomicUsize = AtomicUsize::new(0);
static ORIGINAL: [AtomicUsize; MAX_SIG] = [UNWRAPPED; MAX_SIG];
/// Allocator calls made inside a handler.
static VIOLATIONS: AtomicU64 = AtomicU64::new(0);
/// Deliveries that went through the trampoline.
static DELIVERIES: AtomicU64 = AtomicU64::new(0);
static MODE: AtomicU8 = AtomicU8::new(Mode::Count as u8);

/// What [`Guard`] does when it is entered inside a handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Count the call (see [`violations`]) and carry on.
    Count = 0,
    /// Count it, write a message to stderr and abort the process.
    Abort = 1,
}

/// Chooses what [`Guard`] does on a violation (the default is [`Mode::Count`]).
pub fn set_mode(mode: Mode) {
    MODE.store(mode as u8, Ordering::SeqCst);
}

/// How many allocator calls were made inside signal handlers so far.
pub fn violations() -> u64 {
    VIOLATIONS.load(Ordering::SeqCst)
}

/// How many deliveries went through the trampoline so far.
pub fn deliveries() -> u64 {
    DELIVERIES.load(Ordering::SeqCst)
}

/// Whether the calling thread is inside a wrapped handler. Async-signal-safe.
pub fn in_handler() -> bool {
    DEPTH.try_with(|d| d.get() > 0).unwrap_or(false)
}

fn violation(what: &[u8]) {
    VIOLATIONS.fetch_add(1, Ordering::SeqCst);
    if MODE.load(Ordering::Relaxed) == Mode::Abort as u8 {
        // SAFETY: write and abort are async-signal-safe; the buffer is valid.
        unsafe {
            libc::write(2, what.as_ptr().cast(), what.len());
            libc::abort();
        }
    }
}

/// A global allocator that counts (or aborts on) calls made inside a signal handler.
///
/// Declare it in each binary: `#[global_allocator] static A: Guard = Guard;`.
#[derive(Debug)]
pub struct Guard;

// SAFETY: every method forwards to `System` with the caller's arguments; the added check only
// reads a thread-local and bumps an atomic.
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if in_handler() {
            violation(b"asguard(in-process): allocation inside a signal handler\n");
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if in_handler() {
            violation(b"asguard(in-process): allocation inside a signal handler\n");
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_handler() {
            violation(b"asguard(in-process): deallocation inside a signal handler\n");
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if in_handler() {
            violation(b"asguard(in-process): reallocation inside a signal handler\n");
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The handler installed by [`wrap_handler`]: marks the thread as inside a handler and calls
/// the original one.
///
/// This function is async-signal-safe: a TLS access, atomics and the original handler's call.
pub extern "C" fn trampoline(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let original = usize::try_from(sig)
        .ok()
        .and_then(|i| ORIGINAL.get(i))
        .map(|slot| slot.load(Ordering::Acquire))
        .unwrap_or(0);
    if original == 0 {
        return;
    }
    DELIVERIES.fetch_add(1, Ordering::Relaxed);
    let _ = DEPTH.try_with(|d| d.set(d.get() + 1));
    // SAFETY: `original` was read back from `sigaction` for a handler installed with
    // `SA_SIGINFO` (checked in `wrap_handler`), so it has this signature.
    let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) = unsafe {
        std::mem::transmute::<usize, extern "C" fn(c_int, *mut siginfo_t, *mut c_void)>(original)
    };
    f(sig, info, ctx);
    let _ = DEPTH.try_with(|d| d.set(d.get() - 1));
}

/// Installs [`trampoline`] over the `SA_SIGINFO` handler currently installed for `signal`
/// (normally sigmux's, after a first registration). Doing it twice is harmless.
///
/// # Errors
///
/// `InvalidInput` if `signal` is out of range or its handler is not an `SA_SIGINFO` handler
/// (e.g. `SIG_DFL`: register something first), and `sigaction`'s errors.
pub fn wrap_handler(signal: c_int) -> io::Result<()> {
    let slot = usize::try_from(signal)
        .ok()
        .and_then(|i| ORIGINAL.get(i))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("signal {}", signal)))?;
    // SAFETY: an all-zero sigaction is a valid value of this plain C struct.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: reading the disposition into a valid out-pointer.
    if unsafe { libc::sigaction(signal, std::ptr::null(), &mut sa) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let tramp = trampoline as extern "C" fn(c_int, *mut siginfo_t, *mut c_void) as usize;
    if sa.sa_sigaction == tramp {
        return Ok(());
    }
    if sa.sa_flags & libc::SA_SIGINFO == 0
        || sa.sa_sigaction == libc::SIG_DFL
        || sa.sa_sigaction == libc::SIG_IGN
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {} has no SA_SIGINFO handler to wrap", signal),
        ));
    }
    slot.store(sa.sa_sigaction, Ordering::Release);
    sa.sa_sigaction = tramp;
    // SAFETY: installs the trampoline with the original flags and mask; it forwards to the
    // handler stored above.
    if unsafe { libc::sigaction(signal, &sa, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
