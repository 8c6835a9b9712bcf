//! Records the compiler version and the versions of the measured crates (from the
//! workspace's Cargo.lock) so that every report says what it measured.

use std::path::Path;
use std::process::Command;

/// Crates whose versions the report names.
const MEASURED: [&str; 11] = [
    "sigmux-registry",
    "sigmux",
    "sigmux-tokio",
    "sigmux-async-std",
    "signal-hook-registry",
    "signal-hook",
    "signal-hook-tokio",
    "signal-hook-async-std",
    "tokio",
    "async-signal",
    "async-io",
];

fn locked_versions(lock: &str) -> String {
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            if MEASURED.contains(&n.as_str()) {
                found.push(format!("{n} {}", v.trim_matches('"')));
            }
        }
    }
    found.sort_by_key(|entry| {
        MEASURED
            .iter()
            .position(|m| entry.split(' ').next() == Some(*m))
    });
    found.join(", ")
}

fn main() {
    let lock_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    println!(
        "cargo:rustc-env=SIGMUX_BENCH_VERSIONS={}",
        locked_versions(&lock)
    );

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown rustc".to_string());
    println!("cargo:rustc-env=SIGMUX_BENCH_RUSTC={version}");
}
