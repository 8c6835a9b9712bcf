//! Senders: threads of this process and child processes, all running [`send_loop`].
//!
//! Each round a sender
//!
//! 1. takes a free standard signal (its token), records the next sequence number, sends the
//!    signal with `kill` and waits — with an absolute deadline — until a wake-up of that
//!    signal's receiver has observed the number; a deadline that passes is a *missed*
//!    wake-up;
//! 2. queues a burst of real-time signals with `sigqueue`, each carrying a unique payload
//!    (`sender << 48 | n`), counted with a checksum — unless too many are still in flight,
//!    which keeps the kernel's queue (`RLIMIT_SIGPENDING`) from overflowing.
//!
//! The handshake also rate-limits the standard signals, so a flood never starves the rest of
//! the machine.

use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use libc::pid_t;

use crate::board::{mix, rt_signal, Board, RT, STD};

/// Real-time signals allowed in flight (queued, not yet delivered) across all senders.
const RT_IN_FLIGHT: u64 = 256;

/// What a sender needs to know.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sender {
    pub(crate) id: u64,
    pub(crate) target: pid_t,
    pub(crate) rt_burst: usize,
    pub(crate) ack_timeout: Duration,
    /// A child: stop when the target (its parent) is gone.
    pub(crate) is_child: bool,
}

/// Waits for `cond` with an absolute deadline, yielding then napping. Returns whether it held.
fn wait_for(deadline: Instant, mut cond: impl FnMut() -> bool) -> bool {
    let mut spins = 0u32;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        spins += 1;
        if spins < 64 {
            std::thread::yield_now();
        } else {
            // A short nap; a flood may stretch it, the deadline above may not.
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

/// One handshake on standard signal `k`. Returns `false` if the target is gone.
fn handshake(board: &Board, s: &Sender, k: usize) -> bool {
    let (sig, _) = STD[k];
    let seq = board.seq[k].fetch_add(1, SeqCst) + 1;
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(s.target, sig) } != 0 {
        return false;
    }
    board.std_sent[k].fetch_add(1, SeqCst);
    let deadline = Instant::now() + s.ack_timeout;
    if !wait_for(deadline, || board.acked[k].load(SeqCst) >= seq) {
        board.missed.fetch_add(1, SeqCst);
    }
    true
}

/// Queues up to `rt_burst` real-time signals. Returns `false` if the target is gone.
fn rt_burst(board: &Board, s: &Sender, n: &mut u64) -> bool {
    for _ in 0..s.rt_burst {
        if board.rt_in_flight() >= RT_IN_FLIGHT {
            return true;
        }
        let k = (*n % RT as u64) as usize;
        let value = (s.id << 48) | (*n & 0xffff_ffff_ffff);
        let sigval = libc::sigval {
            sival_ptr: value as usize as *mut libc::c_void,
        };
        // SAFETY: sigqueue has no memory-safety preconditions.
        if unsafe { libc::sigqueue(s.target, rt_signal(k), sigval) } == 0 {
            board.rt_sent[k].fetch_add(1, SeqCst);
            board.rt_sent_sum[k].fetch_add(mix(value), SeqCst);
            *n += 1;
        } else {
            match std::io::Error::last_os_error().raw_os_error() {
                // The queue is full (other users' signals count too): try later.
                Some(libc::EAGAIN) => return true,
                _ => return false,
            }
        }
    }
    true
}

/// The sender's loop, until the board says stop or the target disappears.
pub(crate) fn send_loop(board: &Board, s: Sender) {
    let mut next = s.id as usize;
    let mut n = 0u64;
    while !board.stop.load(SeqCst) {
        // SAFETY: getppid has no preconditions.
        if s.is_child && unsafe { libc::getppid() } != s.target {
            return;
        }
        for attempt in 0..STD.len() {
            let k = (next + attempt) % STD.len();
            if board.token[k]
                .compare_exchange(false, true, SeqCst, SeqCst)
                .is_ok()
            {
                let alive = handshake(board, &s, k);
                board.token[k].store(false, SeqCst);
                if !alive {
                    return;
                }
                break;
            }
        }
        next = next.wrapping_add(1);
        if !rt_burst(board, &s, &mut n) {
            return;
        }
    }
}

/// Forks a sender child. The child waits for `go`, sends until `stop` (or until its parent
/// is gone), and `_exit`s. Call before any other thread exists, so the child is an ordinary
/// single-threaded copy.
pub(crate) fn spawn_child(board: &'static Board, s: Sender, watchdog_secs: u32) -> pid_t {
    // SAFETY: the process is single-threaded here (see above), so the child may run any code.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid != 0 {
        return pid;
    }
    // SAFETY: alarm and _exit have no preconditions. The alarm is the child's own watchdog.
    unsafe { libc::alarm(watchdog_secs) };
    let parent = s.target;
    // SAFETY: getppid has no preconditions.
    let parent_alive = || unsafe { libc::getppid() } == parent;
    while !board.go.load(SeqCst) && !board.stop.load(SeqCst) && parent_alive() {
        std::thread::sleep(Duration::from_millis(1));
    }
    if parent_alive() {
        send_loop(board, s);
    }
    // SAFETY: leave without running the parent's exit handlers or flushing its buffers.
    unsafe { libc::_exit(0) }
}
