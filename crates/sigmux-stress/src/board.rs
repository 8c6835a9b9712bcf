//! The board: counters shared by the receiving process, its sender threads and its sender
//! child processes, in one `MAP_SHARED` anonymous mapping made before the children are forked.
//!
//! Every field is an atomic, and an all-zero mapping is a valid initial value for each of
//! them, so the fresh mapping is a ready board. Atomics in shared memory work across processes
//! (they are plain lock-prefixed instructions on the same physical page). All accesses use
//! `SeqCst`: the figures are checked once at the end, and simplicity beats speed here.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::SeqCst};

use libc::c_int;

/// The standard signals of the handshake, and how each one is received.
pub(crate) const STD: [(c_int, &str); 4] = [
    (libc::SIGUSR1, "SIGUSR1 -> iterator::Signals"),
    (libc::SIGUSR2, "SIGUSR2 -> low_level::pipe (socket)"),
    (libc::SIGWINCH, "SIGWINCH -> flag (polled)"),
    (libc::SIGHUP, "SIGHUP -> SignalsInfo<WithOrigin>"),
];

/// How many real-time signals carry payloads (`SIGRTMIN()+1 ..= SIGRTMIN()+RT`).
pub(crate) const RT: usize = 3;

/// The `k`-th real-time signal used for payloads.
pub(crate) fn rt_signal(k: usize) -> c_int {
    libc::SIGRTMIN() + 1 + k as c_int
}

/// Child pids the `WithOrigin` receiver accepts as senders (beside this process).
pub(crate) const MAX_CHILDREN: usize = 64;

#[repr(C)]
pub(crate) struct Board {
    /// Senders may start.
    pub(crate) go: AtomicBool,
    /// Senders must stop.
    pub(crate) stop: AtomicBool,
    /// Per standard signal: a sender holds it (one handshake in flight per signal, so a lost
    /// wake-up cannot be hidden by another sender's later signal).
    pub(crate) token: [AtomicBool; STD.len()],
    /// Per standard signal: the last sequence number a sender recorded before signalling.
    pub(crate) seq: [AtomicU64; STD.len()],
    /// Per standard signal: the highest sequence number a wake-up observed.
    pub(crate) acked: [AtomicU64; STD.len()],
    /// Per standard signal: signals sent (`kill` succeeded).
    pub(crate) std_sent: [AtomicU64; STD.len()],
    /// Per standard signal: wake-ups of its receiver.
    pub(crate) wakeups: [AtomicU64; STD.len()],
    /// Handshakes whose wake-up did not come within the ack timeout.
    pub(crate) missed: AtomicU64,
    /// Per real-time signal: queued by senders, and the sum of the mixed payloads.
    pub(crate) rt_sent: [AtomicU64; RT],
    pub(crate) rt_sent_sum: [AtomicU64; RT],
    /// Per real-time signal: delivered to the counting action, and the sum of mixed payloads.
    pub(crate) rt_got: [AtomicU64; RT],
    pub(crate) rt_got_sum: [AtomicU64; RT],
    /// Real-time deliveries that were not `sigqueue`d (wrong `si_code`).
    pub(crate) rt_foreign: AtomicU64,
    /// Pids of the sender children.
    pub(crate) children: [AtomicI32; MAX_CHILDREN],
}

impl Board {
    /// Maps a fresh, zeroed board shared with children forked later. It is never unmapped.
    pub(crate) fn map() -> io::Result<&'static Board> {
        // SAFETY: an anonymous shared mapping of the board's size, no address hint.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<Board>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the mapping is page-aligned (enough for every atomic), large enough, zeroed
        // (a valid value of every field) and lives for the rest of the process.
        Ok(unsafe { &*ptr.cast::<Board>() })
    }

    pub(crate) fn total_std_sent(&self) -> u64 {
        self.std_sent.iter().map(|c| c.load(SeqCst)).sum()
    }

    pub(crate) fn total_rt_sent(&self) -> u64 {
        self.rt_sent.iter().map(|c| c.load(SeqCst)).sum()
    }

    pub(crate) fn total_rt_got(&self) -> u64 {
        self.rt_got.iter().map(|c| c.load(SeqCst)).sum()
    }

    /// Real-time signals queued but not yet counted by the receiving action.
    pub(crate) fn rt_in_flight(&self) -> u64 {
        self.total_rt_sent().saturating_sub(self.total_rt_got())
    }

    pub(crate) fn is_child(&self, pid: i32) -> bool {
        pid > 0 && self.children.iter().any(|c| c.load(SeqCst) == pid)
    }
}

/// The payload checksum's mixing function (splitmix64's finaliser): a sum of mixed values
/// catches lost, duplicated and altered payloads. Pure arithmetic, so async-signal-safe.
pub(crate) const fn mix(v: u64) -> u64 {
    let mut z = v.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
