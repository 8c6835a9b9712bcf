//! Lossless delivery: every delivery the handler sees, in order, with its payload; losses
//! counted and reported, never silent.
//!
//! # Real-time signals
//!
//! The kernel *queues* real-time signals (`SIGRTMIN()..=SIGRTMAX()`): every `sigqueue` is a
//! separate delivery with its own payload (`si_value`), and they arrive in the order they were
//! sent (up to the per-user limit of queued signals, `RLIMIT_SIGPENDING`; past it the
//! *sender* gets `EAGAIN`). A *standard* signal (`SIGUSR1`, `SIGTERM`, …) is different:
//! while one is pending, further ones of the same number are merged into it by the kernel
//! (*coalesced*), before any handler runs. No library can undo that.
//!
//! # Coalescing or lossless — which to choose
//!
//! * [`SignalOnly`](super::SignalOnly) (what [`Signals`](crate::iterator::Signals) uses)
//!   reports "this signal arrived since you last looked", once. Right for `SIGTERM`,
//!   `SIGHUP`, `SIGCHLD`-then-`waitpid`: anything where the number of arrivals does not
//!   matter.
//! * [`WithRawSiginfo`](super::WithRawSiginfo) and [`WithOrigin`](super::WithOrigin) keep a
//!   few `siginfo_t` per signal between two looks and **drop** the rest without saying so.
//!   Fine for "who sent the last `SIGHUP`", wrong for payloads.
//! * [`Lossless`] records *every* run of sigmux's handler into a ring allocated up front
//!   (capacity yours), and the reader gets the records in the order the handler stored them,
//!   with the full origin and a per-signal run number. If the ring is full the deliveries
//!   that do not fit are counted per signal and reported as a [`Record::Lost`] item in their
//!   place. Choose it for real-time signals carrying data, and whenever you need to know how
//!   many times a signal was handled.
//!
//! For standard signals the kernel's coalescing stays: [`Lossless`] counts exactly how many
//! times the *handler ran* ([`Delivery::run`], [`Lossless::handler_runs`]), which can be fewer
//! than the number of `kill`s sent.
//!
//! # Order
//!
//! Records come out in the order the handler stored them (across all signals of the
//! iterator). Deliveries of one signal reach the handler in the kernel's queue order, so one
//! signal's payloads come out in the order they were sent, as long as the handler runs on one
//! thread at a time for that signal (it does when the signal is directed at one thread or is
//! blocked in every thread but one; with several threads able to take a process-directed
//! signal, two deliveries handled at the same moment on two threads are stored in whichever
//! order they reach the ring).
//!
//! A [`Record::Lost`] for signal `s` comes after every delivery stored before the losses it
//! counts, and before the next delivery of `s` that was stored. (In one race — the ring
//! filling up completely between two instructions of the reader that looks for losses after
//! finding it empty — the report moves later, never earlier, and its count is never wrong.)
//!
//! # Who sent it
//!
//! A [`Delivery`] has a [`Sender`], never a bare pid: on Linux a `sigqueue` sender's pid and
//! uid are whatever it wrote ([`Sender::Claimed`]). Never authorize anything on a claimed
//! sender.
//!
//! # Handler side
//!
//! The handler pushes one record into a [ring](self) allocated by [`Lossless::new`]: a few
//! atomic operations and a copy of the `siginfo_t`, no allocation, no lock, no waiting on the
//! reader; a full ring returns at once. It is lock-free: a push retries its compare-exchange
//! only when another push (a handler on another thread) took the same place first.
//!
//! # Example
//!
//! ```
//! # #[cfg(any(target_os = "linux", target_os = "android"))] {
//! use sigmux::iterator::exfiltrator::lossless::{Lossless, Record};
//! use sigmux::iterator::SignalsInfo;
//!
//! let rt = libc::SIGRTMIN() + 1;
//! let lossless = Lossless::new(1024); // room for 1024 unread deliveries
//! let mut signals = SignalsInfo::with_exfiltrator([rt], lossless.clone())?;
//! let me = unsafe { libc::getpid() };
//! for payload in 0..10 {
//!     let value = libc::sigval { sival_ptr: payload as *mut libc::c_void };
//!     assert_eq!(unsafe { libc::sigqueue(me, rt, value) }, 0);
//! }
//! let mut got = Vec::new();
//! while got.len() < 10 {
//!     for record in signals.wait() {
//!         match record {
//!             Record::Delivered(delivery) => got.push(delivery.value.unwrap().ptr),
//!             Record::Lost(lost) => panic!("{} lost", lost.count),
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(got, (0..10).collect::<Vec<usize>>());
//! assert_eq!(lossless.handler_runs(rt), 10);
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use libc::{c_int, siginfo_t};

use super::ring::{Push, Ring};
use super::sealed::Exfiltrator;
use crate::low_level::siginfo::{Cause, Origin, Value};
pub use crate::low_level::siginfo::{Process, Sender};
use crate::sys::MAX_SIGNUM;

/// One delivery, as the handler recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// The signal number.
    pub signal: c_int,

    /// Who sent it, and whether the kernel vouches for that ([`Sender::Attested`]) or only
    /// the sender says so ([`Sender::Claimed`]: never authorize on it).
    pub sender: Sender,

    /// How the signal came about (best effort).
    pub cause: Cause,

    /// The payload of a queued signal (`sigqueue`), where the platform provides it.
    pub value: Option<Value>,

    /// For `SIGCHLD`: the child's exit code or signal.
    pub status: Option<c_int>,

    /// Which run of the handler for this signal this was: 1 for the first, counting the runs
    /// whose records were lost too. (Wraps around after `usize::MAX` runs.)
    pub run: usize,
}

/// Deliveries of one signal that did not fit in the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lost {
    /// The signal.
    pub signal: c_int,

    /// How many of its deliveries were lost at this place of the order.
    pub count: usize,
}

/// What [`Lossless`] yields: a delivery, or the news that some were lost at this place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// A delivery, in the order the handler stored it.
    Delivered(Delivery),

    /// The ring was full: this many deliveries of this signal were lost here.
    Lost(Lost),
}

impl Record {
    /// The signal this record is about.
    pub fn signal(&self) -> c_int {
        match self {
            Record::Delivered(delivery) => delivery.signal,
            Record::Lost(lost) => lost.signal,
        }
    }
}

/// What the handler copies into the ring.
#[derive(Clone, Copy)]
struct Raw {
    info: siginfo_t,
    run: usize,
}

// SAFETY: a `siginfo_t` is plain data (its pointer members are addresses the kernel reports,
// never dereferenced here), so moving a copy to the reader's thread is sound.
unsafe impl Send for Raw {}

/// The carried word of a ring cell: the signal in the low byte, the count above.
const SIGNAL_BITS: u32 = 8;
const MAX_CARRIED: usize = usize::MAX >> SIGNAL_BITS;

fn pack(signal: usize, count: usize) -> usize {
    (count << SIGNAL_BITS) | (signal & ((1 << SIGNAL_BITS) - 1))
}

fn unpack(word: usize) -> (usize, usize) {
    (word & ((1 << SIGNAL_BITS) - 1), word >> SIGNAL_BITS)
}

/// Per-signal counters.
struct PerSignal([AtomicUsize; MAX_SIGNUM]);

impl PerSignal {
    fn new() -> Self {
        PerSignal(std::array::from_fn(|_| AtomicUsize::new(0)))
    }

    fn get(&self, signal: usize) -> Option<&AtomicUsize> {
        self.0.get(signal)
    }

    fn load(&self, signal: c_int) -> usize {
        usize::try_from(signal)
            .ok()
            .and_then(|s| self.get(s))
            .map_or(0, |counter| counter.load(Ordering::SeqCst))
    }
}

struct State {
    ring: Ring<Raw>,
    /// Runs of the handler per signal.
    runs: PerSignal,
    /// Losses not attached to a record nor reported yet.
    unreported: PerSignal,
    /// All losses so far.
    lost: PerSignal,
    /// Some `unreported` counter may be non-zero.
    any_unreported: AtomicBool,
    /// `remove_signal`: the signal's records at positions below this (plus one; 0: none)
    /// are thrown away.
    discard_below: PerSignal,
}

/// Lossless delivery: every delivery that reaches the handler, in order, with its full
/// origin; losses reported per signal. See the [module docs](self).
///
/// Cloning shares the ring and the counters (keep a clone to read
/// [`handler_runs`](Lossless::handler_runs) and [`lost`](Lossless::lost) after giving the
/// other to the iterator). One `Lossless` serves one iterator or adapter: give each its own.
///
/// The [`Default`] has room for [`Lossless::DEFAULT_CAPACITY`] deliveries.
#[derive(Clone)]
pub struct Lossless(Arc<State>);

impl Lossless {
    /// The capacity of [`Lossless::default`].
    pub const DEFAULT_CAPACITY: usize = 4096;

    /// Room for `capacity` unread deliveries (at least 2), allocated now: about
    /// `capacity × 152` bytes on 64-bit Linux (a `siginfo_t` and three words per place).
    ///
    /// The handler moves deliveries from the kernel's queue into the ring as fast as they
    /// come, whether or not you read: choose at least the largest number of deliveries your
    /// reader may fall behind by (the largest burst). Beyond that they are lost — and
    /// reported as [`Record::Lost`].
    pub fn new(capacity: usize) -> Self {
        Lossless(Arc::new(State {
            ring: Ring::new(capacity),
            runs: PerSignal::new(),
            unreported: PerSignal::new(),
            lost: PerSignal::new(),
            any_unreported: AtomicBool::new(false),
            discard_below: PerSignal::new(),
        }))
    }

    /// How many deliveries the ring holds.
    pub fn capacity(&self) -> usize {
        self.0.ring.capacity()
    }

    /// How many times the handler ran for `signal` so far (stored or lost). For a standard
    /// signal this can be fewer than the number sent: the kernel merges a signal sent while
    /// the same one is pending.
    pub fn handler_runs(&self, signal: c_int) -> usize {
        self.0.runs.load(signal)
    }

    /// How many deliveries of `signal` did not fit so far (reported or not yet).
    pub fn lost(&self, signal: c_int) -> usize {
        self.0.lost.load(signal)
    }

    /// The loss reports that are not attached to a stored record: given once the ring is
    /// found empty (see the module docs on order).
    fn trailing_loss(&self) -> Option<Record> {
        let state = &*self.0;
        if !state.any_unreported.swap(false, Ordering::SeqCst) {
            return None;
        }
        let (head, tail) = state.ring.positions();
        if head != tail {
            // Not empty (a push is under way): its records come first; look again later.
            state.any_unreported.store(true, Ordering::SeqCst);
            return None;
        }
        for (signal, counter) in state.unreported.0.iter().enumerate() {
            if counter.load(Ordering::SeqCst) == 0 {
                continue;
            }
            let count = counter.swap(0, Ordering::SeqCst);
            if count == 0 {
                continue; // a push took it along meanwhile
            }
            // More signals may have some: keep looking on the next call.
            state.any_unreported.store(true, Ordering::SeqCst);
            // A loss needs a full ring; the ring was empty at `head`, so if it has not been
            // filled since, every loss counted here happened before `head` and every record
            // from `head` on was stored after them: this is their place.
            if state.ring.tail().wrapping_sub(head) < state.ring.capacity() {
                return Some(Record::Lost(Lost {
                    signal: signal as c_int,
                    count,
                }));
            }
            // Filled up meanwhile: the place is not known; give them back (reported later).
            counter.fetch_add(count, Ordering::SeqCst);
            return None;
        }
        None
    }

    fn discarded(&self, signal: usize, position: usize) -> bool {
        match self.0.discard_below.get(signal) {
            Some(below) => {
                let below = below.load(Ordering::SeqCst);
                below != 0 && (position.wrapping_sub(below - 1) as isize) < 0
            }
            None => true,
        }
    }
}

impl Default for Lossless {
    fn default() -> Self {
        Lossless::new(Lossless::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for Lossless {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lossless")
            .field("ring", &self.0.ring)
            .finish()
    }
}

// SAFETY: `store` does a few atomic operations on counters and one `Ring::push`, which is
// async-signal-safe (no allocation, lock or panic; the ring was allocated by `new`); it
// indexes only with `get`. Decoding happens in `load`, outside the handler. The `Arc` is only
// dereferenced in the handler, never cloned or dropped there.
unsafe impl Exfiltrator for Lossless {
    type Storage = ();
    type Output = Record;

    fn supports_signal(&self, signal: c_int) -> bool {
        usize::try_from(signal).is_ok_and(|s| s > 0 && s < MAX_SIGNUM)
    }

    fn store(&self, _: &(), signal: c_int, info: &siginfo_t) {
        let state = &*self.0;
        let index = match usize::try_from(signal) {
            Ok(index) => index,
            Err(_) => return,
        };
        let (runs, unreported, lost) = match (
            state.runs.get(index),
            state.unreported.get(index),
            state.lost.get(index),
        ) {
            (Some(runs), Some(unreported), Some(lost)) => (runs, unreported, lost),
            _ => return,
        };
        let run = runs.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        // Losses of this signal so far go with this record: reported just before it.
        let mut carried = unreported.swap(0, Ordering::SeqCst);
        if carried > MAX_CARRIED {
            unreported.fetch_add(carried - MAX_CARRIED, Ordering::SeqCst);
            carried = MAX_CARRIED;
        }
        let word = if carried == 0 {
            0
        } else {
            pack(index, carried)
        };
        let raw = Raw { info: *info, run };
        if state.ring.push(raw, word) == Push::Full {
            lost.fetch_add(1, Ordering::Relaxed);
            unreported.fetch_add(carried.wrapping_add(1), Ordering::SeqCst);
            state.any_unreported.store(true, Ordering::SeqCst);
        }
    }

    fn load(&self, _: &(), _: c_int) -> Option<Record> {
        let state = &*self.0;
        loop {
            if let Some(word) = state.ring.take_front_carried() {
                let (signal, count) = unpack(word);
                let head = state.ring.positions().0;
                if !self.discarded(signal, head) {
                    return Some(Record::Lost(Lost {
                        signal: signal as c_int,
                        count,
                    }));
                }
            }
            let head = state.ring.positions().0;
            let (raw, rest) = match state.ring.pop() {
                Some(popped) => popped,
                None => return self.trailing_loss(),
            };
            let index = usize::try_from(raw.info.si_signo).unwrap_or(0);
            if rest != 0 {
                // Another reader of the same iterator raced us for the word: give the count
                // back rather than drop it (reported later).
                let (signal, count) = unpack(rest);
                if let Some(counter) = state.unreported.get(signal) {
                    counter.fetch_add(count, Ordering::SeqCst);
                    state.any_unreported.store(true, Ordering::SeqCst);
                }
            }
            if self.discarded(index, head) {
                continue;
            }
            // SAFETY: the siginfo_t was filled in by the kernel for a real delivery and
            // copied whole by the handler.
            let origin = unsafe { Origin::extract(&raw.info) };
            return Some(Record::Delivered(Delivery {
                signal: origin.signal,
                sender: origin.sender(),
                cause: origin.cause,
                value: origin.value,
                status: origin.status,
                run: raw.run,
            }));
        }
    }

    fn signal_of(&self, output: &Record, _: usize) -> usize {
        usize::try_from(output.signal()).unwrap_or(0)
    }

    fn discard(&self, _: &(), signal: c_int) {
        let state = &*self.0;
        let index = match usize::try_from(signal) {
            Ok(index) => index,
            Err(_) => return,
        };
        // Everything stored so far for this signal is thrown away as the reader meets it;
        // records of other signals stay.
        if let Some(below) = state.discard_below.get(index) {
            below.store(state.ring.tail().wrapping_add(1).max(1), Ordering::SeqCst);
        }
        if let Some(unreported) = state.unreported.get(index) {
            unreported.store(0, Ordering::SeqCst);
        }
    }
}
