//! Model check of the lock-free core with loom: publish, read, reclaim.
//!
//! Run with `ci/loom.sh` (`RUSTFLAGS="--cfg sigmux_loom" cargo test -p sigmux-registry --test
//! loom --release`). The handler's side is a reader: enter a grace period, walk the chain,
//! call the actions. The registry's side is the single writer: push, unlink, synchronize,
//! free. Each action reads a loom `UnsafeCell` that the writer "poisons" (writes) right
//! before freeing the node, so loom reports any read that is not ordered before the free, and
//! any node seen before its contents were published.
#![cfg(sigmux_loom)]

use std::sync::Arc;

use loom::cell::UnsafeCell;
use loom::thread;
use sigmux_registry::__loom::{free, ActionList, Grace, Node};

const DEAD: u32 = 0xdead;

/// A payload an action reads; written by the writer only before publishing and after
/// reclaiming.
struct Payload(UnsafeCell<u32>);

// SAFETY: access is synchronized by the protocol under test; loom checks it.
unsafe impl Sync for Payload {}
// SAFETY: as above.
unsafe impl Send for Payload {}

type Info = u32;

fn action(p: &Arc<Payload>) -> Box<Node<Info>> {
    let p = Arc::clone(p);
    Node::new(Box::new(move |_: &Info| {
        // SAFETY: loom tracks this access; a race with the writer's poisoning fails the model.
        let v = p.0.with(|v| unsafe { *v });
        assert_ne!(v, DEAD, "action ran after its node was reclaimed");
        assert_ne!(v, 0, "action seen before its payload was published");
    }))
}

fn payload(v: u32) -> Arc<Payload> {
    Arc::new(Payload(UnsafeCell::new(v)))
}

/// Reclaims a node: poison what its action reads, then free it.
///
/// # Safety
///
/// `node` was unlinked and a grace period has passed.
unsafe fn reclaim(node: *mut Node<Info>, p: &Payload) {
    // SAFETY: loom checks that no reader access is concurrent.
    p.0.with_mut(|v| unsafe { *v = DEAD });
    // SAFETY: caller contract.
    unsafe { free(node) };
}

fn reader(chain: Arc<ActionList<Info>>, grace: Arc<Grace>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let _guard = grace.enter();
        // SAFETY: we hold a read guard of the writers' tracker.
        unsafe { chain.run(&0) };
    })
}

/// A reader walks while the writer appends one node and removes another.
#[test]
fn push_unlink_reclaim_against_one_reader() {
    loom::model(|| {
        let chain = Arc::new(ActionList::<Info>::new());
        let grace = Arc::new(Grace::new());
        let a = payload(1);
        // SAFETY: this thread is the only writer throughout.
        let node_a = unsafe { chain.push(action(&a)) };

        let r = reader(Arc::clone(&chain), Arc::clone(&grace));

        let b = payload(0);
        // SAFETY: not shared yet.
        b.0.with_mut(|v| unsafe { *v = 2 });
        // SAFETY: only writer.
        unsafe { chain.push(action(&b)) };
        // SAFETY: only writer; `node_a` is linked.
        unsafe { chain.unlink(node_a) };
        grace.synchronize();
        // SAFETY: unlinked and a grace period passed.
        unsafe { reclaim(node_a, &a) };

        r.join().unwrap();
    });
}

/// Two grace periods back to back while a reader enters: covers a reader whose phase guess
/// goes stale (the slow path of `enter`) across two writer flips.
#[test]
fn two_removals_against_one_reader() {
    loom::model(|| {
        let chain = Arc::new(ActionList::<Info>::new());
        let grace = Arc::new(Grace::new());
        let a = payload(1);
        let b = payload(2);
        // SAFETY: only writer.
        let (node_a, node_b) = unsafe { (chain.push(action(&a)), chain.push(action(&b))) };

        let r = reader(Arc::clone(&chain), Arc::clone(&grace));

        for (node, p) in [(node_a, &a), (node_b, &b)] {
            // SAFETY: only writer; each node is linked until here.
            unsafe { chain.unlink(node) };
            grace.synchronize();
            // SAFETY: unlinked and a grace period passed.
            unsafe { reclaim(node, p) };
        }

        r.join().unwrap();
    });
}

/// Two readers (think: the same signal on two threads, or nested handlers) and one removal.
#[test]
fn one_removal_against_two_readers() {
    loom::model(|| {
        let chain = Arc::new(ActionList::<Info>::new());
        let grace = Arc::new(Grace::new());
        let a = payload(1);
        // SAFETY: only writer.
        let node_a = unsafe { chain.push(action(&a)) };

        let r1 = reader(Arc::clone(&chain), Arc::clone(&grace));
        let r2 = reader(Arc::clone(&chain), Arc::clone(&grace));

        // SAFETY: only writer; linked.
        unsafe { chain.unlink(node_a) };
        grace.synchronize();
        // SAFETY: unlinked and a grace period passed.
        unsafe { reclaim(node_a, &a) };

        r1.join().unwrap();
        r2.join().unwrap();
    });
}
