//! `sigmux::child` on the pidfd path (Linux 5.4+): every scenario of
//! `children/scenarios.rs`.
#![cfg(target_os = "linux")]

const MECHANISM: sigmux::child::Mechanism = sigmux::child::Mechanism::Pidfd;

include!("children/scenarios.rs");

#[test]
fn auto_picks_pidfd_where_the_kernel_has_it() {
    in_child(20, || {
        std::env::remove_var("SIGMUX_CHILDREN");
        let c = Children::new().unwrap();
        assert_eq!(c.mechanism(), sigmux::child::Mechanism::Pidfd);
        0
    })
    .assert_success();
}
