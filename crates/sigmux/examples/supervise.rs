//! A tiny supervisor: runs a command, restarts it with exponential backoff whenever it
//! crashes, and stops (terminating the child) on SIGTERM or SIGINT.
//!
//! ```sh
//! cargo run -p sigmux --example supervise                          # a demo child that crashes
//! cargo run -p sigmux --example supervise -- --max-restarts 5 -- sh -c 'sleep 1; exit 3'
//! ```
//!
//! It watches its child through [`sigmux::child::Children`], so it never reaps a process it
//! did not start: other parts of a bigger program may run and wait for their own children.
#[cfg(unix)]
fn main() -> std::io::Result<()> {
    unix::main()
}

#[cfg(not(unix))]
fn main() {
    eprintln!("supervise: Unix only");
}

#[cfg(unix)]
mod unix {
    use std::io;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, ExitStatus};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use sigmux::child::Children;
    use sigmux::consts::TERM_SIGNALS;

    const FIRST_BACKOFF: Duration = Duration::from_millis(100);
    const MAX_BACKOFF: Duration = Duration::from_secs(10);
    /// A run this long counts as healthy: the backoff starts over.
    const HEALTHY: Duration = Duration::from_secs(5);
    /// How often the loop looks at the stop flag while it waits.
    const TICK: Duration = Duration::from_millis(100);

    fn describe(status: ExitStatus) -> String {
        match (status.code(), status.signal()) {
            (Some(code), _) => format!("exited with {}", code),
            (_, Some(sig)) => format!(
                "killed by signal {} ({}){}",
                sig,
                sigmux::low_level::signal_name(sig).unwrap_or("?"),
                if status.core_dumped() {
                    ", core dumped"
                } else {
                    ""
                }
            ),
            _ => format!("ended: {:?}", status),
        }
    }

    pub(crate) fn main() -> io::Result<()> {
        let mut args: Vec<String> = std::env::args().skip(1).collect();
        let mut max_restarts: u32 = 3;
        if args.first().map(String::as_str) == Some("--max-restarts") {
            max_restarts = args
                .get(1)
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "--max-restarts N"))?;
            args.drain(..2);
        }
        if args.first().map(String::as_str) == Some("--") {
            args.remove(0);
        }
        if args.is_empty() {
            // The demo: a child that runs briefly, then crashes.
            args = ["sh", "-c", "echo \"child $$ up\"; sleep 0.2; kill -KILL $$"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        }

        let stop = Arc::new(AtomicBool::new(false));
        for &sig in TERM_SIGNALS {
            sigmux::flag::register(sig, Arc::clone(&stop))?;
        }

        let children = Children::new()?;
        eprintln!(
            "supervise: watching children via {:?}",
            children.mechanism()
        );
        let mut backoff = FIRST_BACKOFF;
        let mut restarts = 0;
        loop {
            let started = Instant::now();
            let pid = children.watch(Command::new(&args[0]).args(&args[1..]).spawn()?)?;
            eprintln!("supervise: started {} as pid {}", args[0], pid);
            let status = loop {
                if stop.load(Ordering::Relaxed) {
                    eprintln!("supervise: stopping, terminating pid {}", pid);
                    // SAFETY: `pid` is our watched child, not yet reaped (only `children`
                    // reaps it), so the number cannot have been reused.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
                    let status = children.wait_pid(pid, None)?;
                    if let Some(status) = status {
                        eprintln!("supervise: child {}", describe(status));
                    }
                    return Ok(());
                }
                if let Some(status) = children.wait_pid(pid, Some(TICK))? {
                    break status;
                }
            };
            eprintln!("supervise: child {}", describe(status));
            if status.success() {
                eprintln!("supervise: child finished cleanly; done");
                return Ok(());
            }
            if started.elapsed() >= HEALTHY {
                backoff = FIRST_BACKOFF;
            }
            if restarts == max_restarts {
                eprintln!("supervise: gave up after {} restarts", restarts);
                std::process::exit(1);
            }
            restarts += 1;
            eprintln!("supervise: restart {} in {:?}", restarts, backoff);
            let until = Instant::now() + backoff;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
