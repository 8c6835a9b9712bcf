//! `low_level` and `consts`: names, default actions, the self-pipe, raw registration, the
//! channel, `raise`/`exit`/`abort`, the constant lists; each scenario run against signal-hook
//! 0.4.6 and sigmux and compared.
#![cfg(target_os = "linux")]

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use libc::{c_int, SIGUSR1, SIGUSR2};
use sigmux_conformance::{differs, fork_outcome, note, read_available, res, same, sig_text};

fn raise(sig: c_int) {
    // SAFETY: raise has no memory-safety preconditions.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

/// The descriptor's close-on-exec and non-blocking flags, or `closed`.
fn flags(fd: c_int) -> String {
    // SAFETY: fcntl on a descriptor number; a closed one only returns -1.
    let (fd_flags, fl_flags) = unsafe {
        (
            libc::fcntl(fd, libc::F_GETFD),
            libc::fcntl(fd, libc::F_GETFL),
        )
    };
    if fd_flags < 0 || fl_flags < 0 {
        return "closed".to_string();
    }
    format!(
        "cloexec {} nonblock {}",
        fd_flags & libc::FD_CLOEXEC != 0,
        fl_flags & libc::O_NONBLOCK != 0
    )
}

fn os_pipe() -> (c_int, c_int) {
    let mut fds = [-1; 2];
    // SAFETY: `fds` is a valid array of two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

fn set_nonblocking(fd: c_int) {
    // SAFETY: fcntl on our own descriptor.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

same!(signal_name_of_every_number_from_minus_5_to_140 {
    for sig in -5..=140 {
        if let Some(name) = lib::low_level::signal_name(sig) {
            note(format!("{}: {}", sig, name));
        }
    }
    note(format!("i32::MIN: {:?}", lib::low_level::signal_name(i32::MIN)));
    note(format!("i32::MAX: {:?}", lib::low_level::signal_name(i32::MAX)));
});

same!(emulate_default_handler_of_every_number_from_minus_1_to_65 {
    // Each in its own process: exited(0) means the call returned Ok (ignore), exited(3) Err.
    for sig in -1..=65 {
        let outcome = fork_outcome(|| {
            let r = lib::low_level::emulate_default_handler(sig);
            // SAFETY: ends the forked process.
            unsafe { libc::_exit(if r.is_ok() { 0 } else { 3 }) };
        });
        note(format!("{}: {}", sig_text(sig), outcome));
    }
});

same!(emulate_default_handler_with_handlers_registered {
    // The registered actions must not stop the default action, nor a blocked mask.
    for sig in [SIGUSR1, libc::SIGTERM, libc::SIGINT, libc::SIGTSTP, libc::SIGCHLD] {
        let outcome = fork_outcome(|| {
            let count = Arc::new(AtomicUsize::new(0));
            let c = Arc::clone(&count);
            // SAFETY: the action only does an atomic add (async-signal-safe).
            unsafe { lib::low_level::register(sig, move || { c.fetch_add(1, Ordering::SeqCst); }) }
                .unwrap();
            let _signals = lib::iterator::Signals::new([sig]).unwrap();
            // SAFETY: a valid, initialised sigset.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, sig);
                libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            let r = lib::low_level::emulate_default_handler(sig);
            note(format!("returned {} after {} actions ran", res(&r), count.load(Ordering::SeqCst)));
        });
        note(format!("{}: {}", sig_text(sig), outcome));
    }
});

same!(pipe_register_with_a_socket {
    let (read, write) = UnixStream::pair().unwrap();
    read.set_nonblocking(true).unwrap();
    let write_fd = std::os::fd::AsRawFd::as_raw_fd(&write);
    let id = lib::low_level::pipe::register(SIGUSR1, write).unwrap();
    note(format!("write end after register: {}", flags(write_fd)));
    let read_fd = std::os::fd::AsRawFd::as_raw_fd(&read);
    note(format!("nothing yet: {:?}", read_available(read_fd)));
    raise(SIGUSR1);
    raise(SIGUSR1);
    note(format!("after two raises: {:?}", read_available(read_fd)));
    note(format!("unregister: {}", lib::low_level::unregister(id)));
    raise(SIGUSR1);
    note(format!("after unregister: {:?}", read_available(read_fd)));
});

same!(pipe_register_with_a_pipe {
    let (read, write) = os_pipe();
    set_nonblocking(read);
    note(format!("write end before: {}", flags(write)));
    // SAFETY: `write` is our own open descriptor, handed over once.
    let owned = unsafe { OwnedFd::from_raw_fd(write) };
    let id = lib::low_level::pipe::register(SIGUSR2, owned).unwrap();
    note(format!("write end after register: {}", flags(write)));
    raise(SIGUSR2);
    note(format!("after raise: {:?}", read_available(read)));
    lib::low_level::unregister(id);
    note(format!("write end after unregister: {}", flags(write)));
});

// signal-hook's `register_raw` probes whether `send` works on the descriptor by sending an
// empty message, which a datagram socket's reader receives as an empty datagram (and a
// `read` of it returns 0, which looks like end of file). sigmux never sends the probe
// (crate docs, "Beyond signal-hook": "The self-pipe never receives an empty probe
// message"): its reader gets only the wake-ups.
differs!(differs_on_purpose_pipe_register_with_a_datagram_socket_sends_no_empty_probe {
    let (read, write) = UnixDatagram::pair().unwrap();
    read.set_nonblocking(true).unwrap();
    let id = lib::low_level::pipe::register_raw(SIGUSR1, OwnedFd::from(write)).unwrap();
    raise(SIGUSR1);
    raise(SIGUSR1);
    let mut datagrams = Vec::new();
    let mut buf = [0u8; 16];
    while let Ok(n) = read.recv(&mut buf) {
        datagrams.push(buf[..n].to_vec());
    }
    note(format!("datagrams: {:?}", datagrams));
    lib::low_level::unregister(id);
}, |signal_hook, sigmux| {
    assert_eq!(signal_hook, "datagrams: [[], [88], [88]]\nend: exited(0)");
    assert_eq!(sigmux, "datagrams: [[88], [88]]\nend: exited(0)");
});

fn set_blocking(fd: c_int) {
    // SAFETY: fcntl on our own descriptor.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_NONBLOCK);
    }
}

same!(pipe_register_with_a_full_blocking_socket_does_not_block_the_handler {
    let (read, write) = UnixStream::pair().unwrap();
    write.set_nonblocking(true).unwrap();
    let mut filled = 0usize;
    while let Ok(n) = std::io::Write::write(&mut &write, &[b'f'; 512]) {
        filled += n;
    }
    note(format!("filled something: {}", filled > 0));
    write.set_nonblocking(false).unwrap();
    let write_fd = std::os::fd::AsRawFd::as_raw_fd(&write);
    lib::low_level::pipe::register(SIGUSR1, write).unwrap();
    note(format!("write end after register: {}", flags(write_fd)));
    raise(SIGUSR1);
    note("the handler returned");
    read.set_nonblocking(true).unwrap();
    let read_fd = std::os::fd::AsRawFd::as_raw_fd(&read);
    note(format!("still exactly full: {}", read_available(read_fd).len() == filled));
});

same!(pipe_register_with_a_regular_file {
    let path = std::env::temp_dir().join(format!(
        "sigmux-conformance-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let file = std::fs::File::create(&path).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    let r = lib::low_level::pipe::register(SIGUSR2, file);
    note(format!("register: {}", res(&r.map(|_| ()))));
    note(format!("file after register: {}", flags(fd)));
    raise(SIGUSR2);
    raise(SIGUSR2);
    note(format!("file content: {:?}", std::fs::read(&path).unwrap()));
    let _ = std::fs::remove_file(&path);
});

same!(pipe_register_with_a_full_pipe_does_not_block_the_handler {
    let (read, write) = os_pipe();
    set_nonblocking(write);
    let mut filled = 0usize;
    loop {
        // SAFETY: writing one valid byte to our own descriptor.
        if unsafe { libc::write(write, b"f".as_ptr().cast(), 1) } != 1 {
            break;
        }
        filled += 1;
    }
    note(format!("filled something: {}", filled > 0));
    // Handed over blocking: a handler that wrote to it as it is would never return.
    set_blocking(write);
    // SAFETY: `write` is our own open descriptor, handed over once.
    let owned = unsafe { OwnedFd::from_raw_fd(write) };
    lib::low_level::pipe::register(SIGUSR1, owned).unwrap();
    raise(SIGUSR1);
    note("the handler returned");
    set_nonblocking(read);
    note(format!("still exactly full: {}", read_available(read).len() == filled));
});

same!(pipe_register_with_a_closed_reader {
    let (read, write) = UnixStream::pair().unwrap();
    drop(read);
    lib::low_level::pipe::register(SIGUSR1, write).unwrap();
    // SIGPIPE is left at its default: a write that raised it would end the process.
    raise(SIGUSR1);
    note("survived");
});

same!(pipe_register_on_numbers_both_refuse {
    for sig in [0, 32, 65, 1000, -1] {
        let (_read, write) = UnixStream::pair().unwrap();
        note(format!("{}: {}", sig, res(&lib::low_level::pipe::register(sig, write).map(|_| ()))));
    }
});

// signal-hook's pipe::register passes a forbidden signal to its registry, which panics;
// sigmux returns `InvalidInput` (crate docs, "Bad input is an error, not an abort").
differs!(differs_on_purpose_pipe_register_of_a_forbidden_signal_is_an_error {
    for sig in [libc::SIGKILL, libc::SIGSTOP] {
        note(fork_outcome(|| {
            let (_read, write) = UnixStream::pair().unwrap();
            let r = lib::low_level::pipe::register(sig, write);
            note(format!("{}: {}", sig, res(&r.map(|_| ()))));
        }));
    }
}, |signal_hook, sigmux| {
    assert_eq!(signal_hook, "exited(101)\nexited(101)\nend: exited(0)");
    assert_eq!(
        sigmux,
        "9: Err(InvalidInput)\nexited(0)\n19: Err(InvalidInput)\nexited(0)\nend: exited(0)"
    );
});

same!(low_level_register_and_unregister {
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    // SAFETY: the action only does an atomic add (async-signal-safe).
    let id = unsafe {
        lib::low_level::register(SIGUSR1, move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    raise(SIGUSR1);
    raise(SIGUSR1);
    note(format!("ran: {}", count.load(Ordering::SeqCst)));
    note(format!("unregister: {}", lib::low_level::unregister(id)));
    note(format!("unregister again: {}", lib::low_level::unregister(id)));
    raise(SIGUSR1);
    note(format!("after: {}, references left {}", count.load(Ordering::SeqCst), Arc::strong_count(&count)));
});

same!(low_level_actions_run_in_registration_order {
    static LOG: AtomicUsize = AtomicUsize::new(0);
    let mut ids = Vec::new();
    for digit in 1..=4usize {
        // SAFETY: the action only does atomic operations (async-signal-safe).
        let id = unsafe {
            lib::low_level::register(SIGUSR2, move || {
                let old = LOG.load(Ordering::SeqCst);
                LOG.store(old * 10 + digit, Ordering::SeqCst);
            })
        }
        .unwrap();
        ids.push(id);
    }
    raise(SIGUSR2);
    note(format!("order: {}", LOG.load(Ordering::SeqCst)));
    lib::low_level::unregister(ids[1]);
    LOG.store(0, Ordering::SeqCst);
    raise(SIGUSR2);
    note(format!("second removed: {}", LOG.load(Ordering::SeqCst)));
    // SAFETY: as above.
    unsafe { lib::low_level::register(SIGUSR2, || LOG.store(LOG.load(Ordering::SeqCst) * 10 + 5, Ordering::SeqCst)) }
        .unwrap();
    LOG.store(0, Ordering::SeqCst);
    raise(SIGUSR2);
    note(format!("one added: {}", LOG.load(Ordering::SeqCst)));
});

same!(low_level_register_on_numbers_both_refuse {
    for sig in [0, 32, 65, 1000, -1] {
        // SAFETY: the action does nothing.
        let r = unsafe { lib::low_level::register(sig, || {}) };
        note(format!("{}: {}", sig, res(&r.map(|_| ()))));
    }
});

same!(low_level_register_of_a_forbidden_signal_panics_in_both {
    // Documented by both registries: a forbidden signal panics.
    for sig in lib::consts::FORBIDDEN {
        let sig = *sig;
        let outcome = fork_outcome(|| {
            // SAFETY: the action does nothing.
            let _ = unsafe { lib::low_level::register(sig, || {}) };
        });
        note(format!("{}: {}", sig_text(sig), outcome));
    }
});

same!(raise_exit_and_abort {
    note(format!("raise 0: {}", res(&lib::low_level::raise(0))));
    note(format!("raise -1: {}", res(&lib::low_level::raise(-1))));
    note(format!("raise 1000: {}", res(&lib::low_level::raise(1000))));
    note(format!("exit: {}", fork_outcome(|| lib::low_level::exit(42))));
    note(format!("abort: {}", fork_outcome(|| lib::low_level::abort())));
    note(format!("raise TERM: {}", fork_outcome(|| { let _ = lib::low_level::raise(libc::SIGTERM); })));
});

same!(channel_keeps_five_values_in_order {
    let channel = lib::low_level::channel::Channel::<u32>::new();
    note(format!("empty: {:?}", channel.recv()));
    for v in 0..8 {
        channel.send(v);
    }
    let mut got = Vec::new();
    while let Some(v) = channel.recv() {
        got.push(v);
    }
    note(format!("got: {:?}", got));
    for round in 0..20 {
        channel.send(round);
        channel.send(round + 100);
        let a = channel.recv();
        let b = channel.recv();
        if (a, b) != (Some(round), Some(round + 100)) {
            note(format!("round {}: {:?} {:?}", round, a, b));
        }
    }
    let shared = Arc::new(lib::low_level::channel::Channel::<u64>::default());
    let s = Arc::clone(&shared);
    std::thread::spawn(move || s.send(9)).join().unwrap();
    note(format!("across threads: {:?}", shared.recv()));
});

same!(consts_lists_and_numbers {
    note(format!("TERM_SIGNALS: {:?}", lib::consts::TERM_SIGNALS));
    note(format!("FORBIDDEN: {:?}", lib::consts::FORBIDDEN));
    use lib::consts::signal::*;
    note(format!(
        "{:?}",
        [
            SIGABRT, SIGALRM, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGHUP, SIGILL, SIGINT, SIGKILL,
            SIGPIPE, SIGPROF, SIGQUIT, SIGSEGV, SIGSTOP, SIGSYS, SIGTERM, SIGTRAP, SIGTSTP,
            SIGTTIN, SIGTTOU, SIGURG, SIGUSR1, SIGUSR2, SIGVTALRM, SIGWINCH, SIGXCPU, SIGXFSZ,
            SIGIO,
        ]
    ));
    note(format!("{:?}", [lib::consts::SIGTERM, lib::consts::SIGUSR1]));
});

same!(siginfo_origin_extract_of_hand_made_siginfo {
    // Origin::extract on siginfo_t values built by hand (kernel-style codes).
    for (signo, code) in [
        (SIGUSR1, libc::SI_USER),
        (SIGUSR1, libc::SI_TKILL),
        (SIGUSR1, libc::SI_QUEUE),
        (SIGUSR1, libc::SI_MESGQ),
        (SIGUSR1, libc::SI_KERNEL),
        (SIGUSR1, 12345),
        (libc::SIGCHLD, 1), // CLD_EXITED
        (libc::SIGCHLD, 2), // CLD_KILLED
        (libc::SIGCHLD, 3), // CLD_DUMPED
        (libc::SIGCHLD, 4), // CLD_TRAPPED
        (libc::SIGCHLD, 5), // CLD_STOPPED
        (libc::SIGCHLD, 6), // CLD_CONTINUED
        (SIGUSR2, 1),       // a CLD_EXITED number on another signal
        (libc::SIGSEGV, 1), // SEGV_MAPERR
    ] {
        // SAFETY: all-zero is a valid siginfo_t.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        info.si_signo = signo;
        info.si_code = code;
        // Linux x86_64/aarch64 layout: three ints, padding to 8, then si_pid, si_uid.
        let words = &mut info as *mut libc::siginfo_t as *mut c_int;
        // SAFETY: siginfo_t is 128 bytes; offsets 16 and 20 are inside it.
        unsafe {
            *words.add(4) = 4242;
            *words.add(5) = 77;
        }
        // SAFETY: `info` is fully initialised; the pid/uid fields are filled for every code.
        let o = unsafe { lib::low_level::siginfo::Origin::extract(&info) };
        note(format!(
            "{} code {}: signal {} process {:?} cause {:?}",
            signo,
            code,
            o.signal,
            o.process.map(|p| (p.pid, p.uid)),
            o.cause
        ));
    }
});
