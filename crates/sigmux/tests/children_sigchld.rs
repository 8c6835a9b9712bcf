//! `sigmux::child` on the portable SIGCHLD + per-pid `waitpid` path, forced on: every scenario
//! of `children/scenarios.rs`.
#![cfg(target_os = "linux")]

const MECHANISM: sigmux::child::Mechanism = sigmux::child::Mechanism::Sigchld;

include!("children/scenarios.rs");

#[test]
fn the_environment_variable_forces_the_sigchld_path_for_auto() {
    in_child(20, || {
        std::env::set_var("SIGMUX_CHILDREN", "sigchld");
        let c = Children::new().unwrap();
        assert_eq!(c.mechanism(), sigmux::child::Mechanism::Sigchld);
        let pid = c.watch(sh("exit 3")).unwrap();
        let exit = c.wait().unwrap().unwrap();
        assert_eq!((exit.pid(), exit.status().code()), (pid, Some(3)));
        0
    })
    .assert_success();
}
