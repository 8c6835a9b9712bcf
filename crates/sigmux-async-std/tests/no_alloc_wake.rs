//! The documented wake-up path: once warmed up, a signal found by a poll allocates nothing,
//! and one that wakes a waiting task costs no allocation beyond the one async-io's reactor
//! makes per turn that wakes tasks (its list of wakers). Own test binary: it installs a
//! counting global allocator, which counts on the test's own thread only (the thread that
//! polls the stream): async-io's background driver thread and the raiser may allocate at any
//! time, and that is not the stream's doing.
#![cfg(unix)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use sigmux::consts::SIGUSR1;
use sigmux::low_level::raise;
use sigmux_async_std::Signals;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BEFORE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted (const-initialised: reading it does not
    /// allocate).
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_received_signal_allocates_nothing_of_its_own_once_warmed_up() {
    COUNTED.with(|c| c.set(true));
    smol::block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        for _ in 0..10 {
            raise(SIGUSR1).unwrap();
            assert_eq!(signals.recv().await, Some(SIGUSR1));
        }
        // A signal already there when the stream is polled: nothing at all.
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..100 {
            raise(SIGUSR1).unwrap();
            assert_eq!(signals.recv().await, Some(SIGUSR1));
        }
        assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0);

        // Signals from another thread while the task waits in the reactor: at most the
        // reactor's own allocation per wake-up.
        static GO: AtomicUsize = AtomicUsize::new(0);
        let raiser = std::thread::spawn(|| {
            let mut done = 0;
            while done < 110 {
                if GO.load(Ordering::Acquire) > done {
                    std::thread::sleep(std::time::Duration::from_micros(500));
                    // SAFETY: SIGUSR1 to this process, which has it registered.
                    unsafe { libc::kill(libc::getpid(), SIGUSR1) };
                    done += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        for round in 0..110 {
            if round == 10 {
                BEFORE.store(ALLOCATIONS.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            GO.fetch_add(1, Ordering::Release);
            assert_eq!(signals.recv().await, Some(SIGUSR1));
        }
        let during = ALLOCATIONS.load(Ordering::Relaxed) - BEFORE.load(Ordering::Relaxed);
        raiser.join().unwrap();
        assert!(during <= 100, "{} allocations for 100 wake-ups", during);
    });
}
