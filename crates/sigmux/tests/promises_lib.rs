//! Promises of the crate-level docs (lib.rs) not pinned elsewhere: on Linux the blocking
//! iterator needs no descriptor ("Short wake-up path"), and a pipe handed to `low_level::pipe`
//! stays shared with a forked child ("fork"). Each scenario runs in a forked child.
#![cfg(target_os = "linux")]

use std::io::Read;
use std::os::unix::net::UnixStream;

use libc::SIGUSR1;
use sigmux::iterator::Signals;
use sigmux::low_level;
use sigmux_testkit::{in_child, wait_for, Outcome};

fn descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
#[cfg_attr(
    sigmux_force_pipe,
    ignore = "--cfg sigmux_force_pipe gives the blocking iterator the self-pipe on purpose"
)]
fn the_blocking_iterator_needs_no_descriptor_on_linux() {
    in_child(20, || {
        let base = descriptors();
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        assert_eq!(descriptors(), base, "a descriptor for the iterator");
        low_level::raise(SIGUSR1).unwrap();
        assert_eq!(signals.wait().collect::<Vec<_>>(), [SIGUSR1]);
        assert_eq!(descriptors(), base);
        0
    })
    .assert_success();
}

#[test]
#[cfg_attr(
    sigmux_tsan,
    ignore = "ThreadSanitizer defers the grandchild's handler past its _exit: nothing is written"
)]
fn a_pipe_handed_to_low_level_pipe_stays_shared_with_a_forked_child() {
    in_child(20, || {
        let (mut read, write) = UnixStream::pair().unwrap();
        read.set_nonblocking(true).unwrap();
        low_level::pipe::register(SIGUSR1, write).unwrap();
        // SAFETY: the grandchild only raises (async-signal-safe, as is the handler's write)
        // and leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let code = if low_level::raise(SIGUSR1).is_ok() {
                0
            } else {
                1
            };
            // SAFETY: leaves the forked process at once.
            unsafe { libc::_exit(code) };
        }
        assert_eq!(wait_for(pid), Outcome::Exited(0));
        // The child's handler wrote into the same socket: the parent's reader sees it.
        let mut buf = [0u8; 8];
        assert_eq!(read.read(&mut buf).unwrap(), 1);
        0
    })
    .assert_success();
}
