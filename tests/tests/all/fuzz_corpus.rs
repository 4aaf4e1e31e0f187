//! The cargo-fuzz targets' seed corpora (`fuzz/corpus/<target>/`), replayed
//! through the same harnesses (`shallot_tests::fuzz`) on stable, so CI runs
//! every seed and every crash the fuzzer once found (kept there as a
//! regression input once fixed). Fuzzing itself: `bash bench/fuzz.sh`.

use std::path::{Path, PathBuf};

/// Runs every file of one corpus; fails listing each input that panicked.
fn replay(target: &str, harness: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no seeds", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let data = std::fs::read(file).unwrap();
            let panic = std::panic::catch_unwind(|| harness(&data)).err()?;
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Some(format!("{}: {message}", file.display()))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs failed:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn config() {
    replay("config", shallot_tests::fuzz::config);
}

#[test]
fn routes() {
    replay("routes", shallot_tests::fuzz::routes);
}

#[test]
fn handle() {
    replay("handle", shallot_tests::fuzz::handle);
}

#[test]
fn host_calls() {
    replay("host_calls", shallot_tests::fuzz::host_calls);
}
