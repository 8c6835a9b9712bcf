//! The per-signal list of actions that the signal handler walks ("chain" in this crate
//! means calling the previous handler, never this list).
//!
//! A singly linked list in registration order. The handler only follows `next` pointers
//! (`Acquire` loads) and calls the actions; it never writes. One writer at a time (the
//! registry's lock holder) appends at the tail and unlinks nodes anywhere, each in O(1): a
//! writer-only back pointer finds a node's predecessor, so adding or removing one action
//! touches neither the other actions of this signal nor any other signal's.
//!
//! # Publication and reclamation
//!
//! * **Publish**: a node is fully built (action, `next = null`) before the `Release` store that
//!   links it in (into `head` or the old tail's `next`); a handler that loads the pointer with
//!   `Acquire` sees the whole node.
//! * **Unlink**: the predecessor's `next` (or `head`) is redirected past the node with a
//!   `Release` store. The unlinked node keeps its own `next`, so a handler standing on it
//!   still walks on to the rest of the list. A handler that starts later never reaches it.
//! * **Reclaim**: the writer frees an unlinked node only after a grace period
//!   ([`crate::grace::Grace::synchronize`]) that began after the unlink: every handler that
//!   could still stand on the node has left by then. Handlers never free anything.

// `pub` (in a private module) so that the loom model can reach these through `__loom`.
#![allow(unreachable_pub)]

use core::cell::{Cell, UnsafeCell};
use core::ptr;

use crate::primitive::{AtomicPtr, Ordering};

/// What an action is: a closure the handler calls with the delivery's information `I` (the
/// platform's `siginfo_t`; generic so the loom model can run the same code without the
/// platform layer).
pub type Action<I> = dyn Fn(&I) + Send + Sync;

/// One registered action.
pub struct Node<I> {
    action: Box<Action<I>>,
    next: AtomicPtr<Node<I>>,
    /// Writer-only: the node before this one, null for the first. Read and written only by
    /// the writer holding the registry lock; the handler never touches it.
    back: Cell<*mut Node<I>>,
}

impl<I> core::fmt::Debug for Node<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node").finish_non_exhaustive()
    }
}

impl<I> Node<I> {
    /// A node holding `action`, not linked anywhere yet.
    pub fn new(action: Box<Action<I>>) -> Box<Node<I>> {
        Box::new(Node {
            action,
            next: AtomicPtr::new(ptr::null_mut()),
            back: Cell::new(ptr::null_mut()),
        })
    }
}

/// The list of one signal's actions. See the module docs.
pub struct ActionList<I> {
    head: AtomicPtr<Node<I>>,
    /// Writer-only: the last node, null when empty.
    tail: UnsafeCell<*mut Node<I>>,
}

// SAFETY: `head` is atomic. `tail` (and every node's `back`) is touched only through the
// `unsafe` writer methods, whose contract demands the single writer, so there is no concurrent
// access to them. Nodes are reachable by other threads only through atomics, and their
// actions are `Send + Sync`.
unsafe impl<I> Sync for ActionList<I> {}

// SAFETY: as for `Sync`: the raw pointers are owned by the list and handed between threads
// only under the writer discipline.
unsafe impl<I> Send for ActionList<I> {}

impl<I> core::fmt::Debug for ActionList<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ActionList")
            .field("head", &self.head.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<I> ActionList<I> {
    /// An empty list.
    #[cfg(not(sigmux_loom))]
    pub const fn new() -> Self {
        ActionList {
            head: AtomicPtr::new(ptr::null_mut()),
            tail: UnsafeCell::new(ptr::null_mut()),
        }
    }

    /// An empty list.
    #[cfg(sigmux_loom)]
    pub fn new() -> Self {
        ActionList {
            head: AtomicPtr::new(ptr::null_mut()),
            tail: UnsafeCell::new(ptr::null_mut()),
        }
    }

    /// Appends `node` and returns its address (the handle to unlink it with).
    ///
    /// # Safety
    ///
    /// The caller is the only writer of this list for the duration of the call.
    pub unsafe fn push(&self, node: Box<Node<I>>) -> *mut Node<I> {
        let node = Box::into_raw(node);
        // SAFETY: single writer (caller contract), so nobody else reads or writes `tail`.
        let tail = unsafe { &mut *self.tail.get() };
        // SAFETY: `node` is fresh from `Box::into_raw` and not yet shared.
        unsafe { (*node).back.set(*tail) };
        if tail.is_null() {
            self.head.store(node, Ordering::Release);
        } else {
            // SAFETY: the tail is a linked node; linked nodes are only freed by the writer,
            // which is us.
            unsafe { (**tail).next.store(node, Ordering::Release) };
        }
        *tail = node;
        node
    }

    /// Unlinks `node`. It stays valid for handlers already standing on it; free it only after
    /// a grace period that starts after this call.
    ///
    /// # Safety
    ///
    /// The caller is the only writer of this list, and `node` was returned by [`push`] on
    /// this list and not unlinked since.
    ///
    /// [`push`]: ActionList::push
    pub unsafe fn unlink(&self, node: *mut Node<I>) {
        // SAFETY: `node` is linked in this list (caller contract), so it is alive, and only
        // we write its `next` and `back`.
        let (next, back) = unsafe { ((*node).next.load(Ordering::Relaxed), (*node).back.get()) };
        if back.is_null() {
            self.head.store(next, Ordering::Release);
        } else {
            // SAFETY: `back` is the linked predecessor, alive while linked.
            unsafe { (*back).next.store(next, Ordering::Release) };
        }
        if next.is_null() {
            // SAFETY: single writer (caller contract).
            unsafe { *self.tail.get() = back };
        } else {
            // SAFETY: `next` is the linked successor, alive while linked; single writer.
            unsafe { (*next).back.set(back) };
        }
    }

    /// Whether no action is linked. Writer side.
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Relaxed).is_null()
    }

    /// Calls every linked action in order with `info`. Returns whether it called any.
    ///
    /// Async-signal-safe: walks `Acquire`-loaded pointers and calls the actions; no
    /// allocation, no lock, no reference counting.
    ///
    /// # Safety
    ///
    /// The caller holds a [`crate::grace::ReadGuard`] of the tracker the writers of this list
    /// synchronize with, for the whole call.
    #[inline]
    pub unsafe fn run(&self, info: &I) -> bool {
        let mut cur = self.head.load(Ordering::Acquire);
        let ran = !cur.is_null();
        // SAFETY: a node reached from `head` while we are a reader is not freed before we
        // leave (grace period, caller contract), and was fully built before it was published.
        while let Some(node) = unsafe { cur.as_ref() } {
            (node.action)(info);
            cur = node.next.load(Ordering::Acquire);
        }
        ran
    }
}

/// Frees an unlinked node (and drops its action).
///
/// # Safety
///
/// `node` came from [`ActionList::push`], was unlinked, and a full grace period has passed since,
/// so no handler can reach it; it is freed once.
pub unsafe fn free<I>(node: *mut Node<I>) {
    // SAFETY: caller contract: unreachable, from `Box::into_raw`, freed once.
    drop(unsafe { Box::from_raw(node) });
}
