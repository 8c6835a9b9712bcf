//! Placeholder: being written. Public API identical to signal-hook-registry 1.4.8.
#![allow(missing_docs, clippy::missing_safety_doc, unused_variables)]
use std::io::Error;
use libc::{c_int, siginfo_t};

#[derive(Copy, Clone, Debug, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct SigId { signal: c_int, action: u64 }

pub const FORBIDDEN: &[c_int] = &[libc::SIGKILL, libc::SIGSTOP, libc::SIGILL, libc::SIGFPE, libc::SIGSEGV];

pub unsafe fn register<F>(signal: c_int, action: F) -> Result<SigId, Error>
where F: Fn() + Sync + Send + 'static { unimplemented!() }
pub unsafe fn register_sigaction<F>(signal: c_int, action: F) -> Result<SigId, Error>
where F: Fn(&siginfo_t) + Sync + Send + 'static { unimplemented!() }
pub unsafe fn register_signal_unchecked<F>(signal: c_int, action: F) -> Result<SigId, Error>
where F: Fn() + Sync + Send + 'static { unimplemented!() }
pub unsafe fn register_unchecked<F>(signal: c_int, action: F) -> Result<SigId, Error>
where F: Fn(&siginfo_t) + Sync + Send + 'static { unimplemented!() }
pub fn unregister(id: SigId) -> bool { unimplemented!() }
#[deprecated(since = "1.3.0", note = "Don't use. Can influence unrelated parts of program / unknown actions")]
#[doc(hidden)]
pub fn unregister_signal(signal: c_int) -> bool { unimplemented!() }
