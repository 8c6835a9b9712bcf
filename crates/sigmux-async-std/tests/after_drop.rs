//! `Handle::close` after the stream is gone, and deliveries racing its drop, never raise
//! `SIGPIPE` (the scenarios every adapter passes, from `sigmux-testkit`), with the stream
//! polled under smol.
#![cfg(unix)]

sigmux_testkit::after_drop_scenarios! {
    adapter: sigmux_async_std,
    block_on: smol::block_on,
}
