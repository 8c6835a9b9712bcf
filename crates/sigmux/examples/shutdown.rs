//! Graceful shutdown done right, with [`sigmux::Shutdown`].
//!
//! ```text
//! cargo run -p sigmux --example shutdown -- [--cleanup-ms N] [--deadline-ms N]
//! ```
//!
//! Prints `ready` once the handlers are installed, then works until asked to stop. On the
//! first SIGTERM or SIGINT (Ctrl-C; on Windows also Ctrl-Break and closing the console) it
//! prints `cleanup started`, cleans up for `--cleanup-ms` milliseconds (default 300), prints
//! `cleanup done` and dies by that signal (`echo $?` in a shell shows 128 + the signal's
//! number, e.g. 143 for SIGTERM, 130 for SIGINT). A second signal during the cleanup ends it
//! at once, by that second signal; with `--deadline-ms`, a cleanup that takes longer than
//! that is cut short, by the first signal.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use sigmux::Shutdown;

fn arg(args: &[String], name: &str) -> Option<u64> {
    let at = args.iter().position(|a| a == name)?;
    match args.get(at + 1).map(|v| v.parse()) {
        Some(Ok(value)) => Some(value),
        _ => {
            eprintln!("{} needs a number of milliseconds", name);
            std::process::exit(2);
        }
    }
}

fn say(line: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", line);
    let _ = out.flush();
}

fn main() -> io::Result<()> {
    run(&std::env::args().skip(1).collect::<Vec<_>>())
}

/// The program, given its arguments (the tests run it inside their own executable).
pub(crate) fn run(args: &[String]) -> io::Result<()> {
    let cleanup = Duration::from_millis(arg(args, "--cleanup-ms").unwrap_or(300));
    let mut builder = Shutdown::builder();
    if let Some(ms) = arg(args, "--deadline-ms") {
        builder = builder.deadline(Duration::from_millis(ms));
    }
    let shutdown = builder.install()?;
    say("ready");

    // The work: here, waiting in slices, as a server would handle requests between checks.
    let mut rounds = 0u64;
    while shutdown.wait_timeout(Duration::from_millis(100)).is_none() {
        rounds += 1;
    }

    say("cleanup started");
    eprintln!(
        "shutdown requested by {:?} after {} rounds",
        shutdown.cause(),
        rounds
    );
    // Sleep until an absolute instant: signals that interrupt the sleep cannot stretch it.
    let done = Instant::now() + cleanup;
    while let Some(left) = done.checked_duration_since(Instant::now()) {
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left);
    }
    say("cleanup done");
    shutdown.finish(0)
}
