//! The state one signal delivery shares between its signal handlers, its reader and its
//! [`Handle`](super::Handle)s.
//!
//! # The wake path
//!
//! For a delivery of signal `s`, the handler (see [`Shared::deliver`]):
//!
//! 1. stores what the exfiltrator wants into slot `s`;
//! 2. sets bit `s` of the *pending* mask (`fetch_or`, `Release`);
//! 3. wakes the reader: writes one byte to the self-pipe (one `write`/`send` system call), or,
//!    for the blocking iterator on Linux and Android, bumps the [parker](super::wake)'s word
//!    (plus one `sem_post` if the reader sleeps).
//!
//! The reader drains the pipe (or consumes the parker's wake-ups), then, for each set bit it
//! finds, clears it (`fetch_and`, `AcqRel`) and loads slot `s` (see
//! [`Shared::next_delivery`]). The `Release`/`Acquire` pair on the mask makes the slot's
//! contents visible to the reader that saw the bit. Every order of interleaving is safe:
//!
//! * a signal arriving after the drain but before its bit is looked at is reported now, and
//!   its wake-up causes one extra return that finds nothing (an empty batch, never a hang);
//! * a bit seen before its slot was filled is impossible (the slot is written first);
//! * a slot filled again after the bit was taken but before the load is reported now, and
//!   the bit set again later produces a load that finds nothing.
//!
//! A slot that can hold several deliveries (the `siginfo_t` exfiltrators) gets its bit set
//! again after each one the reader takes, and cleared for good only by the load that finds
//! it empty. So a batch dropped part-way leaves what it has not yielded pending: the next
//! batch reports it and a blocking wait returns at once (signal-hook 0.4.6 also reports it in
//! the next batch).
//!
//! The mask means a batch costs one atomic load per 64 signals plus one read-modify-write
//! per signal that actually arrived (two per delivery for the `siginfo_t` exfiltrators),
//! instead of looking at all 128 slots.
//!
//! # Registration
//!
//! Registration state (which [`SigId`] belongs to which signal) lives behind a `Mutex` that
//! only ordinary code takes: adding and removing signals, and dropping the delivery. The
//! handler never touches it. The *enabled* mask (`SeqCst`) says which signals are currently
//! registered; [`Pending`](super::Pending) skips signals that are no longer enabled, which is
//! what makes [`Handle::remove_signal`](super::Handle::remove_signal) take effect at once.
//!
//! The mutex is held while the registry is called (so two concurrent changes of one signal
//! cannot interleave), which makes it a fork hazard: a child forked while another thread
//! held it would find it locked for ever. So the [fork hooks](super::fork) take every live
//! delivery's mutex around each `fork`, before the registry's own hook takes the registry's
//! lock (the order in which this mutex and that lock are always taken).

use std::fmt;
use std::io::{Error, ErrorKind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use libc::c_int;

use super::exfiltrator::sealed::Info;
use super::exfiltrator::Exfiltrator;
#[cfg(unix)]
use super::fork;
pub(crate) use super::wake::Wake;
use crate::sys::MAX_SIGNUM;
use crate::SigId;

const BITS: usize = usize::BITS as usize;
const WORDS: usize = (MAX_SIGNUM + BITS - 1) / BITS;

/// A set of signal numbers below [`MAX_SIGNUM`], readable and writable from handlers.
struct AtomicSet([AtomicUsize; WORDS]);

impl AtomicSet {
    fn new() -> Self {
        AtomicSet(std::array::from_fn(|_| AtomicUsize::new(0)))
    }

    /// Adds `sig`. Async-signal-safe.
    #[inline]
    fn insert(&self, sig: usize, order: Ordering) {
        if let Some(word) = self.0.get(sig / BITS) {
            word.fetch_or(1 << (sig % BITS), order);
        }
    }

    fn remove(&self, sig: usize, order: Ordering) {
        if let Some(word) = self.0.get(sig / BITS) {
            word.fetch_and(!(1 << (sig % BITS)), order);
        }
    }

    fn contains(&self, sig: usize, order: Ordering) -> bool {
        match self.0.get(sig / BITS) {
            Some(word) => word.load(order) & (1 << (sig % BITS)) != 0,
            None => false,
        }
    }

    /// Whether the set has any member.
    fn any(&self, order: Ordering) -> bool {
        self.0.iter().any(|word| word.load(order) != 0)
    }

    /// Removes and returns the smallest member that is `>= from`, if any.
    fn take_from(&self, from: usize) -> Option<usize> {
        let mut index = from / BITS;
        let mut skip = from % BITS;
        while let Some(word) = self.0.get(index) {
            let bits = word.load(Ordering::Acquire) & (usize::MAX << skip);
            if bits != 0 {
                let bit = bits.trailing_zeros() as usize;
                word.fetch_and(!(1 << bit), Ordering::AcqRel);
                return Some(index * BITS + bit);
            }
            index += 1;
            skip = 0;
        }
        None
    }
}

/// Registration bookkeeping, only touched by ordinary code under the mutex.
pub(crate) struct Registrations {
    ids: [Option<SigId>; MAX_SIGNUM],
    initialized: [bool; MAX_SIGNUM],
    /// The reader is gone: no new registrations (their handlers would write to a pipe
    /// nobody reads).
    dropped: bool,
    /// Windows: whether this delivery is in the console handler's list of listeners.
    #[cfg(windows)]
    listening: bool,
}

/// What one delivery shares with its handlers (through the registered closures), its reader
/// and its handles.
pub(crate) struct Shared<E: Exfiltrator> {
    pub(super) exfiltrator: E,
    slots: Box<[E::Storage]>,
    pending: AtomicSet,
    enabled: AtomicSet,
    wake: Wake,
    closed: AtomicBool,
    /// Also held by the fork-hook list, so every fork happens with it unlocked (see
    /// [`fork`](super::fork)).
    registrations: Arc<Mutex<Registrations>>,
}

impl<E: Exfiltrator> Shared<E> {
    pub(crate) fn new(exfiltrator: E, wake: Wake) -> Self {
        Shared {
            exfiltrator,
            slots: (0..MAX_SIGNUM).map(|_| E::Storage::default()).collect(),
            pending: AtomicSet::new(),
            enabled: AtomicSet::new(),
            wake,
            closed: AtomicBool::new(false),
            registrations: track_lock(Registrations {
                ids: [None; MAX_SIGNUM],
                initialized: [false; MAX_SIGNUM],
                dropped: false,
                #[cfg(windows)]
                listening: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registrations> {
        // The data stays consistent even if a panic interrupted a holder.
        self.registrations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The body of the signal handler: store, mark, wake.
    ///
    /// This function is async-signal-safe: a slot store (async-signal-safe by the
    /// exfiltrator's contract), one atomic `fetch_or` and one `write`/`send` system call. It
    /// does not allocate, lock or panic (indices are checked with `get`).
    #[inline]
    fn deliver(&self, index: usize, signal: c_int, info: &Info) {
        if let Some(slot) = self.slots.get(index) {
            self.exfiltrator.store(slot, signal, info);
            self.pending.insert(index, Ordering::Release);
            self.wake.wake();
        }
    }

    /// Blocks until a wake-up not consumed yet, a pending signal or the closing, then
    /// consumes the wake-ups; or until `deadline` passes (returns `false` then). Only for a
    /// delivery made with [`Wake::Park`]; with a pipe it returns `true` at once (the pipe is
    /// what to wait on).
    pub(super) fn park(&self, deadline: Option<std::time::Instant>) -> bool {
        match &self.wake {
            // The pending bits matter only if the wake-up count wrapped around exactly.
            Wake::Park(parker) => parker.park_until_deadline(
                || self.pending.any(Ordering::Acquire) || self.closed.load(Ordering::SeqCst),
                deadline,
            ),
            #[cfg(unix)]
            Wake::Fd(_) => true,
        }
    }

    /// Whether some signal's bit is set: something may be queued that no batch has yielded.
    #[cfg(unix)]
    pub(super) fn has_pending(&self) -> bool {
        self.pending.any(Ordering::Acquire)
    }

    /// Consumes the wake-ups so far (the parker's form of draining the pipe).
    #[cfg_attr(windows, allow(irrefutable_let_patterns))] // only the parker there
    pub(super) fn consume_wake_ups(&self) {
        if let Wake::Park(parker) = &self.wake {
            parker.consume();
        }
    }

    /// Takes the next delivery of a signal numbered `*from` or higher, moving `*from` on.
    /// The reader side of one batch ([`Pending`](super::Pending)).
    ///
    /// A signal's bit is cleared *before* its slot is loaded, never after (a store that lands
    /// in between sets it again), and it is set again after every output of an exfiltrator
    /// that may hold more than one delivery: so whatever a batch has not yielded yet stays
    /// pending if the batch is dropped, for the next batch and for [`park`](Shared::park).
    /// `*from` stays on a signal until its slot is found empty, as in signal-hook.
    pub(super) fn next_delivery(&self, from: &mut usize) -> Option<E::Output> {
        loop {
            let index = self.pending.take_from(*from)?;
            *from = index;
            let output = self
                .slots
                .get(index)
                .and_then(|slot| self.exfiltrator.load(slot, index as c_int));
            let output = match output {
                Some(output) => output,
                None => {
                    *from = index + 1;
                    continue;
                }
            };
            if self.exfiltrator.one_per_batch() {
                // The slot is empty now: one load took everything (a store since then has set
                // the bit again itself).
                *from = index + 1;
            } else {
                // It may hold more: keep it pending until a load finds it empty.
                self.pending.insert(index, Ordering::Release);
            }
            // (`signal_of`: an exfiltrator with one store for all signals says whose it is.)
            if self.is_enabled(self.exfiltrator.signal_of(&output, index)) {
                return Some(output);
            }
            // Removed meanwhile: drop what it left, and look again.
        }
    }

    pub(super) fn is_enabled(&self, index: usize) -> bool {
        self.enabled.contains(index, Ordering::SeqCst)
    }

    /// Unregisters everything; later `add_signal`s fail. Called when the reader is dropped.
    pub(super) fn shut_down(&self) {
        let mut regs = self.lock();
        regs.dropped = true;
        #[cfg(windows)]
        if regs.listening {
            regs.listening = false;
            crate::console::unlisten((self as *const Self).cast());
        }
        // The enabled mask stays as it is: a batch taken before the drop still reports what
        // had arrived (as signal-hook's does); only `remove_signal` hides a signal's leftovers.
        for id in regs.ids.iter_mut().filter_map(Option::take) {
            sigmux_registry::unregister(id);
        }
    }

    /// Throws away whatever is pending for `index`.
    fn discard(&self, index: usize) {
        self.pending.remove(index, Ordering::AcqRel);
        if let Some(slot) = self.slots.get(index) {
            // The exfiltrator's `discard` (default: load until empty) keeps other signals'
            // records where one store serves all signals (`Lossless`).
            self.exfiltrator.discard(slot, index as c_int);
        }
    }
}

/// The operations of a [`Handle`](super::Handle), behind a trait object so `Handle` needs no
/// type parameter.
pub(crate) trait Control: fmt::Debug + Send + Sync {
    fn add_signal(self: Arc<Self>, signal: c_int) -> Result<(), Error>;
    fn remove_signal(&self, signal: c_int) -> bool;
    fn close(&self);
    fn is_closed(&self) -> bool;
}

impl<E: Exfiltrator> Control for Shared<E> {
    fn add_signal(self: Arc<Self>, signal: c_int) -> Result<(), Error> {
        let console_only = console::is_console_only(signal);
        if !console_only {
            sigmux_registry::check_signal(signal)?;
        }
        if !self.exfiltrator.supports_signal(signal) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "signal {} is not supported by the exfiltrator {:?}",
                    signal, self.exfiltrator
                ),
            ));
        }
        let index = signal as usize; // checked: 1..MAX_SIGNUM
        let mut regs = self.lock();
        if regs.dropped {
            return Err(Error::new(
                ErrorKind::Other,
                format!(
                    "cannot add signal {}: the signal iterator of this handle was dropped",
                    signal
                ),
            ));
        }
        if regs.ids[index].is_some() || (console_only && self.is_enabled(index)) {
            return Ok(()); // Already there: adding is idempotent.
        }
        #[cfg(windows)]
        if console::event_of(signal).is_some() && !regs.listening {
            crate::console::listen(Arc::clone(&self) as Arc<dyn crate::console::Listener>)?;
            regs.listening = true;
        }
        if !regs.initialized[index] {
            if let Some(slot) = self.slots.get(index) {
                self.exfiltrator.init(slot, signal);
            }
            regs.initialized[index] = true;
        }
        self.enabled.insert(index, Ordering::SeqCst);
        if console_only {
            return Ok(()); // No C runtime signal: only the console handler delivers it.
        }
        let me = Arc::clone(&self);
        #[cfg(unix)]
        let action = move |info: &Info| me.deliver(index, signal, info);
        #[cfg(unix)]
        // SAFETY: the action only calls `Shared::deliver`, which is async-signal-safe (see its
        // docs). The signal was validated, so it is not FORBIDDEN and registering cannot
        // panic. The closure keeps `Shared` (and with it the pipe's write end) alive for as
        // long as it can run.
        let registered = unsafe { sigmux_registry::register_sigaction(signal, action) };
        #[cfg(windows)]
        let action = move || me.deliver(index, signal, &Info);
        #[cfg(windows)]
        // SAFETY: the action only calls `Shared::deliver`, which is async-signal-safe (see its
        // docs). The signal was validated, so it is not FORBIDDEN and registering cannot
        // panic. The closure keeps `Shared` (and with it the semaphore) alive for as long as
        // it can run.
        let registered = unsafe { sigmux_registry::register(signal, action) };
        match registered {
            Ok(id) => {
                regs.ids[index] = Some(id);
                Ok(())
            }
            Err(err) => {
                self.enabled.remove(index, Ordering::SeqCst);
                Err(err)
            }
        }
    }

    fn remove_signal(&self, signal: c_int) -> bool {
        let index = match usize::try_from(signal) {
            Ok(index) if index < MAX_SIGNUM => index,
            _ => return false,
        };
        let mut regs = self.lock();
        if console::is_console_only(signal) {
            if !self.is_enabled(index) {
                return false;
            }
            self.enabled.remove(index, Ordering::SeqCst);
            self.discard(index);
            return true;
        }
        let id = match regs.ids[index].take() {
            Some(id) => id,
            None => return false,
        };
        // First stop reporting (the reader checks this before yielding), then stop the
        // handler, then throw away what it left behind.
        self.enabled.remove(index, Ordering::SeqCst);
        sigmux_registry::unregister(id);
        self.discard(index);
        drop(regs);
        true
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake.wake();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// The registration mutex, listed for the fork hooks (see [`fork`](super::fork)).
#[cfg(unix)]
fn track_lock(regs: Registrations) -> Arc<Mutex<Registrations>> {
    fork::track_lock(regs)
}

/// The registration mutex (Windows has no `fork`).
#[cfg(windows)]
fn track_lock(regs: Registrations) -> Arc<Mutex<Registrations>> {
    Arc::new(Mutex::new(regs))
}

/// Console events as signals (Windows), for one `match` on both systems.
mod console {
    use libc::c_int;

    /// Whether `signal` is a console event with no C runtime signal behind it
    /// ([`SIGCLOSE`](crate::consts::SIGCLOSE) and the like). Never on Unix.
    #[cfg(unix)]
    pub(super) fn is_console_only(_signal: c_int) -> bool {
        false
    }

    #[cfg(windows)]
    pub(super) fn is_console_only(signal: c_int) -> bool {
        use crate::consts::{SIGCLOSE, SIGLOGOFF, SIGSHUTDOWN};
        matches!(signal, SIGCLOSE | SIGLOGOFF | SIGSHUTDOWN)
    }

    /// The console event reported as `signal`, if any.
    #[cfg(windows)]
    pub(super) fn event_of(signal: c_int) -> Option<crate::console::ConsoleEvent> {
        use crate::console::ConsoleEvent;
        use crate::consts::{SIGBREAK, SIGCLOSE, SIGINT, SIGLOGOFF, SIGSHUTDOWN};
        Some(match signal {
            SIGINT => ConsoleEvent::CtrlC,
            SIGBREAK => ConsoleEvent::CtrlBreak,
            SIGCLOSE => ConsoleEvent::Close,
            SIGLOGOFF => ConsoleEvent::Logoff,
            SIGSHUTDOWN => ConsoleEvent::Shutdown,
            _ => return None,
        })
    }

    /// The signal a console event is reported as.
    #[cfg(windows)]
    pub(super) fn signal_of(event: crate::console::ConsoleEvent) -> c_int {
        use crate::console::ConsoleEvent;
        use crate::consts::{SIGBREAK, SIGCLOSE, SIGINT, SIGLOGOFF, SIGSHUTDOWN};
        match event {
            ConsoleEvent::CtrlC => SIGINT,
            ConsoleEvent::CtrlBreak => SIGBREAK,
            ConsoleEvent::Close => SIGCLOSE,
            ConsoleEvent::Logoff => SIGLOGOFF,
            ConsoleEvent::Shutdown => SIGSHUTDOWN,
        }
    }
}

/// Windows: a delivery listening for console events. It takes an event whose signal it
/// reports (and is not closed), delivers it like a signal, and is released — the console
/// handler stops holding the process open for it — once it no longer reports that signal:
/// the iterator was dropped, [closed](super::Handle::close), or the signal
/// [removed](super::Handle::remove_signal).
#[cfg(windows)]
impl<E: Exfiltrator> crate::console::Listener for Shared<E> {
    fn event(&self, event: crate::console::ConsoleEvent) -> crate::console::Reply {
        let signal = console::signal_of(event);
        let index = signal as usize; // a small positive constant
        if self.released(event) {
            return crate::console::Reply::Ignore;
        }
        self.deliver(index, signal, &Info);
        crate::console::Reply::Take
    }

    fn released(&self, event: crate::console::ConsoleEvent) -> bool {
        let index = console::signal_of(event) as usize;
        self.closed.load(Ordering::SeqCst) || !self.is_enabled(index) || self.lock().dropped
    }
}

impl<E: Exfiltrator> fmt::Debug for Shared<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registered: Vec<usize> = (0..MAX_SIGNUM).filter(|&s| self.is_enabled(s)).collect();
        f.debug_struct("Shared")
            .field("exfiltrator", &self.exfiltrator)
            .field("registered", &registered)
            .field("closed", &self.is_closed())
            .field("wake", &self.wake)
            .finish()
    }
}
