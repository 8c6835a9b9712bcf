//! `low_level::channel::Channel` keeps each sender's values in order even with several
//! receivers: a receiver never gets a sender's value after a later one of the same sender.
#![cfg(feature = "channel")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use sigmux::low_level::channel::Channel;

const SENDERS: usize = 3;
const RECEIVERS: usize = 3;
const PER_SENDER: usize = 100_000;
/// Rounds of the whole scenario (a reordering needs a rare interleaving).
const ROUNDS: usize = 20;

/// Each receiver checks that, per sender, what it gets only goes up. (A value taken by
/// another receiver is invisible to it; the check needs no clock across threads.)
#[test]
fn several_receivers_get_each_senders_values_in_order() {
    for _ in 0..ROUNDS {
        one_round();
    }
}

fn one_round() {
    let channel = Arc::new(Channel::<(usize, usize)>::new());
    let senders_done = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (channel, done) = (Arc::clone(&channel), Arc::clone(&senders_done));
            thread::spawn(move || {
                for seq in 0..PER_SENDER {
                    channel.send((sender, seq));
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let receivers: Vec<_> = (0..RECEIVERS)
        .map(|_| {
            let (channel, done) = (Arc::clone(&channel), Arc::clone(&senders_done));
            thread::spawn(move || {
                let mut last: [Option<usize>; SENDERS] = [None; SENDERS];
                let mut disorders = 0usize;
                let mut received = 0usize;
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
                        None => thread::yield_now(),
                    }
                }
                (disorders, received)
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    let results: Vec<(usize, usize)> = receivers.into_iter().map(|r| r.join().unwrap()).collect();
    let disorders: usize = results.iter().map(|r| r.0).sum();
    let received: usize = results.iter().map(|r| r.1).sum();
    assert!(received > 0);
    assert_eq!(
        disorders, 0,
        "{} values came after a later one of the same sender ({} received)",
        disorders, received
    );
}
