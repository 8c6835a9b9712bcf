//! The adapter for mio 0.8: readiness, batching, cross-thread wake-ups, close, handles.
#![cfg(all(unix, feature = "support-v0_8"))]

#[macro_use]
mod common;

use mio_0_8 as mio;
use sigmux_mio::v0_8 as adapter;

mio_scenarios!();
