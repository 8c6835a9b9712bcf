//! Who sent a signal and why: decoding `siginfo_t` into [`Origin`].
//!
//! The fields are read in Rust through the accessors of the [`libc`] crate, so unlike
//! signal-hook this needs no C compiler. Besides the sender's process and the cause, [`Origin`]
//! carries the payload of a queued signal ([`Origin::value`]) and a child's exit status or
//! signal for `SIGCHLD` ([`Origin::status`]), where the platform provides them.

use std::fmt;

use libc::{c_int, pid_t, siginfo_t, uid_t};

use crate::low_level::signal_name;
use crate::sys::{self, Code};

/// A process, as described in the signal's metadata.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct Process {
    /// The process ID.
    pub pid: pid_t,

    /// The real user ID of the process.
    pub uid: uid_t,
}

/// Who sent a signal, and whether the kernel vouches for it: see [`Origin::sender`].
///
/// # Attested or claimed
///
/// For `kill`, `tgkill`/`tkill` and signals the kernel generates (`SIGCHLD`, terminal
/// signals, …) the kernel fills in the sender's pid and uid itself: they are **attested**.
/// For the codes a process may choose itself — on Linux and Android every negative `si_code`
/// except `SI_TKILL`: `SI_QUEUE` (`sigqueue`), `SI_MESGQ`, `SI_TIMER`, `SI_ASYNCIO`, `SI_SIGIO`
/// — the whole `siginfo_t`, pid and uid included, is whatever the sender passed to
/// `rt_sigqueueinfo`/`rt_tgsigqueueinfo`: an ordinary process can send a `SIGUSR1` that
/// arrives with `si_pid = 1` and `si_uid = 0`. Such a sender is only **claimed**.
///
/// **Never authorize anything on a [`Sender::Claimed`] identity.** Even an attested sender
/// proves only that the process with that pid had permission to signal you at that moment
/// (pids are reused). A process can also forge anything in signals it sends to itself.
///
/// ```
/// use sigmux::low_level::siginfo::{Process, Sender};
///
/// fn may_reload(sender: Sender) -> bool {
///     // Only a sender the kernel vouches for, and only root.
///     matches!(sender, Sender::Attested(Process { uid: 0, .. }))
/// }
/// # let _ = may_reload;
/// ```
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Sender {
    /// Filled in by the kernel: `kill`, `tgkill`/`tkill`, a child for `SIGCHLD`, and (outside
    /// Linux and Android) `sigqueue`, whose pid and uid those kernels fill in themselves.
    Attested(Process),

    /// Written by the sender itself (`sigqueue`-style codes on Linux and Android): it may be
    /// anything. Show it as a claim, never authorize on it.
    Claimed(Process),

    /// No sender is recorded: the kernel generated the signal without a sending process,
    /// or the platform does not say.
    Unknown,
}

impl Sender {
    /// The process, attested or claimed.
    pub fn process(&self) -> Option<Process> {
        match *self {
            Sender::Attested(process) | Sender::Claimed(process) => Some(process),
            Sender::Unknown => None,
        }
    }

    /// The process only if the kernel vouches for it.
    pub fn attested(&self) -> Option<Process> {
        match *self {
            Sender::Attested(process) => Some(process),
            _ => None,
        }
    }

    /// Decides from the raw `si_code` whether `process` is the kernel's word or the sender's.
    /// Async-signal-safe.
    pub(crate) fn classify(raw_code: c_int, process: Option<Process>) -> Sender {
        match process {
            None => Sender::Unknown,
            Some(process) if code_is_claimed(raw_code) => Sender::Claimed(process),
            Some(process) => Sender::Attested(process),
        }
    }
}

/// Whether a `siginfo_t` with this `si_code` may have been written by the sending process.
///
/// Linux (and Android) let `rt_sigqueueinfo` send any negative code other than `SI_TKILL`
/// to another process (codes `>= 0` and `SI_TKILL` are refused with `EPERM` unless a process
/// signals itself). Other kernels fill in the sender of `sigqueue` themselves.
fn code_is_claimed(raw_code: c_int) -> bool {
    /// `SI_TKILL` of the Linux ABI (the same on every architecture).
    const SI_TKILL: c_int = -6;
    cfg!(any(target_os = "linux", target_os = "android")) && raw_code < 0 && raw_code != SI_TKILL
}

/// How another process (or thread) sent the signal.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Sent {
    /// With `kill` (or `raise`, which is `kill`/`tgkill` underneath on some systems).
    User,

    /// With `tkill`/`tgkill` — Linux: `raise`, `pthread_kill`.
    TKill,

    /// With `sigqueue`; the payload is in [`Origin::value`].
    Queue,

    /// By a POSIX message queue notification (`mq_notify`).
    MesgQ,
}

/// What happened to a child, for `SIGCHLD`.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Chld {
    /// It exited; [`Origin::status`] is its exit code.
    Exited,

    /// It was killed by a signal; [`Origin::status`] is that signal.
    Killed,

    /// It was killed by a signal and dumped core; [`Origin::status`] is that signal.
    Dumped,

    /// It stopped at a trap while traced.
    Trapped,

    /// It was stopped; [`Origin::status`] is the stopping signal.
    Stopped,

    /// It was continued after a stop.
    Continued,
}

/// Why a signal was generated: a best-effort reading of `si_code`.
///
/// Platforms differ; codes this crate does not know, and platforms that leave `si_code`
/// empty (macOS), give [`Cause::Unknown`]. Fault signals (`SIGSEGV`, `SIGILL`, …) have no
/// variants here: a handler for them must not return, so the patterns of this crate, which
/// report signals after the handler returned, cannot serve them.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Cause {
    /// Not known: not filled in, not understood, or no specific cause.
    Unknown,

    /// Sent by the kernel (Linux), e.g. `SIGINT` from the terminal driver.
    Kernel,

    /// Sent by a process or thread.
    Sent(Sent),

    /// A `SIGCHLD` because a child changed state.
    Chld(Chld),
}

impl From<Code> for Cause {
    fn from(code: Code) -> Cause {
        match code {
            Code::Unknown => Cause::Unknown,
            Code::Kernel => Cause::Kernel,
            Code::User => Cause::Sent(Sent::User),
            Code::TKill => Cause::Sent(Sent::TKill),
            Code::Queue => Cause::Sent(Sent::Queue),
            Code::MesgQ => Cause::Sent(Sent::MesgQ),
            Code::Exited => Cause::Chld(Chld::Exited),
            Code::Killed => Cause::Chld(Chld::Killed),
            Code::Dumped => Cause::Chld(Chld::Dumped),
            Code::Trapped => Cause::Chld(Chld::Trapped),
            Code::Stopped => Cause::Chld(Chld::Stopped),
            Code::Continued => Cause::Chld(Chld::Continued),
        }
    }
}

/// The payload of a queued signal: C's `union sigval`, as given to `sigqueue` (or
/// `mq_notify`, timers).
///
/// The union has no tag; both readings are offered and the sender's convention decides which
/// one means something.
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
#[non_exhaustive]
pub struct Value {
    /// The `sival_int` member.
    pub int: c_int,

    /// The `sival_ptr` member, as an address (a pointer from another process means nothing
    /// here; within one process it is the sender's to interpret).
    pub ptr: usize,
}

/// A signal and where it came from.
///
/// Produced by the [`WithOrigin`](crate::iterator::exfiltrator::WithOrigin) exfiltrator, or
/// by [`Origin::extract`] from a `siginfo_t` by hand.
///
/// # Fields beyond signal-hook
///
/// signal-hook 0.4 declares this struct `#[non_exhaustive]` with three public fields, so no
/// code outside can build it with a struct literal or match it exhaustively; adding the fields
/// [`value`](Origin::value) and [`status`](Origin::status) therefore breaks no code written for
/// signal-hook. Further fields may be added the same way.
#[derive(Clone, Eq, PartialEq)]
#[non_exhaustive]
pub struct Origin {
    /// The signal number.
    pub signal: c_int,

    /// The process that caused the signal, when known: the sender for `kill`/`sigqueue`/…,
    /// the child for `SIGCHLD`. `None` when the kernel generated it or the platform does not
    /// say.
    pub process: Option<Process>,

    /// How the signal came about (best effort; [`Cause::Unknown`] when the platform does not
    /// say or says something this crate does not know).
    pub cause: Cause,

    /// The payload of a queued signal ([`Sent::Queue`], [`Sent::MesgQ`]); `None` otherwise
    /// or where the platform does not provide it.
    pub value: Option<Value>,

    /// For `SIGCHLD`: the child's exit code ([`Chld::Exited`]) or the signal that killed,
    /// stopped or continued it; `None` for other signals or where not provided.
    pub status: Option<c_int>,

    /// [`process`](Origin::process), with whether the kernel vouches for it: see
    /// [`Origin::sender`]. (Private, so the signal-hook-compatible fields stay as they are.)
    sender: Sender,
}

impl Origin {
    /// Who sent the signal, and whether that is the kernel's word ([`Sender::Attested`]) or
    /// the sender's own claim ([`Sender::Claimed`], e.g. any `sigqueue` on Linux).
    ///
    /// The same process as [`process`](Origin::process), which does not say the difference.
    /// Never authorize anything on a claimed sender; see [`Sender`].
    pub fn sender(&self) -> Sender {
        self.sender
    }

    /// Decodes a `siginfo_t`.
    ///
    /// This function is async-signal-safe: it only reads fields of `info` (no allocation, no
    /// locks), so it may be called inside a signal handler.
    ///
    /// # Safety
    ///
    /// On platforms where part of `siginfo_t` is a C union, `si_signo` and `si_code` must
    /// correctly say which members are filled in. A `siginfo_t` given by the kernel to a
    /// handler always satisfies this; take care with hand-made ones.
    pub unsafe fn extract(info: &siginfo_t) -> Self {
        let signal = info.si_signo;
        let raw_code = sys::si_code(info);
        let code = sys::decode_code(signal, raw_code);
        let has_process = match code {
            Code::Unknown | Code::Kernel => sys::PROCESS_WITHOUT_CODE,
            _ => sys::HAS_FIELDS,
        };
        let process = if has_process {
            // SAFETY: `si_code` says the sender (or child) members are filled in (or the
            // platform has no union for them), per the caller's promise.
            let process = unsafe {
                Process {
                    pid: sys::si_pid(info),
                    uid: sys::si_uid(info),
                }
            };
            if sys::PROCESS_WITHOUT_CODE && process.pid == 0 && process.uid == 0 {
                None
            } else {
                Some(process)
            }
        } else {
            None
        };
        let value = match code {
            Code::Queue | Code::MesgQ if sys::HAS_FIELDS => {
                // SAFETY: a queued signal has `si_value` filled in.
                let (int, ptr) = unsafe { sys::si_value(info) };
                Some(Value { int, ptr })
            }
            _ => None,
        };
        let status = match code {
            Code::Exited
            | Code::Killed
            | Code::Dumped
            | Code::Trapped
            | Code::Stopped
            | Code::Continued
                if sys::HAS_FIELDS =>
            {
                // SAFETY: a SIGCHLD with a CLD_* code has `si_status` filled in.
                Some(unsafe { sys::si_status(info) })
            }
            _ => None,
        };
        Origin {
            signal,
            process,
            cause: code.into(),
            value,
            status,
            sender: Sender::classify(raw_code, process),
        }
    }
}

/// Shows a signal as `"SIGUSR1 (10)"` (quoted, as signal-hook does) without allocating.
struct Named(c_int);

impl fmt::Debug for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Quoted, as signal-hook prints it (a string there): `"SIGUSR1 (10)"`, `"40"`.
        match signal_name(self.0) {
            Some(name) => write!(f, "\"{} ({})\"", name, self.0),
            None => write!(f, "\"{}\"", self.0),
        }
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Origin")
            .field("signal", &Named(self.signal))
            .field("process", &self.process)
            .field("cause", &self.cause)
            .field("value", &self.value)
            .field("status", &self.status)
            .finish()
    }
}
