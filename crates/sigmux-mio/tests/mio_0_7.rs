//! The adapter for mio 0.7: readiness, batching, cross-thread wake-ups, close, handles.
#![cfg(all(unix, feature = "support-v0_7"))]

#[macro_use]
mod common;

use mio_0_7 as mio;
use sigmux_mio::v0_7 as adapter;

mio_scenarios!();
