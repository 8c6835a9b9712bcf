//! The semaphore the [parker](super::park) sleeps on, on Windows: a kernel semaphore object
//! (`CreateSemaphoreW`), posted with `ReleaseSemaphore` and waited on with
//! `WaitForSingleObject`.
//!
//! Windows has no asynchronous signals: the C runtime runs a `signal` handler synchronously in
//! the thread that called `raise`, or on the console's own thread for Ctrl-C and Ctrl-Break,
//! and console events run sigmux's console handler on a new thread. So posting from a
//! "handler" is an ordinary call from an ordinary thread; `ReleaseSemaphore` neither
//! allocates nor takes a user-mode lock. The parker's protocol (the counter decides, a post
//! is only a hint) is the same as on Linux.

use std::io;
use std::ptr;
use std::time::Instant;

type Handle = *mut std::ffi::c_void;
const INFINITE: u32 = 0xFFFF_FFFF;
const WAIT_OBJECT_0: u32 = 0;
const WAIT_TIMEOUT: u32 = 0x102;

#[link(name = "kernel32")]
extern "system" {
    fn CreateSemaphoreW(
        attributes: *mut std::ffi::c_void,
        initial: i32,
        maximum: i32,
        name: *const u16,
    ) -> Handle;
    fn ReleaseSemaphore(semaphore: Handle, count: i32, previous: *mut i32) -> i32;
    fn WaitForSingleObject(handle: Handle, milliseconds: u32) -> u32;
    fn CloseHandle(handle: Handle) -> i32;
}

/// A process-private, unnamed semaphore object.
pub(crate) struct Sem(Handle);

// SAFETY: a semaphore handle may be used from any thread at once; the kernel object does the
// synchronisation.
unsafe impl Send for Sem {}
// SAFETY: as for `Send`: every operation is a system call on the kernel object.
unsafe impl Sync for Sem {}

impl Sem {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: no security attributes, no name: an unnamed semaphore, count 0, maximum
        // i32::MAX; every pointer argument may be null.
        let handle = unsafe { CreateSemaphoreW(ptr::null_mut(), 0, i32::MAX, ptr::null()) };
        if handle.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(Sem(handle))
    }

    /// Posts once. Called from the registry's action (a C runtime signal handler) and from
    /// the console handler's thread; no allocation, no user-mode lock, no panic.
    #[inline]
    pub(crate) fn post(&self) {
        // SAFETY: the handle is valid until `drop`. The only failure, the maximum count
        // reached, needs 2^31 posts nobody took (the reader takes them all at every wake-up);
        // ignoring it only drops a hint.
        unsafe { ReleaseSemaphore(self.0, 1, ptr::null_mut()) };
    }

    /// Waits for a post, or until `deadline`: returns `false` once it has passed, `true`
    /// otherwise (a post, or a spurious return that only costs another look).
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        loop {
            let ms = match deadline {
                None => INFINITE,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    // Rounded up, so a wait never ends before the deadline; capped below
                    // INFINITE.
                    let ms = (left.as_nanos() + 999_999) / 1_000_000;
                    u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
                }
            };
            // SAFETY: the handle is valid until `drop`.
            match unsafe { WaitForSingleObject(self.0, ms) } {
                WAIT_OBJECT_0 => return true,
                WAIT_TIMEOUT => continue, // the loop decides by the monotonic clock
                _ => return true,         // WAIT_FAILED: let the caller look again
            }
        }
    }

    /// Takes a post if there is one, never blocking.
    pub(crate) fn try_wait(&self) -> bool {
        // SAFETY: the handle is valid until `drop`; a zero timeout only polls.
        unsafe { WaitForSingleObject(self.0, 0) == WAIT_OBJECT_0 }
    }

    /// The count, for tests: taken and put back (nobody else may use it meanwhile).
    #[cfg(test)]
    pub(crate) fn value(&self) -> i32 {
        let mut count = 0;
        while self.try_wait() {
            count += 1;
        }
        if count > 0 {
            // SAFETY: the handle is valid until `drop`.
            unsafe { ReleaseSemaphore(self.0, count, ptr::null_mut()) };
        }
        count
    }
}

impl Drop for Sem {
    fn drop(&mut self) {
        // SAFETY: the handle is ours, still open; nobody can post or wait any more (the
        // actions and console listeners that could were removed before the last reference to
        // the parker went away).
        unsafe { CloseHandle(self.0) };
    }
}
