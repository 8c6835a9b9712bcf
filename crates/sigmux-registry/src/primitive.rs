//! The atomics the lock-free core is built from, in one place.
//!
//! Normal builds use `core`'s atomics. Under `--cfg sigmux_loom` the same names come from
//! [loom](https://docs.rs/loom), so the model in `tests/loom.rs` explores every interleaving
//! and memory-order outcome of exactly the code the signal handler runs.

#[cfg(not(sigmux_loom))]
pub(crate) use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

#[cfg(sigmux_loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// Backs off inside a writer's wait loop (never called by the handler).
pub(crate) fn backoff(round: u32) {
    #[cfg(not(sigmux_loom))]
    {
        if round < 64 {
            core::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    #[cfg(sigmux_loom)]
    {
        let _ = round;
        loom::thread::yield_now();
    }
}
