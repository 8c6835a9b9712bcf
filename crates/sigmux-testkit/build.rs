//! Compiles the test kit's small C helper (`src/jump.c`: a handler that leaves with
//! `siglongjmp`) with the system C compiler. No build dependency: the test kit must build
//! with the workspace's oldest Rust and without network.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/jump.c");
    println!("cargo:rerun-if-env-changed=CC");
    if env::var_os("CARGO_CFG_UNIX").is_none() {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let obj = out.join("jump.o");
    let lib = out.join("libsigmux_testkit_jump.a");
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-c", "-O2", "-fPIC", "src/jump.c", "-o"])
        .arg(&obj)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{}`: {}", cc, e));
    assert!(status.success(), "compiling src/jump.c failed");
    let ar = env::var("AR").unwrap_or_else(|_| "ar".to_string());
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
