//! fork() and sigmux's patterns.
//!
//! * After `fork()` — also while another thread is registering, or is inside the signal
//!   handler — the child can register, unregister and receive signals through sigmux's
//!   iterator and flags, without deadlock.
//! * A signal handled in the child does not wake the parent's iterator, nor the parent's the
//!   child's.
//!
//! Each scenario runs in a forked child (the "parent" below) under an alarm watchdog
//! (`sigmux_testkit::in_child`); the grandchildren it forks arm their own alarms. Waits use
//! blocking reads under those watchdogs or absolute deadlines, never sleep-then-assert.
//!
//! The isolation of an *inherited* iterator works because sigmux gives every live delivery a
//! private pipe in the child, right after `fork` (`sigmux::iterator`'s fork module).
#![cfg(unix)]

use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::thread;

use sigmux::iterator::backend::SignalDelivery;
use sigmux::iterator::exfiltrator::SignalOnly;
use sigmux::iterator::Signals;
use sigmux::low_level::raise;
use sigmux_testkit::{in_child, wait_for, Outcome};

const SIGUSR1: i32 = libc::SIGUSR1;
const SIGUSR2: i32 = libc::SIGUSR2;

/// Forks; the child arms `alarm(secs)`, runs `f` and `_exit`s with its result.
fn fork_child(secs: u32, f: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child runs `f` and `_exit`s; it never returns into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: alarm and _exit have no preconditions.
        unsafe {
            libc::alarm(secs);
            libc::_exit(f())
        }
    }
    pid
}

/// A pipe for handshakes between parent and child (blocking, one byte at a time).
struct Pipe {
    read: RawFd,
    write: RawFd,
}

impl Pipe {
    fn new() -> Pipe {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        Pipe {
            read: fds[0],
            write: fds[1],
        }
    }

    fn send(&self) {
        // SAFETY: a one-byte write from a valid buffer.
        let n = unsafe { libc::write(self.write, b"x".as_ptr().cast(), 1) };
        assert_eq!(n, 1);
    }

    /// Blocks until a byte comes (the alarm watchdog bounds the wait).
    fn recv(&self) {
        let mut b = 0u8;
        loop {
            // SAFETY: a one-byte read into a valid buffer.
            let n = unsafe { libc::read(self.read, (&mut b as *mut u8).cast(), 1) };
            if n == 1 {
                return;
            }
            assert_eq!(
                std::io::Error::last_os_error().raw_os_error(),
                Some(libc::EINTR)
            );
        }
    }
}

/// Whether `fd` is readable right now.
fn readable(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let r = unsafe { libc::poll(&mut pfd, 1, 0) };
    r > 0 && pfd.revents & libc::POLLIN != 0
}

/// In the child: a new iterator and a flag, a raised signal received through both, then
/// everything unregistered. Returns 0 on success, a distinct code per failure.
fn use_sigmux_in_child() -> i32 {
    static FLAG: AtomicBool = AtomicBool::new(false);
    let mut signals = match Signals::new([SIGUSR2]) {
        Ok(s) => s,
        Err(_) => return 10,
    };
    let flag = match sigmux::flag::register(SIGUSR1, &FLAG) {
        Ok(id) => id,
        Err(_) => return 11,
    };
    if raise(SIGUSR2).is_err() || raise(SIGUSR1).is_err() {
        return 12;
    }
    // Blocks until the byte of SIGUSR2 arrives (bounded by the alarm).
    let got = signals.forever().next();
    if got != Some(SIGUSR2) {
        return 13;
    }
    if !FLAG.load(Ordering::SeqCst) {
        return 14;
    }
    if !sigmux::low_level::unregister(flag) || !signals.handle().remove_signal(SIGUSR2) {
        return 15;
    }
    drop(signals);
    // And once more from scratch, so unregistering left a usable state.
    match Signals::new([SIGUSR2]) {
        Ok(mut again) => {
            if raise(SIGUSR2).is_err() || again.forever().next() != Some(SIGUSR2) {
                return 16;
            }
        }
        Err(_) => return 17,
    }
    0
}

#[test]
fn child_uses_iterator_and_flags_while_another_thread_registers() {
    in_child(120, || {
        // One iterator first, so sigmux's one-time fork setup is done before the churn: the
        // fork *during* that setup is `fork_while_the_first_iterator_is_created` below.
        drop(Signals::new([SIGUSR1]).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        // Churns every kind of registration on the signals the child uses.
        let churner = thread::spawn(move || {
            let flag = Arc::new(AtomicBool::new(false));
            while !s.load(Ordering::Relaxed) {
                let it = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
                let id = sigmux::flag::register(SIGUSR2, Arc::clone(&flag)).unwrap();
                // SAFETY: an empty action is async-signal-safe.
                let raw = unsafe { sigmux_registry::register(SIGUSR1, || ()) }.unwrap();
                assert!(sigmux::low_level::unregister(id));
                assert!(sigmux_registry::unregister(raw));
                drop(it);
            }
        });
        for round in 0..150 {
            let pid = fork_child(10, use_sigmux_in_child);
            assert_eq!(wait_for(pid), Outcome::Exited(0), "round {}", round);
        }
        stop.store(true, Ordering::Relaxed);
        churner.join().unwrap();
        0
    })
    .assert_success();
}

/// Regression guard: sigmux once installed its `pthread_atfork` hooks lazily, inside a
/// `std::sync::Once`, when the first delivery was created. A fork that landed while another
/// thread was inside that `call_once` left the child's copy of the `Once` "running" forever,
/// and the child's first `Signals::new` waited on it for good (found by the test above, at
/// random rounds). The hooks are now installed before `main`. Each round is a fresh process
/// whose first iterator is created by a thread while the main thread forks.
#[test]
fn fork_while_the_first_iterator_is_created() {
    for round in 0..100 {
        let outcome = in_child(60, || {
            static GO: AtomicBool = AtomicBool::new(false);
            static DONE: AtomicBool = AtomicBool::new(false);
            let first = thread::spawn(|| {
                while !GO.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
                drop(Signals::new([SIGUSR1]).unwrap());
                DONE.store(true, Ordering::SeqCst);
            });
            GO.store(true, Ordering::SeqCst);
            // Fork again and again while the other thread creates the process's first
            // iterator; every child creates one too.
            let mut pids = Vec::new();
            while !DONE.load(Ordering::SeqCst) && pids.len() < 64 {
                pids.push(fork_child(5, || match Signals::new([SIGUSR2]) {
                    Ok(_) => 0,
                    Err(_) => 1,
                }));
            }
            first.join().unwrap();
            let mut code = 0;
            for pid in pids {
                match wait_for(pid) {
                    Outcome::Exited(0) => {}
                    Outcome::Signaled(libc::SIGALRM) => code = 2, // a child hung
                    _ => code = code.max(3),
                }
            }
            code
        });
        assert_eq!(
            outcome,
            Outcome::Exited(0),
            "round {} (2 = a child hung)",
            round
        );
    }
}

#[test]
fn child_uses_iterator_and_flags_while_another_thread_is_inside_the_handler() {
    in_child(120, || {
        static INSIDE: AtomicBool = AtomicBool::new(false);
        static RELEASE: AtomicBool = AtomicBool::new(false);
        static PARENT: AtomicI32 = AtomicI32::new(0);
        // SAFETY: getpid has no preconditions.
        PARENT.store(unsafe { libc::getpid() }, Ordering::SeqCst);
        // The parent's iterator and flag on the signals the child uses, and an action that
        // keeps its thread inside the handler of SIGUSR1 until released. The child inherits
        // that action too; there it returns at once (getpid is async-signal-safe).
        let mut parent_signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
        let parent_flag = Arc::new(AtomicBool::new(false));
        sigmux::flag::register(SIGUSR2, Arc::clone(&parent_flag)).unwrap();
        let spinner = || {
            // SAFETY: getpid has no preconditions.
            if unsafe { libc::getpid() } != PARENT.load(Ordering::SeqCst) {
                return;
            }
            INSIDE.store(true, Ordering::SeqCst);
            while !RELEASE.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
        };
        // SAFETY: getpid, atomics and a spin: async-signal-safe.
        unsafe { sigmux_registry::register(SIGUSR1, spinner) }.unwrap();
        let stuck = thread::spawn(|| raise(SIGUSR1).unwrap());
        while !INSIDE.load(Ordering::SeqCst) {
            thread::yield_now();
        }
        for round in 0..20 {
            let pid = fork_child(10, use_sigmux_in_child);
            assert_eq!(wait_for(pid), Outcome::Exited(0), "round {}", round);
        }
        RELEASE.store(true, Ordering::SeqCst);
        stuck.join().unwrap();
        // The parent still works.
        assert!(parent_signals.forever().any(|s| s == SIGUSR1));
        0
    })
    .assert_success();
}

#[test]
fn flags_are_per_process() {
    in_child(30, || {
        let flag = Arc::new(AtomicBool::new(false));
        sigmux::flag::register(SIGUSR1, Arc::clone(&flag)).unwrap();
        let child_flag = Arc::clone(&flag);
        let pid = fork_child(10, move || {
            raise(SIGUSR1).unwrap();
            // The child's own copy is set.
            if child_flag.load(Ordering::SeqCst) {
                0
            } else {
                1
            }
        });
        assert_eq!(wait_for(pid), Outcome::Exited(0));
        assert!(
            !flag.load(Ordering::SeqCst),
            "the child's signal set the parent's flag"
        );
        raise(SIGUSR1).unwrap();
        assert!(flag.load(Ordering::SeqCst));
        0
    })
    .assert_success();
}

#[test]
fn iterator_created_in_the_child_is_private() {
    in_child(30, || {
        let mut parent = Signals::new([SIGUSR2]).unwrap();
        let ready = Pipe::new();
        let go = Pipe::new();
        let (ready_w, go_r) = (ready.write, go.read);
        let pid = fork_child(10, move || {
            let mut mine = match Signals::new([SIGUSR2]) {
                Ok(s) => s,
                Err(_) => return 2,
            };
            Pipe {
                read: -1,
                write: ready_w,
            }
            .send();
            // The parent has now handled its own SIGUSR2.
            Pipe {
                read: go_r,
                write: -1,
            }
            .recv();
            if mine.pending().next().is_some() {
                return 3; // the parent's signal reached the child's new iterator
            }
            raise(SIGUSR2).unwrap();
            if mine.pending().collect::<Vec<_>>() != [SIGUSR2] {
                return 4;
            }
            0
        });
        ready.recv();
        raise(SIGUSR2).unwrap();
        assert_eq!(parent.forever().next(), Some(SIGUSR2));
        go.send();
        assert_eq!(wait_for(pid), Outcome::Exited(0));
        // The child's signal did not reach the parent's iterator either.
        assert_eq!(parent.pending().count(), 0);
        0
    })
    .assert_success();
}

/// A delivery over a socket pair whose read end we can poll ourselves.
fn delivery(signal: i32) -> SignalDelivery<UnixStream, SignalOnly> {
    let (read, write) = UnixStream::pair().unwrap();
    SignalDelivery::with_pipe(read, write, SignalOnly, [signal]).unwrap()
}

/// The child inherits the parent's self-pipe and the action writing to it; without the fork
/// hook's private pipe, a signal handled in the child would make the parent's iterator
/// readable (a spurious wake-up; with many children, a busy parent).
#[test]
fn signal_in_child_does_not_wake_the_parents_iterator() {
    in_child(30, || {
        let mut parent = delivery(SIGUSR1);
        let fd = parent.get_read().as_raw_fd();
        let pid = fork_child(10, || {
            raise(SIGUSR1).unwrap();
            0
        });
        assert_eq!(wait_for(pid), Outcome::Exited(0));
        assert!(
            !readable(fd),
            "the child's signal woke the parent's iterator"
        );
        // Positive control: the parent's own signal does wake it.
        raise(SIGUSR1).unwrap();
        assert!(readable(fd));
        assert_eq!(parent.pending().collect::<Vec<_>>(), [SIGUSR1]);
        0
    })
    .assert_success();
}

/// Without the fork hook's private pipe, the inherited iterator in the child would read the
/// same pipe as the parent's, so the parent's signal would wake the child's iterator (and a
/// child that read it would steal the parent's wake-up).
#[test]
fn signal_in_parent_does_not_wake_the_childs_inherited_iterator() {
    in_child(30, || {
        let mut parent = delivery(SIGUSR1);
        let ready = Pipe::new();
        let go = Pipe::new();
        let (ready_w, go_r) = (ready.write, go.read);
        let pid = fork_child(10, || {
            // The child goes on using the iterator it inherited.
            let _ = parent.pending().count();
            let fd = parent.get_read().as_raw_fd();
            Pipe {
                read: -1,
                write: ready_w,
            }
            .send();
            Pipe {
                read: go_r,
                write: -1,
            }
            .recv();
            if readable(fd) {
                return 3; // woken by the parent's signal
            }
            raise(SIGUSR1).unwrap();
            if !readable(fd) || parent.pending().collect::<Vec<_>>() != [SIGUSR1] {
                return 4; // its own signal must still work
            }
            0
        });
        ready.recv();
        // The parent handles a signal but does not read its pipe before the child looks.
        raise(SIGUSR1).unwrap();
        go.send();
        let outcome = wait_for(pid);
        let fd = parent.get_read().as_raw_fd();
        assert!(readable(fd), "the child consumed the parent's wake-up");
        assert_eq!(parent.pending().collect::<Vec<_>>(), [SIGUSR1]);
        assert_eq!(outcome, Outcome::Exited(0), "child's verdict");
        0
    })
    .assert_success();
}

/// What a descriptor is, as far as the fork hook promises to keep it.
#[derive(Debug, Clone, Copy)]
struct Facts {
    status_flags: i32,
    cloexec: bool,
    socket: bool,
    device: u64,
    inode: u64,
}

fn facts(fd: RawFd) -> Facts {
    // SAFETY: fcntl on a descriptor this process holds; F_GETFL/F_GETFD only read.
    let status_flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    let fd_flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(status_flags >= 0 && fd_flags >= 0, "fcntl({})", fd);
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer.
    assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
    Facts {
        status_flags,
        cloexec: fd_flags & libc::FD_CLOEXEC != 0,
        socket: st.st_mode & libc::S_IFMT == libc::S_IFSOCK,
        device: st.st_dev as u64,
        inode: st.st_ino as u64,
    }
}

/// The fork hook's promise for the child's private pipes (the guide's internals, "Fork"): at
/// the same descriptor numbers, a new pipe where there was a pipe and a new socket pair where
/// there was one, with the status flags kept (non-blocking) and close-on-exec set; and the
/// handler's writes never block in the child, even with nobody reading.
#[test]
fn the_childs_private_pipes_keep_their_kind_and_flags_and_never_block_the_handler() {
    use std::os::unix::io::{FromRawFd, OwnedFd};

    in_child(60, || {
        let (sock_read, sock_write) = UnixStream::pair().unwrap();
        let mut fds = vec![sock_read.as_raw_fd(), sock_write.as_raw_fd()];
        let _socket =
            SignalDelivery::with_pipe(sock_read, sock_write, SignalOnly, [SIGUSR1]).unwrap();
        let mut raw = [-1; 2];
        // SAFETY: `raw` has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(raw.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors are fresh and owned by nothing else.
        let (pipe_read, pipe_write) =
            unsafe { (OwnedFd::from_raw_fd(raw[0]), OwnedFd::from_raw_fd(raw[1])) };
        fds.extend(raw);
        let _pipe =
            SignalDelivery::with_pipe(pipe_read, pipe_write, SignalOnly, [SIGUSR2]).unwrap();
        let before: Vec<Facts> = fds.iter().map(|&fd| facts(fd)).collect();
        assert!(before[0].socket && before[1].socket && !before[2].socket && !before[3].socket);
        assert!(
            before[3].status_flags & libc::O_NONBLOCK != 0,
            "the pipe's write end"
        );

        let pid = fork_child(30, || {
            for (&fd, parent) in fds.iter().zip(&before) {
                let child = facts(fd);
                assert_eq!(child.socket, parent.socket, "fd {}: kind", fd);
                assert_eq!(child.status_flags, parent.status_flags, "fd {}: flags", fd);
                assert!(child.cloexec, "fd {}: close-on-exec", fd);
                assert!(
                    (child.device, child.inode) != (parent.device, parent.inode),
                    "fd {}: still the parent's",
                    fd
                );
            }
            // Nobody reads either pipe: far more wake-up bytes than they hold.
            for _ in 0..100_000 {
                raise(SIGUSR1).unwrap();
                raise(SIGUSR2).unwrap();
            }
            0
        });
        assert_eq!(wait_for(pid), Outcome::Exited(0));
        0
    })
    .assert_success();
}
