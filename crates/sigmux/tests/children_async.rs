//! `sigmux::child` from async code: the `Children` descriptor registered with tokio's
//! `AsyncFd` (current-thread and multi-thread runtimes) and with async-io's `Async`
//! (async-std, smol), on both mechanisms, side by side with tokio::process,
//! async-process and std's `Child::wait` in the same process — none of which may lose its
//! child.
//!
//! Not under ThreadSanitizer (`--cfg sigmux_tsan`, set by `ci/sanitizers.sh`): tokio::process
//! and async-process learn of exits from SIGCHLD, whose handler ThreadSanitizer defers until
//! the receiving thread enters a function it intercepts; a thread parked in an uninstrumented
//! wait never does, and the peers' waits time out.
#![cfg(all(target_os = "linux", not(sigmux_tsan)))]

use std::io;
use std::os::unix::io::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sigmux::child::{Children, Exit, Mechanism, Options};

const MECHANISMS: [Mechanism; 2] = [Mechanism::Pidfd, Mechanism::Sigchld];

fn children(mechanism: Mechanism) -> Children {
    Children::with_options(Options::new().mechanism(mechanism)).unwrap()
}

fn sh(script: &str) -> std::process::Child {
    Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
}

/// The next exit on tokio: drain `try_wait`, then wait for readiness.
async fn next_exit_tokio(fd: &tokio::io::unix::AsyncFd<Arc<Children>>) -> io::Result<Option<Exit>> {
    let c = fd.get_ref();
    loop {
        if let Some(exit) = c.try_wait()? {
            return Ok(Some(exit));
        }
        if c.is_empty() {
            return Ok(None);
        }
        let mut ready = fd.readable().await?;
        match c.try_wait()? {
            Some(exit) => return Ok(Some(exit)),
            None => ready.clear_ready(),
        }
    }
}

/// The next exit on async-io (async-std, smol).
async fn next_exit_async_io(
    fd: &async_io::Async<std::os::unix::io::BorrowedFd<'_>>,
    c: &Children,
) -> io::Result<Option<Exit>> {
    loop {
        if let Some(exit) = c.try_wait()? {
            return Ok(Some(exit));
        }
        if c.is_empty() {
            return Ok(None);
        }
        fd.readable().await?;
    }
}

async fn tokio_scenario(mechanism: Mechanism) {
    let c = Arc::new(children(mechanism));
    let mut want = Vec::new();
    for i in 0..20 {
        let pid = c
            .watch(sh(&format!("sleep 0.0{}; exit {}", i % 10, i)))
            .unwrap();
        want.push((pid, Some(i)));
    }
    let killed = c.watch(sh("exec sleep 30")).unwrap();
    // Peers in the same process, each waiting for its own child.
    let tokio_child = tokio::spawn(async {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", "sleep 0.05; exit 77"])
            .spawn()
            .unwrap();
        child.wait().await.unwrap().code()
    });
    let std_child =
        tokio::task::spawn_blocking(|| sh("sleep 0.05; exit 78").wait().unwrap().code());
    let watcher = {
        let c = Arc::clone(&c);
        tokio::spawn(async move {
            // SAFETY: a `Children` keeps its descriptor open, and the same, for as long as it
            // lives, and the `AsyncFd` holds it alive through the `Arc`.
            let fd = unsafe {
                tokio::io::unix::AsyncFd::register_with_interest(c, tokio::io::Interest::READABLE)
            }
            .unwrap();
            let mut got = Vec::new();
            while let Some(exit) = next_exit_tokio(&fd).await.unwrap() {
                got.push(exit);
                if got.len() == 20 {
                    // SAFETY: signalling our own watched, unreaped child.
                    unsafe { libc::kill(killed as i32, libc::SIGKILL) };
                }
            }
            got
        })
    };
    let got = tokio::time::timeout(Duration::from_secs(60), watcher)
        .await
        .expect("watcher hung")
        .unwrap();
    assert_eq!(
        tokio_child.await.unwrap(),
        Some(77),
        "tokio::process lost its child"
    );
    assert_eq!(std_child.await.unwrap(), Some(78), "std lost its child");
    let mut codes: Vec<_> = got
        .iter()
        .filter(|e| e.pid() != killed)
        .map(|e| (e.pid(), e.status().code()))
        .collect();
    codes.sort();
    want.sort();
    assert_eq!(codes, want);
    let k: Vec<_> = got.iter().filter(|e| e.pid() == killed).collect();
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].status().signal(), Some(libc::SIGKILL));
}

#[test]
fn tokio_current_thread_reports_each_exit_beside_tokio_process_and_std() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for mechanism in MECHANISMS {
        rt.block_on(tokio_scenario(mechanism));
    }
}

#[test]
fn tokio_multi_thread_reports_each_exit_beside_tokio_process_and_std() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for mechanism in MECHANISMS {
        rt.block_on(tokio_scenario(mechanism));
    }
}

#[test]
fn async_std_reports_each_exit_beside_async_process_and_std() {
    for mechanism in MECHANISMS {
        async_std::task::block_on(async {
            let c = children(mechanism);
            let mut want = Vec::new();
            for i in 0..20 {
                let pid = c
                    .watch(sh(&format!("sleep 0.0{}; exit {}", i % 10, i)))
                    .unwrap();
                want.push((pid, Some(i)));
            }
            let peer = async_std::task::spawn(async {
                async_process::Command::new("sh")
                    .args(["-c", "sleep 0.05; exit 79"])
                    .status()
                    .await
                    .unwrap()
                    .code()
            });
            let std_child = async_std::task::spawn_blocking(|| {
                sh("sleep 0.05; exit 78").wait().unwrap().code()
            });
            let fd = async_io::Async::new(c.as_fd()).unwrap();
            let mut got = Vec::new();
            let collect = async {
                while let Some(exit) = next_exit_async_io(&fd, &c).await.unwrap() {
                    got.push((exit.pid(), exit.status().code()));
                }
            };
            async_std::future::timeout(Duration::from_secs(60), collect)
                .await
                .expect("watcher hung");
            assert_eq!(peer.await, Some(79), "async-process lost its child");
            assert_eq!(std_child.await, Some(78), "std lost its child");
            got.sort();
            want.sort();
            assert_eq!(got, want);
        });
    }
}

/// The runtime-agnostic future: several tasks await `exit()` at once, beside the peers.
async fn future_scenario(mechanism: Mechanism) -> Vec<(u32, Option<i32>)> {
    let c = Arc::new(children(mechanism));
    for i in 0..20 {
        c.watch(sh(&format!("sleep 0.0{}; exit {}", i % 10, i)))
            .unwrap();
    }
    let mut got = Vec::new();
    while let Some(exit) = c.exit().await.unwrap() {
        got.push((exit.pid(), exit.status().code()));
    }
    got.sort();
    got
}

#[test]
fn the_future_works_on_tokio_current_thread_and_multi_thread_beside_tokio_process() {
    for multi in [false, true] {
        let rt = if multi {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        }
        .unwrap();
        for mechanism in MECHANISMS {
            rt.block_on(async {
                let peer = tokio::spawn(async {
                    let mut child = tokio::process::Command::new("sh")
                        .args(["-c", "sleep 0.05; exit 77"])
                        .spawn()
                        .unwrap();
                    child.wait().await.unwrap().code()
                });
                let a = tokio::spawn(future_scenario(mechanism));
                let b = tokio::spawn(future_scenario(mechanism));
                let (a, b) = tokio::time::timeout(Duration::from_secs(60), async {
                    (a.await.unwrap(), b.await.unwrap())
                })
                .await
                .expect("hung");
                assert_eq!((a.len(), b.len()), (20, 20));
                assert!(a.iter().chain(&b).all(|(_, code)| code.is_some()));
                assert_eq!(
                    peer.await.unwrap(),
                    Some(77),
                    "tokio::process lost its child"
                );
            });
        }
    }
}

#[test]
fn the_future_works_on_async_std_beside_async_process() {
    for mechanism in MECHANISMS {
        async_std::task::block_on(async {
            let peer = async_std::task::spawn(async {
                async_process::Command::new("sh")
                    .args(["-c", "sleep 0.05; exit 79"])
                    .status()
                    .await
                    .unwrap()
                    .code()
            });
            let got =
                async_std::future::timeout(Duration::from_secs(60), future_scenario(mechanism))
                    .await
                    .expect("hung");
            assert_eq!(got.len(), 20);
            assert_eq!(peer.await, Some(79), "async-process lost its child");
        });
    }
}
