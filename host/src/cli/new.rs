//! `shallot new`: scaffold a project that builds and has a test.

use std::path::Path;

use shallot::scaffold::Lang;

/// `shallot new middleware NAME`: creates `dir/NAME` and says how to build
/// and test it.
pub(crate) fn middleware(dir: &Path, name: &str, lang: Lang) -> anyhow::Result<()> {
    let home = shallot::scaffold::shallot_home();
    for file in shallot::scaffold::middleware(dir, name, lang, &home)? {
        println!("created {}", file.display());
    }
    println!(
        "build and test with: bash {}/test.sh (SHALLOT=path/to/shallot if it is not on PATH)",
        dir.join(name).display()
    );
    Ok(())
}
