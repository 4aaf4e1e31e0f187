//! Builds every crate under `guests/` for `wasm32-wasip2` (release) into
//! `<target>/guests`, the folder `examples/` point at too, plus the Python
//! guests (`guests/python/*.py`, into `<target>/guests/python`) and the
//! JavaScript ones (`guests/js/*.js`, into `<target>/guests/js`) with their
//! SDKs' build tools, and generates a constant with each component's path
//! plus `foreach_guest!`.
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
    for var in OUTER_BUILD_ENV {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("cargo can be run to build the guests");
    assert!(
        status.success(),
        "building the guests failed; is the pinned toolchain installed with its wasm32-wasip2 target? (run `rustup toolchain install` in the repository)"
    );

    let out_dir = guest_target.join("wasm32-wasip2").join("release");
    let mut files: Vec<PathBuf> = guests
        .iter()
        .map(|g| out_dir.join(format!("{}.wasm", g.replace('-', "_"))))
        .collect();
    for (lang, g, file) in other_languages(&root, &target, &guest_target) {
        guests.push(format!("{lang}-{}", g.replace('_', "-")));
        files.push(file);
    }
    let mut src = String::new();
    for (g, file) in guests.iter().zip(&files) {
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

/// The outer build's settings (clippy's wrapper, host rustflags, a build
/// target) that must not leak into the builds of guests and their tools.
const OUTER_BUILD_ENV: [&str; 11] = [
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    // cargo-fuzz on a stable toolchain (bench/fuzz.sh): guests are plain builds.
    "RUSTC_BOOTSTRAP",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "CARGO_PROFILE_RELEASE_DEBUG",
];

fn const_name(guest: &str) -> String {
    guest.replace('-', "_").to_uppercase()
}

/// Builds `guests/python/*.py`, `guests/js/*.js` and `guests/c/*.c` (each
/// file one component) with the SDKs' tools; returns (language, name, component).
/// A component newer than its source and its SDK is not rebuilt.
fn other_languages(
    root: &Path,
    target: &Path,
    guest_target: &Path,
) -> Vec<(String, String, PathBuf)> {
    let tools = target.join("guest-tools");
    let python = tools.join("py").join("bin").join("python");
    let langs = [
        (
            "py",
            "python",
            "py",
            vec![
                python.display().to_string(),
                root.join("guest-sdk/python/shallot_build.py")
                    .display()
                    .to_string(),
            ],
            root.join("guest-sdk/python"),
        ),
        (
            "js",
            "js",
            "js",
            vec![
                "node".to_owned(),
                root.join("guest-sdk/js/shallot-build.mjs")
                    .display()
                    .to_string(),
            ],
            root.join("guest-sdk/js"),
        ),
        (
            "c",
            "c",
            "c",
            vec![
                "bash".to_owned(),
                root.join("guest-sdk/c/build.sh").display().to_string(),
            ],
            root.join("guest-sdk/c"),
        ),
    ];
    let wit_newest = newest(&root.join("wit"));
    let mut built = Vec::new();
    let mut jobs = Vec::new();
    for (lang, dir, ext, tool, sdk) in langs {
        let sources = root.join("guests").join(dir);
        let Ok(entries) = std::fs::read_dir(&sources) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        names.sort();
        let out_dir = guest_target.join(dir);
        std::fs::create_dir_all(&out_dir).unwrap();
        let sdk_newest = newest(&sdk).max(wit_newest);
        for source in names {
            let name = source.file_stem().unwrap().to_str().unwrap().to_owned();
            let out = out_dir.join(format!("{name}.wasm"));
            let fresh = mtime(&out)
                .is_some_and(|built| Some(built) > mtime(&source) && Some(built) > sdk_newest);
            if !fresh {
                if (lang == "py" || lang == "c") && !python.is_file() {
                    panic!(
                        "guests/python needs componentize-py: run `bash scripts/guest-toolchains.sh` \
                         (installs guest-sdk/python/requirements.txt into {})",
                        tools.join("py").display()
                    );
                }
                if lang == "js"
                    && !sdk
                        .join("node_modules/@bytecodealliance/componentize-js")
                        .is_dir()
                {
                    panic!(
                        "guests/js needs node and componentize-js: run `bash scripts/guest-toolchains.sh` \
                         (npm install in guest-sdk/js)"
                    );
                }
                let mut cmd = Command::new(&tool[0]);
                for var in OUTER_BUILD_ENV {
                    cmd.env_remove(var);
                }
                let child = cmd
                    .args(&tool[1..])
                    .arg(&source)
                    .arg("-o")
                    .arg(&out)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| {
                        panic!("cannot run {} for {}: {e}", tool[0], source.display())
                    });
                jobs.push((source.clone(), child));
            }
            built.push((lang.to_owned(), name, out));
        }
    }
    for (source, child) in jobs {
        let done = child.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "building {} failed:\n{}{}",
            source.display(),
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        );
    }
    built
}

fn mtime(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of the files under `dir` (not descending
/// into node_modules or caches).
fn newest(dir: &Path) -> Option<std::time::SystemTime> {
    let mut best = None;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "node_modules" || name == "__pycache__" || name == "target" {
            continue;
        }
        let t = if path.is_dir() {
            newest(&path)
        } else {
            mtime(&path)
        };
        best = best.max(t);
    }
    best
}
