//! `Handle::close` after the stream is gone, and deliveries racing its drop, never raise
//! `SIGPIPE` (the scenarios every adapter passes, from `sigmux-testkit`), with the stream
//! polled on a current-thread runtime.
#![cfg(unix)]

use std::future::Future;

fn on_current_thread<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(future)
}

sigmux_testkit::after_drop_scenarios! {
    adapter: sigmux_tokio,
    block_on: on_current_thread,
}
