//! The handler path never allocates, proved with real signals, on Unix and on Windows (CI runs
//! the Windows half under wine).
//!
//! A global allocator aborts the process if it is entered on a thread that is inside the
//! signal handler. "Inside" is marked by a trampoline put in front of sigmux's handler (the
//! way the `asguard` LD_PRELOAD tool does it on Unix): it counts itself in on a thread-local,
//! calls sigmux's handler, counts itself out. Each platform's scenarios, with their negative
//! control (an allocating action must be caught), are in the module of its name.
#![cfg(any(unix, windows))]
// The late-delivery scenario relies on the Linux kernel's frame order and runs only there.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

#[cfg(unix)]
#[path = "no_alloc_in_handler/unix.rs"]
mod unix;
#[cfg(windows)]
#[path = "no_alloc_in_handler/windows.rs"]
mod windows;

thread_local! {
    /// How many trampolines this thread is inside (handlers may nest).
    static IN_HANDLER: Cell<u32> = const { Cell::new(0) };
}

fn in_handler() -> bool {
    IN_HANDLER.try_with(|c| c.get() > 0).unwrap_or(false)
}

/// Reports without allocating and aborts (`SIGABRT` on Unix).
fn die(msg: &str) -> ! {
    // SAFETY: fd 2 is the standard error; the buffer is valid for its length. `write` is
    // async-signal-safe.
    unsafe { libc::write(2, msg.as_ptr().cast(), msg.len() as _) };
    std::process::abort()
}

struct Guard;

// SAFETY: forwards to the system allocator; only adds a check.
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if in_handler() {
            die("allocation inside a signal handler\n");
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_handler() {
            die("deallocation inside a signal handler\n");
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        if in_handler() {
            die("reallocation inside a signal handler\n");
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GUARD: Guard = Guard;
