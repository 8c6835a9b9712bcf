//! Lossless delivery (`Lossless`) on the blocking iterator, fed by another process with
//! `sigqueue`, and who-sent-it (attested or claimed) with a forged `rt_sigqueueinfo`.
//!
//! Each test uses its own real-time signal and runs in a forked, single-threaded child
//! (`in_child`, which also takes the test lock): with one thread the handler never runs twice
//! at once, so the order it stores in is the order the kernel delivers in. Senders are forked
//! grandchildren that only call async-signal-safe functions and leave with `_exit`.
//!
//! Not under ThreadSanitizer (`--cfg sigmux_tsan`, set by `ci/sanitizers.sh`): it keeps one
//! deferred instance per signal number, so queued real-time signals are lost under it by
//! design, which is what these tests count.
#![cfg(all(
    any(target_os = "linux", target_os = "android"),
    feature = "extended-siginfo",
    not(sigmux_tsan)
))]

use std::time::{Duration, Instant};

use libc::{c_int, pid_t};
use sigmux::iterator::exfiltrator::lossless::{Lossless, Record, Sender};
use sigmux::iterator::exfiltrator::WithOrigin;
use sigmux::iterator::SignalsInfo;

const N: usize = 100_000;

/// A sender process: see `sigmux_testkit::rt::flood`.
fn sender(to: pid_t, signals: &[c_int], count: usize) -> pid_t {
    sigmux_testkit::rt::flood(to, signals, count, 60)
}

fn reap(pid: pid_t) {
    sigmux_testkit::wait_for(pid).assert_success();
}

fn me() -> pid_t {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

fn payload(record: &Record) -> Option<usize> {
    match record {
        Record::Delivered(delivery) => Some(delivery.value.expect("sigqueue payload").ptr),
        _ => None,
    }
}

/// 100,000 payloads from another process: every one exactly once, in order, none lost.
#[test]
fn every_payload_once_in_order() {
    // A single-threaded process: the handler runs on one thread at a time, so the order it
    // stores in is the kernel's (see the module docs of `lossless` on order).
    sigmux_testkit::in_child(120, || {
        let sig = libc::SIGRTMIN() + 1;
        let lossless = Lossless::new(N);
        let mut signals = SignalsInfo::with_exfiltrator([sig], lossless.clone()).unwrap();
        let started = Instant::now();
        let child = sender(me(), &[sig], N);
        let deadline = started + Duration::from_secs(60);
        let mut next = 0;
        while next < N {
            assert!(Instant::now() < deadline, "only {} of {} arrived", next, N);
            for record in signals.wait() {
                match record {
                    Record::Delivered(delivery) => {
                        assert_eq!(delivery.signal, sig);
                        assert_eq!(delivery.value.unwrap().ptr, next, "out of order");
                        assert_eq!(delivery.run, next + 1);
                        // sigqueue: the kernel does not vouch for the sender on Linux.
                        assert_eq!(delivery.sender.process().map(|p| p.pid), Some(child));
                        assert!(matches!(delivery.sender, Sender::Claimed(_)));
                        next += 1;
                    }
                    other => panic!("unexpected {:?} after {}", other, next),
                }
            }
        }
        reap(child);
        assert_eq!(lossless.handler_runs(sig), N);
        assert_eq!(lossless.lost(sig), 0);
        assert_eq!(signals.pending().count(), 0);
        eprintln!("{} payloads in {:?}", N, started.elapsed());
        0
    })
    .assert_success();
}

/// A ring far smaller than the flood: what arrives plus what is reported lost is exactly what
/// was sent, each loss is reported in its place (the gap in the payloads before the next one
/// that arrived), nothing is duplicated or reordered.
#[test]
fn small_capacity_reports_every_loss_in_place() {
    // A single-threaded process: the handler runs on one thread at a time, so the order it
    // stores in is the kernel's (see the module docs of `lossless` on order).
    sigmux_testkit::in_child(120, || {
        let sig = libc::SIGRTMIN() + 2;
        let sent = 20_000;
        let lossless = Lossless::new(16);
        let mut signals = SignalsInfo::with_exfiltrator([sig], lossless.clone()).unwrap();
        // Do not read while the flood runs: the ring overflows for sure.
        let child = sender(me(), &[sig], sent);
        reap(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut received, mut lost) = (0, 0);
        let mut expected_next = 0; // the payload the next delivery must have, given the losses
        while received + lost < sent {
            assert!(
                Instant::now() < deadline,
                "{} + {} of {}",
                received,
                lost,
                sent
            );
            for record in signals.wait() {
                match record {
                    Record::Delivered(delivery) => {
                        assert_eq!(
                            delivery.value.unwrap().ptr,
                            expected_next,
                            "a loss not reported in its place, or reordering"
                        );
                        received += 1;
                        expected_next += 1;
                    }
                    Record::Lost(gap) => {
                        assert_eq!(gap.signal, sig);
                        assert!(gap.count > 0);
                        lost += gap.count;
                        expected_next += gap.count;
                    }
                    _ => unreachable!(),
                }
            }
        }
        assert_eq!(received + lost, sent);
        assert!(lost > 0, "the flood did not overflow 16 places");
        assert_eq!(lossless.lost(sig), lost);
        assert_eq!(lossless.handler_runs(sig), sent);
        assert_eq!(signals.pending().count(), 0);
        eprintln!(
            "sent {}, received {}, reported lost {}",
            sent, received, lost
        );
        0
    })
    .assert_success();
}

/// Three signals interleaved by one sender: each keeps its own order, none lost.
#[test]
fn interleaved_signals_keep_their_order() {
    // A single-threaded process: the handler runs on one thread at a time, so the order it
    // stores in is the kernel's (see the module docs of `lossless` on order).
    sigmux_testkit::in_child(120, || {
        let rt = libc::SIGRTMIN();
        let sigs = [rt + 3, rt + 4, rt + 5];
        let count = 30_000;
        let lossless = Lossless::new(count);
        let mut signals = SignalsInfo::with_exfiltrator(sigs, lossless.clone()).unwrap();
        let child = sender(me(), &sigs, count);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut next = [0usize; 3];
        let mut total = 0;
        while total < count {
            assert!(Instant::now() < deadline, "only {} of {}", total, count);
            for record in signals.wait() {
                let which = sigs.iter().position(|&s| s == record.signal()).unwrap();
                let value = payload(&record).expect("no loss");
                assert_eq!(
                    value,
                    next[which] * 3 + which,
                    "signal {} out of order",
                    sigs[which]
                );
                next[which] += 1;
                total += 1;
            }
        }
        reap(child);
        assert_eq!(next, [count / 3; 3]);
        0
    })
    .assert_success();
}

/// Dropping the iterator while a flood is under way is clean: another interest in the same
/// signal keeps working, the process is not killed, nothing hangs.
#[test]
fn drop_while_flooded() {
    let _lock = sigmux_testkit::lock();
    let sig = libc::SIGRTMIN() + 6;
    // Keeps the signal handled (an unhandled real-time signal would kill the process).
    let mut keeper = SignalsInfo::with_exfiltrator([sig], Lossless::new(8)).unwrap();
    let mut signals = SignalsInfo::with_exfiltrator([sig], Lossless::new(1024)).unwrap();
    let child = sender(me(), &[sig], 50_000);
    let mut seen = 0;
    while seen < 100 {
        seen += signals.wait().count();
    }
    drop(signals);
    reap(child);
    // The keeper got deliveries (or their loss reports) all along.
    assert!(keeper.pending().count() > 0);
}

/// A child forked while deliveries sit unread gets its own copy of the ring and keeps
/// receiving, in order, without disturbing the parent's.
#[test]
fn fork_with_unread_deliveries() {
    // `in_child` takes the test lock; the scenario runs in a fresh single-threaded process.
    sigmux_testkit::in_child(20, || {
        let sig = libc::SIGRTMIN() + 7;
        let mut signals = SignalsInfo::with_exfiltrator([sig], Lossless::new(64)).unwrap();
        let queue = |n: usize| {
            let value = libc::sigval {
                sival_ptr: n as *mut libc::c_void,
            };
            // SAFETY: sigqueue has no memory-safety preconditions.
            unsafe { libc::sigqueue(libc::getpid(), sig, value) == 0 }
        };
        assert!(queue(0) && queue(1));
        // SAFETY: this process has one thread, so the child may do anything.
        let grandchild = unsafe { libc::fork() };
        if grandchild == 0 {
            let mut got = Vec::new();
            let ok = queue(2);
            while ok && got.len() < 3 {
                got.extend(signals.wait().filter_map(|r| payload(&r)));
            }
            // SAFETY: leaving the forked child.
            unsafe { libc::_exit(if got == [0, 1, 2] { 0 } else { 1 }) };
        }
        sigmux_testkit::wait_for(grandchild).assert_success();
        let got: Vec<_> = signals.wait().filter_map(|r| payload(&r)).collect();
        assert_eq!(got, [0, 1]);
        0
    })
    .assert_success();
}

/// A process sends a signal whose siginfo claims to come from pid 1, uid 4242 (the raw
/// `rt_sigqueueinfo` system call lets it write those fields). `Origin.process` reports what
/// the siginfo says, as signal-hook does; `Origin::sender` and the lossless record say it is
/// only claimed. A plain `kill` from the same process is attested.
#[test]
fn forged_sender_is_reported_as_claimed() {
    // A single-threaded process: the handler runs on one thread at a time, so the order it
    // stores in is the kernel's (see the module docs of `lossless` on order).
    sigmux_testkit::in_child(120, || {
        let sig = libc::SIGRTMIN() + 8;
        let parent = me();
        let mut origins = SignalsInfo::<WithOrigin>::new([sig]).unwrap();
        let mut records = SignalsInfo::with_exfiltrator([sig], Lossless::new(8)).unwrap();
        // SAFETY: the child only calls async-signal-safe functions and leaves with `_exit`.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            // SAFETY: a zeroed siginfo_t is a valid value; the fields are filled in below.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            info.si_signo = sig;
            info.si_code = libc::SI_QUEUE;
            // The sender fields follow si_signo, si_errno, si_code (and padding) on Linux: pid,
            // then uid, then the value.
            #[repr(C)]
            struct Rt {
                signo: c_int,
                errno: c_int,
                code: c_int,
                #[cfg(target_pointer_width = "64")]
                pad: c_int,
                pid: pid_t,
                uid: libc::uid_t,
                value: usize,
            }
            let rt = (&mut info as *mut libc::siginfo_t).cast::<Rt>();
            // SAFETY: `Rt` is a prefix of the kernel's siginfo layout and fits in siginfo_t.
            unsafe {
                (*rt).pid = 1;
                (*rt).uid = 4242;
                (*rt).value = 77;
            }
            // SAFETY: the system call only reads `info`, which is valid.
            let rc = unsafe { libc::syscall(libc::SYS_rt_sigqueueinfo, parent, sig, &info) };
            if rc != 0 {
                // SAFETY: leaving the forked child.
                unsafe { libc::_exit(3) };
            }
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(parent, sig) };
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(0) };
        }
        reap(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = Vec::new();
        while got.len() < 2 {
            assert!(Instant::now() < deadline);
            got.extend(origins.wait());
        }
        let pid_uid = |sender: Sender| sender.process().map(|p| (p.pid, p.uid));
        let forged = Some((1, 4242));
        // SAFETY: getuid cannot fail.
        let real = Some((child, unsafe { libc::getuid() }));
        let claimed = |sender: Sender| matches!(sender, Sender::Claimed(_));
        let attested = |sender: Sender| matches!(sender, Sender::Attested(_));
        let process = got[0].process.map(|p| (p.pid, p.uid));
        assert_eq!(process, forged, "the compatible field is unchanged");
        assert_eq!(pid_uid(got[0].sender()), forged);
        assert!(claimed(got[0].sender()), "{:?}", got[0].sender());
        assert_eq!(got[0].sender().attested(), None);
        assert_eq!(got[0].value.map(|v| v.ptr), Some(77));
        assert_eq!(pid_uid(got[1].sender()), real);
        assert!(attested(got[1].sender()), "{:?}", got[1].sender());

        let mut deliveries = Vec::new();
        while deliveries.len() < 2 {
            assert!(Instant::now() < deadline);
            deliveries.extend(records.wait());
        }
        match (&deliveries[0], &deliveries[1]) {
            (Record::Delivered(first), Record::Delivered(second)) => {
                assert!(claimed(first.sender) && pid_uid(first.sender) == forged);
                assert!(attested(second.sender) && pid_uid(second.sender) == real);
            }
            other => panic!("{:?}", other),
        }
        0
    })
    .assert_success();
}

/// `remove_signal` throws away what the removed signal left in the shared ring and nothing
/// else: the other signal's records stay, in order, and a signal added again reports only
/// what arrives after.
#[test]
fn remove_signal_discards_only_that_signals_records() {
    sigmux_testkit::in_child(30, || {
        let rt = libc::SIGRTMIN();
        let (a, b) = (rt + 9, rt + 10);
        let signals = SignalsInfo::with_exfiltrator([a, b], Lossless::new(64)).unwrap();
        let mut signals = signals;
        let queue = |sig: c_int, n: usize| {
            let value = libc::sigval {
                sival_ptr: n as *mut libc::c_void,
            };
            // SAFETY: sigqueue has no memory-safety preconditions.
            assert_eq!(unsafe { libc::sigqueue(me(), sig, value) }, 0);
        };
        queue(a, 0);
        queue(b, 1);
        queue(a, 2);
        queue(b, 3);
        assert!(signals.remove_signal(a));
        let got: Vec<_> = signals
            .pending()
            .map(|r| (r.signal(), payload(&r).unwrap()))
            .collect();
        assert_eq!(got, [(b, 1), (b, 3)]);
        signals.add_signal(a).unwrap();
        queue(a, 4);
        let got: Vec<_> = signals
            .wait()
            .map(|r| (r.signal(), payload(&r).unwrap()))
            .collect();
        assert_eq!(got, [(a, 4)]);
        0
    })
    .assert_success();
}

/// Losses between stored records are reported exactly where they happened: a full ring loses
/// deliveries, the reader takes part of it, later deliveries are stored again — the loss
/// report comes after the records stored before it and before those stored after it.
#[test]
fn losses_between_records_are_reported_in_place() {
    sigmux_testkit::in_child(30, || {
        let sig = libc::SIGRTMIN() + 11;
        let lossless = Lossless::new(16);
        let mut signals = SignalsInfo::with_exfiltrator([sig], lossless.clone()).unwrap();
        let burst = |from: usize, to: usize| {
            // Queue while blocked, then unblock: the handler takes them all at once.
            sigmux_testkit::rt::block(&[sig]);
            for n in from..to {
                let value = libc::sigval {
                    sival_ptr: n as *mut libc::c_void,
                };
                // SAFETY: sigqueue has no memory-safety preconditions.
                assert_eq!(unsafe { libc::sigqueue(me(), sig, value) }, 0);
            }
            sigmux_testkit::rt::unblock(&[sig]);
        };
        burst(0, 40); // 0..16 stored, 24 lost
        let mut seen: Vec<Record> = signals.pending().take(8).collect(); // 0..8
        burst(40, 80); // 8 places free: 40..48 stored, 32 lost
        while seen.len() < 26 {
            seen.extend(signals.pending());
        }
        let described: Vec<String> = seen
            .iter()
            .map(|r| match r {
                Record::Delivered(d) => format!("{}", d.value.unwrap().ptr),
                Record::Lost(l) => format!("lost {}", l.count),
                _ => unreachable!(),
            })
            .collect();
        let mut expected: Vec<String> = (0..16).map(|n| n.to_string()).collect();
        expected.push("lost 24".into());
        expected.extend((40..48).map(|n| n.to_string()));
        expected.push("lost 32".into());
        assert_eq!(described, expected);
        assert_eq!(lossless.lost(sig), 56);
        assert_eq!(lossless.handler_runs(sig), 80);
        0
    })
    .assert_success();
}

/// Standard signals: every run of the handler is recorded and counted exactly; the kernel's
/// merging of a signal sent while the same one is pending stays (three sends while blocked
/// are one run).
#[test]
fn standard_signals_count_handler_runs_exactly() {
    sigmux_testkit::in_child(30, || {
        let sig = libc::SIGUSR2;
        let lossless = Lossless::new(64);
        let mut signals = SignalsInfo::with_exfiltrator([sig], lossless.clone()).unwrap();
        for _ in 0..5 {
            sigmux::low_level::raise(sig).unwrap(); // handled before raise returns
        }
        sigmux_testkit::rt::block(&[sig]);
        for _ in 0..3 {
            sigmux::low_level::raise(sig).unwrap(); // pending: merged by the kernel
        }
        sigmux_testkit::rt::unblock(&[sig]);
        assert_eq!(lossless.handler_runs(sig), 6);
        let runs: Vec<usize> = signals
            .pending()
            .map(|r| match r {
                Record::Delivered(d) => {
                    assert!(matches!(d.sender, Sender::Attested(_)), "{:?}", d.sender);
                    d.run
                }
                other => panic!("{:?}", other),
            })
            .collect();
        assert_eq!(runs, [1, 2, 3, 4, 5, 6]);
        0
    })
    .assert_success();
}
