//! After `fork`: the child's inherited stream ends with an error instead of never waking, the
//! documented recipe (a new runtime and a new stream in the child) works, and the parent's
//! stream neither wakes for the child's signals nor misses its own.
#![cfg(unix)]

use std::task::{Context, Poll};
use std::time::Duration;

use sigmux::consts::{SIGUSR1, SIGUSR2};
use sigmux_testkit::{in_child, wait_for, Outcome};
use sigmux_tokio::Signals;
use tokio::runtime::{Builder, Runtime};
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(10);

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

/// Sends `signal` to this process (not only this thread).
fn kill_self(signal: i32) {
    // SAFETY: plain kill of our own process with a registered signal.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signal) }, 0);
}

/// Forks; the child runs `child` under an alarm watchdog and `_exit`s with its result.
fn fork_child(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `child` and then `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: alarm and _exit are always safe to call.
        unsafe { libc::alarm(10) };
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
        // SAFETY: see above.
        unsafe { libc::_exit(code) };
    }
    pid
}

async fn poll_once(signals: &mut Signals) -> Poll<Option<i32>> {
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(signals.poll_recv(cx))).await
}

async fn let_reactor_run() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn scenario(parent_rt: Runtime) -> i32 {
    let mut signals = Some(parent_rt.block_on(async { Signals::new([SIGUSR1, SIGUSR2]).unwrap() }));
    let child = fork_child(|| {
        // The recipe: leave the parent's runtime alone (never drop it here), build a new one,
        // make new streams.
        let rt = current_thread();
        rt.block_on(async {
            let mut inherited = signals.take().unwrap();
            // The inherited stream ends at once, with an error that says what to do.
            let end = timeout(Duration::from_secs(3), inherited.recv()).await;
            assert_eq!(end, Ok(None), "the inherited stream did not end");
            let error = inherited.take_error().expect("the reason is kept");
            assert!(error.to_string().contains("fork"), "{}", error);
            // Dropping it in the child leaves the parent's reactor alone.
            drop(inherited);

            let mut own = Signals::new([SIGUSR1]).unwrap();
            kill_self(SIGUSR1);
            let got = timeout(PATIENCE, own.recv()).await;
            assert_eq!(got, Ok(Some(SIGUSR1)));
        });
        0
    });
    assert_eq!(wait_for(child), Outcome::Exited(0));
    // The child's signal did not reach the parent's stream; the parent's own does.
    let signals = signals.as_mut().unwrap();
    parent_rt.block_on(async {
        let_reactor_run().await;
        assert!(poll_once(signals).await.is_pending());
        kill_self(SIGUSR2);
        let got = timeout(PATIENCE, signals.recv()).await;
        assert_eq!(got, Ok(Some(SIGUSR2)));
    });
    0
}

#[test]
fn after_fork_the_inherited_stream_ends_and_a_new_one_works() {
    in_child(30, || scenario(current_thread())).assert_success();
}

#[test]
fn after_fork_from_a_multi_thread_runtime_the_recipe_works() {
    in_child(30, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        scenario(rt)
    })
    .assert_success();
}
