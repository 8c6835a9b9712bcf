//! Churners: threads that keep changing sigmux's state while signals fly.
//!
//! * **actions**: register an action on a busy signal, unregister it. Each action carries a
//!   token and its churner's slot holds the token while the action is registered; an action
//!   that runs and finds another value in the slot ran after `unregister` returned — an
//!   *action that ran when it should not*.
//! * **iterators**: create `Signals` / `SignalsInfo<WithRawSiginfo>` on the busy signals, read
//!   a batch, add and remove signals, drop them.
//! * **flags**: register every `flag` variant, unregister; a flag set after its
//!   unregistration is an action that ran when it should not.
//! * **pipes**: register socket pairs and pipes with `low_level::pipe`, unregister (which
//!   closes them): descriptors must not leak.
//!
//! With faults injected, the churners also plant one fault of each kind the report must
//! catch: a token cleared before `unregister` (then the signal raised), an action that
//! allocates inside the handler, and a leaked descriptor.

use std::io::Read;
use std::os::unix::io::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use libc::c_int;
use sigmux::iterator::exfiltrator::WithRawSiginfo;
use sigmux::iterator::{Signals, SignalsInfo};
use sigmux_registry::{Options, Registration};

use crate::board::{rt_signal, STD};

/// Actions that ran after their unregistration returned.
pub(crate) static STALE: AtomicU64 = AtomicU64::new(0);
/// Registrations made and removed by the churners: actions, iterator signals, flags, pipes.
pub(crate) static CYCLES: [AtomicU64; 4] = [ZERO; 4];
/// Children forked in the middle of all this, and those that did not exit cleanly (a hang
/// hits the child's alarm).
pub(crate) static FORKS: AtomicU64 = AtomicU64::new(0);
pub(crate) static FORK_FAILURES: AtomicU64 = AtomicU64::new(0);

const SLOTS: usize = 8;
static SLOT: [AtomicU64; SLOTS] = [ZERO; SLOTS];
/// Initialises the arrays of atomics (a `const` item may be repeated; MSRV 1.71 has no
/// inline `const` blocks).
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// The signal used only by the planted allocating action.
pub(crate) const FAULT_SIGNAL: c_int = libc::SIGURG;

fn busy_signals() -> [c_int; 6] {
    [
        STD[0].0,
        STD[1].0,
        STD[2].0,
        STD[3].0,
        rt_signal(0),
        rt_signal(1),
    ]
}

/// A churner's loop: runs until the flag is set; the bool says whether to plant faults.
type Churn = fn(&AtomicBool, bool);

/// The churner threads.
pub(crate) struct Churners {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Churners {
    pub(crate) fn start(inject_faults: bool) -> Churners {
        let stop = Arc::new(AtomicBool::new(false));
        let kinds: [(&str, Churn); 5] = [
            ("churn-actions", churn_actions),
            ("churn-iterators", churn_iterators),
            ("churn-flags", churn_flags),
            ("churn-pipes", churn_pipes),
            ("churn-forks", churn_forks),
        ];
        let threads = kinds
            .iter()
            .map(|&(name, f)| {
                let stop = Arc::clone(&stop);
                thread::Builder::new()
                    .name(name.into())
                    .spawn(move || f(&stop, inject_faults))
                    .expect("spawn")
            })
            .collect();
        Churners { stop, threads }
    }

    pub(crate) fn stop(self) {
        self.stop.store(true, SeqCst);
        for t in self.threads {
            t.join().expect("a churner thread panicked");
        }
    }
}

/// Registers an action whose token lives in `SLOT[slot]` while it is registered.
fn register_checked(sig: c_int, slot: usize, variant: u64) -> Option<Registration> {
    let token = NEXT_TOKEN.fetch_add(1, SeqCst);
    let cell: &'static AtomicU64 = SLOT.get(slot)?;
    cell.store(token, SeqCst);
    let check = move || {
        if cell.load(SeqCst) != token {
            STALE.fetch_add(1, SeqCst);
        }
    };
    // SAFETY: the actions below only load and add atomics: async-signal-safe.
    let id = unsafe {
        match variant % 3 {
            0 => sigmux_registry::register(sig, check),
            1 => sigmux_registry::register_sigaction(sig, move |_: &libc::siginfo_t| check()),
            _ => sigmux_registry::try_register(sig, Options::new(), check),
        }
    }
    .ok()?;
    Some(Registration::from(id))
}

fn churn_actions(stop: &AtomicBool, inject_faults: bool) {
    let signals = busy_signals();
    let mut n = 0u64;
    while !stop.load(SeqCst) {
        let slot = (n % SLOTS as u64) as usize;
        let sig = signals[(n % signals.len() as u64) as usize];
        if let Some(reg) = register_checked(sig, slot, n) {
            // Some turns hold several at once, so removal happens from the middle of a list.
            let extra = register_checked(signals[0], (slot + 1) % SLOTS, n + 1);
            if inject_faults && n % 5000 == 4999 {
                // Planted fault: the token goes before the action does, and the signal comes.
                SLOT[slot].store(0, SeqCst);
                let _ = sigmux::low_level::raise(sig);
            }
            drop(reg);
            SLOT[slot].store(0, SeqCst);
            drop(extra);
            SLOT[(slot + 1) % SLOTS].store(0, SeqCst);
            CYCLES[0].fetch_add(2, SeqCst);
        }
        if inject_faults && n % 5000 == 2500 {
            plant_allocating_action();
        }
        n += 1;
    }
}

/// Planted fault: an action that allocates inside the handler, raised on this thread (so the
/// handler cannot interrupt a `malloc` in progress here).
fn plant_allocating_action() {
    // SAFETY: deliberately NOT async-signal-safe: this is the fault the report must catch.
    let id = unsafe {
        sigmux_registry::register(FAULT_SIGNAL, || {
            std::hint::black_box(Box::new(7u64));
        })
    };
    if let Ok(id) = id {
        let _ = crate::guard_wrap(FAULT_SIGNAL);
        let _ = sigmux::low_level::raise(FAULT_SIGNAL);
        sigmux_registry::unregister(id);
    }
}

fn churn_iterators(stop: &AtomicBool, _: bool) {
    let signals = busy_signals();
    let mut n = 0usize;
    while !stop.load(SeqCst) {
        if n % 4 == 3 {
            if let Ok(mut raw) = SignalsInfo::<WithRawSiginfo>::new([signals[4], signals[1]]) {
                let _ = raw.pending().count();
                CYCLES[1].fetch_add(2, SeqCst);
            }
        } else if let Ok(mut it) = Signals::new([signals[n % 4], signals[(n + 1) % 6]]) {
            let _ = it.pending().count();
            let handle = it.handle();
            let _ = handle.add_signal(signals[(n + 2) % 6]);
            handle.remove_signal(signals[n % 4]);
            let _ = it.pending().count();
            CYCLES[1].fetch_add(3, SeqCst);
        }
        n += 1;
    }
}

fn churn_flags(stop: &AtomicBool, _: bool) {
    let signals = busy_signals();
    let mut n = 0usize;
    let mut previous: Option<Arc<AtomicBool>> = None;
    let usize_flag = Arc::new(AtomicUsize::new(0));
    let never = Arc::new(AtomicBool::new(false));
    while !stop.load(SeqCst) {
        let sig = signals[n % signals.len()];
        let flag = Arc::new(AtomicBool::new(false));
        let ids = [
            sigmux::flag::register(sig, Arc::clone(&flag)),
            sigmux::flag::register_usize(sig, Arc::clone(&usize_flag), n),
            // The conditions stay false: these actions must run and do nothing.
            sigmux::flag::register_conditional_shutdown(sig, 3, Arc::clone(&never)),
            sigmux::flag::register_conditional_default(sig, Arc::clone(&never)),
        ];
        for id in ids.into_iter().flatten() {
            sigmux::low_level::unregister(id);
            CYCLES[2].fetch_add(1, SeqCst);
        }
        flag.store(false, SeqCst);
        // The flag of the previous turn was unregistered a whole turn ago: it must stay false.
        if let Some(old) = previous.replace(flag) {
            if old.load(SeqCst) {
                STALE.fetch_add(1, SeqCst);
            }
        }
        n += 1;
    }
}

fn churn_pipes(stop: &AtomicBool, inject_faults: bool) {
    let signals = busy_signals();
    let mut n = 0usize;
    while !stop.load(SeqCst) {
        let sig = signals[n % signals.len()];
        if n % 2 == 0 {
            if let Ok((mut read, write)) = UnixStream::pair() {
                if let Ok(id) = sigmux::low_level::pipe::register(sig, write) {
                    let _ = read.set_nonblocking(true);
                    let _ = read.read(&mut [0u8; 16]);
                    sigmux::low_level::unregister(id);
                    CYCLES[3].fetch_add(1, SeqCst);
                }
            }
        } else {
            let mut fds = [-1; 2];
            // SAFETY: `fds` has room for two descriptors.
            if unsafe { libc::pipe(fds.as_mut_ptr()) } == 0 {
                // SAFETY: both descriptors were just created and are owned by nobody else.
                let (read, write) =
                    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
                if let Ok(id) = sigmux::low_level::pipe::register_raw(sig, write) {
                    sigmux::low_level::unregister(id);
                    CYCLES[3].fetch_add(1, SeqCst);
                }
                if inject_faults && n % 2000 == 1 {
                    std::mem::forget(read); // planted fault: a leaked descriptor
                }
            }
        }
        n += 1;
    }
}

/// Forks in the middle of the flood and the churn (other threads registering, handlers
/// running): the child must register, receive its own signal through a new iterator and a
/// flag, and exit — under its own alarm, so a deadlock shows as a failure, not a hang.
fn churn_forks(stop: &AtomicBool, _: bool) {
    while !stop.load(SeqCst) {
        // SAFETY: the child only uses sigmux (fork-safe by its atfork hooks), then `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            FORK_FAILURES.fetch_add(1, SeqCst);
            break;
        }
        if pid == 0 {
            // SAFETY: alarm and _exit have no preconditions.
            unsafe { libc::alarm(10) };
            let code = fork_child_body();
            // SAFETY: as above.
            unsafe { libc::_exit(code) };
        }
        FORKS.fetch_add(1, SeqCst);
        if sigmux_testkit::wait_for(pid) != sigmux_testkit::Outcome::Exited(0) {
            FORK_FAILURES.fetch_add(1, SeqCst);
        }
        // A fork copies the page tables of a busy process: keep it to about 50 a second.
        let until = std::time::Instant::now() + std::time::Duration::from_millis(20);
        while std::time::Instant::now() < until && !stop.load(SeqCst) {
            thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

fn fork_child_body() -> i32 {
    static FLAG: AtomicBool = AtomicBool::new(false);
    let Ok(mut signals) = Signals::new([libc::SIGUSR1]) else {
        return 2;
    };
    if sigmux::flag::register(libc::SIGWINCH, &FLAG).is_err() {
        return 3;
    }
    if sigmux::low_level::raise(libc::SIGUSR1).is_err()
        || sigmux::low_level::raise(libc::SIGWINCH).is_err()
    {
        return 4;
    }
    if signals.forever().next() != Some(libc::SIGUSR1) || !FLAG.load(SeqCst) {
        return 5;
    }
    0
}
