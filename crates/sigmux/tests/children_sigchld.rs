//! `sigmux::child` on the portable SIGCHLD + per-pid `waitpid` path, forced on: every scenario
//! of `children/scenarios.rs`.
//!
//! Not under ThreadSanitizer (`ci/sanitizers.sh` sets `--cfg sigmux_tsan`): it runs a
//! signal's handler only when the receiving thread next enters a function it intercepts, and
//! a SIGCHLD that lands on a thread parked in std's futex wait (the tests' `block_on`) is
//! then never handled: a forked child's scenario hung there.
#![cfg(all(target_os = "linux", not(sigmux_tsan)))]

const MECHANISM: sigmux::child::Mechanism = sigmux::child::Mechanism::Sigchld;

include!("children/scenarios.rs");

/// Run by the test below in a fresh process of this binary, with the variable set.
#[test]
#[ignore = "run by the_environment_variable_forces_the_sigchld_path_for_auto"]
fn env_probe() {
    let want = std::env::var("SIGMUX_CHILDREN_PROBE_WANTS").unwrap();
    let c = Children::new().unwrap();
    assert_eq!(format!("{:?}", c.mechanism()), want);
    let pid = c.watch(sh("exit 3")).unwrap();
    let exit = c.wait().unwrap().unwrap();
    assert_eq!((exit.pid(), exit.status().code()), (pid, Some(3)));
}

fn probe(env: Option<&str>, wants: &str) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "env_probe",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("SIGMUX_CHILDREN_PROBE_WANTS", wants);
    match env {
        Some(v) => cmd.env("SIGMUX_CHILDREN", v),
        None => cmd.env_remove("SIGMUX_CHILDREN"),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "probe with SIGMUX_CHILDREN={:?}: {}",
        env,
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn the_environment_variable_forces_the_sigchld_path_for_auto() {
    probe(Some("sigchld"), "Sigchld");
    probe(None, "Pidfd");
}
