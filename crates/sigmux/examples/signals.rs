//! The blocking iterator with one `match` on Unix and Windows: Ctrl-C is `SIGINT` on both,
//! and on Windows the console's close button is [`SIGCLOSE`](sigmux::consts::SIGCLOSE).
//!
//! ```text
//! cargo run -p sigmux --example signals [-- --press-ctrl-c]
//! ```
//!
//! Prints `ready`, then waits for a signal. `SIGHUP` (Unix) or Ctrl-Break (Windows) is
//! reported and waiting goes on; `SIGINT` (Ctrl-C), `SIGTERM` or, on Windows, closing the
//! console stop it: the program prints `cleanup done` after its cleanup, then ends as an
//! unhandled Ctrl-C would have ended it (killed by the signal on Unix, status
//! `STATUS_CONTROL_C_EXIT` on Windows). While it cleans up after a close, Windows does not
//! kill it: the iterator still listens for `SIGCLOSE` until it is dropped.
//!
//! `--press-ctrl-c` presses Ctrl-C itself once it is ready: a real console event on Windows
//! (`GenerateConsoleCtrlEvent`), `SIGINT` on Unix (`kill`), for tests.

use std::io::{self, Write};
use std::thread;
use std::time::Duration;

use sigmux::consts::*;
use sigmux::iterator::Signals;
use sigmux::low_level::signal_name;

#[cfg(unix)]
const WATCHED: &[i32] = &[SIGTERM, SIGINT, SIGHUP];
#[cfg(windows)]
const WATCHED: &[i32] = &[SIGTERM, SIGINT, SIGBREAK, SIGCLOSE];

fn main() -> io::Result<()> {
    let mut signals = Signals::new(WATCHED)?;
    println!("ready");
    io::stdout().flush()?;
    if std::env::args().any(|arg| arg == "--press-ctrl-c") {
        thread::spawn(|| {
            thread::sleep(Duration::from_millis(100));
            press_ctrl_c();
        });
    }
    let mut stopped_by = None;
    for sig in &mut signals {
        let name = signal_name(sig).unwrap_or("?");
        match sig {
            SIGINT | SIGTERM => {
                println!("got {}: stopping", name);
                stopped_by = Some(sig);
                break;
            }
            #[cfg(windows)]
            SIGCLOSE => {
                println!("got SIGCLOSE (the console is closing): stopping");
                stopped_by = Some(sig);
                break;
            }
            _ => println!("got {}: carrying on", name),
        }
    }
    // The cleanup. On Windows, after a close, the process stays alive until `signals` is
    // dropped (or Windows' own deadline, about 5 s, passes).
    thread::sleep(Duration::from_millis(100));
    println!("cleanup done");
    io::stdout().flush()?;
    drop(signals);
    end(stopped_by.unwrap_or(SIGTERM))
}

/// Ends the process as the unhandled signal would have.
#[cfg(unix)]
fn end(sig: i32) -> ! {
    sigmux::low_level::die_by_signal(sig)
}

/// Ends the process as the default console handler would have (`STATUS_CONTROL_C_EXIT`).
#[cfg(windows)]
fn end(_sig: i32) -> ! {
    std::process::exit(0xC000_013Au32 as i32)
}

#[cfg(unix)]
fn press_ctrl_c() {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(libc::getpid(), SIGINT) };
}

#[cfg(windows)]
fn press_ctrl_c() {
    #[link(name = "kernel32")]
    extern "system" {
        fn GenerateConsoleCtrlEvent(event: u32, group: u32) -> i32;
    }
    // SAFETY: no memory is involved; event 0 is CTRL_C_EVENT, group 0 every process on this
    // console.
    if unsafe { GenerateConsoleCtrlEvent(0, 0) } == 0 {
        eprintln!(
            "no console to press Ctrl-C in: {}",
            io::Error::last_os_error()
        );
        std::process::exit(3);
    }
}
