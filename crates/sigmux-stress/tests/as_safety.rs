//! The async-signal-safety audit: every handler-side path of every crate runs, with real
//! signals, under the allocation guard (`sigmux_stress::guard`): a trampoline over sigmux's
//! handler marks the thread as inside a handler for the whole handler — the registry's
//! dispatch, the chained previous handler and every action — and the global allocator aborts
//! if it is entered meanwhile. A negative control shows the guard fires.
//!
//! Each scenario runs in its own forked process (`in_child`), so the signals and the guard's
//! mode of one cannot affect another, and an abort is seen as `SIGABRT`.
//!
//! Paths covered: the registry (`register`, `register_sigaction`, `try_register` with options,
//! `Registration`); every `flag` function (the conditional ones both disarmed and firing); the
//! self-pipe (`pipe::register` on a socket, a pipe, a socket whose peer is closed, a full
//! pipe; `register_raw`); `low_level::channel`; the iterator with each exfiltrator
//! (`SignalOnly`, `WithOrigin`, `WithRawSiginfo`), also while another thread adds and removes
//! signals; the adapters (sigmux-mio 0.6/0.7/0.8/1.0, sigmux-tokio, sigmux-async-std).
#![cfg(unix)]

use std::io::Read;
use std::os::unix::io::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use libc::c_int;
use sigmux::iterator::exfiltrator::{WithOrigin, WithRawSiginfo};
use sigmux::iterator::{Signals, SignalsInfo};
use sigmux::low_level::channel::Channel;
use sigmux::low_level::{pipe, raise};
use sigmux_registry::{Options, Registration};
use sigmux_stress::guard::{self, Guard, Mode};
use sigmux_testkit::{in_child, wait_until, Outcome};

#[global_allocator]
static ALLOC: Guard = Guard;

const USR1: c_int = libc::SIGUSR1;
const USR2: c_int = libc::SIGUSR2;
const WINCH: c_int = libc::SIGWINCH;
const HUP: c_int = libc::SIGHUP;

fn rt() -> c_int {
    libc::SIGRTMIN() + 1
}

/// In the child: abort on the first allocation inside a handler, then wrap `signals`.
fn arm(signals: &[c_int]) {
    guard::set_mode(Mode::Abort);
    for &sig in signals {
        guard::wrap_handler(sig).expect("wrap sigmux's handler");
    }
}

/// Sends `sig` to the process `n` times from another thread (so the handler may run on any
/// thread, interrupting whatever it does), pacing each one until `seen` says it arrived.
fn send_from_thread(sig: c_int, n: usize, seen: impl Fn() -> usize + Send + 'static) {
    thread::spawn(move || {
        for i in 0..n {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(libc::getpid(), sig) };
            assert!(
                wait_until(Duration::from_secs(5), || seen() > i),
                "signal {} lost",
                sig
            );
        }
    })
    .join()
    .unwrap();
}

/// Queues `sig` with a payload to this process.
fn sigqueue(sig: c_int, value: usize) {
    // SAFETY: sigqueue has no memory-safety preconditions.
    let r = unsafe {
        libc::sigqueue(
            libc::getpid(),
            sig,
            libc::sigval {
                sival_ptr: value as *mut libc::c_void,
            },
        )
    };
    assert_eq!(r, 0);
}

/// Runs `scenario` and checks that signals went through the guard, without violations.
fn guarded(scenario: impl FnOnce()) {
    let before = guard::deliveries();
    scenario();
    assert!(
        guard::deliveries() > before,
        "no delivery went through the guard"
    );
    assert_eq!(guard::violations(), 0);
}

fn check(outcome: Outcome) {
    outcome.assert_success()
}

static HITS: AtomicUsize = AtomicUsize::new(0);

fn count() {
    HITS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn registry_actions() {
    check(in_child(60, || {
        let owned = Arc::new(AtomicU64::new(0));
        let o = Arc::clone(&owned);
        // SAFETY: the four actions only touch atomics, async-signal-safe; one owns an Arc whose
        // count the handler must not touch.
        let ids = unsafe {
            [
                sigmux_registry::register(USR1, count).unwrap(),
                sigmux_registry::register_sigaction(USR1, move |info: &libc::siginfo_t| {
                    o.fetch_add(info.si_signo as u64, Ordering::SeqCst);
                })
                .unwrap(),
                // `nodefer` goes on the real-time signal, sent once: on USR2, flooded below,
                // handlers that do not block their own signal would nest without bound.
                sigmux_registry::try_register(USR2, Options::new().onstack(true), count).unwrap(),
                sigmux_registry::try_register_sigaction(
                    rt(),
                    Options::new().restart(false).nodefer(true),
                    |_: &_| count(),
                )
                .unwrap(),
            ]
        };
        arm(&[USR1, USR2, rt()]);
        let before = guard::deliveries();
        raise(USR1).unwrap();
        raise(USR2).unwrap();
        sigqueue(rt(), 42);
        assert!(wait_until(Duration::from_secs(5), || HITS
            .load(Ordering::SeqCst)
            == 3));
        send_from_thread(USR1, 200, || HITS.load(Ordering::SeqCst).saturating_sub(3));
        assert_eq!(owned.load(Ordering::SeqCst), 201 * USR1 as u64);
        // A Registration dropped while signals arrive: removal frees the action, never the
        // handler.
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let sender = thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(libc::getpid(), USR2) };
                thread::yield_now();
            }
        });
        for _ in 0..500 {
            let payload = Arc::new(vec![1u8; 32]);
            // SAFETY: reads a length: async-signal-safe.
            let reg = Registration::from(
                unsafe {
                    sigmux_registry::register(USR2, move || {
                        std::hint::black_box(payload.len());
                    })
                }
                .unwrap(),
            );
            drop(reg);
        }
        stop.store(true, Ordering::SeqCst);
        sender.join().unwrap();
        for id in ids {
            sigmux_registry::unregister(id);
        }
        assert!(guard::deliveries() > before + 200);
        assert_eq!(guard::violations(), 0);
        0
    }));
}

#[test]
fn flags_all_variants() {
    check(in_child(60, || {
        let flag = Arc::new(AtomicBool::new(false));
        static STATIC_FLAG: AtomicBool = AtomicBool::new(false);
        let which = Arc::new(AtomicUsize::new(0));
        let disarmed = Arc::new(AtomicBool::new(false));
        sigmux::flag::register(USR1, Arc::clone(&flag)).unwrap();
        sigmux::flag::register(USR1, &STATIC_FLAG).unwrap();
        sigmux::flag::register_usize(USR2, Arc::clone(&which), 7).unwrap();
        sigmux::flag::register_conditional_shutdown(USR1, 3, Arc::clone(&disarmed)).unwrap();
        sigmux::flag::register_conditional_default(USR2, Arc::clone(&disarmed)).unwrap();
        // SAFETY: an atomic add: async-signal-safe. (Paces the sender below.)
        unsafe { sigmux_registry::register(USR1, count) }.unwrap();
        arm(&[USR1, USR2]);
        guarded(|| {
            raise(USR1).unwrap();
            raise(USR2).unwrap();
            assert!(flag.load(Ordering::SeqCst) && STATIC_FLAG.load(Ordering::SeqCst));
            assert_eq!(which.load(Ordering::SeqCst), 7);
            let base = HITS.load(Ordering::SeqCst);
            send_from_thread(USR1, 100, move || HITS.load(Ordering::SeqCst) - base);
            assert!(flag.load(Ordering::SeqCst));
        });
        0
    }));
}

#[test]
fn conditional_shutdown_fires_inside_the_handler() {
    let outcome = in_child(30, || {
        let armed = Arc::new(AtomicBool::new(true));
        sigmux::flag::register_conditional_shutdown(USR1, 3, armed).unwrap();
        arm(&[USR1]);
        raise(USR1).unwrap();
        0 // not reached: the handler exits with 3
    });
    assert_eq!(outcome, Outcome::Exited(3));
}

#[test]
fn conditional_default_fires_inside_the_handler() {
    let outcome = in_child(30, || {
        let armed = Arc::new(AtomicBool::new(true));
        sigmux::flag::register_conditional_default(libc::SIGTERM, armed).unwrap();
        arm(&[libc::SIGTERM]);
        raise(libc::SIGTERM).unwrap();
        0 // not reached: the process dies by SIGTERM
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGTERM));
}

#[test]
fn self_pipe_every_kind_of_descriptor() {
    check(in_child(60, || {
        let (mut sock_r, sock_w) = UnixStream::pair().unwrap();
        pipe::register(USR1, sock_w).unwrap();
        let mut fds = [-1; 2];
        // SAFETY: room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both were just created and are owned by nobody else.
        let (pipe_r, pipe_w) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let mut pipe_r = std::fs::File::from(pipe_r);
        pipe::register(USR2, std::fs::File::from(pipe_w)).unwrap();
        // A raw registration of a second socket; a socket whose peer is gone (no SIGPIPE
        // may come out of the handler); a pipe that is full.
        let (mut raw_r, raw_w) = UnixStream::pair().unwrap();
        pipe::register_raw(WINCH, raw_w.into()).unwrap();
        let (gone, orphan) = UnixStream::pair().unwrap();
        drop(gone);
        pipe::register(WINCH, orphan).unwrap();
        let (_full_r, full_w) = UnixStream::pair().unwrap();
        full_w.set_nonblocking(true).unwrap();
        {
            use std::io::Write;
            while (&full_w).write(&[0u8; 4096]).is_ok() {}
        }
        pipe::register(WINCH, full_w).unwrap();
        arm(&[USR1, USR2, WINCH]);
        guarded(|| {
            let mut b = [0u8; 1];
            for _ in 0..50 {
                raise(USR1).unwrap();
                sock_r.read_exact(&mut b).unwrap();
                raise(USR2).unwrap();
                pipe_r.read_exact(&mut b).unwrap();
                raise(WINCH).unwrap();
                raw_r.read_exact(&mut b).unwrap();
            }
        });
        0
    }));
}

#[test]
fn channel_from_a_handler() {
    check(in_child(60, || {
        static CHANNEL: std::sync::OnceLock<Channel<(c_int, usize)>> = std::sync::OnceLock::new();
        let channel = CHANNEL.get_or_init(Channel::new);
        // SAFETY: Channel::send is async-signal-safe; the value is plain data.
        unsafe {
            sigmux_registry::register_sigaction(rt(), move |info: &libc::siginfo_t| {
                // A sigqueue'd signal carries si_value (the SAFETY of the enclosing block).
                let v = info.si_value().sival_ptr as usize;
                channel.send((info.si_signo, v));
            })
        }
        .unwrap();
        arm(&[rt()]);
        guarded(|| {
            for i in 0..200usize {
                sigqueue(rt(), i);
                let mut got = None;
                assert!(wait_until(Duration::from_secs(5), || {
                    got = channel.recv();
                    got.is_some()
                }));
                assert_eq!(got, Some((rt(), i)));
            }
        });
        0
    }));
}

#[test]
fn iterator_with_each_exfiltrator() {
    check(in_child(60, || {
        let mut only = Signals::new([USR1, rt()]).unwrap();
        let mut origin = SignalsInfo::<WithOrigin>::new([USR2, rt()]).unwrap();
        let mut raw = SignalsInfo::<WithRawSiginfo>::new([HUP, rt()]).unwrap();
        arm(&[USR1, USR2, HUP, rt()]);
        guarded(|| {
            for i in 0..100usize {
                raise(USR1).unwrap();
                raise(USR2).unwrap();
                raise(HUP).unwrap();
                sigqueue(rt(), i);
                assert!(only.forever().take(1).count() == 1);
                assert!(origin.forever().take(1).count() == 1);
                assert!(raw.forever().take(1).count() == 1);
                let _ = only.pending().count();
                let _ = origin.pending().count();
                let _ = raw.pending().count();
            }
            // Signals arriving while another thread adds, removes and drops iterators.
            let stop = Arc::new(AtomicBool::new(false));
            let s = Arc::clone(&stop);
            let churn = thread::spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    let it = SignalsInfo::<WithRawSiginfo>::new([USR1]).unwrap();
                    let h = it.handle();
                    h.add_signal(HUP).unwrap();
                    h.remove_signal(USR1);
                    drop(it);
                }
            });
            let handle = only.handle();
            for _ in 0..300 {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(libc::getpid(), USR1) };
                // SAFETY: as above.
                unsafe { libc::kill(libc::getpid(), HUP) };
                let _ = only.pending().count();
                let _ = raw.pending().count();
                handle.remove_signal(rt());
                handle.add_signal(rt()).unwrap();
            }
            stop.store(true, Ordering::SeqCst);
            churn.join().unwrap();
        });
        0
    }));
}

#[test]
fn mio_adapters() {
    check(in_child(60, || {
        let mut v06 = sigmux_mio::v0_6::Signals::new([USR1]).unwrap();
        let mut v07 = sigmux_mio::v0_7::Signals::new([USR1]).unwrap();
        let mut v08 = sigmux_mio::v0_8::Signals::new([USR2]).unwrap();
        let mut v10 = sigmux_mio::v1_0::Signals::new([USR2, rt()]).unwrap();
        arm(&[USR1, USR2, rt()]);
        guarded(|| {
            for i in 0..100 {
                raise(USR1).unwrap();
                raise(USR2).unwrap();
                sigqueue(rt(), i);
                assert_eq!(v06.pending().collect::<Vec<_>>(), [USR1]);
                assert_eq!(v07.pending().collect::<Vec<_>>(), [USR1]);
                assert_eq!(v08.pending().collect::<Vec<_>>(), [USR2]);
                assert_eq!(v10.pending().collect::<Vec<_>>(), [USR2, rt()]);
            }
        });
        0
    }));
}

#[test]
fn tokio_adapter() {
    check(in_child(60, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut signals = sigmux_tokio::Signals::new([USR1, rt()]).unwrap();
            let mut info = sigmux_tokio::SignalsInfo::<WithOrigin>::new([USR2]).unwrap();
            arm(&[USR1, USR2, rt()]);
            let before = guard::deliveries();
            for i in 0..100 {
                raise(USR1).unwrap();
                sigqueue(rt(), i);
                raise(USR2).unwrap();
                let got = std::future::poll_fn(|cx| signals.poll_recv(cx)).await;
                assert!(got == Some(USR1) || got == Some(rt()));
                let got = std::future::poll_fn(|cx| info.poll_recv(cx)).await;
                assert_eq!(got.map(|o| o.signal), Some(USR2));
            }
            assert!(guard::deliveries() > before);
            assert_eq!(guard::violations(), 0);
        });
        0
    }));
}

#[test]
fn async_std_adapter() {
    check(in_child(60, || {
        let mut signals = sigmux_async_std::Signals::new([USR1, rt()]).unwrap();
        let mut info = sigmux_async_std::SignalsInfo::<WithRawSiginfo>::new([USR2]).unwrap();
        arm(&[USR1, USR2, rt()]);
        guarded(|| {
            for i in 0..100 {
                raise(USR1).unwrap();
                sigqueue(rt(), i);
                raise(USR2).unwrap();
                let got = futures_lite::future::block_on(std::future::poll_fn(|cx| {
                    signals.poll_recv(cx)
                }));
                assert!(got == Some(USR1) || got == Some(rt()));
                let got =
                    futures_lite::future::block_on(std::future::poll_fn(|cx| info.poll_recv(cx)));
                assert_eq!(got.map(|i| i.si_signo), Some(USR2));
            }
        });
        0
    }));
}

/// Negative control: an action that allocates is caught (the child aborts).
#[test]
fn guard_fires_on_an_allocating_action() {
    let outcome = in_child(30, || {
        // SAFETY: deliberately NOT async-signal-safe: this is the control.
        unsafe {
            sigmux_registry::register(USR1, || {
                std::hint::black_box(Box::new([0u8; 16]));
            })
        }
        .unwrap();
        arm(&[USR1]);
        raise(USR1).unwrap();
        0
    });
    assert_eq!(outcome, Outcome::Signaled(libc::SIGABRT));
}

/// Negative control in counting mode: the guard counts the allocation and its free.
#[test]
fn guard_counts_in_counting_mode() {
    check(in_child(30, || {
        // SAFETY: deliberately NOT async-signal-safe: this is the control.
        unsafe {
            sigmux_registry::register(USR1, || {
                std::hint::black_box(Box::new([0u8; 16]));
            })
        }
        .unwrap();
        guard::wrap_handler(USR1).unwrap();
        raise(USR1).unwrap();
        assert_eq!(guard::violations(), 2); // the Box's allocation and deallocation
        0
    }));
}
