//! A standing conformance suite: the same scenarios run against signal-hook 0.4.6 and against
//! sigmux, and what each library observes is compared (not published).
//!
//! Each scenario body is written once and instantiated twice by [`same!`] (or [`differs!`]),
//! once with `use signal_hook as lib` and once with `use sigmux as lib` — sigmux's API is
//! signal-hook's, so the same code compiles against both. Both libraries install process-wide
//! handlers, so each run happens in a process of its own ([`observe_sides`]: a fork of a
//! freshly executed copy of the test binary, alone in it) with an `alarm` watchdog. The
//! body reports what it sees with [`note`]; the lines travel back to the test through a file,
//! followed by how the process ended, so a scenario that aborts or exits still has its earlier
//! observations compared. Scenarios that end a process on purpose do it in a forked process
//! of their own ([`fork_outcome`]) and observe how it ended.
//!
//! Linux only: the scenarios observe Linux's `si_code` values, real-time signals, POSIX
//! timers and `errno` by `__errno_location`; elsewhere the crate is empty.
//!
//! Run with `SIGMUX_CONFORMANCE_SHOW=1 cargo test -p sigmux-conformance -- --nocapture` to
//! see what each scenario observed.
//!
//! Observations must not depend on anything that differs between two runs of the same library
//! (pids, addresses, timing): print `who(pid)` instead of a pid, and use handshakes
//! (`wait()`, a blocking `read`, `waitpid`) instead of sleeps.
//!
//! (About 500 lines: the harness is one piece, forking, reporting and comparing; the
//! scenarios themselves live in `tests/`.)
#![cfg(target_os = "linux")]

use std::fmt::Display;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use libc::c_int;

/// Seconds a scenario's process (and each process it forks with [`fork_outcome`]) may run
/// before its `alarm` watchdog kills it. Generous: a scenario takes milliseconds.
pub const WATCHDOG_SECS: u32 = 10;

/// The environment variable that tells a started copy of the test binary which side of the
/// scenario to run.
const SIDE_ENV: &str = "SIGMUX_CONFORMANCE_SIDE";
/// The environment variable naming the file that copy reports into.
const OUT_ENV: &str = "SIGMUX_CONFORMANCE_OUT";

/// The descriptor the current scenario process reports on (-1 outside a scenario).
static OUT: AtomicI32 = AtomicI32::new(-1);

/// Reports one observation line (in a scenario process; elsewhere it goes to stderr).
///
/// Written at once, so the lines a scenario noted survive if it then aborts or exits.
/// Not for use in a signal handler (it formats and allocates).
pub fn note(line: impl Display) {
    let mut text = line.to_string();
    text.push('\n');
    let fd = match OUT.load(Ordering::SeqCst) {
        -1 => 2,
        fd => fd,
    };
    write_all(fd, text.as_bytes());
}

fn write_all(fd: c_int, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid buffer of `bytes.len()` bytes.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        bytes = bytes.get(n as usize..).unwrap_or_default();
    }
}

/// The name libtest knows a test by: `module_path!()` without the crate, then the function.
fn test_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_, inner)) => format!("{}::{}", inner, function),
        None => function.to_string(),
    }
}

/// Runs each side of a scenario in a process of its own and returns what each observed: its
/// [`note`]d lines, then `end: <how the process ended>`, in the order of `sides`.
///
/// Call it from the `#[test]` function `function` of module `module_path` (pass
/// `module_path!()`) — [`same!`] and [`differs!`] do. Each side runs in a freshly executed
/// copy of the test binary that runs only this test, with the environment naming the side:
/// there this function runs that side (in a fork of that copy, with the [`WATCHDOG_SECS`]
/// `alarm`) and ends the process, never returning. A fresh process rather than a `fork` of
/// the test harness: a
/// process forked while another harness thread holds one of the standard library's internal
/// locks (seen: the lock every new thread takes at start, in
/// `std::sys::pal::unix::stack_overflow::thread_info`) inherits it held, and hangs as soon as
/// it starts a thread of its own.
pub fn observe_sides(module_path: &str, function: &str, sides: &[(&str, fn())]) -> Vec<String> {
    let name = test_name(module_path, function);
    if let Some(wanted) = std::env::var_os(SIDE_ENV) {
        let side = sides
            .iter()
            .find(|(side, _)| wanted.to_str() == Some(*side))
            .unwrap_or_else(|| panic!("test {}: no side {:?}", name, wanted));
        run_side(side.1);
    }
    sides
        .iter()
        .map(|(side, _)| spawn_side(&name, side))
        .collect()
}

/// In the started copy: runs the side in a forked process and reports, into the file the
/// parent named, what it noted and how it ended; then ends.
///
/// The side runs in a fork of this copy so that it is the only thread of its process, as a
/// small program's main thread would be: a signal sent to the process (`kill`) then runs its
/// handler in that thread before `kill` returns, instead of in the harness's idle main thread
/// at some later moment. The fork is safe: this copy runs only this test, and the harness's
/// main thread just waits for it.
fn run_side(scenario: fn()) -> ! {
    let path = std::env::var_os(OUT_ENV).expect("the output file is named in the environment");
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("cannot open the output file");
    OUT.store(std::os::fd::IntoRawFd::into_raw_fd(file), Ordering::SeqCst);
    // SAFETY: fork has no memory-safety preconditions; the child runs the scenario and
    // `_exit`s, never returning into the harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: alarm has no memory-safety preconditions.
        unsafe { libc::alarm(WATCHDOG_SECS) };
        let code = match panic::catch_unwind(scenario) {
            Ok(()) => 0,
            Err(_) => 101,
        };
        // SAFETY: ends the scenario's process without returning into the test harness.
        unsafe { libc::_exit(code) }
    }
    let status = reap(pid);
    if libc::WIFSIGNALED(status) {
        note(format!("end: killed({})", sig_text(libc::WTERMSIG(status))));
    } else {
        note(format!("end: exited({})", libc::WEXITSTATUS(status)));
    }
    // SAFETY: ends this copy without returning into the test harness.
    unsafe { libc::_exit(0) }
}

/// In the test: starts the copy of the test binary for one side and collects its report.
fn spawn_side(name: &str, side: &str) -> String {
    static SERIAL: AtomicUsize = AtomicUsize::new(0);
    let out = std::env::temp_dir().join(format!(
        "sigmux-conformance-{}-{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::SeqCst),
        side
    ));
    std::fs::File::create(&out).expect("cannot create the output file");
    let exe = std::env::current_exe().expect("the test binary's path");
    let status = Command::new(exe)
        .args([name, "--exact", "--include-ignored", "--nocapture"])
        .args(["--test-threads", "1", "-q"])
        .env(SIDE_ENV, side)
        .env(OUT_ENV, &out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("cannot start the test binary");
    let lines = std::fs::read(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let mut report = String::from_utf8_lossy(&lines).into_owned();
    // The copy reports the scenario's end itself and exits 0; anything else is a harness
    // failure, shown so that the comparison fails.
    if status.code() != Some(0) {
        report.push_str(&format!(
            "\nharness: the copy running the side ended with {:?} (code {:?}, signal {:?})",
            status,
            status.code(),
            status.signal()
        ));
    }
    report.trim_end().to_string()
}

/// A signal number with its name, e.g. `15 SIGTERM`, for readable observations.
pub fn sig_text(sig: c_int) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGSYS => "SIGSYS",
        _ => "",
    };
    if name.is_empty() {
        sig.to_string()
    } else {
        format!("{} {}", sig, name)
    }
}

/// Runs `f` in a forked process (with its own watchdog, no core dumps, its output discarded)
/// and describes how that process ended: `exited(N)` (0 when `f` returns, 101 when it
/// panics), `killed(SIG)`, or `stopped(SIG)` (then it is killed and reaped). Always reaps the
/// process before returning.
///
/// For scenarios that end a process (shutdown flags, default actions, aborts).
pub fn fork_outcome(f: impl FnOnce()) -> String {
    // SAFETY: fork has no memory-safety preconditions. The scenario process runs no other
    // thread of ours unless the scenario started one (then `f` must not depend on it); the
    // test harness's main thread only waits for the scenario's thread.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
    if pid == 0 {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a valid rlimit and a valid path; alarm, dup2 and close have no
        // memory-safety preconditions.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::alarm(WATCHDOG_SECS);
            // These processes are expected to panic or abort; their messages (and backtraces,
            // slow to symbolize) are noise: the outcome is what is compared. Both stdout and
            // stderr: an aborting panic's message reaches the test's stdout.
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null >= 0 {
                libc::dup2(null, 1);
                libc::dup2(null, 2);
                libc::close(null);
            }
        }
        // No `panic::set_hook` here to keep panics quiet: the hook's lock may have been held
        // by another test thread when the harness forked this process's parent, and taking
        // it for writing would then hang. (Under `cargo test` the message goes to the
        // inherited capture buffer, where nobody reads it.)
        let code = match panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(()) => 0,
            Err(_) => 101,
        };
        // SAFETY: ends this forked process without running the parent's exit hooks.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer; `pid` is our child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
        if r == pid {
            break;
        }
        assert_eq!(
            io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR),
            "waitpid"
        );
    }
    if libc::WIFSTOPPED(status) {
        // SAFETY: our own stopped child; SIGKILL ends it even while stopped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        reap(pid);
        format!("stopped({})", sig_text(libc::WSTOPSIG(status)))
    } else if libc::WIFSIGNALED(status) {
        format!("killed({})", sig_text(libc::WTERMSIG(status)))
    } else {
        format!("exited({})", libc::WEXITSTATUS(status))
    }
}

/// Waits for the child `pid` to end and returns its raw status.
pub fn reap(pid: libc::pid_t) -> c_int {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return status;
        }
        assert_eq!(
            io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR),
            "waitpid"
        );
    }
}

/// Forks a process that sends `sig` to this one with `kill` and exits; reaps it and returns
/// its pid. The signal has been sent when this returns.
pub fn kill_from_other_process(sig: c_int) -> libc::pid_t {
    // SAFETY: the child calls only async-signal-safe functions and _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: kill, getppid and _exit are async-signal-safe.
        unsafe {
            libc::kill(libc::getppid(), sig);
            libc::_exit(0);
        }
    }
    reap(pid);
    pid
}

/// Sends `sig` to this process with `kill(getpid(), sig)` (cause `SI_USER`).
pub fn kill_self(sig: c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    let r = unsafe { libc::kill(libc::getpid(), sig) };
    assert_eq!(r, 0, "kill: {}", io::Error::last_os_error());
}

/// Names a pid relative to this process: `self`, `parent`, or `other`.
pub fn who(pid: libc::pid_t) -> &'static str {
    // SAFETY: getpid and getppid cannot fail.
    let (me, parent) = unsafe { (libc::getpid(), libc::getppid()) };
    if pid == me {
        "self"
    } else if pid == parent {
        "parent"
    } else {
        "other"
    }
}

/// Names a uid relative to this process: `me` or the number.
pub fn uid_text(uid: libc::uid_t) -> String {
    // SAFETY: getuid cannot fail.
    if uid == unsafe { libc::getuid() } {
        "me".to_string()
    } else {
        uid.to_string()
    }
}

/// A result as observed: `Ok(..)` with the value's text, or `Err(<kind>)` (the message and
/// raw OS error are left out: sigmux's messages name the signal, signal-hook's are errno).
pub fn res<T: std::fmt::Debug>(r: &io::Result<T>) -> String {
    match r {
        Ok(v) => format!("Ok({:?})", v),
        Err(e) => format!("Err({:?})", e.kind()),
    }
}

/// Reads whatever is available on the non-blocking descriptor `fd` right now.
pub fn read_available(fd: c_int) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        // SAFETY: `buf` is valid for its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return all;
        }
        all.extend_from_slice(buf.get(..n as usize).unwrap_or_default());
    }
}

/// With `SIGMUX_CONFORMANCE_SHOW` set in the environment, prints both observations of a
/// scenario (to see what a passing scenario compares).
pub fn show(name: &str, signal_hook: &str, sigmux: &str) {
    if std::env::var_os("SIGMUX_CONFORMANCE_SHOW").is_some() {
        eprintln!(
            "--- `{}`, signal-hook 0.4.6 observed:\n{}\n--- sigmux observed:\n{}\n",
            name, signal_hook, sigmux
        );
    }
}

/// Asserts that both libraries' runs observed the same, with both reports in the message.
///
/// With `SIGMUX_CONFORMANCE_SHOW` set in the environment it also prints what was observed.
#[track_caller]
pub fn assert_same(module_path: &str, function: &str, signal_hook: fn(), sigmux: fn()) {
    let both = observe_both(module_path, function, signal_hook, sigmux);
    let (theirs, ours) = (&both.0, &both.1);
    if theirs == ours {
        show(function, theirs, "(the same)");
    }
    assert!(
        theirs == ours,
        "scenario `{}` differs\n--- signal-hook 0.4.6 observed:\n{}\n--- sigmux observed:\n{}\n",
        function,
        theirs,
        ours
    );
    // Two sides failing alike (an `unwrap` in the scenario, say) compare equal but test
    // nothing: a scenario runs to its end, and ends processes only through `fork_outcome`.
    assert!(
        theirs.ends_with("end: exited(0)"),
        "scenario `{}` did not run to its end (in both libraries):\n{}\n",
        function,
        theirs
    );
}

/// Both observations of a scenario: (signal-hook's, sigmux's).
pub fn observe_both(
    module_path: &str,
    function: &str,
    signal_hook: fn(),
    sigmux: fn(),
) -> (String, String) {
    let mut both = observe_sides(
        module_path,
        function,
        &[("signal-hook", signal_hook), ("sigmux", sigmux)],
    )
    .into_iter();
    let theirs = both.next().unwrap_or_default();
    let ours = both.next().unwrap_or_default();
    (theirs, ours)
}

/// Instantiates a scenario body twice, in `mod $name { mod signal_hook_side; mod sigmux_side }`,
/// each with `lib` naming one library and the surrounding module's imports in scope.
#[macro_export]
macro_rules! sides {
    ($name:ident $body:block) => {
        #[allow(unused_imports)]
        mod $name {
            pub(super) mod signal_hook_side {
                use super::super::*;
                use ::signal_hook as lib;
                pub(in super::super) fn run() $body
            }
            pub(super) mod sigmux_side {
                use super::super::*;
                use ::sigmux as lib;
                pub(in super::super) fn run() $body
            }
        }
    };
}

/// A scenario both libraries must observe identically: a `#[test]` named `$name` that runs
/// the body once per library, each in a process of its own, and compares the observations.
/// The body must run to its end (a panic or an exit in both sides fails the test too); to
/// observe a process ending, end a [`fork_outcome`] process instead.
#[macro_export]
macro_rules! same {
    ($(#[$attr:meta])* $name:ident $body:block) => {
        $crate::sides!($name $body);
        $(#[$attr])*
        #[test]
        fn $name() {
            $crate::assert_same(
                module_path!(),
                stringify!($name),
                $name::signal_hook_side::run,
                $name::sigmux_side::run,
            );
        }
    };
}

/// A scenario where sigmux differs from signal-hook on purpose: the body is still written
/// once, and `$check` receives both observations (`signal_hook`, `sigmux`) to assert each
/// library's own behaviour. Name it `differs_on_purpose_*` and say why in a comment.
#[macro_export]
macro_rules! differs {
    ($(#[$attr:meta])* $name:ident $body:block, |$sh:ident, $sm:ident| $check:block) => {
        $crate::sides!($name $body);
        $(#[$attr])*
        #[test]
        fn $name() {
            let both = $crate::observe_both(
                module_path!(),
                stringify!($name),
                $name::signal_hook_side::run,
                $name::sigmux_side::run,
            );
            let ($sh, $sm): (&str, &str) = (&both.0, &both.1);
            $crate::show(stringify!($name), $sh, $sm);
            $check
        }
    };
}
