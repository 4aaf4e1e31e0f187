//! `shallot new middleware NAME --lang L` makes a project whose own
//! `test.sh` passes: it builds the component with that language's
//! toolchain and checks, through `shallot call`, the header it adds.
//! Needs the guest toolchains (`scripts/guest-toolchains.sh`, which
//! `scripts/test.sh` runs).

use std::path::Path;
use std::process::Command;

fn scaffold_and_test(lang: &str) {
    let shallot = env!("CARGO_BIN_EXE_shallot");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let name = format!("new-{lang}");
    let made = Command::new(shallot)
        .args(["new", "middleware", &name, "--lang", lang, "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let test = Command::new("bash")
        .arg(dir.path().join(&name).join("test.sh"))
        .env("SHALLOT", shallot)
        // Reuses the guests' build of the Rust SDK.
        .env("CARGO_TARGET_DIR", root.join("target").join("guests"))
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&test.stdout);
    assert!(
        test.status.success(),
        "{lang} project's test.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(
        stdout.contains(&format!("x-{name}: ok")),
        "the header reached the response: {stdout}"
    );
    assert!(stdout.contains("HTTP/1.1 404 Not Found"), "{stdout}");
}

#[test]
fn a_new_rust_middleware_builds_and_passes_its_test() {
    scaffold_and_test("rust");
}

#[test]
fn a_new_python_middleware_builds_and_passes_its_test() {
    scaffold_and_test("python");
}

#[test]
fn a_new_js_middleware_builds_and_passes_its_test() {
    scaffold_and_test("js");
}
