//! Resource figures of this process: open descriptors and resident memory.

use std::fs;

/// The number of open file descriptors (entries of `/proc/self/fd`, minus the one used to
/// read the directory), or `None` where that directory does not exist.
pub fn open_fds() -> Option<usize> {
    let n = fs::read_dir("/proc/self/fd").ok()?.count();
    Some(n.saturating_sub(1))
}

/// Resident set size in bytes (from `/proc/self/statm`), or `None` where unavailable.
pub fn rss_bytes() -> Option<u64> {
    let statm = fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}
