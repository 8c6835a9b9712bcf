//! Receivers: one per standard signal, each through a different sigmux path, plus the
//! counting actions of the real-time signals.
//!
//! A receiver, on every wake-up, does some work (a busy loop standing for real processing)
//! and then *acknowledges*: it reads the signal's sequence number from the board and raises
//! the acknowledged mark to it. A sender that recorded `n` before signalling therefore sees
//! `acked >= n` only if a wake-up happened after its signal was handled.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use libc::{c_int, siginfo_t};
use sigmux::iterator::exfiltrator::WithOrigin;
use sigmux::iterator::{Handle, Signals, SignalsInfo};
use sigmux_registry::{Options, SigId};

use crate::board::{mix, rt_signal, Board, RT, STD};

/// With faults injected, the first receiver drops every this-many-th wake-up, and the
/// real-time action every this-many-th delivery.
const DROP_EVERY: u64 = 1000;

/// Deliveries whose `WithOrigin` sender was neither this process nor one of its children.
pub(crate) static WRONG_ORIGIN: AtomicU64 = AtomicU64::new(0);

/// Busy work standing for what a real receiver does per wake-up.
pub(crate) fn work(iterations: u32) -> u64 {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

fn ack(board: &Board, k: usize, broken: bool) {
    let n = board.wakeups[k].fetch_add(1, SeqCst) + 1;
    if broken && n % DROP_EVERY == 0 {
        return; // the planted fault: this wake-up is "lost"
    }
    let seen = board.seq[k].load(SeqCst);
    board.acked[k].fetch_max(seen, SeqCst);
}

/// What stops the receivers.
pub(crate) struct Receivers {
    threads: Vec<JoinHandle<()>>,
    handles: Vec<Handle>,
    socket: UnixStream,
    stop: Arc<AtomicBool>,
    flag_id: SigId,
    pipe_id: SigId,
    rt_ids: Vec<SigId>,
}

impl Receivers {
    /// Registers everything and starts the receiving threads.
    pub(crate) fn start(board: &'static Board, work_iters: u32, broken: bool) -> Receivers {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();

        // SIGUSR1: the blocking iterator.
        let mut usr1 = Signals::new([STD[0].0]).expect("Signals::new(SIGUSR1)");
        let usr1_handle = usr1.handle();
        threads.push(spawn("recv-usr1", move || {
            for _ in &mut usr1 {
                work(work_iters);
                ack(board, 0, broken);
            }
        }));

        // SIGUSR2: a socket registered with low_level::pipe, read by a blocked thread.
        let (mut read, write) = UnixStream::pair().expect("socketpair");
        let socket = read.try_clone().expect("try_clone");
        let pipe_id =
            sigmux::low_level::pipe::register(STD[1].0, write).expect("pipe::register(SIGUSR2)");
        threads.push(spawn("recv-usr2", move || {
            let mut buf = [0u8; 64];
            loop {
                match read.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {
                        work(work_iters);
                        ack(board, 1, false);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }));

        // SIGWINCH: a flag, polled.
        let flag = Arc::new(AtomicBool::new(false));
        let flag_id = sigmux::flag::register(STD[2].0, Arc::clone(&flag)).expect("flag::register");
        let stop_poll = Arc::clone(&stop);
        threads.push(spawn("recv-winch", move || {
            while !stop_poll.load(SeqCst) {
                if flag.swap(false, SeqCst) {
                    work(work_iters);
                    ack(board, 2, false);
                } else {
                    thread::sleep(Duration::from_micros(20));
                }
            }
        }));

        // SIGHUP: the iterator with the sender's pid.
        let mut hup = SignalsInfo::<WithOrigin>::new([STD[3].0]).expect("SignalsInfo::new(SIGHUP)");
        let hup_handle = hup.handle();
        threads.push(spawn("recv-hup", move || {
            // SAFETY: getpid has no preconditions.
            let me = unsafe { libc::getpid() };
            for origin in &mut hup {
                let pid = origin.process.map(|p| p.pid).unwrap_or(0);
                if pid != me && !board.is_child(pid) {
                    WRONG_ORIGIN.fetch_add(1, SeqCst);
                }
                work(work_iters);
                ack(board, 3, false);
            }
        }));

        // Real-time signals: one counting action each, lossless per delivery.
        let rt_ids = (0..RT)
            .map(|k| register_rt_counter(board, k, broken))
            .collect();

        Receivers {
            threads,
            handles: vec![usr1_handle, hup_handle],
            socket,
            stop,
            flag_id,
            pipe_id,
            rt_ids,
        }
    }

    /// Stops the threads and unregisters everything.
    pub(crate) fn stop(self) {
        self.stop.store(true, SeqCst);
        for h in &self.handles {
            h.close();
        }
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
        for t in self.threads {
            t.join().expect("a receiver thread panicked");
        }
        sigmux::low_level::unregister(self.flag_id);
        // Closes the socket's write end.
        sigmux::low_level::unregister(self.pipe_id);
        for id in self.rt_ids {
            sigmux_registry::unregister(id);
        }
    }
}

/// Registers the counting action of real-time signal `k`: it reads `si_value` and adds it,
/// mixed, to the board. Async-signal-safe: field reads and atomic adds only.
fn register_rt_counter(board: &'static Board, k: usize, broken: bool) -> SigId {
    static DELIVERED: AtomicU64 = AtomicU64::new(0);
    let action = move |info: &siginfo_t| {
        if info.si_code != libc::SI_QUEUE {
            board.rt_foreign.fetch_add(1, SeqCst);
            return;
        }
        let n = DELIVERED.fetch_add(1, SeqCst) + 1;
        if broken && n % DROP_EVERY == 0 {
            return; // the planted fault: a lost delivery
        }
        // SAFETY: si_code is SI_QUEUE, so si_value holds the sender's payload.
        let value = unsafe { info.si_value() }.sival_ptr as usize as u64;
        if let Some(got) = board.rt_got.get(k) {
            got.fetch_add(1, SeqCst);
        }
        if let Some(sum) = board.rt_got_sum.get(k) {
            sum.fetch_add(mix(value), SeqCst);
        }
    };
    let sig: c_int = rt_signal(k);
    // SAFETY: the action is async-signal-safe (see above).
    unsafe { sigmux_registry::try_register_sigaction(sig, Options::new(), action) }
        .expect("try_register_sigaction(SIGRTMIN+k)")
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("spawn")
}
