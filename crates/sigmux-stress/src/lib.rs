//! Support code of the sigmux reliability suite (not published).
//!
//! The stress program (`src/main.rs`) and the integration tests (`tests/*.rs`) share two tools:
//!
//! * [`guard`]: the *allocation guard*. A global allocator that notices when it is entered on a
//!   thread that is running a signal handler, and a trampoline installed over sigmux's handler
//!   that marks "inside a handler" for exactly as long as the handler runs. Each binary
//!   declares `#[global_allocator] static A: Guard = Guard;` itself.
//! * [`proc_stats`]: open file descriptors and resident memory of this process, to show that
//!   they stay flat.
#![cfg(unix)]

pub mod guard;
pub mod proc_stats;
