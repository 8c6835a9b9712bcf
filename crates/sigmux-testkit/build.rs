//! Compiles the test kit's small C helper (`src/jump.c`: a handler that leaves with
//! `siglongjmp`) with the system C compiler. No build dependency: the test kit must build
//! with the workspace's oldest Rust and without network.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/jump.c");
    if env::var_os("CARGO_CFG_UNIX").is_none() {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let obj = out.join("jump.o");
    let lib = out.join("libsigmux_testkit_jump.a");
    let cc = tool("CC", "cc");
    let status = Command::new(&cc)
        .args(["-c", "-O2", "-fPIC", "src/jump.c", "-o"])
        .arg(&obj)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{}`: {}", cc, e));
    assert!(status.success(), "compiling src/jump.c failed");
    let ar = tool("AR", "ar");
    let status = Command::new(&ar)
        .arg("crs")
        .arg(&lib)
        .arg(&obj)
        .status()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {}", ar, e));
    assert!(status.success(), "archiving jump.o failed");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=sigmux_testkit_jump");
}

/// The tool for the target, as the `cc` crate looks it up: `<KIND>_<target>`, `TARGET_<KIND>`,
/// `<KIND>`, else `default`.
fn tool(kind: &str, default: &str) -> String {
    let target = env::var("TARGET").unwrap_or_default().replace('-', "_");
    let names = [
        format!("{}_{}", kind, target),
        format!("TARGET_{}", kind),
        kind.to_string(),
    ];
    for name in &names {
        println!("cargo:rerun-if-env-changed={}", name);
    }
    names
        .iter()
        .find_map(|name| env::var(name).ok())
        .unwrap_or_else(|| default.to_string())
}
