//! Real-time signal payloads, every one in order: the `Lossless` exfiltrator.
//!
//! Receiver (prints its pid, then each payload as it arrives):
//!
//! ```sh
//! cargo run -p sigmux --example rt_payloads
//! cargo run -p sigmux --example rt_payloads -- --count 1000 --capacity 64   # stop after 1000
//! ```
//!
//! Sender, from another terminal (sends payloads `0..N` of `SIGRTMIN()+1` with `sigqueue`,
//! retrying while the kernel's queue is full):
//!
//! ```sh
//! cargo run -p sigmux --example rt_payloads -- --send-to PID N
//! ```
//!
//! With a small `--capacity` and a receiver that cannot keep up, the receiver prints how many
//! payloads were lost, in their place: never a silent gap. The sender's pid is shown as
//! *claimed*: for `sigqueue` the kernel lets the sender write it. Linux and Android only.

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) mod imp {
    use std::io::{self, Write};

    use sigmux::iterator::exfiltrator::lossless::{Lossless, Record, Sender};
    use sigmux::iterator::SignalsInfo;

    /// The signal the example uses.
    pub(crate) fn signal() -> libc::c_int {
        libc::SIGRTMIN() + 1
    }

    fn parse<T: std::str::FromStr>(value: Option<&String>, what: &str) -> io::Result<T> {
        value.and_then(|v| v.parse().ok()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} needs a number", what),
            )
        })
    }

    /// Runs the example with its command-line arguments (without the program name).
    pub(crate) fn run(args: &[String]) -> io::Result<()> {
        let (mut capacity, mut count, mut send_to) = (65_536usize, None, None);
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--capacity" => capacity = parse(it.next(), "--capacity")?,
                "--count" => count = Some(parse::<usize>(it.next(), "--count")?),
                "--send-to" => {
                    let pid: libc::pid_t = parse(it.next(), "--send-to PID")?;
                    let n: usize = parse(it.next(), "--send-to PID N")?;
                    send_to = Some((pid, n));
                }
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "unknown argument {:?}; usage: [--capacity C] [--count N] | \
                             --send-to PID N",
                            other
                        ),
                    ))
                }
            }
        }
        match send_to {
            Some((pid, n)) => send(pid, n),
            None => receive(capacity, count),
        }
    }

    /// Sends payloads `0..n` to `pid` with `sigqueue`, retrying on `EAGAIN`.
    pub(crate) fn send(pid: libc::pid_t, n: usize) -> io::Result<()> {
        for i in 0..n {
            let value = libc::sigval {
                sival_ptr: i as *mut libc::c_void,
            };
            // SAFETY: sigqueue has no memory-safety preconditions.
            while unsafe { libc::sigqueue(pid, signal(), value) } != 0 {
                let err = io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EAGAIN) {
                    return Err(err);
                }
                std::thread::yield_now(); // the receiver's queue is full: let it drain
            }
        }
        println!("sent {} payloads to pid {}", n, pid);
        Ok(())
    }

    fn receive(capacity: usize, count: Option<usize>) -> io::Result<()> {
        let sig = signal();
        let lossless = Lossless::new(capacity);
        let mut signals = SignalsInfo::with_exfiltrator([sig], lossless.clone())?;
        // SAFETY: getpid cannot fail.
        let pid = unsafe { libc::getpid() };
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "rt_payloads: pid {}, signal SIGRTMIN+1 ({}), capacity {}",
            pid,
            sig,
            lossless.capacity()
        )?;
        writeln!(
            out,
            "send with: cargo run -p sigmux --example rt_payloads -- --send-to {} 1000",
            pid
        )?;
        out.flush()?;
        let (mut received, mut lost) = (0usize, 0usize);
        // This program has one thread, so the handler never runs twice at once: the records
        // come out in the order the kernel delivered them.
        while count.map_or(true, |n| received + lost < n) {
            for record in signals.wait() {
                match record {
                    Record::Delivered(delivery) => {
                        received += 1;
                        let payload = delivery.value.map_or(0, |v| v.ptr);
                        let from = match delivery.sender {
                            Sender::Attested(p) => format!("pid {} (attested)", p.pid),
                            Sender::Claimed(p) => format!("pid {} (claimed, unverified)", p.pid),
                            _ => "unknown sender".to_string(),
                        };
                        writeln!(out, "payload {} from {}", payload, from)?;
                    }
                    Record::Lost(gap) => {
                        lost += gap.count;
                        writeln!(out, "lost {} (ring full)", gap.count)?;
                    }
                    _ => {}
                }
            }
            out.flush()?;
        }
        writeln!(
            out,
            "done: {} received, {} lost, handler ran {} times",
            received,
            lost,
            lossless.handler_runs(sig)
        )?;
        out.flush()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    imp::run(&args)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn main() {
    eprintln!("rt_payloads: real-time signal payloads need Linux or Android");
}
