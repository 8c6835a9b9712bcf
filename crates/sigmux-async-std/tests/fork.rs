//! After `fork`: the child's inherited stream ends with an error instead of never waking (the
//! async-io reactor is one epoll instance shared with the parent, so nothing of it may be
//! used in the child), the documented recipe (the blocking iterator) works in the child, and
//! the parent's stream neither wakes for the child's signals nor misses its own.
#![cfg(unix)]

use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::future;
use sigmux::consts::{SIGUSR1, SIGUSR2};
use sigmux_async_std::Signals;
use sigmux_testkit::{fork_child, in_child, kill_self, wait_for, Outcome};

const PATIENCE: Duration = Duration::from_secs(10);

fn poll_once(signals: &mut Signals) -> Poll<Option<i32>> {
    let waker =
        futures_lite::future::block_on(future::poll_fn(|cx| Poll::Ready(cx.waker().clone())));
    signals.poll_recv(&mut Context::from_waker(&waker))
}

#[test]
fn after_fork_the_inherited_stream_ends_and_the_blocking_iterator_works() {
    in_child(30, || {
        let mut signals = Some(Signals::new([SIGUSR1, SIGUSR2]).unwrap());
        // The parent's stream has joined the reactor.
        assert!(poll_once(signals.as_mut().unwrap()).is_pending());
        let child = fork_child(10, || {
            let mut inherited = signals.take().unwrap();
            // Ends at once, touching no reactor, with an error that says what to do.
            assert_eq!(poll_once(&mut inherited), Poll::Ready(None));
            let error = inherited.take_error().expect("the reason is kept");
            assert!(error.to_string().contains("fork"), "{}", error);
            drop(inherited);

            // The recipe: the blocking iterator.
            let mut own = sigmux::iterator::Signals::new([SIGUSR1]).unwrap();
            kill_self(SIGUSR1);
            assert_eq!(own.forever().next(), Some(SIGUSR1));
            0
        });
        assert_eq!(wait_for(child), Outcome::Exited(0));
        let signals = signals.as_mut().unwrap();
        smol::block_on(async {
            // The child's signal did not reach the parent's stream; the parent's own does.
            for _ in 0..10 {
                future::yield_now().await;
            }
            assert!(poll_once(signals).is_pending());
            kill_self(SIGUSR2);
            let got = future::or(async { signals.recv().await }, async {
                async_io::Timer::after(PATIENCE).await;
                None
            })
            .await;
            assert_eq!(got, Some(SIGUSR2));
        });
        0
    })
    .assert_success();
}
