//! After `fork`: the child's inherited stream ends with an error instead of never waking, the
//! documented recipe (a new runtime and a new stream in the child) works, and the parent's
//! stream neither wakes for the child's signals nor misses its own.
#![cfg(unix)]

use std::time::Duration;

use sigmux_testkit::{fork_child, in_child, kill_self, wait_for, Outcome};
use tokio::runtime::{Builder, Runtime};
use tokio::time::timeout;

sigmux_testkit::stream_helpers! {
    adapter: sigmux_tokio,
    timeout: tokio::time::timeout,
    yield_now: tokio::task::yield_now,
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn scenario(parent_rt: Runtime) -> i32 {
    let mut signals = Some(parent_rt.block_on(async { Signals::new([SIGUSR1, SIGUSR2]).unwrap() }));
    let child = fork_child(10, || {
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
