//! `low_level::channel::Channel` keeps each sender's values in order even with several
//! receivers: a receiver never gets a sender's value after a later one of the same sender.
//!
//! A reordering needs a receiver to be held up between choosing a cell and claiming it,
//! while the others empty and refill that cell. To make that common, the receivers poll
//! without yielding (so they run as much as the senders), and a thread keeps interrupting
//! them with a signal whose handler sleeps a little (so they get descheduled at random
//! points, the window among them).
#![cfg(all(unix, feature = "channel"))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sigmux::low_level::channel::Channel;

const SENDERS: usize = 3;
const RECEIVERS: usize = 3;
/// How long the senders keep sending: an absolute deadline, so the test's length does not
/// depend on the build or the machine.
const SENDING: Duration = Duration::from_millis(1500);

#[test]
fn several_receivers_get_each_senders_values_in_order() {
    // SAFETY: the action only calls `nanosleep` (async-signal-safe by POSIX) on a stack
    // value.
    let id = unsafe {
        sigmux::low_level::register(libc::SIGUSR1, || {
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 1_000,
            };
            libc::nanosleep(&pause, std::ptr::null_mut());
        })
    }
    .unwrap();
    let channel = Arc::new(Channel::<(usize, usize)>::new());
    let senders_done = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(SENDERS + RECEIVERS + 1));
    let deadline = Arc::new(Mutex::new(None::<Instant>));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (channel, done) = (Arc::clone(&channel), Arc::clone(&senders_done));
            let (start, deadline) = (Arc::clone(&start), Arc::clone(&deadline));
            thread::spawn(move || {
                start.wait();
                let deadline = deadline.lock().unwrap().unwrap();
                let mut seq = 0;
                while Instant::now() < deadline {
                    for _ in 0..16 {
                        channel.send((sender, seq));
                        seq += 1;
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // Thread ids as numbers: `pthread_t` is a raw pointer (not `Send`) on musl.
    let stalled: Arc<Mutex<Vec<usize>>> = Arc::default();
    let receivers: Vec<_> = (0..RECEIVERS)
        .map(|_| {
            let (channel, done) = (Arc::clone(&channel), Arc::clone(&senders_done));
            let (start, stalled) = (Arc::clone(&start), Arc::clone(&stalled));
            thread::spawn(move || {
                // SAFETY: pthread_self has no preconditions.
                stalled
                    .lock()
                    .unwrap()
                    .push(unsafe { libc::pthread_self() } as usize);
                start.wait();
                // Per sender: the last value seen, and how often a value came after a later one.
                let mut last: [Option<usize>; SENDERS] = [None; SENDERS];
                let (mut disorders, mut received) = (0usize, 0usize);
                loop {
                    let finished = done.load(Ordering::SeqCst) == SENDERS;
                    match channel.recv() {
                        Some((sender, seq)) => {
                            received += 1;
                            if last[sender].is_some_and(|prev| seq <= prev) {
                                disorders += 1;
                            }
                            last[sender] = Some(seq);
                        }
                        None if finished => break,
                        None => std::hint::spin_loop(),
                    }
                }
                (disorders, received)
            })
        })
        .collect();
    *deadline.lock().unwrap() = Some(Instant::now() + SENDING);
    start.wait();
    let stop = Arc::new(AtomicBool::new(false));
    let staller = thread::spawn({
        let (stop, stalled) = (Arc::clone(&stop), Arc::clone(&stalled));
        move || {
            while !stop.load(Ordering::SeqCst) {
                for &thread in stalled.lock().unwrap().iter() {
                    // SAFETY: the receivers are joined only after this loop stops.
                    unsafe { libc::pthread_kill(thread as libc::pthread_t, libc::SIGUSR1) };
                }
                thread::sleep(Duration::from_micros(50));
            }
        }
    });
    for sender in senders {
        sender.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    staller.join().unwrap();
    let results: Vec<(usize, usize)> = receivers.into_iter().map(|r| r.join().unwrap()).collect();
    sigmux::low_level::unregister(id);
    let disorders: usize = results.iter().map(|r| r.0).sum();
    let received: usize = results.iter().map(|r| r.1).sum();
    assert!(received > 0);
    assert_eq!(
        disorders, 0,
        "{} values came after a later one of the same sender ({} received)",
        disorders, received
    );
}
