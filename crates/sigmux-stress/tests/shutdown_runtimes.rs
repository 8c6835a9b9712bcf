//! `sigmux::Shutdown::wait_async` under real runtimes, with no adapter crate: tokio
//! (current-thread and multi-thread), async-std and smol. Many tasks await one `Shutdown`;
//! a signal from another thread must wake them all. Each scenario runs in a forked child
//! with a watchdog (it installs process-wide handlers).
#![cfg(unix)]

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use libc::SIGTERM;
use sigmux::shutdown::{Cause, Shutdown};
use sigmux_testkit::in_child;

const TASKS: usize = 8;

fn kill_self_later() -> thread::JoinHandle<()> {
    thread::spawn(|| {
        thread::sleep(Duration::from_millis(100));
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(libc::getpid(), SIGTERM) };
    })
}

async fn waiter(shutdown: Arc<Shutdown>) -> Cause {
    shutdown.wait_async().await
}

fn tokio_runtime(runtime: tokio::runtime::Runtime) {
    let shutdown = Arc::new(Shutdown::new().unwrap());
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| tokio::spawn(waiter(Arc::clone(&shutdown))))
            .collect();
        let sender = kill_self_later();
        for task in tasks {
            let cause = tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("woken within 10 s")
                .unwrap();
            assert_eq!(cause, Cause::Signal(SIGTERM));
        }
        sender.join().unwrap();
    });
}

#[test]
fn wakes_tasks_on_tokio_current_thread() {
    in_child(30, || {
        tokio_runtime(
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap(),
        );
        0
    })
    .assert_success();
}

#[test]
fn wakes_tasks_on_tokio_multi_thread() {
    in_child(30, || {
        tokio_runtime(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_time()
                .build()
                .unwrap(),
        );
        0
    })
    .assert_success();
}

#[test]
fn wakes_tasks_on_async_std() {
    in_child(30, || {
        let shutdown = Arc::new(Shutdown::new().unwrap());
        async_std::task::block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| async_std::task::spawn(waiter(Arc::clone(&shutdown))))
                .collect();
            let sender = kill_self_later();
            for task in tasks {
                let cause = async_std::future::timeout(Duration::from_secs(10), task)
                    .await
                    .expect("woken within 10 s");
                assert_eq!(cause, Cause::Signal(SIGTERM));
            }
            sender.join().unwrap();
        });
        0
    })
    .assert_success();
}

#[test]
fn wakes_tasks_on_smol() {
    in_child(30, || {
        let shutdown = Arc::new(Shutdown::new().unwrap());
        let executor = smol::LocalExecutor::new();
        smol::block_on(executor.run(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| executor.spawn(waiter(Arc::clone(&shutdown))))
                .collect();
            let sender = kill_self_later();
            for task in tasks {
                let cause = smol::future::or(async { Some(task.await) }, async {
                    smol::Timer::after(Duration::from_secs(10)).await;
                    None
                })
                .await
                .expect("woken within 10 s");
                assert_eq!(cause, Cause::Signal(SIGTERM));
            }
            sender.join().unwrap();
        }));
        0
    })
    .assert_success();
}
