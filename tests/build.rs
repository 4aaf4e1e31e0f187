//! Builds every crate under `guests/` for `wasm32-wasip2` (release) into
//! `<target>/guests`, the folder `examples/` point at too, and generates a
//! constant with each component's path plus `foreach_guest!`.
//!
//! Guests are built from source on every change; no `.wasm` is committed.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_owned();
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    let guest_target = target.join("guests");

    let mut guests = Vec::new();
    for entry in std::fs::read_dir(root.join("guests")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("Cargo.toml").is_file() {
            guests.push(dir.file_name().unwrap().to_str().unwrap().to_owned());
        }
    }
    guests.sort();
    for dir in ["guests", "guest-sdk", "wit"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&root)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&guest_target);
    for g in &guests {
        cmd.args(["-p", g]);
    }
    // The outer build's settings (clippy's wrapper, host rustflags, a build
    // target) must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("cargo can be run to build the guests");
    assert!(
        status.success(),
        "building the guests failed; is the wasm32-wasip2 target installed? (rustup target add wasm32-wasip2)"
    );

    let out_dir = guest_target.join("wasm32-wasip2").join("release");
    let mut src = String::new();
    for g in &guests {
        let file = out_dir.join(format!("{}.wasm", g.replace('-', "_")));
        assert!(
            file.is_file(),
            "guest {g} built no component at {}",
            file.display()
        );
        writeln!(src, "/// `guests/{g}`, built for wasm32-wasip2.").unwrap();
        writeln!(
            src,
            "pub const {}: &str = {:?};",
            const_name(g),
            file.display().to_string()
        )
        .unwrap();
    }
    writeln!(src, "/// Every guest's name and component.").unwrap();
    writeln!(src, "pub const ALL: &[(&str, &str)] = &[").unwrap();
    for g in &guests {
        writeln!(src, "    ({g:?}, {}),", const_name(g)).unwrap();
    }
    writeln!(src, "];").unwrap();
    writeln!(
        src,
        "/// Calls `$mac!(guest_name)` for every guest (wasmtime's `foreach_*` pattern)."
    )
    .unwrap();
    writeln!(
        src,
        "#[macro_export]\nmacro_rules! foreach_guest {{ ($mac:ident) => {{"
    )
    .unwrap();
    for g in &guests {
        writeln!(src, "    $mac!({});", g.replace('-', "_")).unwrap();
    }
    writeln!(src, "}} }}").unwrap();
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("guests.rs");
    std::fs::write(dest, src).unwrap();
}

fn const_name(guest: &str) -> String {
    guest.replace('-', "_").to_uppercase()
}
