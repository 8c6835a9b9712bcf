//! A counting global allocator and the footprint meter built on it.
//!
//! Counting costs one relaxed load per allocation while no meter runs, so it does not
//! disturb the timed sections (none of which allocates inside its timed loop anyway).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// The system allocator, counting calls and bytes while [`Meter`] is running.
#[derive(Debug)]
pub(crate) struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

fn count(size: usize) {
    if ON.load(Relaxed) {
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(size as u64, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counting only touches atomics, never allocates and never panics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Process resources at one instant.
#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    calls: u64,
    bytes: u64,
    fds: u64,
    threads: u64,
}

fn entries(dir: &str) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| d.count() as u64)
}

/// Measures what happens between [`Meter::start`] and [`Meter::stop`]: allocations and
/// allocated bytes (reallocations count as one allocation of the new size), and the change
/// in open descriptors and threads. A disabled meter does nothing.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    enabled: bool,
    before: Snapshot,
    delta: Option<Snapshot>,
}

impl Meter {
    /// A meter that records.
    pub(crate) fn new() -> Meter {
        Meter {
            enabled: true,
            ..Meter::default()
        }
    }

    /// A meter that ignores `start` and `stop`.
    pub(crate) fn off() -> Meter {
        Meter::default()
    }

    /// Begins the measured stretch.
    pub(crate) fn start(&mut self) {
        if !self.enabled {
            return;
        }
        // Descriptors and threads are read before counting starts: reading a directory
        // allocates.
        self.before.fds = entries("/proc/self/fd");
        self.before.threads = entries("/proc/self/task");
        self.before.calls = CALLS.load(Relaxed);
        self.before.bytes = BYTES.load(Relaxed);
        ON.store(true, Relaxed);
    }

    /// Ends the measured stretch.
    pub(crate) fn stop(&mut self) {
        if !self.enabled {
            return;
        }
        ON.store(false, Relaxed);
        let calls = CALLS.load(Relaxed) - self.before.calls;
        let bytes = BYTES.load(Relaxed) - self.before.bytes;
        // A helper thread may still be starting: give it a moment to show up in /proc.
        std::thread::sleep(std::time::Duration::from_millis(20));
        self.delta = Some(Snapshot {
            calls,
            bytes,
            fds: entries("/proc/self/fd").saturating_sub(self.before.fds),
            threads: entries("/proc/self/task").saturating_sub(self.before.threads),
        });
    }

    /// `[allocations, bytes, descriptors, threads]` of the last stretch.
    pub(crate) fn result(&self) -> Option<[f64; 4]> {
        self.delta.map(|d| {
            [
                d.calls as f64,
                d.bytes as f64,
                d.fds as f64,
                d.threads as f64,
            ]
        })
    }
}
