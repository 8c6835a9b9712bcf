//! `sigmux::child` on the pidfd path (Linux 5.4+): every scenario of
//! `children/scenarios.rs`.
#![cfg(target_os = "linux")]

const MECHANISM: sigmux::child::Mechanism = sigmux::child::Mechanism::Pidfd;

include!("children/scenarios.rs");
