//! Unix: `sigaction` with `SA_SIGINFO`.

use core::mem;
use core::ptr;
use std::io;

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use libc::{c_int, c_void};

pub(crate) use libc::siginfo_t;

/// Size of the per-signal tables. Covers every platform's real-time range (FreeBSD's reaches
/// 126); signals the OS does not know are refused by `sigaction` itself.
pub(crate) const SLOTS: usize = 129;

pub(crate) const FORBIDDEN: &[c_int] = &[
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSEGV,
];

/// The `sa_flags` (besides `SA_SIGINFO`) for the install options. Every option exists here.
pub(crate) fn install_flags(restart: bool, onstack: bool, nodefer: bool) -> io::Result<c_int> {
    let mut flags = 0;
    if restart {
        flags |= libc::SA_RESTART;
    }
    if onstack {
        flags |= libc::SA_ONSTACK;
    }
    if nodefer {
        flags |= libc::SA_NODEFER;
    }
    Ok(flags)
}

/// A signal's disposition as the OS reported it.
#[derive(Clone, Copy)]
pub(crate) struct RawDisposition(libc::sigaction);

impl RawDisposition {
    /// `SIG_DFL` or `SIG_IGN` (or any plain address) with no flags and an empty mask.
    pub(crate) fn plain(handler: usize) -> Self {
        // SAFETY: all-zero is a valid sigaction (empty mask, no flags).
        let mut sa: libc::sigaction = unsafe { mem::zeroed() };
        sa.sa_sigaction = handler;
        RawDisposition(sa)
    }

    /// The default action.
    pub(crate) fn default_action() -> Self {
        Self::plain(libc::SIG_DFL)
    }

    /// Ignoring the signal.
    pub(crate) fn ignore() -> Self {
        Self::plain(libc::SIG_IGN)
    }

    /// Whether this is the default action.
    pub(crate) fn is_default(&self) -> bool {
        self.handler() == libc::SIG_DFL
    }

    /// Whether this ignores the signal.
    pub(crate) fn is_ignore(&self) -> bool {
        self.handler() == libc::SIG_IGN
    }

    /// The handler address (`SIG_DFL`, `SIG_IGN` or a function).
    pub(crate) fn handler(&self) -> usize {
        self.0.sa_sigaction
    }

    /// The `sa_flags` it was installed with.
    pub(crate) fn flags(&self) -> c_int {
        self.0.sa_flags as c_int
    }

    /// Whether two readings name the same handler with the same flags.
    pub(crate) fn same_as(&self, other: &RawDisposition) -> bool {
        self.handler() == other.handler() && self.flags() == other.flags()
    }

    /// Whether this is sigmux's own handler.
    pub(crate) fn is_ours(&self) -> bool {
        self.handler() == entry as *const () as usize
    }

    /// Whether this names a handler function to chain to: not `SIG_DFL`, `SIG_IGN` or
    /// sigmux's own handler.
    pub(crate) fn callable(&self) -> bool {
        let h = self.handler();
        h != libc::SIG_DFL && h != libc::SIG_IGN && !self.is_ours()
    }

    /// Whether the kernel would reset it to `SIG_DFL` at its first delivery
    /// (`SA_RESETHAND`).
    pub(crate) fn one_shot(&self) -> bool {
        self.flags() & libc::SA_RESETHAND != 0
    }

    /// The signals to block around a chained call of this handler for `sig`, if any: what
    /// the kernel would block for it (its `sa_mask`, and `sig` itself unless it has
    /// `SA_NODEFER`) beyond what is blocked already inside sigmux's handler installed with
    /// `our_flags` (`sig` itself unless `SA_NODEFER`). `None` when there is nothing to add, so
    /// the common chained call needs no system call. Writer side.
    pub(crate) fn block_set(&self, sig: c_int, our_flags: c_int) -> Option<BlockSet> {
        if !self.callable() {
            return None;
        }
        let mut set = self.0.sa_mask;
        // SAFETY: `set` is an initialised sigset_t (copied from the kernel's answer or
        // built by `plain`), `sig` a signal number.
        unsafe {
            if self.flags() & libc::SA_NODEFER == 0 && our_flags & libc::SA_NODEFER != 0 {
                libc::sigaddset(&mut set, sig);
            } else {
                libc::sigdelset(&mut set, sig);
            }
        }
        // SAFETY: as above; `sigismember` only reads.
        let any = (1..SLOTS as c_int).any(|s| unsafe { libc::sigismember(&set, s) } == 1);
        if any {
            Some(BlockSet(set))
        } else {
            None
        }
    }

    /// Calls the handler this disposition names, in its own one- or three-argument form.
    ///
    /// Async-signal-safe (as safe as the handler it calls).
    ///
    /// # Safety
    ///
    /// Only from inside a signal handler for `sig`, passing the arguments the kernel gave it,
    /// and only if [`callable`](Self::callable).
    pub(crate) unsafe fn call(&self, sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
        let h = self.handler();
        if self.flags() & libc::SA_SIGINFO == 0 {
            // SAFETY: without SA_SIGINFO the OS calls `sa_handler` with the one-argument
            // signature, so that is what the address points to (caller: a real function).
            let f = unsafe { mem::transmute::<usize, extern "C" fn(c_int)>(h) };
            f(sig);
        } else {
            // SAFETY: with SA_SIGINFO the address is a three-argument `sa_sigaction`.
            let f = unsafe {
                mem::transmute::<usize, extern "C" fn(c_int, *mut siginfo_t, *mut c_void)>(h)
            };
            f(sig, info, ctx);
        }
    }
}

/// Signals to block around a chained call (see [`RawDisposition::block_set`]).
#[derive(Clone, Copy)]
pub(crate) struct BlockSet(libc::sigset_t);

/// Runs `f` with `set` added to the calling thread's signal mask, then puts the mask back.
/// A signal of `set` that arrives meanwhile stays pending until then, as the kernel would
/// have kept it for the handler `f` calls.
///
/// Async-signal-safe (`pthread_sigmask` is on POSIX's list).
#[inline]
pub(crate) fn with_blocked(set: &BlockSet, f: impl FnOnce()) {
    // SAFETY: all-zero is a valid sigset_t to receive the old mask.
    let mut old: libc::sigset_t = unsafe { mem::zeroed() };
    // SAFETY: valid pointers; only the calling thread's mask changes.
    let blocked = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set.0, &mut old) } == 0;
    f();
    if blocked {
        // SAFETY: putting back the mask read above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut()) };
    }
}

/// Hands a delivery that reached sigmux's handler after sigmux let go of `sig` to whatever
/// disposition is installed now: dropped if that ignores it or is sigmux's own handler again,
/// otherwise sent again to the calling thread, which gets it when the handler returns (or at
/// once under `SA_NODEFER`), so the kernel applies the disposition with all its flags. On
/// Linux the original `siginfo` goes with it (`rt_tgsigqueueinfo`); elsewhere `raise` sends a
/// fresh one.
///
/// Async-signal-safe (`sigaction`, `getpid`, `gettid`, `rt_tgsigqueueinfo`, `raise`).
pub(crate) fn forward(sig: c_int, info: *mut siginfo_t) {
    let Ok(now) = query(sig) else {
        return;
    };
    if now.is_ignore() || now.is_ours() {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        if !info.is_null() {
            // SAFETY: plain system calls on this thread; `info` is the kernel's siginfo for
            // this delivery, valid while the handler runs.
            let sent = unsafe {
                let pid = libc::getpid();
                let tid = libc::syscall(libc::SYS_gettid) as libc::pid_t;
                libc::syscall(libc::SYS_rt_tgsigqueueinfo, pid, tid, sig, info)
            };
            if sent == 0 {
                return;
            }
        }
    }
    let _ = info;
    // SAFETY: raise is async-signal-safe and sends to the calling thread.
    unsafe { libc::raise(sig) };
}

/// `sigaction` reads a disposition without changing it.
pub(crate) const QUERY_IS_ATOMIC: bool = true;

/// Whether sigmux's handler is still the installed one.
pub(crate) fn still_ours(sig: c_int) -> bool {
    query(sig).is_ok_and(|d| d.is_ours())
}

/// Registers the three `pthread_atfork` hooks. Failure (out of memory) only loses the fork
/// protection, so it is ignored.
pub(crate) fn on_fork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) {
    // SAFETY: plain function pointers that live forever.
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
}

/// Reads the current disposition of `sig`.
pub(crate) fn query(sig: c_int) -> io::Result<RawDisposition> {
    // SAFETY: an all-zero `sigaction` is a valid value (plain C struct).
    let mut old: libc::sigaction = unsafe { mem::zeroed() };
    // SAFETY: a null `act` only reads; `old` is a valid out-pointer.
    if unsafe { libc::sigaction(sig, ptr::null(), &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(RawDisposition(old))
}

/// Sets `sig`'s disposition to `d` exactly (handler, flags and mask); returns the one it
/// replaced.
///
/// # Safety
///
/// Changes a process-wide disposition: the caller holds the registry lock and knows sigmux's
/// handler is not needed for `sig` any more (or `d` is sigmux's own).
pub(crate) unsafe fn set(sig: c_int, d: &RawDisposition) -> io::Result<RawDisposition> {
    // SAFETY: as in `query`.
    let mut old: libc::sigaction = unsafe { mem::zeroed() };
    // SAFETY: valid pointers; `d` was read from the OS or built by `plain`.
    if unsafe { libc::sigaction(sig, &d.0, &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(RawDisposition(old))
}

/// Installs sigmux's handler for `sig` with `SA_SIGINFO | extra_flags` and an empty mask;
/// returns the disposition it replaced.
///
/// # Safety
///
/// Changes a process-wide disposition: the caller owns `sig` on behalf of sigmux (holds the
/// registry lock) and has published the previous disposition for the handler to chain to.
pub(crate) unsafe fn install(sig: c_int, extra_flags: c_int) -> io::Result<RawDisposition> {
    // SAFETY: an all-zero `sigaction` is valid: no flags, empty mask (zeroed sigset_t is
    // empty on every supported platform; we still call sigemptyset below).
    let mut new: libc::sigaction = unsafe { mem::zeroed() };
    new.sa_sigaction = entry as *const () as usize;
    new.sa_flags = (libc::SA_SIGINFO | extra_flags) as _;
    // SAFETY: `sa_mask` is a valid sigset_t to initialise.
    unsafe { libc::sigemptyset(&mut new.sa_mask) };
    // SAFETY: as in `query`.
    let mut old: libc::sigaction = unsafe { mem::zeroed() };
    // SAFETY: valid pointers to initialised structs; `entry` has the SA_SIGINFO signature.
    if unsafe { libc::sigaction(sig, &new, &mut old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(RawDisposition(old))
}

/// The largest signal number the platform accepts: `SIGRTMAX()` on Linux and Android, 31 on
/// Apple's systems (`NSIG` is 32), the top of the tables elsewhere (signals the OS does not
/// know are refused by `sigaction` itself).
pub(crate) fn max_signal() -> c_int {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        libc::SIGRTMAX()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        if cfg!(target_vendor = "apple") {
            31
        } else {
            (SLOTS - 1) as c_int
        }
    }
}

/// The highest of the classic (non-real-time) signals.
#[cfg(any(target_os = "linux", target_os = "android"))]
const LAST_CLASSIC: c_int = 31;

/// `SIGRTMIN()..=SIGRTMAX()` where the platform has them (Linux and Android).
pub(crate) fn realtime_range() -> Option<(c_int, c_int)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Some((libc::SIGRTMIN(), libc::SIGRTMAX()))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        None
    }
}

/// Why the platform refuses `sig` although it is in range, if it does: glibc and musl keep
/// the signals between 31 and `SIGRTMIN()` for threads and cancellation.
pub(crate) fn refused(sig: c_int) -> Option<String> {
    let _ = sig;
    match realtime_range() {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Some((rtmin, _)) if sig > LAST_CLASSIC && sig < rtmin => Some(format!(
            "is reserved by the C library for its internal use (real-time signals available \
             to programs start at SIGRTMIN() = {})",
            rtmin
        )),
        _ => None,
    }
}

/// The valid signal numbers in words, e.g. `1..=31 and SIGRTMIN()..=SIGRTMAX() = 34..=64`.
pub(crate) fn valid_text() -> String {
    match realtime_range() {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Some((rtmin, rtmax)) if rtmin > LAST_CLASSIC + 1 => format!(
            "1..={} and SIGRTMIN()..=SIGRTMAX() = {}..={}",
            LAST_CLASSIC, rtmin, rtmax
        ),
        _ => format!("1..={}", max_signal()),
    }
}

/// A zeroed `siginfo_t` naming `sig`, for a handler call that received none.
///
/// Async-signal-safe.
pub(crate) fn empty_siginfo(sig: c_int) -> siginfo_t {
    // SAFETY: `siginfo_t` is a plain C struct for which all-zero is a valid value.
    let mut info: siginfo_t = unsafe { mem::zeroed() };
    info.si_signo = sig;
    info
}

/// Which signals were ignored when the process started (bit per signal), and whether that
/// was recorded.
static IGNORED_AT_START: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
static SNAPSHOT_TAKEN: AtomicBool = AtomicBool::new(false);

/// Runs from the constructor list (see `fork`), before `main`, while the process has one
/// thread: records the dispositions at start.
pub(crate) fn at_start() {
    snapshot_ignored();
}

/// Records which signals are ignored right now: from [`at_start`], or at the first query
/// where the platform has no constructor list.
fn snapshot_ignored() {
    for sig in 1..SLOTS {
        if let Ok(d) = query(sig as c_int) {
            if d.is_ignore() {
                if let Some(word) = IGNORED_AT_START.get(sig / 64) {
                    word.fetch_or(1 << (sig % 64), Ordering::Relaxed);
                }
            }
        }
    }
    SNAPSHOT_TAKEN.store(true, Ordering::Release);
}

/// Whether `sig` was ignored (`SIG_IGN`) when the process started: inherited from the parent
/// across `exec`, as `nohup` does for `SIGHUP`.
pub(crate) fn ignored_at_start(sig: c_int) -> bool {
    crate::fork::start();
    if !SNAPSHOT_TAKEN.load(Ordering::Acquire) {
        snapshot_ignored();
    }
    let Ok(sig) = usize::try_from(sig) else {
        return false;
    };
    IGNORED_AT_START
        .get(sig / 64)
        .is_some_and(|w| w.load(Ordering::Relaxed) & (1 << (sig % 64)) != 0)
}

/// The OS-facing entry point: the function `sigaction` is given.
extern "C" fn entry(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    crate::handler::handle(sig, info, ctx);
}

#[cfg(any(
    target_os = "linux",
    target_os = "hurd",
    target_os = "emscripten",
    target_os = "dragonfly",
    target_os = "l4re"
))]
use libc::__errno_location as errno_location;

#[cfg(any(
    target_os = "android",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "cygwin",
    target_os = "nuttx"
))]
use libc::__errno as errno_location;

#[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
use libc::__error as errno_location;

#[cfg(any(target_os = "illumos", target_os = "solaris"))]
use libc::___errno as errno_location;

#[cfg(target_os = "haiku")]
use libc::_errnop as errno_location;

/// `errno` as saved on entry to the handler, to put back on the way out. Deliberately not a
/// `Drop` guard: the handler's frame must have no destructor while it calls a previous handler
/// that may leave with `siglongjmp`. Async-signal-safe.
pub(crate) struct SavedErrno(c_int);

impl SavedErrno {
    pub(crate) fn save() -> Self {
        // SAFETY: the errno location is valid for the calling thread for its whole life.
        SavedErrno(unsafe { *errno_location() })
    }

    pub(crate) fn restore(self) {
        // SAFETY: as in `save`.
        unsafe { *errno_location() = self.0 };
    }
}
