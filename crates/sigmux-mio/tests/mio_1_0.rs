//! The adapter for mio 1.0: readiness, batching, cross-thread wake-ups, close, handles.
#![cfg(all(unix, feature = "support-v1_0"))]

#[macro_use]
mod common;

use mio_1_0 as mio;
use sigmux_mio::v1_0 as adapter;

mio_scenarios!();
