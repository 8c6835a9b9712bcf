//! Bad input to every public function that takes a signal number, a file descriptor or an
//! option, in every crate: each case runs in its own forked process (alarm watchdog), and
//! must give a clear `Err` (kind `InvalidInput`, naming the signal) — or, only where the
//! compatible API documents it, a panic with a message — and leave the process able to go on
//! (after the call, the child registers a flag, raises a signal and sees it). Nothing may
//! abort.
//!
//! The outcome table is `BAD_INPUT.md`; regenerate it with
//! `SIGMUX_BAD_INPUT_TABLE=crates/sigmux-stress/BAD_INPUT.md cargo test -p sigmux-stress --test bad_input`
//! (which keeps the file's Windows section: the table `bad_input_portable.rs` prints under
//! wine with `--nocapture`).
#![cfg(unix)]
#![allow(deprecated)] // unregister_signal is tested too

use std::fmt::Write as _;
use std::io::{self, ErrorKind};
use std::os::unix::io::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use libc::c_int;
use sigmux::iterator::backend::SignalDelivery;
use sigmux::iterator::exfiltrator::{SignalOnly, WithOrigin, WithRawSiginfo};
use sigmux::iterator::{Signals, SignalsInfo};
use sigmux_registry::Options;

mod common;
use common::{verdict, Class, Rule, Seen};

// ------------------------------------------------------------------------------------------
// The values.

fn values() -> Vec<(String, c_int, Class)> {
    let mut v = vec![
        ("-1".to_string(), -1, Class::Invalid),
        ("0".into(), 0, Class::Invalid),
    ];
    for &sig in sigmux_registry::FORBIDDEN {
        let name = sigmux::low_level::signal_name(sig).unwrap_or("?");
        v.push((format!("{} ({})", name, sig), sig, Class::Forbidden));
    }
    // glibc keeps the numbers between the classic signals and SIGRTMIN() for itself.
    for sig in 32..libc::SIGRTMIN() {
        v.push((sig.to_string(), sig, Class::Reserved));
    }
    let max = libc::SIGRTMAX();
    v.push((
        format!("SIGRTMAX()+1 ({})", max + 1),
        max + 1,
        Class::Invalid,
    ));
    v.push(("1000".into(), 1000, Class::Invalid));
    v.push(("i32::MAX".into(), i32::MAX, Class::Invalid));
    v
}

// ------------------------------------------------------------------------------------------
// The functions, and what each may do with a bad value.

type Call = fn(c_int) -> io::Result<String>;

struct Func {
    name: &'static str,
    rule: Rule,
    call: Call,
}

fn empty() {}

fn ok<T>(r: io::Result<T>) -> io::Result<String> {
    r.map(|_| "Ok".to_string())
}

/// The unsafe registrations, each with an empty action.
mod reg {
    use super::*;

    fn nothing(_: &libc::siginfo_t) {}

    pub(super) fn register(s: c_int) -> io::Result<String> {
        // SAFETY: the action is empty: async-signal-safe.
        ok(unsafe { sigmux_registry::register(s, empty) })
    }

    pub(super) fn register_sigaction(s: c_int) -> io::Result<String> {
        // SAFETY: the action is empty: async-signal-safe.
        ok(unsafe { sigmux_registry::register_sigaction(s, nothing) })
    }

    pub(super) fn register_signal_unchecked(s: c_int) -> io::Result<String> {
        // SAFETY: the action is empty: async-signal-safe.
        ok(unsafe { sigmux_registry::register_signal_unchecked(s, empty) })
    }

    pub(super) fn register_unchecked(s: c_int) -> io::Result<String> {
        // SAFETY: the action is empty: async-signal-safe.
        ok(unsafe { sigmux_registry::register_unchecked(s, nothing) })
    }

    pub(super) fn try_register(s: c_int) -> io::Result<String> {
        // SAFETY: the action is empty: async-signal-safe.
        ok(unsafe { sigmux_registry::try_register(s, Options::new(), empty) })
    }

    pub(super) fn try_register_sigaction(s: c_int) -> io::Result<String> {
        // SAFETY: the action is empty: async-signal-safe.
        ok(unsafe { sigmux_registry::try_register_sigaction(s, Options::new(), nothing) })
    }

    pub(super) fn low_level_register(s: c_int) -> io::Result<String> {
        // SAFETY: the action is empty: async-signal-safe.
        ok(unsafe { sigmux::low_level::register(s, empty) })
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn funcs() -> Vec<Func> {
    macro_rules! f {
        ($name:expr, $rule:ident, $call:expr) => {
            Func {
                name: $name,
                rule: Rule::$rule,
                call: $call,
            }
        };
    }
    vec![
        // --- sigmux-registry
        f!("sigmux_registry::register", CompatPanics, reg::register),
        f!(
            "sigmux_registry::register_sigaction",
            CompatPanics,
            reg::register_sigaction
        ),
        f!(
            "sigmux_registry::register_signal_unchecked",
            Unchecked,
            reg::register_signal_unchecked
        ),
        f!(
            "sigmux_registry::register_unchecked",
            Unchecked,
            reg::register_unchecked
        ),
        f!("sigmux_registry::try_register", Checked, reg::try_register),
        f!(
            "sigmux_registry::try_register_sigaction",
            Checked,
            reg::try_register_sigaction
        ),
        f!("sigmux_registry::unregister_signal", Remove, |s| Ok(
            sigmux_registry::unregister_signal(s).to_string()
        )),
        f!("sigmux_registry::disposition", Query, |s| {
            sigmux_registry::disposition(s).map(|d| format!("{:?}", d))
        }),
        f!("sigmux_registry::ignore", Dispose, |s| ok(
            sigmux_registry::ignore(s)
        )),
        f!("sigmux_registry::set_default_action", Dispose, |s| ok(
            sigmux_registry::set_default_action(s)
        )),
        f!("sigmux_registry::ignored_at_start", Query, |s| {
            sigmux_registry::ignored_at_start(s).map(|b| b.to_string())
        }),
        // --- sigmux
        f!("sigmux::flag::register", Checked, |s| ok(
            sigmux::flag::register(s, Arc::new(AtomicBool::new(false)))
        )),
        f!("sigmux::flag::register_usize", Checked, |s| ok(
            sigmux::flag::register_usize(s, Arc::new(AtomicUsize::new(0)), 1)
        )),
        f!(
            "sigmux::flag::register_conditional_shutdown",
            Checked,
            |s| ok(sigmux::flag::register_conditional_shutdown(
                s,
                1,
                Arc::new(AtomicBool::new(false))
            ))
        ),
        f!("sigmux::flag::register_conditional_default", Checked, |s| {
            ok(sigmux::flag::register_conditional_default(
                s,
                Arc::new(AtomicBool::new(false)),
            ))
        }),
        f!(
            "sigmux::low_level::register",
            CompatPanics,
            reg::low_level_register
        ),
        f!("sigmux::low_level::raise", Sends, |s| ok(
            sigmux::low_level::raise(s)
        )),
        f!("sigmux::low_level::emulate_default_handler", Sends, |s| ok(
            sigmux::low_level::emulate_default_handler(s)
        )),
        f!("sigmux::low_level::signal_name", Name, |s| Ok(format!(
            "{:?}",
            sigmux::low_level::signal_name(s)
        ))),
        f!("sigmux::low_level::pipe::register", Checked, |s| {
            let (_r, w) = UnixStream::pair()?;
            ok(sigmux::low_level::pipe::register(s, w))
        }),
        f!("sigmux::low_level::pipe::register_raw", Checked, |s| {
            let (_r, w) = UnixStream::pair()?;
            ok(sigmux::low_level::pipe::register_raw(s, w.into()))
        }),
        f!("sigmux::iterator::Signals::new", Checked, |s| ok(
            Signals::new([s])
        )),
        f!(
            "sigmux::iterator::SignalsInfo::<WithOrigin>::new",
            Checked,
            |s| ok(SignalsInfo::<WithOrigin>::new([s]))
        ),
        f!(
            "sigmux::iterator::SignalsInfo::<WithRawSiginfo>::new",
            Checked,
            |s| ok(SignalsInfo::<WithRawSiginfo>::new([s]))
        ),
        f!("sigmux::iterator::SignalsInfo::add_signal", Checked, |s| {
            let it = Signals::new([libc::SIGUSR1])?;
            ok(it.add_signal(s))
        }),
        f!(
            "sigmux::iterator::SignalsInfo::remove_signal",
            Remove,
            |s| {
                let it = Signals::new([libc::SIGUSR1])?;
                Ok(it.remove_signal(s).to_string())
            }
        ),
        f!("sigmux::iterator::Handle::add_signal", Checked, |s| {
            let it = Signals::new([libc::SIGUSR1])?;
            ok(it.handle().add_signal(s))
        }),
        f!("sigmux::iterator::Handle::remove_signal", Remove, |s| {
            let it = Signals::new([libc::SIGUSR1])?;
            Ok(it.handle().remove_signal(s).to_string())
        }),
        f!(
            "sigmux::iterator::backend::SignalDelivery::with_pipe",
            Checked,
            |s| {
                let (r, w) = UnixStream::pair()?;
                ok(SignalDelivery::with_pipe(r, w, SignalOnly, [s]))
            }
        ),
        // --- adapters
        f!("sigmux_mio::v0_6::Signals::new", Checked, |s| ok(
            sigmux_mio::v0_6::Signals::new([s])
        )),
        f!("sigmux_mio::v0_7::Signals::new", Checked, |s| ok(
            sigmux_mio::v0_7::Signals::new([s])
        )),
        f!("sigmux_mio::v0_8::Signals::new", Checked, |s| ok(
            sigmux_mio::v0_8::Signals::new([s])
        )),
        f!("sigmux_mio::v1_0::Signals::new", Checked, |s| ok(
            sigmux_mio::v1_0::Signals::new([s])
        )),
        f!("sigmux_mio::v1_0::Signals::add_signal", Checked, |s| {
            let it = sigmux_mio::v1_0::Signals::new([libc::SIGUSR1])?;
            ok(it.add_signal(s))
        }),
        f!("sigmux_mio::v1_0::Signals::remove_signal", Remove, |s| {
            let it = sigmux_mio::v1_0::Signals::new([libc::SIGUSR1])?;
            Ok(it.remove_signal(s).to_string())
        }),
        f!("sigmux_tokio::Signals::new (in a runtime)", Checked, |s| {
            let rt = tokio_rt();
            let _enter = rt.enter();
            ok(sigmux_tokio::Signals::new([s]))
        }),
        f!("sigmux_tokio::Signals::new (no runtime)", Checked, |s| ok(
            sigmux_tokio::Signals::new([s])
        )),
        f!("sigmux_async_std::Signals::new", Checked, |s| ok(
            sigmux_async_std::Signals::new([s])
        )),
    ]
}

// ------------------------------------------------------------------------------------------
// Descriptor and option cases: each is one call with one bad argument.

struct Special {
    function: &'static str,
    input: &'static str,
    /// Whether an `Err` is the expected outcome (otherwise `Ok` is, and the process must go
    /// on when the signal comes).
    want_err: bool,
    call: fn() -> io::Result<String>,
}

/// A descriptor number that is not open.
fn closed_fd() -> RawFd {
    let (a, b) = UnixStream::pair().expect("socketpair");
    let fd = a.into_raw_fd();
    drop(b);
    // SAFETY: `fd` was just taken from `a`, owned by nobody else; closing it once.
    unsafe { libc::close(fd) };
    fd
}

/// An open descriptor on which no I/O is possible (`O_PATH`): the closest a caller can come,
/// within I/O safety, to handing over a dead descriptor as an `OwnedFd`. (An `OwnedFd` of a
/// *closed* number cannot be made soundly: `from_raw_fd` requires an open descriptor, and
/// std aborts the process when such a value is dropped — whatever the callee does.)
fn o_path() -> io::Result<OwnedFd> {
    // SAFETY: a NUL-terminated path; open has no other preconditions.
    let fd = unsafe {
        libc::open(
            b"/dev/null\0".as_ptr().cast(),
            libc::O_PATH | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A read end whose descriptor is closed (what a caller's bug would hand over).
struct BadRead(RawFd);

impl AsRawFd for BadRead {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

fn raise_then(id: io::Result<sigmux::SigId>) -> io::Result<String> {
    let id = id?;
    // The handler now pokes the descriptor: it must neither crash nor block.
    sigmux::low_level::raise(libc::SIGUSR1)?;
    sigmux::low_level::raise(libc::SIGUSR1)?;
    sigmux::low_level::unregister(id);
    Ok("Ok; raising the signal afterwards is harmless".into())
}

fn specials() -> Vec<Special> {
    vec![
        Special {
            function: "sigmux::low_level::pipe::register_raw",
            input: "an `O_PATH` descriptor (open, but no I/O possible)",
            want_err: true,
            call: || {
                ok(sigmux::low_level::pipe::register_raw(
                    libc::SIGUSR1,
                    o_path()?,
                ))
            },
        },
        Special {
            function: "sigmux::low_level::pipe::register",
            input: "a read-only descriptor (/dev/null, O_RDONLY)",
            want_err: false,
            call: || {
                raise_then(sigmux::low_level::pipe::register(
                    libc::SIGUSR1,
                    std::fs::File::open("/dev/null")?,
                ))
            },
        },
        Special {
            function: "sigmux::low_level::pipe::register",
            input: "a directory",
            want_err: false,
            call: || {
                raise_then(sigmux::low_level::pipe::register(
                    libc::SIGUSR1,
                    std::fs::File::open("/")?,
                ))
            },
        },
        Special {
            function: "sigmux::low_level::pipe::register",
            input: "a socket whose peer is closed (SIGPIPE must not come)",
            want_err: false,
            call: || {
                let (r, w) = UnixStream::pair()?;
                drop(r);
                raise_then(sigmux::low_level::pipe::register(libc::SIGUSR1, w))
            },
        },
        Special {
            function: "sigmux::low_level::pipe::register",
            input: "a full pipe (the write must not block)",
            want_err: false,
            call: || {
                let mut fds = [-1; 2];
                // SAFETY: room for two descriptors.
                if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                // SAFETY: both were just created and are owned by nobody else.
                let (r, w) =
                    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
                // SAFETY: writing from a valid buffer until the pipe is full.
                while unsafe { libc::write(w.as_raw_fd(), [0u8; 4096].as_ptr().cast(), 4096) } > 0 {
                }
                let out = raise_then(sigmux::low_level::pipe::register_raw(libc::SIGUSR1, w));
                drop(r);
                out
            },
        },
        Special {
            function: "sigmux::iterator::backend::SignalDelivery::with_pipe",
            input: "a closed read end",
            want_err: true,
            call: || {
                let (_r, w) = UnixStream::pair()?;
                ok(SignalDelivery::with_pipe(
                    BadRead(closed_fd()),
                    w,
                    SignalOnly,
                    [libc::SIGUSR1],
                ))
            },
        },
        Special {
            function: "sigmux::iterator::backend::SignalDelivery::with_pipe",
            input: "an `O_PATH` write end",
            want_err: true,
            call: || {
                let (r, _w) = UnixStream::pair()?;
                ok(SignalDelivery::with_pipe(
                    r,
                    o_path()?,
                    SignalOnly,
                    [libc::SIGUSR1],
                ))
            },
        },
        Special {
            function: "sigmux::iterator::Handle::add_signal",
            input: "a handle whose iterator was dropped",
            want_err: true,
            call: || {
                let handle = Signals::new([libc::SIGUSR1])?.handle();
                ok(handle.add_signal(libc::SIGUSR2))
            },
        },
        Special {
            function: "sigmux_registry::try_register",
            input: "an option contradicting the signal's installed options (onstack)",
            want_err: true,
            call: || {
                // SAFETY: empty actions.
                unsafe {
                    sigmux_registry::try_register(
                        libc::SIGUSR1,
                        Options::new().onstack(true),
                        empty,
                    )
                }?;
                // SAFETY: empty action.
                ok(unsafe {
                    sigmux_registry::try_register(
                        libc::SIGUSR1,
                        Options::new().onstack(false),
                        empty,
                    )
                })
            },
        },
        Special {
            function: "sigmux_registry::set_default_options",
            input: "every option at once",
            want_err: false,
            call: || {
                let all = Options::new()
                    .onstack(true)
                    .restart(false)
                    .nodefer(true)
                    .restore(true)
                    .keep_ignored(true);
                ok(sigmux_registry::set_default_options(all))
            },
        },
    ]
}

// ------------------------------------------------------------------------------------------
// Running one case in a child.

/// Whether the process still works: a flag on SIGUSR2, raised, seen, unregistered.
fn goes_on() -> bool {
    let flag = Arc::new(AtomicBool::new(false));
    match sigmux::flag::register(libc::SIGUSR2, Arc::clone(&flag)) {
        Ok(id) => {
            let raised = sigmux::low_level::raise(libc::SIGUSR2).is_ok();
            let seen = flag.load(Ordering::SeqCst);
            raised && seen && sigmux::low_level::unregister(id)
        }
        Err(_) => false,
    }
}

fn run_in_child(case: impl FnOnce() -> io::Result<String>) -> Seen {
    let _serial = sigmux_testkit::lock();
    let mut fds = [-1; 2];
    // SAFETY: room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child runs the case, reports through the pipe and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: alarm has no preconditions.
        unsafe { libc::alarm(10) };
        panic::set_hook(Box::new(|_| {}));
        let (kind, detail) = match panic::catch_unwind(AssertUnwindSafe(case)) {
            Ok(Ok(what)) => ("ok".to_string(), what),
            Ok(Err(e)) => (format!("err:{:?}", e.kind()), e.to_string()),
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                ("panic".to_string(), msg)
            }
        };
        let line = format!(
            "{}\t{}\t{}\n",
            kind,
            detail.replace(['\t', '\n'], " "),
            goes_on()
        );
        // SAFETY: writing a valid buffer, then leaving without the harness's exit handlers.
        unsafe {
            libc::write(fds[1], line.as_ptr().cast(), line.len());
            libc::_exit(0)
        }
    }
    // SAFETY: closing our copy of the write end.
    unsafe { libc::close(fds[1]) };
    let mut status = 0;
    loop {
        // SAFETY: valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
        if r == pid {
            break;
        }
        assert_eq!(io::Error::last_os_error().kind(), ErrorKind::Interrupted);
    }
    let seen_stop = libc::WIFSTOPPED(status);
    let stop_sig = libc::WSTOPSIG(status);
    if seen_stop {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
        }
    }
    let mut buf = vec![0u8; 4096];
    // SAFETY: reading into a valid buffer; the writer has exited, so this cannot block.
    let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
    // SAFETY: closing our read end.
    unsafe { libc::close(fds[0]) };
    let text = String::from_utf8_lossy(&buf[..n.max(0) as usize]).to_string();
    let mut parts = text.trim_end().splitn(3, '\t');
    let report = match (parts.next(), parts.next(), parts.next()) {
        (Some(kind), Some(detail), Some(goes)) if !kind.is_empty() => Some(Seen::Reported {
            kind: kind.to_string(),
            detail: detail.to_string(),
            goes_on: goes == "true",
        }),
        _ => None,
    };
    if seen_stop {
        return Seen::Stopped(stop_sig);
    }
    if libc::WIFSIGNALED(status) {
        return Seen::Killed(libc::WTERMSIG(status));
    }
    report.unwrap_or(Seen::Exited(libc::WEXITSTATUS(status)))
}

// ------------------------------------------------------------------------------------------
// Verdicts.

#[test]
fn bad_input_gives_clear_errors_and_never_aborts() {
    let values = values();
    let mut table = String::new();
    let mut failures = Vec::new();
    let mut messages = String::new();
    // One error vocabulary: every `Err ✓` for the same input carries the same message.
    let mut said: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();

    writeln!(
        table,
        "# Bad input: what every public function does with it"
    )
    .unwrap();
    writeln!(
        table,
        "\nGenerated by `crates/sigmux-stress/tests/bad_input.rs` on {} (`SIGRTMIN()` = {}, \
         `SIGRTMAX()` = {}). Each cell is one call in its own forked process; after the call \
         the process registers a flag, raises a signal and sees it (\"the process goes on\"). \
         Every cell below passed that check unless it says otherwise.\n",
        std::env::consts::OS,
        libc::SIGRTMIN(),
        libc::SIGRTMAX()
    )
    .unwrap();
    writeln!(
        table,
        "Marks: **Err ✓** an `io::Error` of kind `InvalidInput` whose message names the signal; \
         **panic (documented)** the compatible function's documented panic, with a message \
         naming the signal; **Err … (OS)** the operating system's refusal; **Ok (allowed)** a \
         real signal the function is documented to accept; **killed/stopped (by design)** \
         `raise`/`emulate_default_handler` did what they were asked; **false**/`None` \
         the documented answer; **✗** a bug.\n"
    )
    .unwrap();
    write!(table, "| function |").unwrap();
    for (name, _, _) in &values {
        write!(table, " {} |", name).unwrap();
    }
    writeln!(table).unwrap();
    writeln!(table, "|---|{}", "---|".repeat(values.len())).unwrap();

    for func in funcs() {
        write!(table, "| `{}` |", func.name).unwrap();
        for &(ref vname, value, class) in &values {
            let call = func.call;
            let seen = run_in_child(move || call(value));
            let v = verdict(func.rule, value, class, &seen);
            write!(table, " {} |", v.mark).unwrap();
            if let (true, Seen::Reported { detail, .. }) = (v.mark == "Err ✓", &seen) {
                said.entry(vname.clone())
                    .or_default()
                    .push((func.name.to_string(), detail.clone()));
            }
            if !v.good {
                failures.push(format!(
                    "{}({}): {} — {}",
                    func.name, vname, v.mark, v.detail
                ));
            }
            if func.name == "sigmux::iterator::Signals::new"
                || (func.rule != Rule::Checked
                    && func.rule != Rule::Remove
                    && func.rule != Rule::Name)
                || !v.good
            {
                writeln!(messages, "* `{}({})` → {}", func.name, vname, v.detail).unwrap();
            }
        }
        writeln!(table).unwrap();
    }

    for (vname, seen) in &said {
        if let Some((first_func, first)) = seen.first() {
            for (func, detail) in seen {
                if detail != first {
                    failures.push(format!(
                        "{}: {} says {:?} but {} says {:?} (one message per input)",
                        vname, func, detail, first_func, first
                    ));
                }
            }
        }
    }

    writeln!(table, "\n## Descriptors and options\n").unwrap();
    writeln!(table, "| function | input | outcome | verdict |").unwrap();
    writeln!(table, "|---|---|---|---|").unwrap();
    for special in specials() {
        let seen = run_in_child(special.call);
        let (good, outcome) = match &seen {
            Seen::Reported {
                kind,
                detail,
                goes_on,
            } => {
                let good = *goes_on
                    && if special.want_err {
                        kind.starts_with("err")
                    } else {
                        kind == "ok"
                    };
                (
                    good,
                    format!(
                        "{}: {}{}",
                        kind,
                        detail,
                        if *goes_on { "" } else { "; process broken" }
                    ),
                )
            }
            other => (false, format!("{:?}", other)),
        };
        writeln!(
            table,
            "| `{}` | {} | {} | {} |",
            special.function,
            special.input,
            outcome,
            if good { "✓" } else { "✗" }
        )
        .unwrap();
        if !good {
            failures.push(format!(
                "{} with {}: {}",
                special.function, special.input, outcome
            ));
        }
    }

    writeln!(table, "\n## Findings\n").unwrap();
    writeln!(
        table,
        "* Nothing aborts, crashes or panics without documenting it; after every call that \
         returns, the process goes on.\n\
         * `low_level::raise` and `low_level::emulate_default_handler` pass the C library's \
         `EINVAL` through (kind `InvalidInput`, message \"Invalid argument\"), as signal-hook \
         does, without naming the signal. `emulate_default_handler` could name it.\n\
         * A *closed* descriptor cannot be handed over as an `OwnedFd` soundly: \
         `OwnedFd::from_raw_fd` requires an open one, and std aborts the process when it drops \
         such a value (\"IO Safety violation\"), whatever the callee does. The tests use open \
         descriptors that allow no I/O (`O_PATH`) instead; a closed *borrowed* read end \
         (`AsRawFd`) is tested as such."
    )
    .unwrap();
    writeln!(table, "\n## Messages\n").unwrap();
    writeln!(
        table,
        "The exact outcome of `Signals::new`, of every function whose rule is not a plain \
         `Err`, and of every ✗ cell:\n"
    )
    .unwrap();
    table.push_str(&messages);

    if let Ok(path) = std::env::var("SIGMUX_BAD_INPUT_TABLE") {
        // Keep the Windows section (from bad_input_portable.rs under wine) of the old file.
        let marker = "<!-- windows -->";
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let mut text = table.clone();
        if let Some(at) = old.find(marker) {
            text.push('\n');
            text.push_str(&old[at..]);
        }
        std::fs::write(&path, text).expect("write the table");
    }
    println!("{}", table);
    assert!(
        failures.is_empty(),
        "bad-input failures:\n{}",
        failures.join("\n")
    );
}
