//! The blocking iterator: batches, `forever`, close, several iterators, added signals, and
//! every exfiltrator, each scenario run against signal-hook 0.4.6 and sigmux and compared.
#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use libc::{c_int, SIGHUP, SIGUSR1, SIGUSR2};
use sigmux_conformance::{differs, kill_self, note, res, same, sig_text, who};

/// Raises `sig` in this thread (glibc: `tgkill`, cause `SI_TKILL`).
fn raise(sig: c_int) {
    // SAFETY: raise has no memory-safety preconditions.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

fn sigs(list: impl IntoIterator<Item = c_int>) -> String {
    let v: Vec<String> = list.into_iter().map(sig_text).collect();
    format!("[{}]", v.join(", "))
}

/// What a `WithOrigin` report says, pids and uids named relative to this process.
macro_rules! origin {
    ($o:expr) => {{
        let o = &$o;
        format!(
            "{} from {:?} cause {:?}",
            sig_text(o.signal),
            o.process
                .map(|p| (who(p.pid), sigmux_conformance::uid_text(p.uid))),
            o.cause
        )
    }};
}

/// What a raw `siginfo_t` says, the sender named relative to this process.
fn raw(info: &libc::siginfo_t) -> String {
    // SAFETY: the scenarios only send signals whose `si_code` fills in `si_pid`.
    let pid = unsafe { info.si_pid() };
    format!(
        "{} code {} from {}",
        sig_text(info.si_signo),
        info.si_code,
        who(pid)
    )
}

same!(pending_with_nothing_arrived_is_empty {
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    note(sigs(signals.pending()));
    note(sigs(signals.pending()));
});

same!(pending_reports_each_arrived_signal_once_in_number_order {
    let mut signals = lib::iterator::Signals::new([SIGUSR2, SIGHUP, SIGUSR1]).unwrap();
    raise(SIGUSR2);
    raise(SIGUSR1);
    raise(SIGHUP);
    raise(SIGUSR1);
    note(sigs(signals.pending()));
    note(sigs(signals.pending()));
});

same!(batch_taken_partly_and_dropped_keeps_the_rest_signal_only {
    let mut signals = lib::iterator::Signals::new([SIGHUP, SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGUSR1);
    raise(SIGUSR2);
    raise(SIGUSR1);
    raise(SIGHUP);
    let mut batch = signals.pending();
    note(format!("first: {:?}", batch.next().map(sig_text)));
    drop(batch);
    note(format!("again: {}", sigs(signals.pending())));
    note(format!("then: {}", sigs(signals.pending())));
});

same!(
    batch_taken_partly_and_dropped_keeps_the_rest_with_origin {
    let mut signals = lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new(
        [SIGHUP, SIGUSR1, SIGUSR2],
    )
    .unwrap();
    raise(SIGUSR1);
    raise(SIGUSR1);
    raise(SIGUSR2);
    let mut batch = signals.pending();
    note(format!("first: {:?}", batch.next().map(|o| origin!(o))));
    drop(batch);
    for o in signals.pending() {
        note(format!("again: {}", origin!(o)));
    }
    note(format!("then: {}", signals.pending().count()));
    raise(SIGUSR1);
    for o in signals.pending() {
        note(format!("after one more SIGUSR1: {}", origin!(o)));
    }
});

same!(
    batch_taken_partly_and_dropped_keeps_the_rest_with_raw_siginfo {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithRawSiginfo>::new(
            [SIGHUP, SIGUSR1, SIGUSR2],
        )
        .unwrap();
    raise(SIGUSR1);
    raise(SIGUSR1);
    raise(SIGUSR2);
    let mut batch = signals.pending();
    note(format!("first: {:?}", batch.next().map(|i| raw(&i))));
    drop(batch);
    for i in signals.pending() {
        note(format!("again: {}", raw(&i)));
    }
    note(format!("then: {}", signals.pending().count()));
    raise(SIGUSR1);
    for i in signals.pending() {
        note(format!("after one more SIGUSR1: {}", raw(&i)));
    }
});

same!(batch_of_different_signals_taken_partly_keeps_the_rest_with_origin {
    let mut signals = lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new(
        [SIGHUP, SIGUSR1, SIGUSR2],
    )
    .unwrap();
    raise(SIGUSR2);
    raise(SIGHUP);
    let mut batch = signals.pending();
    note(format!("first: {:?}", batch.next().map(|o| origin!(o))));
    drop(batch);
    for o in signals.pending() {
        note(format!("again: {}", origin!(o)));
    }
});

same!(a_batch_reports_signals_arriving_while_it_is_read {
    let mut signals = lib::iterator::Signals::new([SIGHUP, SIGUSR2]).unwrap();
    raise(SIGHUP);
    let mut batch = signals.pending();
    note(format!("first: {:?}", batch.next().map(sig_text)));
    raise(SIGUSR2);
    note(format!("rest: {}", sigs(batch)));
});

same!(signal_only_coalesces_repeated_deliveries {
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    for _ in 0..4 {
        raise(SIGUSR1);
    }
    note(sigs(signals.pending()));
});

same!(with_origin_keeps_a_few_repeated_deliveries {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([SIGUSR1])
            .unwrap();
    for _ in 0..3 {
        raise(SIGUSR1);
    }
    for o in signals.pending() {
        note(origin!(o));
    }
});

same!(with_raw_siginfo_keeps_at_most_five_repeated_deliveries {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithRawSiginfo>::new([SIGUSR1])
            .unwrap();
    for _ in 0..7 {
        raise(SIGUSR1);
    }
    for i in signals.pending() {
        note(raw(&i));
    }
    note(format!("then: {}", signals.pending().count()));
});

same!(forever_after_break_continues_with_the_next_signal {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGUSR2);
    raise(SIGUSR1);
    // SIGUSR1 comes first (lower number): the first loop breaks with SIGUSR2 still pending.
    for sig in &mut signals {
        note(format!("first loop: {}", sig_text(sig)));
        if sig == SIGUSR1 {
            break;
        }
    }
    for sig in &mut signals {
        note(format!("second loop: {}", sig_text(sig)));
        if sig == SIGUSR2 {
            break;
        }
    }
    note(format!("left: {}", sigs(signals.pending())));
});

same!(forever_after_break_with_origin {
    let mut signals = lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new(
        [SIGUSR1, SIGUSR2],
    )
    .unwrap();
    raise(SIGUSR2);
    kill_self(SIGUSR1);
    if let Some(o) = signals.forever().next() {
        note(format!("first: {}", origin!(o)));
    }
    if let Some(o) = signals.forever().next() {
        note(format!("second: {}", origin!(o)));
    }
    note(format!("left: {}", signals.pending().count()));
});

same!(wait_returns_what_arrived_before {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGUSR2);
    note(sigs(signals.wait()));
    note(sigs(signals.pending()));
});

same!(close_then_forever_ends_and_is_closed_everywhere {
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    let handle = signals.handle();
    let other = handle.clone();
    note(format!("before: {} {} {}", signals.is_closed(), handle.is_closed(), other.is_closed()));
    handle.close();
    note(format!("after: {} {} {}", signals.is_closed(), handle.is_closed(), other.is_closed()));
    raise(SIGUSR1);
    note(format!("forever: {:?}", signals.forever().next()));
    note(format!("forever count: {}", signals.forever().count()));
    // wait() on a closed iterator does not block; it returns what is pending.
    note(format!("wait: {}", sigs(signals.wait())));
    note(format!("pending: {}", sigs(signals.pending())));
    handle.close();
    note(format!("closed twice: {}", signals.is_closed()));
});

same!(close_from_another_thread_ends_a_blocked_forever {
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    let handle = signals.handle();
    let reader = thread::spawn(move || signals.forever().count());
    handle.close();
    note(format!("reported before the end: {}", reader.join().unwrap()));
});

same!(signals_still_arrive_after_close_is_observed_by_pending {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    signals.handle().close();
    raise(SIGUSR2);
    note(sigs(signals.pending()));
    note(format!("add after close: {}", res(&signals.add_signal(SIGUSR1))));
    raise(SIGUSR1);
    note(sigs(signals.pending()));
});

same!(add_signal_twice_reports_once {
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    note(res(&signals.add_signal(SIGUSR1)));
    note(res(&signals.add_signal(SIGUSR2)));
    note(res(&signals.add_signal(SIGUSR2)));
    note(res(&signals.handle().add_signal(SIGUSR2)));
    raise(SIGUSR1);
    raise(SIGUSR2);
    note(sigs(signals.pending()));
});

same!(duplicates_in_new_report_once {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR1, SIGUSR1]).unwrap();
    raise(SIGUSR1);
    note(sigs(signals.pending()));
});

same!(empty_signals_then_add_signal_from_a_handle_in_another_thread {
    let mut signals = lib::iterator::Signals::new(Vec::<c_int>::new()).unwrap();
    note(format!("empty: {}", sigs(signals.pending())));
    let handle = signals.handle();
    let added = thread::spawn(move || res(&handle.add_signal(SIGUSR2))).join().unwrap();
    note(format!("added: {}", added));
    raise(SIGUSR2);
    note(sigs(signals.wait()));
});

same!(several_iterators_on_one_signal_each_see_it {
    let mut a = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    let mut b = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    let mut c = lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([
        SIGUSR1,
    ])
    .unwrap();
    raise(SIGUSR1);
    note(format!("a: {}", sigs(a.pending())));
    note(format!("b: {}", sigs(b.pending())));
    for o in c.pending() {
        note(format!("c: {}", origin!(o)));
    }
    drop(a);
    raise(SIGUSR1);
    note(format!("b after a dropped: {}", sigs(b.wait())));
    note(format!("c after a dropped: {}", c.wait().count()));
});

same!(dropped_iterator_stops_reporting_and_the_signal_stays_caught {
    let signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    drop(signals);
    // SIGUSR1's default action would end the process; the registry's handler stays.
    raise(SIGUSR1);
    note("survived a SIGUSR1 after the iterator was dropped");
    let mut again = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    note(format!("new iterator sees only new signals: {}", sigs(again.pending())));
    raise(SIGUSR1);
    note(sigs(again.pending()));
});

same!(signal_from_another_thread_wakes_a_blocked_wait {
    let mut signals = lib::iterator::Signals::new([SIGUSR2]).unwrap();
    let sender = thread::spawn(|| raise(SIGUSR2));
    note(sigs(signals.wait()));
    sender.join().unwrap();
});

same!(pthread_kill_of_the_waiting_thread_wakes_it {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([SIGUSR1])
            .unwrap();
    // SAFETY: pthread_self cannot fail.
    let me = unsafe { libc::pthread_self() } as usize;
    let sender = thread::spawn(move || {
        // SAFETY: the target thread is alive: it joins this one.
        assert_eq!(unsafe { libc::pthread_kill(me as libc::pthread_t, SIGUSR1) }, 0);
    });
    let o = signals.forever().next().unwrap();
    note(origin!(o));
    sender.join().unwrap();
});

same!(signal_blocked_here_is_handled_by_another_thread_and_wakes_this_one {
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    let ready = Arc::new(AtomicBool::new(false));
    // SAFETY: a valid, initialised sigset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, SIGUSR1);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    // A thread that does not block SIGUSR1 (spawned threads inherit the mask: unblock there).
    let other = thread::spawn({
        let ready = Arc::clone(&ready);
        move || {
            // SAFETY: a valid, initialised sigset.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, SIGUSR1);
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            }
            ready.store(true, Ordering::SeqCst);
            let _ = rx.recv();
        }
    });
    while !ready.load(Ordering::SeqCst) {
        thread::yield_now();
    }
    kill_self(SIGUSR1);
    note(sigs(signals.wait()));
    drop(tx);
    other.join().unwrap();
});

same!(signal_from_another_process_with_origin {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([SIGUSR2])
            .unwrap();
    let sender = sigmux_conformance::kill_from_other_process(SIGUSR2);
    let o = signals.forever().next().unwrap();
    let pid = o.process.map(|p| p.pid);
    note(format!("{} / sender pid matches: {}", origin!(o), pid == Some(sender)));
});

same!(with_origin_kill_and_raise {
    let mut signals = lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new(
        [SIGUSR1, SIGUSR2],
    )
    .unwrap();
    kill_self(SIGUSR1);
    raise(SIGUSR2);
    for o in signals.pending() {
        note(origin!(o));
    }
});

same!(with_origin_sigqueue {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([SIGUSR1])
            .unwrap();
    let value = libc::sigval { sival_ptr: 7 as *mut libc::c_void };
    // SAFETY: sigqueue to this process; no memory-safety preconditions.
    assert_eq!(unsafe { libc::sigqueue(libc::getpid(), SIGUSR1, value) }, 0);
    for o in signals.pending() {
        note(origin!(o));
    }
});

same!(with_origin_sigchld_of_an_exited_child {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([libc::SIGCHLD])
            .unwrap();
    let child = sigmux_conformance::kill_from_other_process(0);
    let o = signals.forever().next().unwrap();
    let pid = o.process.map(|p| p.pid);
    note(format!("{} / child pid matches: {}", origin!(o), pid == Some(child)));
});

same!(with_raw_siginfo_kill_raise_and_other_process {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithRawSiginfo>::new(
            [SIGHUP, SIGUSR1, SIGUSR2],
        )
        .unwrap();
    kill_self(SIGUSR1);
    raise(SIGUSR2);
    let sender = sigmux_conformance::kill_from_other_process(SIGHUP);
    for i in signals.wait() {
        // SAFETY: all three were sent by a process.
        let from_sender = unsafe { i.si_pid() } == sender;
        note(format!("{} / from the forked sender: {}", raw(&i), from_sender));
    }
});

same!(creating_with_bad_but_not_aborting_numbers_is_an_error {
    // Numbers both libraries refuse with an error (sigaction's EINVAL in signal-hook).
    for bad in [0, 32, 33, 65, 127] {
        note(format!(
            "{}: {}",
            bad,
            res(&lib::iterator::Signals::new([bad]).map(|_| ()))
        ));
    }
    let signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    note(format!("add 0: {}", res(&signals.add_signal(0))));
    note(format!("add 64: {}", res(&signals.add_signal(64))));
});

// signal-hook indexes a 128-slot table with the number and asserts the registry's FORBIDDEN
// list while holding a mutex: -1, 128, 1000 and forbidden signals panic under the lock,
// poisoning it, so dropping the half-built iterator panics again during the unwind and the
// process aborts. sigmux promises an `InvalidInput` error instead (crate docs,
// "Bad input is an error, not an abort").
differs!(differs_on_purpose_creating_with_invalid_or_forbidden_signals_is_an_error {
    for bad in [-1, 128, 1000, libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
        let outcome = sigmux_conformance::fork_outcome(|| {
            let r = lib::iterator::Signals::new([bad]).map(|_| ());
            // Exit codes: 3 = error (InvalidInput), 4 = Ok, 5 = another error.
            let code = match r {
                Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => 3,
                Ok(()) => 4,
                Err(_) => 5,
            };
            // SAFETY: ends the forked process.
            unsafe { libc::_exit(code) };
        });
        note(format!("{}: {}", bad, outcome));
    }
}, |signal_hook, sigmux| {
    assert_eq!(
        signal_hook,
        "-1: killed(6 SIGABRT)\n128: killed(6 SIGABRT)\n1000: killed(6 SIGABRT)\n\
         9: killed(6 SIGABRT)\n19: killed(6 SIGABRT)\n11: killed(6 SIGABRT)\nend: exited(0)",
    );
    assert_eq!(
        sigmux,
        "-1: exited(3)\n128: exited(3)\n1000: exited(3)\n9: exited(3)\n19: exited(3)\n\
         11: exited(3)\nend: exited(0)",
    );
});

// Same as above for `add_signal` on a live iterator: signal-hook panics under its lock, and
// the unwind drops the iterator, whose drop panics on the poisoned lock: abort. sigmux
// returns `InvalidInput` and the iterator keeps working.
differs!(differs_on_purpose_add_signal_of_a_forbidden_signal_is_an_error {
    let outcome = sigmux_conformance::fork_outcome(|| {
        let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
        let r = signals.add_signal(libc::SIGKILL);
        note(format!("add SIGKILL: {}", res(&r)));
        raise(SIGUSR1);
        note(format!("still works: {}", sigs(signals.pending())));
    });
    note(outcome);
}, |signal_hook, sigmux| {
    assert_eq!(signal_hook, "killed(6 SIGABRT)\nend: exited(0)");
    assert_eq!(
        sigmux,
        "add SIGKILL: Err(InvalidInput)\nstill works: [10 SIGUSR1]\nexited(0)\nend: exited(0)"
    );
});

/// `remove_signal` exists only in sigmux (an addition beside the compatible API), so it has
/// no signal-hook side: this checks sigmux's own promise — once it returns, the signal is no
/// longer reported, the others are — and that adding it back works.
#[test]
fn differs_on_purpose_remove_signal_exists_only_in_sigmux() {
    fn run() {
        let mut signals = sigmux::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        raise(SIGUSR1);
        note(format!("removed: {}", signals.remove_signal(SIGUSR1)));
        note(format!("removed again: {}", signals.remove_signal(SIGUSR1)));
        raise(SIGUSR1);
        raise(SIGUSR2);
        note(sigs(signals.pending()));
        note(res(&signals.add_signal(SIGUSR1)));
        raise(SIGUSR1);
        note(sigs(signals.pending()));
    }
    let observed = sigmux_conformance::observe_sides(
        module_path!(),
        "differs_on_purpose_remove_signal_exists_only_in_sigmux",
        &[("sigmux", run)],
    )
    .remove(0);
    assert_eq!(
        observed,
        "removed: true\nremoved again: false\n[12 SIGUSR2]\nOk(())\n[10 SIGUSR1]\nend: exited(0)"
    );
}

same!(wait_after_a_partly_taken_batch_reports_the_rest_with_the_next_signal {
    let mut signals = lib::iterator::Signals::new([SIGHUP, SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGHUP);
    raise(SIGUSR1);
    let mut batch = signals.pending();
    note(format!("first: {:?}", batch.next().map(sig_text)));
    drop(batch);
    // Whether the thread's signal comes before or during the wait, the batch holds both.
    let sender = thread::spawn(|| raise(SIGUSR2));
    let mut got: Vec<c_int> = signals.wait().collect();
    sender.join().unwrap();
    if !got.contains(&SIGUSR2) {
        // The wake-up may have come from SIGUSR1's byte alone: the next wait has SIGUSR2.
        got.extend(signals.wait());
    }
    note(format!("then: {}", sigs(got)));
});

same!(realtime_signals_are_reported_and_queued_with_raw_siginfo {
    let rt = libc::SIGRTMIN() + 1;
    let mut only = lib::iterator::Signals::new([rt, libc::SIGRTMAX()]).unwrap();
    let mut raw_info =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithRawSiginfo>::new([rt])
            .unwrap();
    for _ in 0..3 {
        raise(rt);
    }
    raise(libc::SIGRTMAX());
    note(format!("signal only: {:?}", only.pending().collect::<Vec<_>>()));
    note(format!("raw: {:?}", raw_info.pending().map(|i| i.si_signo).collect::<Vec<_>>()));
});

same!(with_exfiltrator_and_forever_with_raw_siginfo {
    let mut signals = lib::iterator::SignalsInfo::with_exfiltrator(
        [SIGUSR1, SIGUSR2],
        lib::iterator::exfiltrator::WithRawSiginfo,
    )
    .unwrap();
    raise(SIGUSR2);
    kill_self(SIGUSR2);
    raise(SIGUSR1);
    for info in signals.forever().take(3) {
        note(raw(&info));
    }
    note(format!("left: {}", signals.pending().count()));
});

same!(with_origin_sigchld_of_a_killed_child {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([libc::SIGCHLD])
            .unwrap();
    let outcome = sigmux_conformance::fork_outcome(|| {
        // SAFETY: raise has no memory-safety preconditions.
        unsafe { libc::raise(libc::SIGKILL) };
    });
    note(outcome);
    let o = signals.forever().next().unwrap();
    note(origin!(o));
});

same!(backend_signal_delivery_with_a_socket_pair {
    use lib::iterator::backend::{PollResult, SignalDelivery, SignalIterator};
    use lib::iterator::exfiltrator::SignalOnly;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    let (read, write) = UnixStream::pair().unwrap();
    let mut delivery =
        SignalDelivery::with_pipe(read, write, SignalOnly, [SIGUSR1, SIGUSR2]).unwrap();
    let mut has_signals = |r: &mut UnixStream| -> std::io::Result<bool> {
        let mut byte = [0u8];
        r.read(&mut byte).map(|n| n > 0)
    };
    raise(SIGUSR2);
    match delivery.poll_pending(&mut has_signals) {
        Ok(Some(p)) => note(format!("poll_pending: {}", sigs(p))),
        Ok(None) => note("poll_pending: None"),
        Err(e) => note(format!("poll_pending: Err({:?})", e.kind())),
    }
    note(format!("pending: {}", sigs(delivery.pending())));
    raise(SIGUSR1);
    let handle = delivery.handle();
    let mut iter = SignalIterator::new(&mut delivery);
    let describe = |r: PollResult<c_int>| match r {
        PollResult::Signal(s) => format!("Signal({})", sig_text(s)),
        PollResult::Pending => "Pending".to_string(),
        PollResult::Closed => "Closed".to_string(),
        PollResult::Err(e) => format!("Err({:?})", e.kind()),
    };
    note(format!("poll_signal: {}", describe(iter.poll_signal(&mut has_signals))));
    handle.close();
    note(format!("after close: {}", describe(iter.poll_signal(&mut has_signals))));
    note(format!("handle closed: {}", iter.handle().is_closed()));
});

// signal-hook keeps an iterator's registrations until its last `Handle` is gone, so a handle
// that outlives the iterator still adds signals (which nobody will ever read). sigmux
// unregisters when the iterator is dropped, and `add_signal` on the leftover handle is an
// error (CHANGELOG, sigmux 0.4.6: "Dropping `Signals`/`SignalDelivery` unregisters its
// actions at once").
differs!(differs_on_purpose_a_handle_left_after_its_iterator_is_dropped {
    let signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    let handle = signals.handle();
    drop(signals);
    note(format!("closed: {}", handle.is_closed()));
    note(format!("add_signal: {}", res(&handle.add_signal(SIGUSR2))));
    raise(SIGUSR1);
    note("survived a SIGUSR1");
    handle.close();
    note(format!("closed after close: {}", handle.is_closed()));
}, |signal_hook, sigmux| {
    assert_eq!(
        signal_hook,
        "closed: false\nadd_signal: Ok(())\nsurvived a SIGUSR1\nclosed after close: true\n\
         end: exited(0)"
    );
    assert_eq!(
        sigmux,
        "closed: false\nadd_signal: Err(Other)\nsurvived a SIGUSR1\nclosed after close: true\n\
         end: exited(0)"
    );
});

same!(with_origin_and_raw_siginfo_of_a_posix_timer {
    // A POSIX timer's signal has its own si_code (SI_TIMER), which neither library names.
    let mut origin =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([SIGUSR1])
            .unwrap();
    let mut raw_info =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithRawSiginfo>::new([SIGUSR1])
            .unwrap();
    // SAFETY: all-zero is a valid sigevent; the fields set below are the ones used.
    let mut event: libc::sigevent = unsafe { std::mem::zeroed() };
    event.sigev_notify = libc::SIGEV_SIGNAL;
    event.sigev_signo = SIGUSR1;
    let mut timer: libc::timer_t = std::ptr::null_mut();
    // SAFETY: valid pointers to the event and the timer id.
    assert_eq!(unsafe { libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) }, 0);
    let once = libc::itimerspec {
        it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
        it_value: libc::timespec { tv_sec: 0, tv_nsec: 1 },
    };
    // SAFETY: our timer and a valid itimerspec.
    assert_eq!(unsafe { libc::timer_settime(timer, 0, &once, std::ptr::null_mut()) }, 0);
    let o = origin.forever().next().unwrap();
    note(origin!(o));
    let i = raw_info.forever().next().unwrap();
    note(format!("{} code {}", sig_text(i.si_signo), i.si_code));
    // SAFETY: our timer, deleted once.
    unsafe { libc::timer_delete(timer) };
});

same!(with_origin_of_a_kernel_sigpipe {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([
            libc::SIGPIPE,
        ])
        .unwrap();
    let mut fds = [-1; 2];
    // SAFETY: a valid array of two descriptors; then closing our read end and writing a
    // valid byte to the write end.
    let r = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        libc::close(fds[0]);
        libc::write(fds[1], b"x".as_ptr().cast(), 1)
    };
    note(format!("write: {} {:?}", r, std::io::Error::last_os_error().kind()));
    let o = signals.forever().next().unwrap();
    note(origin!(o));
});

same!(with_origin_sigchld_of_a_child_stopped_continued_and_exited {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([
            libc::SIGCHLD,
        ])
        .unwrap();
    let mut go = [-1; 2];
    // SAFETY: a valid array of two descriptors.
    assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
    // SAFETY: the child calls only async-signal-safe functions and _exits.
    let child = unsafe { libc::fork() };
    assert!(child >= 0);
    if child == 0 {
        // SAFETY: async-signal-safe calls on valid buffers, then _exit.
        unsafe {
            libc::raise(libc::SIGSTOP);
            let mut byte = [0u8];
            libc::read(go[0], byte.as_mut_ptr().cast(), 1);
            libc::_exit(5);
        }
    }
    let mut step = |what: &str| {
        let o = signals.forever().next().unwrap();
        let from_child = o.process.map(|p| p.pid) == Some(child);
        note(format!("{}: {} / from the child: {}", what, origin!(o), from_child));
    };
    step("stopped");
    let mut status = 0;
    // SAFETY: valid out-pointer; our child.
    unsafe { libc::waitpid(child, &mut status, libc::WUNTRACED) };
    // SAFETY: our stopped child.
    unsafe { libc::kill(child, libc::SIGCONT) };
    step("continued");
    // SAFETY: writing one valid byte to our pipe.
    unsafe { libc::write(go[1], b"g".as_ptr().cast(), 1) };
    step("exited");
    let status = sigmux_conformance::reap(child);
    note(format!("exit status {}", libc::WEXITSTATUS(status)));
});

same!(
    a_batch_outlives_its_iterator {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGUSR1);
    let batch = signals.pending();
    drop(signals);
    raise(SIGUSR2);
    note(format!("batch: {}", sigs(batch)));
});

same!(a_failed_creation_leaves_nothing_registered {
    let r = lib::iterator::Signals::new([SIGUSR1, 0]);
    note(format!("new: {}", res(&r.map(|_| ()))));
    raise(SIGUSR1);
    note("survived a SIGUSR1 (the disposition stays caught)");
    let mut later = lib::iterator::Signals::new([SIGUSR2]).unwrap();
    raise(SIGUSR2);
    note(format!("a later iterator works: {}", sigs(later.pending())));
});

same!(a_batch_taken_before_close_still_reports {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGUSR1);
    raise(SIGUSR2);
    let mut batch = signals.pending();
    note(format!("first: {:?}", batch.next().map(sig_text)));
    signals.handle().close();
    note(format!("after close: {}", sigs(batch)));
});

same!(
    backend_batch_taken_partly_and_dropped_keeps_the_rest_with_origin {
    use lib::iterator::backend::SignalDelivery;
    use lib::iterator::exfiltrator::WithOrigin;
    use std::os::unix::net::UnixStream;

    let (read, write) = UnixStream::pair().unwrap();
    let mut delivery =
        SignalDelivery::with_pipe(read, write, WithOrigin::default(), [SIGUSR1, SIGUSR2])
            .unwrap();
    raise(SIGUSR1);
    raise(SIGUSR1);
    raise(SIGUSR2);
    let mut batch = delivery.pending();
    note(format!("first: {:?}", batch.next().map(|o| origin!(o))));
    drop(batch);
    for o in delivery.pending() {
        note(format!("again: {}", origin!(o)));
    }
});

// sigmux's `Origin` has two more public fields, `value` (a `sigqueue` payload) and `status`
// (a child's status for SIGCHLD), and its `Debug` shows them (CHANGELOG, sigmux 0.4.6). Both
// structs are `#[non_exhaustive]`, so no program can construct or destructure them fully; only
// the `Debug` text differs. The fields both have agree (see the scenarios above).
differs!(differs_on_purpose_origin_debug_shows_value_and_status {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([SIGUSR1])
            .unwrap();
    kill_self(SIGUSR1);
    let o = signals.forever().next().unwrap();
    // SAFETY: getpid and getuid cannot fail.
    let (pid, uid) = unsafe { (libc::getpid(), libc::getuid()) };
    let text = format!("{:?}", o)
        .replace(&format!("pid: {},", pid), "pid: PID,")
        .replace(&format!("uid: {} ", uid), "uid: UID ")
        .replace('"', "");
    note(text);
}, |signal_hook, sigmux| {
    assert_eq!(
        signal_hook,
        "Origin { signal: SIGUSR1 (10), process: Some(Process { pid: PID, uid: UID }), \
         cause: Sent(User) }\nend: exited(0)"
    );
    assert_eq!(
        sigmux,
        "Origin { signal: SIGUSR1 (10), process: Some(Process { pid: PID, uid: UID }), \
         cause: Sent(User), value: None, status: None }\nend: exited(0)"
    );
});

same!(
    origin_debug_shows_the_signal_as_signal_hook_does {
    let mut signals =
        lib::iterator::SignalsInfo::<lib::iterator::exfiltrator::WithOrigin>::new([
            SIGUSR1, 40,
        ])
        .unwrap();
    raise(SIGUSR1);
    raise(40);
    for o in signals.pending() {
        let text = format!("{:?}", o);
        let end = text.find(", process").unwrap_or(text.len());
        note(&text[..end]);
    }
});

same!(a_wake_up_left_by_a_signal_the_batch_reported_gives_one_empty_wait {
    let mut signals = lib::iterator::Signals::new([SIGUSR1]).unwrap();
    raise(SIGUSR1);
    let batch = signals.wait();
    // Arrives before the batch is read: the batch reports it, its wake-up stays.
    raise(SIGUSR1);
    note(format!("batch: {}", sigs(batch)));
    note(format!("next wait: {}", sigs(signals.wait())));
    raise(SIGUSR1);
    note(format!("then: {}", sigs(signals.wait())));
});

same!(pending_consumes_the_wake_ups_so_wait_waits_for_a_new_signal {
    let mut signals = lib::iterator::Signals::new([SIGUSR1, SIGUSR2]).unwrap();
    raise(SIGUSR1);
    raise(SIGUSR1);
    note(format!("pending: {}", sigs(signals.pending())));
    // Had pending() left a wake-up behind, wait() would return an empty batch at once;
    // whenever the thread's signal comes, a correct wait() reports it.
    let sender = thread::spawn(|| raise(SIGUSR2));
    note(format!("wait: {}", sigs(signals.wait())));
    sender.join().unwrap();
});
