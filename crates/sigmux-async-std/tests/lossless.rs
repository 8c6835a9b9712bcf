//! Lossless delivery on the async-std stream: 100,000 `sigqueue` payloads from another process
//! arrive exactly once, in order.
//!
//! Runs in a forked child (`in_child`, which takes the test lock) in which only the thread
//! that polls the stream has the signal unblocked (the executor's and the reactor's threads
//! are started while it is blocked): the handler then never runs twice at once, so the order
//! it stores in is the kernel's (see `sigmux::iterator::exfiltrator::lossless`).
#![cfg(any(target_os = "linux", target_os = "android"))]

use std::task::Context;
use std::time::Duration;

use sigmux::iterator::exfiltrator::lossless::{Lossless, Record};
use sigmux_async_std::SignalsInfo;

const N: usize = 100_000;

#[test]
fn every_payload_once_in_order() {
    sigmux_testkit::in_child(120, || {
        let sig = libc::SIGRTMIN() + 1;
        sigmux_testkit::rt::block(&[sig]);
        // Start the executor and the reactor threads now, so they inherit the blocked signal.
        async_std::task::block_on(async {
            async_std::task::spawn(async {}).await;
            async_std::task::sleep(Duration::from_millis(1)).await;
        });
        sigmux_testkit::rt::unblock(&[sig]);
        let lossless = Lossless::new(N);
        let next = async_std::task::block_on(async {
            let mut signals = SignalsInfo::with_exfiltrator([sig], lossless.clone()).unwrap();
            // SAFETY: getpid cannot fail.
            let child = sigmux_testkit::rt::flood(unsafe { libc::getpid() }, &[sig], N, 60);
            let mut next = 0;
            let all = async {
                while next < N {
                    let record =
                        std::future::poll_fn(|cx: &mut Context<'_>| signals.poll_recv(cx)).await;
                    match record {
                        Some(Record::Delivered(delivery)) => {
                            assert_eq!(delivery.value.unwrap().ptr, next, "out of order");
                            next += 1;
                        }
                        other => panic!("unexpected {:?} after {}", other, next),
                    }
                }
            };
            async_std::future::timeout(Duration::from_secs(60), all)
                .await
                .expect("the payloads did not all arrive");
            sigmux_testkit::wait_for(child).assert_success();
            next
        });
        assert_eq!(next, N);
        assert_eq!(lossless.lost(sig), 0);
        assert_eq!(lossless.handler_runs(sig), N);
        0
    })
    .assert_success();
}
