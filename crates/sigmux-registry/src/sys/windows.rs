//! Windows: the C runtime's `signal()`.
//!
//! The CRT resets a signal to `SIG_DFL` before it calls the handler (all but `SIGFPE`), so the
//! handler installs itself again first thing. That leaves a short window in which a second
//! signal gets the default action; the CRT offers nothing better.

use std::io;

use libc::{c_int, c_void, sighandler_t};

/// The CRT passes no information to handlers; actions get this empty stand-in.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct siginfo_t;

/// Size of the per-signal tables (`SIGABRT` is 22; `SIGABRT_COMPAT` 6 and `SIGBREAK` 21).
pub(crate) const SLOTS: usize = 23;

pub(crate) const FORBIDDEN: &[c_int] = &[libc::SIGILL, libc::SIGFPE, libc::SIGSEGV];

/// The CRT has no flags: restart is meaningless there, and the alternate stack and no-defer
/// options do not exist, so asking for them is an error.
pub(crate) fn install_flags(_restart: bool, onstack: bool, nodefer: bool) -> io::Result<c_int> {
    if onstack || nodefer {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the alternate signal stack and no-defer options do not exist on Windows",
        ));
    }
    Ok(0)
}

const SIG_DFL: sighandler_t = 0;
const SIG_IGN: sighandler_t = 1;
const SIG_ERR: sighandler_t = !0;

/// The signals the CRT knows.
const VALID: &[c_int] = &[2, 4, 6, 8, 11, 15, 21, 22];

/// A signal's disposition as the CRT reported it.
#[derive(Clone, Copy)]
pub(crate) struct RawDisposition(sighandler_t);

impl RawDisposition {
    pub(crate) fn default_action() -> Self {
        RawDisposition(SIG_DFL)
    }

    pub(crate) fn ignore() -> Self {
        RawDisposition(SIG_IGN)
    }

    pub(crate) fn is_default(&self) -> bool {
        self.0 == SIG_DFL
    }

    pub(crate) fn is_ignore(&self) -> bool {
        self.0 == SIG_IGN
    }

    pub(crate) fn handler(&self) -> usize {
        self.0
    }

    pub(crate) fn flags(&self) -> c_int {
        0
    }

    pub(crate) fn same_as(&self, other: &RawDisposition) -> bool {
        self.0 == other.0
    }

    pub(crate) fn is_ours(&self) -> bool {
        self.0 == entry as *const () as usize
    }

    /// Whether this names a handler function to chain to.
    pub(crate) fn callable(&self) -> bool {
        self.0 != SIG_DFL && self.0 != SIG_IGN && self.0 != SIG_ERR && !self.is_ours()
    }

    /// The CRT has no `SA_RESETHAND` to emulate: it resets every handler itself, and handlers
    /// written for it re-install themselves.
    pub(crate) fn one_shot(&self) -> bool {
        false
    }

    /// The CRT has no signal masks: nothing to block.
    pub(crate) fn block_set(&self, _sig: c_int, _our_flags: c_int) -> Option<BlockSet> {
        None
    }

    /// Calls the handler this disposition names.
    ///
    /// A handler written for the CRT installs itself again first thing (the CRT reset the
    /// signal before it called sigmux's handler; the chained handler cannot know it was not
    /// called directly). Left alone, that puts it in sigmux's place, and the next delivery
    /// would skip sigmux. So afterwards sigmux takes its place back — from that handler only:
    /// anything else it installed (`SIG_DFL`, `SIG_IGN`, another function) is its choice, as
    /// any install over sigmux is, and is put back at once.
    ///
    /// # Safety
    ///
    /// Only from inside a signal handler for `sig`, and only if
    /// [`callable`](Self::callable).
    pub(crate) unsafe fn call(&self, sig: c_int, _info: *mut siginfo_t, _ctx: *mut c_void) {
        // SAFETY: the CRT only stores one-argument handlers; the caller checked it is one.
        let f = unsafe { core::mem::transmute::<usize, extern "C" fn(c_int)>(self.0) };
        f(sig);
        if sig == libc::SIGFPE {
            // The CRT does not reset SIGFPE, so its handlers do not re-install themselves.
            return;
        }
        let ours = entry as *const () as usize;
        // SAFETY: installing sigmux's handler for a signal it is handling (the CRT accepted
        // it a moment ago, in `entry`).
        let now = unsafe { libc::signal(sig, ours) };
        if now != self.0 && now != ours && now != SIG_ERR {
            // SAFETY: putting back, unchanged, what the chained handler chose to install.
            unsafe { libc::signal(sig, now) };
        }
    }
}

/// Signals to block around a chained call: never any on Windows.
#[derive(Clone, Copy)]
pub(crate) struct BlockSet;

/// Runs `f` (the CRT has no signal masks to change).
#[inline]
pub(crate) fn with_blocked(_set: &BlockSet, f: impl FnOnce()) {
    f();
}

/// A delivery that reached sigmux's handler after sigmux let go of the signal: the CRT
/// cannot re-send it without running into sigmux's handler again (which re-installs itself
/// first thing), so it is dropped; a restored handler function was already called by the
/// chaining.
pub(crate) fn forward(_sig: c_int, _info: *mut siginfo_t) {}

fn crt_signal(sig: c_int, handler: sighandler_t) -> io::Result<sighandler_t> {
    if !VALID.contains(&sig) {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `sig` is one the CRT knows; `handler` is `SIG_DFL`, `SIG_IGN` or the address of
    // a handler with the signature the CRT calls.
    let old = unsafe { libc::signal(sig, handler) };
    if old == SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// The CRT has no way to read a disposition without changing it (`SIG_GET` is not honoured
/// everywhere: wine installs it as a handler). So the registry does not query before
/// installing (see `QUERY_IS_ATOMIC`).
pub(crate) const QUERY_IS_ATOMIC: bool = false;

/// Reads the current disposition by swapping in `SIG_IGN` and putting the old one back at
/// once. A signal delivered in between is ignored: only [`crate::disposition`] pays that, for
/// signals sigmux does not own (owned ones are answered from the registry's own state).
pub(crate) fn query(sig: c_int) -> io::Result<RawDisposition> {
    let old = crt_signal(sig, SIG_IGN)?;
    crt_signal(sig, old)?;
    Ok(RawDisposition(old))
}

/// Whether sigmux's handler is still the installed one, as far as can be told without
/// changing the disposition: assumed yes (the restore's swap detects an intruder).
pub(crate) fn still_ours(_sig: c_int) -> bool {
    true
}

/// Installs sigmux's handler; returns the one it replaced.
///
/// # Safety
///
/// As on Unix: the caller owns `sig` on behalf of sigmux and published the previous
/// disposition.
pub(crate) unsafe fn install(sig: c_int, _extra_flags: c_int) -> io::Result<RawDisposition> {
    crt_signal(sig, entry as *const () as usize).map(RawDisposition)
}

/// Sets `sig`'s handler to `d`; returns the one it replaced.
///
/// # Safety
///
/// As on Unix.
pub(crate) unsafe fn set(sig: c_int, d: &RawDisposition) -> io::Result<RawDisposition> {
    crt_signal(sig, d.0).map(RawDisposition)
}

/// Which signals were ignored at start. The CRT starts every signal at `SIG_DFL` (ignoring is
/// not inherited on Windows), so this is always false.
pub(crate) fn ignored_at_start(_sig: c_int) -> bool {
    false
}

/// Nothing to record at start on Windows.
pub(crate) fn at_start() {}

/// Windows has no `fork`.
pub(crate) fn on_fork(_: extern "C" fn(), _: extern "C" fn(), _: extern "C" fn()) {}

/// The largest signal number the CRT knows (`SIGABRT`).
pub(crate) fn max_signal() -> c_int {
    (SLOTS - 1) as c_int
}

/// Windows has no real-time signals.
pub(crate) fn realtime_range() -> Option<(c_int, c_int)> {
    None
}

/// Why the C runtime refuses `sig`, if it does (it knows only a handful of signals).
pub(crate) fn refused(sig: c_int) -> Option<String> {
    if sig > 0 && !VALID.contains(&sig) {
        Some(format!(
            "is not a valid signal number on this platform (valid: {})",
            valid_text()
        ))
    } else {
        None
    }
}

/// The valid signal numbers in words.
pub(crate) fn valid_text() -> String {
    let mut text = String::new();
    for (i, sig) in VALID.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&sig.to_string());
    }
    text
}

pub(crate) fn empty_siginfo(_sig: c_int) -> siginfo_t {
    siginfo_t
}

extern "C" fn entry(sig: c_int) {
    if sig != libc::SIGFPE {
        // SAFETY: re-installing ourselves for a signal we were just called for; the CRT
        // accepts it (it did a moment ago). Nothing useful can be done on failure here.
        unsafe { libc::signal(sig, entry as *const () as usize) };
    }
    crate::handler::handle(sig, core::ptr::null_mut(), core::ptr::null_mut());
}

extern "C" {
    fn _errno() -> *mut c_int;
}

/// `errno` as saved on entry to the handler, to put back on the way out (no `Drop`: see
/// the Unix version).
pub(crate) struct SavedErrno(c_int);

impl SavedErrno {
    pub(crate) fn save() -> Self {
        // SAFETY: the CRT's per-thread errno location is always valid.
        SavedErrno(unsafe { *_errno() })
    }

    pub(crate) fn restore(self) {
        // SAFETY: as in `save`.
        unsafe { *_errno() = self.0 };
    }
}
