//! sigmux in action: graceful shutdown on TERM/INT, reload on HUP, and who sent each signal.
//!
//! Run with `cargo run -p sigmux --example demo` (then press Ctrl-C, twice to force), or
//! `cargo run -p sigmux --example demo -- --exit` to stop after the self-demonstration.
//!
//! The program first sends itself signals and shows what happens; then it waits for you. It
//! ends the way a well-behaved program ends after a termination signal: *killed by* that
//! signal, after its cleanup (so `cargo run` reports "signal: 15, SIGTERM" or "signal: 2,
//! SIGINT": that is the parent learning why the program stopped, as it should).

#[cfg(not(unix))]
fn main() {
    eprintln!("this demo needs a Unix system");
}

#[cfg(unix)]
fn main() -> std::io::Result<()> {
    demo::main()
}

#[cfg(unix)]
mod demo {
    use std::io::{self, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};
    use std::thread;
    use std::time::Duration;

    use sigmux::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
    use sigmux::iterator::exfiltrator::WithOrigin;
    use sigmux::iterator::SignalsInfo;
    use sigmux::low_level::siginfo::{Origin, Sender};
    use sigmux::low_level::signal_name;
    use sigmux::Shutdown;

    fn name(sig: i32) -> String {
        signal_name(sig)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("signal {}", sig))
    }

    fn describe(origin: &Origin) -> String {
        // `origin.sender()` says whether the kernel vouches for the pid/uid (kill, tgkill,
        // kernel-generated) or the sender wrote them itself (sigqueue on Linux): never trust a
        // claimed sender for anything.
        match origin.sender() {
            Sender::Attested(p) => format!(
                "from pid {} (uid {}), attested by the kernel, cause {:?}",
                p.pid, p.uid, origin.cause
            ),
            Sender::Claimed(p) => format!(
                "claiming to be pid {} (uid {}) — unverified, the sender wrote it, cause {:?}",
                p.pid, p.uid, origin.cause
            ),
            _ => format!("sender unknown, cause {:?}", origin.cause),
        }
    }

    /// Sends `sig` to the whole process from a separate thread, like `kill -<sig> <pid>` would.
    fn send_to_self(sig: i32) {
        thread::spawn(move || {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(libc::getpid(), sig) };
        })
        .join()
        .expect("sender thread");
    }

    pub(crate) fn main() -> io::Result<()> {
        let exit_after_demo = std::env::args().any(|arg| arg == "--exit");
        // SAFETY: getpid and getuid cannot fail.
        let (pid, uid) = unsafe { (libc::getpid(), libc::getuid()) };
        println!("sigmux demo: pid {}, uid {}", pid, uid);

        // 1. Graceful shutdown on TERM/INT, immediate on a second one, dying by the signal at
        //    the end: `Shutdown`, installed here and now.
        let shutdown = Shutdown::new()?;

        // 2. A flag counting reloads, to show flags and the iterator side by side.
        let reloads = Arc::new(AtomicUsize::new(0));

        // 3. The iterator, with the sender of every signal.
        let mut signals = SignalsInfo::<WithOrigin>::new([SIGHUP, SIGTERM, SIGINT, SIGUSR1])?;
        let handle = signals.handle();

        // 4. Bad input is an error, not a crash.
        match signals.add_signal(1000) {
            Err(err) => println!("add_signal(1000) refused: {}", err),
            Ok(()) => println!("add_signal(1000) unexpectedly accepted"),
        }

        // The self-demonstration runs in a thread; the main thread handles signals and
        // acknowledges each one, so the output comes in order.
        let (ack, acked) = mpsc::channel::<()>();
        let demo = thread::spawn({
            let handle = handle.clone();
            move || {
                let wait_ack = |what: &str| {
                    if acked.recv_timeout(Duration::from_secs(5)).is_err() {
                        println!("   (no reaction to {} within 5 s!)", what);
                    }
                };
                println!("\n-- self-demonstration --");
                println!("sending SIGHUP to myself (expect: reload)");
                send_to_self(SIGHUP);
                wait_ack("SIGHUP");
                println!("sending SIGUSR1 to myself (expect: status report)");
                send_to_self(SIGUSR1);
                wait_ack("SIGUSR1");
                println!("removing SIGUSR1 from the iterator, sending it again (expect: silence)");
                handle.remove_signal(SIGUSR1);
                send_to_self(SIGUSR1);
                match acked.recv_timeout(Duration::from_millis(300)) {
                    Ok(()) => println!("   (unexpected: SIGUSR1 was still reported)"),
                    Err(_) => println!("   (nothing reported, as expected)"),
                }
                if exit_after_demo {
                    println!("sending SIGTERM to myself (expect: graceful shutdown)");
                    send_to_self(SIGTERM);
                } else {
                    println!("\n-- now it's your turn --");
                    println!("try: kill -HUP {}   (reload)", pid);
                    println!("     kill -USR1 {}  (ignored: removed above)", pid);
                    println!(
                        "     Ctrl-C or kill -TERM {}  (graceful shutdown; twice = immediate)",
                        pid
                    );
                }
                let _ = io::stdout().flush();
            }
        });

        for origin in &mut signals {
            let who = describe(&origin);
            match origin.signal {
                SIGHUP => {
                    let n = reloads.fetch_add(1, Ordering::SeqCst) + 1;
                    println!(
                        "[main] {} {}: reloading configuration (reload #{})",
                        name(origin.signal),
                        who,
                        n
                    );
                    let _ = ack.send(());
                }
                SIGUSR1 => {
                    println!(
                        "[main] {} {}: status: {} reload(s) so far",
                        name(origin.signal),
                        who,
                        reloads.load(Ordering::SeqCst)
                    );
                    let _ = ack.send(());
                }
                sig => {
                    println!("[main] {} {}: shutting down gracefully", name(sig), who);
                    println!(
                        "[main] (a second TERM/INT now would end the process at once, by that signal)"
                    );
                    break;
                }
            }
        }

        demo.join().expect("demo thread");
        // Pretend to clean up; a second Ctrl-C during this would end the process at once.
        thread::sleep(Duration::from_millis(100));
        println!(
            "[main] cleanup done; ending by {:?}, so the parent sees why",
            shutdown.cause()
        );
        shutdown.finish(0)
    }
}
