// The scenarios of `sigmux::child`, included by `children_pidfd.rs` and
// `children_sigchld.rs`, which each set `MECHANISM`: every promise is checked on both paths.
// Scenarios that change process-wide state (subreaper, orphan reaping, fork, 1,000 children
// whose zombies are counted in /proc) run in a forked child with an alarm watchdog.

use std::io::{self, Read};
use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use sigmux::child::{Children, Exit, Options};
use sigmux_testkit::{in_child, wait_until};

fn children() -> Children {
    let c = Children::with_options(Options::new().mechanism(MECHANISM)).expect("Children");
    assert_eq!(c.mechanism(), MECHANISM);
    c
}

/// A pipe; children that read the read end as stdin all exit when the write end closes.
fn gate() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh descriptors owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// `sh` that waits for end of file on `gate`, then exits with `code`.
fn gated(gate: &OwnedFd, code: u8) -> Child {
    Command::new("sh")
        .args(["-c", "read _ ; exit $0", &code.to_string()])
        .stdin(Stdio::from(gate.try_clone().unwrap()))
        .spawn()
        .expect("spawn sh")
}

fn sh(script: &str) -> Child {
    Command::new("sh").args(["-c", script]).spawn().expect("spawn sh")
}

/// Our zombies: children whose /proc stat says state Z and parent us.
fn zombies() -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        let pid: u32 = match name.to_str().and_then(|s| s.parse().ok()) {
            Some(p) => p,
            None => continue,
        };
        let mut stat = String::new();
        if std::fs::File::open(format!("/proc/{}/stat", pid))
            .and_then(|mut f| f.read_to_string(&mut stat))
            .is_err()
        {
            continue;
        }
        // "pid (comm) S ppid ...": comm may hold spaces, so split after the last ')'.
        let rest = match stat.rfind(')') {
            Some(i) => &stat[i + 1..],
            None => continue,
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let ppid: Option<u32> = fields.next().and_then(|p| p.parse().ok());
        if state == Some("Z") && ppid == Some(me) {
            out.push(pid);
        }
    }
    out
}

fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer / in-pointer.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max.min(1 << 16);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid))
        .map(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

#[test]
fn thousand_children_exiting_at_once_are_each_reported_once_with_their_status_and_no_zombie_is_left(
) {
    in_child(120, || {
        raise_nofile();
        let c = children();
        let (read, write) = gate();
        let mut want = std::collections::HashMap::new();
        for i in 0..1000u32 {
            let code = (i % 251) as u8;
            let pid = c.watch(gated(&read, code)).unwrap();
            want.insert(pid, code as i32);
        }
        drop(read);
        assert_eq!(c.len(), 1000);
        drop(write); // all of them exit now
        let mut seen = std::collections::HashMap::new();
        for exit in &c {
            let exit = exit.unwrap();
            assert!(
                seen.insert(exit.pid(), exit.status().code()).is_none(),
                "{} reported twice",
                exit.pid()
            );
        }
        assert_eq!(seen.len(), 1000);
        for (pid, code) in &want {
            assert_eq!(seen[pid], Some(*code), "status of {}", pid);
        }
        assert!(c.is_empty());
        assert_eq!(c.try_wait().unwrap(), None);
        assert_eq!(zombies(), Vec::<u32>::new(), "zombies left");
        0
    })
    .assert_success();
}

#[test]
fn children_watched_when_descriptors_run_out_are_still_reported() {
    in_child(60, || {
        let c = children();
        let (read, write) = gate();
        let kids: Vec<Child> = (0..60u8).map(|i| gated(&read, i)).collect();
        drop(read);
        // Leave room for about 20 more descriptors.
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let lim = libc::rlimit {
            rlim_cur: open + 20,
            rlim_max: libc::RLIM_INFINITY,
        };
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: valid pointers.
        unsafe {
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut old);
            let lim = libc::rlimit {
                rlim_max: old.rlim_max,
                ..lim
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
        let mut want = Vec::new();
        for (i, kid) in kids.into_iter().enumerate() {
            want.push((c.watch(kid).unwrap(), Some(i as i32)));
        }
        drop(write);
        let mut got = Vec::new();
        for exit in &c {
            let exit = exit.unwrap();
            got.push((exit.pid(), exit.status().code()));
        }
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(zombies(), Vec::<u32>::new());
        0
    })
    .assert_success();
}

#[test]
fn a_child_killed_by_a_signal_reports_that_signal() {
    let c = children();
    let term = c.watch(sh("exec sleep 30")).unwrap();
    let kill = c.watch(sh("exec sleep 30")).unwrap();
    let quit = c.watch(sh("kill -USR1 $$; sleep 30")).unwrap();
    // SAFETY: signalling our own children, which are watched and not yet reaped.
    unsafe {
        libc::kill(term as i32, libc::SIGTERM);
        libc::kill(kill as i32, libc::SIGKILL);
    }
    let mut got = Vec::new();
    while let Some(exit) = c.wait_timeout(Duration::from_secs(30)).unwrap() {
        got.push((exit.pid(), exit.status().signal(), exit.status().code()));
    }
    got.sort();
    let mut want = vec![
        (term, Some(libc::SIGTERM), None),
        (kill, Some(libc::SIGKILL), None),
        (quit, Some(libc::SIGUSR1), None),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_child_dumping_core_reports_the_signal_and_the_dump_as_waitpid_does() {
    in_child(30, || {
        // Make a core dump possible where the system allows it; whether one is written
        // depends on the system, so compare with what std's `waitpid` reports for a twin.
        let lim = libc::rlimit {
            rlim_cur: libc::RLIM_INFINITY,
            rlim_max: libc::RLIM_INFINITY,
        };
        // SAFETY: valid in-pointer.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &lim) };
        let dir = std::env::temp_dir().join(format!("sigmux-core-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let quit = || {
            Command::new("sh")
                .args(["-c", "kill -QUIT $$"])
                .current_dir(&dir)
                .spawn()
                .unwrap()
        };
        let c = children();
        let pid = c.watch(quit()).unwrap();
        let status = c.wait_pid(pid, Some(Duration::from_secs(20))).unwrap().unwrap();
        let twin = quit().wait().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(status.signal(), Some(libc::SIGQUIT));
        assert_eq!(twin.signal(), Some(libc::SIGQUIT));
        assert_eq!(status.core_dumped(), twin.core_dumped());
        assert_eq!(status.into_raw(), twin.into_raw());
        0
    })
    .assert_success();
}

#[test]
fn a_watched_child_that_already_exited_before_being_watched_is_reported() {
    let c = children();
    let child = sh("exit 42");
    let pid = child.id();
    assert!(wait_until(Duration::from_secs(20), || is_zombie(pid)));
    c.watch(child).unwrap();
    let exit = c.wait_timeout(Duration::from_secs(20)).unwrap().expect("reported");
    assert_eq!((exit.pid(), exit.status().code()), (pid, Some(42)));
    assert_eq!(c.wait().unwrap(), None);
    // The same through a bare pid.
    let child = sh("exit 43");
    let pid = child.id();
    assert!(wait_until(Duration::from_secs(20), || is_zombie(pid)));
    c.watch_pid(pid).unwrap();
    let exit = c.wait_timeout(Duration::from_secs(20)).unwrap().expect("reported");
    assert_eq!((exit.pid(), exit.status().code()), (pid, Some(43)));
    drop(child);
}

#[test]
fn a_child_std_already_waited_for_is_reported_with_the_status_std_saw() {
    let c = children();
    let mut child = sh("exit 44");
    let pid = child.id();
    assert_eq!(child.wait().unwrap().code(), Some(44));
    c.watch(child).unwrap();
    let exit = c.try_wait().unwrap().expect("reported at once");
    assert_eq!((exit.pid(), exit.status().code()), (pid, Some(44)));
    assert!(c.is_empty());
}

#[test]
fn an_unwatched_sibling_waited_for_by_another_thread_is_not_stolen() {
    for _round in 0..5 {
        let c = children();
        let (read, write) = gate();
        let mut siblings = Vec::new();
        for i in 0..10u8 {
            siblings.push(gated(&read, 100 + i));
            c.watch(gated(&read, i)).unwrap();
        }
        drop(read);
        let barrier = Arc::new(Barrier::new(siblings.len() + 1));
        let waiters: Vec<_> = siblings
            .into_iter()
            .enumerate()
            .map(|(i, mut sibling)| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    let status = sibling.wait().expect("std's Child::wait of a sibling");
                    assert_eq!(status.code(), Some(100 + i as i32));
                })
            })
            .collect();
        barrier.wait();
        drop(write);
        let mut n = 0;
        for exit in &c {
            let exit = exit.unwrap();
            assert!(exit.status().code().unwrap() < 10);
            n += 1;
        }
        assert_eq!(n, 10);
        for w in waiters {
            w.join().expect("sibling waiter");
        }
    }
}

#[test]
fn a_sibling_that_exits_first_is_left_for_std_to_wait_for() {
    let c = children();
    let mut sibling = sh("exit 7");
    let watched = c.watch(sh("sleep 0.3; exit 8")).unwrap();
    assert!(wait_until(Duration::from_secs(20), || is_zombie(sibling.id())));
    let exit = c.wait().unwrap().unwrap();
    assert_eq!((exit.pid(), exit.status().code()), (watched, Some(8)));
    assert_eq!(sibling.wait().unwrap().code(), Some(7));
}

#[test]
fn wait_pid_waits_for_that_child_and_keeps_the_others_queued() {
    let c = children();
    let early = c.watch(sh("exit 1")).unwrap();
    let late = c.watch(sh("sleep 0.2; exit 2")).unwrap();
    let status = c.wait_pid(late, Some(Duration::from_secs(20))).unwrap().unwrap();
    assert_eq!(status.code(), Some(2));
    let exit = c.wait().unwrap().unwrap();
    assert_eq!((exit.pid(), exit.status().code()), (early, Some(1)));
    let err = c.wait_pid(late, None).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
}

#[test]
fn wait_timeout_gives_up_in_time_and_the_child_is_still_reported_later() {
    let c = children();
    let pid = c.watch(sh("exec sleep 30")).unwrap();
    let started = Instant::now();
    assert_eq!(c.wait_timeout(Duration::from_millis(100)).unwrap(), None);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(c.wait_pid(pid, Some(Duration::from_millis(50))).unwrap(), None);
    assert_eq!(c.try_wait().unwrap(), None);
    // SAFETY: signalling our own watched, unreaped child.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let exit = c.wait().unwrap().unwrap();
    assert_eq!(exit.status().signal(), Some(libc::SIGKILL));
}

#[test]
fn concurrent_blocking_waiters_share_the_exits_each_exactly_once() {
    let c = Arc::new(children());
    let (read, write) = gate();
    let mut pids = Vec::new();
    for i in 0..60u8 {
        pids.push(c.watch(gated(&read, i)).unwrap());
    }
    drop(read);
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let c = Arc::clone(&c);
            thread::spawn(move || {
                let mut mine: Vec<Exit> = Vec::new();
                while let Some(exit) = c.wait_timeout(Duration::from_secs(30)).unwrap() {
                    mine.push(exit);
                }
                mine
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    drop(write);
    let mut all: Vec<u32> = waiters
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .map(|e| e.pid())
        .collect();
    all.sort();
    pids.sort();
    assert_eq!(all, pids);
}

#[test]
fn blocking_waiters_without_timeouts_all_return_once_every_exit_is_taken() {
    // Leader/follower hand-offs: whoever takes the last exit must wake the others, and a
    // leader that leaves must leave someone polling. A lost wake-up hangs (watchdog).
    in_child(60, || {
        for round in 0..20 {
            let c = Arc::new(children());
            let mut pids = Vec::new();
            for i in 0..8u32 {
                pids.push(c.watch(sh(&format!("sleep 0.0{}", i % 4))).unwrap());
            }
            let started = Instant::now();
            let waiters: Vec<_> = (0..3)
                .map(|k| {
                    let c = Arc::clone(&c);
                    thread::spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            // Mix the blocking calls with non-blocking ones.
                            let next = if (k + round) % 3 == 0 {
                                match c.try_wait().unwrap() {
                                    Some(e) => Some(e),
                                    None if c.is_empty() => None,
                                    None => {
                                        thread::sleep(Duration::from_millis(1));
                                        continue;
                                    }
                                }
                            } else {
                                c.wait().unwrap()
                            };
                            match next {
                                Some(e) => mine.push(e.pid()),
                                None => return mine,
                            }
                        }
                    })
                })
                .collect();
            let mut all: Vec<u32> = waiters
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect();
            all.sort();
            pids.sort();
            assert_eq!(all, pids);
            assert!(started.elapsed() < Duration::from_secs(10), "a waiter slept too long");
        }
        0
    })
    .assert_success();
}

#[test]
fn the_set_and_its_future_can_be_shared_and_sent_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Children>();
    send_sync::<Exit>();
    let c = children();
    send(&c.exit());
}

#[test]
fn bad_pids_are_refused() {
    let c = children();
    for pid in [0, u32::MAX, i32::MAX as u32 + 1] {
        assert_eq!(
            c.watch_pid(pid).unwrap_err().kind(),
            io::ErrorKind::InvalidInput,
            "{}",
            pid
        );
    }
    // Not our child.
    assert_eq!(
        c.watch_pid(1).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    let child = sh("exec sleep 30");
    let pid = child.id();
    c.watch_pid(pid).unwrap();
    assert_eq!(
        c.watch_pid(pid).unwrap_err().kind(),
        io::ErrorKind::AlreadyExists
    );
    // SAFETY: signalling our own watched, unreaped child.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    assert_eq!(c.wait().unwrap().unwrap().pid(), pid);
    drop(child); // std never waits for it: `Child`'s drop does not wait
}

#[test]
fn the_descriptor_becomes_readable_when_a_watched_child_exits() {
    let c = children();
    let pid = c.watch(sh("sleep 0.1")).unwrap();
    let mut pfd = libc::pollfd {
        fd: c.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(exit) = c.try_wait().unwrap() {
            assert_eq!(exit.pid(), pid);
            break;
        }
        assert!(Instant::now() < deadline, "never reported");
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 1000) };
    }
}

#[test]
fn a_forked_child_of_a_watcher_cannot_use_the_inherited_set_but_can_watch_its_own() {
    in_child(60, || {
        let c = Arc::new(children());
        let watched = c.watch(sh("sleep 0.3; exit 9")).unwrap();
        // Another thread keeps taking the set's lock while we fork.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let busy = {
            let (c, stop) = (Arc::clone(&c), Arc::clone(&stop));
            thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = c.len();
                    let _ = c.try_wait();
                }
            })
        };
        for _ in 0..20 {
            // SAFETY: the forked child runs only the code below and leaves with `_exit`.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0);
            if pid == 0 {
                // SAFETY: alarm is async-signal-safe; a hang fails as SIGALRM.
                unsafe { libc::alarm(20) };
                let code = (|| {
                    // The inherited set refuses without touching its (maybe held) lock.
                    if c.try_wait().is_ok() || c.wait().is_ok() || !c.is_empty() {
                        return 1;
                    }
                    if c.watch_pid(watched).is_ok() {
                        return 2;
                    }
                    let own = match Children::with_options(Options::new().mechanism(MECHANISM))
                    {
                        Ok(own) => own,
                        Err(_) => return 3,
                    };
                    let pid = match Command::new("sh").args(["-c", "exit 4"]).spawn() {
                        Ok(child) => own.watch(child),
                        Err(_) => return 5,
                    };
                    let pid = match pid {
                        Ok(pid) => pid,
                        Err(_) => return 6,
                    };
                    match own.wait() {
                        Ok(Some(e)) if e.pid() == pid && e.status().code() == Some(4) => 0,
                        _ => 7,
                    }
                })();
                // SAFETY: leave without running the parent's destructors or atexit handlers.
                unsafe { libc::_exit(code) };
            }
            assert_eq!(
                sigmux_testkit::wait_for(pid),
                sigmux_testkit::Outcome::Exited(0)
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        busy.join().unwrap();
        // The busy thread may have taken the exit with try_wait; either way, exactly once.
        let exit = c.wait_timeout(Duration::from_secs(20)).unwrap();
        if let Some(exit) = exit {
            assert_eq!((exit.pid(), exit.status().code()), (watched, Some(9)));
        }
        assert!(c.is_empty());
        assert_eq!(zombies(), Vec::<u32>::new());
        0
    })
    .assert_success();
}

#[test]
fn orphan_reaping_reaps_orphans_and_still_hands_watched_children_to_their_watcher() {
    in_child(60, || {
        let c = Children::with_options(Options::new().mechanism(MECHANISM).reap_orphans(true))
            .unwrap();
        // The subshell outlives its parent and is re-parented to us (the subreaper).
        let parent = c.watch(sh("(sleep 0.3; exit 3) & exit 5")).unwrap();
        let late = c.watch(sh("sleep 0.6; exit 6")).unwrap();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && (got.len() < 2 || c.orphans_reaped() < 1) {
            if let Some(exit) = c.wait_timeout(Duration::from_millis(100)).unwrap() {
                got.push((exit.pid(), exit.status().code()));
            }
        }
        got.sort();
        let mut want = vec![(parent, Some(5)), (late, Some(6))];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(c.orphans_reaped(), 1);
        assert!(wait_until(Duration::from_secs(5), || zombies().is_empty()));
        // With orphan reaping, an empty set still waits (until the timeout).
        assert_eq!(c.wait_timeout(Duration::from_millis(50)).unwrap(), None);
        0
    })
    .assert_success();
}

#[test]
fn without_orphan_reaping_an_unwatched_zombie_is_left_alone() {
    let c = children();
    let mut other = sh("exit 11");
    let pid = other.id();
    let watched = c.watch(sh("sleep 0.2")).unwrap();
    assert_eq!(c.wait().unwrap().unwrap().pid(), watched);
    assert!(wait_until(Duration::from_secs(20), || is_zombie(pid)));
    assert_eq!(c.orphans_reaped(), 0);
    assert_eq!(other.wait().unwrap().code(), Some(11));
}

#[test]
fn dropping_the_set_neither_kills_nor_waits_for_the_children_it_watched() {
    let c = children();
    let mut child = sh("sleep 0.2; exit 12");
    c.watch_pid(child.id()).unwrap();
    drop(c);
    // Still ours to wait for, with its own status (it was neither killed nor reaped).
    assert_eq!(child.wait().unwrap().code(), Some(12));
}

fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn a_forked_child_holding_copies_of_the_descriptors_does_not_make_the_parent_spin() {
    in_child(60, || {
        let c = children();
        let quick = c.watch(sh("sleep 0.1; exit 1")).unwrap();
        let slow = c.watch(sh("exec sleep 30")).unwrap();
        // A forked child that keeps every inherited descriptor open for a while.
        // SAFETY: the child only sleeps and `_exit`s.
        let holder = unsafe { libc::fork() };
        assert!(holder >= 0);
        if holder == 0 {
            // SAFETY: async-signal-safe calls only.
            unsafe {
                libc::sleep(5);
                libc::_exit(0);
            }
        }
        let exit = c.wait().unwrap().unwrap();
        assert_eq!(exit.pid(), quick);
        // The quick child's pidfd is closed here but still open in the holder: its readiness
        // must not keep waking the parent.
        let before = process_cpu();
        assert_eq!(c.wait_timeout(Duration::from_millis(300)).unwrap(), None);
        let spent = process_cpu() - before;
        assert!(spent < Duration::from_millis(100), "spun for {:?}", spent);
        // SAFETY: our own children, not yet reaped.
        unsafe {
            libc::kill(slow as i32, libc::SIGKILL);
            libc::kill(holder, libc::SIGKILL);
        }
        assert_eq!(c.wait().unwrap().unwrap().pid(), slow);
        sigmux_testkit::wait_for(holder);
        0
    })
    .assert_success();
}

/// A minimal executor (no runtime): polls, parks until woken.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(thread::current())).into();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = Box::pin(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn the_future_reports_each_exit_once_to_concurrent_awaiters_without_a_runtime() {
    // Rounds, so that the hand-offs between awaiters (one takes an exit and leaves others
    // queued while the rest register) are exercised many times; a lost wake-up hangs.
    for _round in 0..10 {
        the_future_round();
    }
}

fn the_future_round() {
    in_child(60, || {
        let before = threads();
        let c = Arc::new(children());
        let (read, write) = gate();
        let mut pids = Vec::new();
        for i in 0..30u8 {
            pids.push((c.watch(gated(&read, i)).unwrap(), Some(i as i32)));
        }
        drop(read);
        let awaiters: Vec<_> = (0..3)
            .map(|_| {
                let c = Arc::clone(&c);
                thread::spawn(move || {
                    block_on(async {
                        let mut mine = Vec::new();
                        while let Some(exit) = c.exit().await.unwrap() {
                            mine.push((exit.pid(), exit.status().code()));
                        }
                        mine
                    })
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(50));
        drop(write);
        let mut all: Vec<(u32, Option<i32>)> = awaiters
            .into_iter()
            .flat_map(|a| a.join().unwrap())
            .collect();
        all.sort();
        pids.sort();
        assert_eq!(all, pids);
        // The helper thread goes with the set.
        assert_eq!(Arc::strong_count(&c), 1);
        drop(c);
        assert!(wait_until(Duration::from_secs(10), || threads() == before));
        0
    })
    .assert_success();
}

#[test]
fn the_future_wakes_for_an_exit_that_comes_later_and_gives_the_status() {
    let c = children();
    let pid = c.watch(sh("sleep 0.2; exit 13")).unwrap();
    let killed = c.watch(sh("exec sleep 30")).unwrap();
    let exit = block_on(c.exit()).unwrap().unwrap();
    assert_eq!((exit.pid(), exit.status().code()), (pid, Some(13)));
    // SAFETY: our own watched, unreaped child.
    unsafe { libc::kill(killed as i32, libc::SIGKILL) };
    let exit = block_on(c.exit()).unwrap().unwrap();
    assert_eq!(
        (exit.pid(), exit.status().signal()),
        (killed, Some(libc::SIGKILL))
    );
    assert_eq!(block_on(c.exit()).unwrap(), None);
}

#[test]
fn a_forked_child_can_drop_an_inherited_set_whose_helper_thread_ran() {
    in_child(60, || {
        let c = children();
        c.watch(sh("sleep 0.1")).unwrap();
        let slow = c.watch(sh("exec sleep 30")).unwrap();
        // Starts the helper thread (the first exit is not there yet).
        assert!(block_on(c.exit()).unwrap().is_some());
        // SAFETY: the child only uses the inherited set (which refuses without locking),
        // drops it and leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // SAFETY: alarm is async-signal-safe; a hang fails as SIGALRM.
            unsafe { libc::alarm(20) };
            let refused = block_on(c.exit()).is_err();
            drop(c);
            // SAFETY: leave without the parent's destructors.
            unsafe { libc::_exit(if refused { 0 } else { 1 }) };
        }
        assert_eq!(
            sigmux_testkit::wait_for(pid),
            sigmux_testkit::Outcome::Exited(0)
        );
        // SAFETY: our own watched, unreaped child.
        unsafe { libc::kill(slow as i32, libc::SIGKILL) };
        assert_eq!(block_on(c.exit()).unwrap().unwrap().pid(), slow);
        drop(c);
        0
    })
    .assert_success();
}

#[test]
fn a_pending_future_returns_when_another_waiter_takes_the_last_exit() {
    // The other waiter may drain the descriptor before the helper thread sees it readable;
    // the future must still learn that nothing is left (or get the exit itself).
    in_child(60, || {
        for _ in 0..200 {
            let c = Arc::new(children());
            let pid = c.watch(sh("exit 5")).unwrap();
            let awaiter = {
                let c = Arc::clone(&c);
                thread::spawn(move || block_on(c.exit()).unwrap())
            };
            let mine = c.wait().unwrap();
            let theirs = awaiter.join().unwrap();
            let got: Vec<u32> = mine.iter().chain(theirs.iter()).map(|e| e.pid()).collect();
            assert_eq!(got, vec![pid]);
        }
        0
    })
    .assert_success();
}

#[test]
fn with_sigchld_ignored_a_child_leaves_the_set_and_nothing_hangs() {
    in_child(30, || {
        let c = children();
        // SAFETY: setting a disposition in this single-threaded forked child (after the
        // set was made, so whatever it registered is overridden).
        unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
        let early = sh("exit 3");
        let early_pid = early.id();
        thread::sleep(Duration::from_millis(100)); // reaped by the kernel meanwhile
        c.watch(early).unwrap();
        let late = c.watch(sh("sleep 0.1; exit 4")).unwrap();
        let started = Instant::now();
        let mut got = Vec::new();
        // pidfd: readable when they end. SIGCHLD: no signal comes; each timeout is a look.
        let step = if c.mechanism() == sigmux::child::Mechanism::Pidfd {
            Duration::from_secs(20)
        } else {
            Duration::from_millis(200)
        };
        while !c.is_empty() && started.elapsed() < Duration::from_secs(10) {
            if let Some(exit) = c.wait_timeout(step).unwrap() {
                got.push(exit);
            }
        }
        assert!(c.is_empty(), "still watched after 10 s");
        // Without a status there is nothing to report; a status, if any, is the right one.
        for exit in got {
            let want = if exit.pid() == early_pid { 3 } else { 4 };
            assert!(exit.pid() == early_pid || exit.pid() == late);
            assert_eq!(exit.status().code(), Some(want));
        }
        assert!(c.is_empty());
        0
    })
    .assert_success();
}

#[test]
fn every_kind_of_waiter_at_once_gets_each_exit_exactly_once_and_all_of_them_finish() {
    // Blocking `wait`, short `wait_timeout`s, a spinning `try_wait`, `wait_pid` on some
    // children and two `exit()` futures, all on one set while 120 children end at random
    // moments. Every exit must be reported once, and every waiter must come back when the
    // set is empty (a lost hand-off hangs: watchdog).
    in_child(120, || {
        let c = Arc::new(children());
        let mut pids = Vec::new();
        for i in 0..120u32 {
            // Spread over about 300 ms, pseudo-randomly.
            let ms = (i * 7919) % 300;
            pids.push(
                c.watch(sh(&format!("sleep 0.{:03}; exit {}", ms, i % 100)))
                    .unwrap(),
            );
        }
        let by_pid: Vec<u32> = pids.iter().copied().step_by(10).collect();
        let mut handles: Vec<thread::JoinHandle<Vec<u32>>> = Vec::new();
        {
            let c = Arc::clone(&c);
            handles.push(thread::spawn(move || {
                let mut mine = Vec::new();
                while let Some(e) = c.wait().unwrap() {
                    mine.push(e.pid());
                }
                mine
            }));
        }
        {
            let c = Arc::clone(&c);
            handles.push(thread::spawn(move || {
                let mut mine = Vec::new();
                while !c.is_empty() {
                    if let Some(e) = c.wait_timeout(Duration::from_millis(3)).unwrap() {
                        mine.push(e.pid());
                    }
                }
                mine
            }));
        }
        {
            let c = Arc::clone(&c);
            handles.push(thread::spawn(move || {
                let mut mine = Vec::new();
                while !c.is_empty() {
                    match c.try_wait().unwrap() {
                        Some(e) => mine.push(e.pid()),
                        None => thread::yield_now(),
                    }
                }
                mine
            }));
        }
        for pid in by_pid {
            let c = Arc::clone(&c);
            handles.push(thread::spawn(move || {
                match c.wait_pid(pid, None) {
                    Ok(Some(_)) => vec![pid],
                    // Someone else took it first: fine, it is counted there.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                    other => panic!("wait_pid: {:?}", other),
                }
            }));
        }
        for _ in 0..2 {
            let c = Arc::clone(&c);
            handles.push(thread::spawn(move || {
                block_on(async {
                    let mut mine = Vec::new();
                    while let Some(e) = c.exit().await.unwrap() {
                        mine.push(e.pid());
                    }
                    mine
                })
            }));
        }
        let mut all: Vec<u32> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort();
        pids.sort();
        assert_eq!(all, pids);
        assert_eq!(zombies(), Vec::<u32>::new());
        0
    })
    .assert_success();
}
