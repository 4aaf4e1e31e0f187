//! `shallot new middleware NAME --lang rust|python|js`: a project that
//! builds as it is, with a config and a test.
//!
//! Every project gets the same three files around its source: `build.sh`
//! (source to `NAME.wasm`), `shallot.toml` (the middleware alone), and
//! `test.sh`, which builds, then runs one request in process with
//! `shallot call` and checks the header the middleware adds.

use std::path::{Path, PathBuf};

/// A guest language with an SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `shallot-guest` and `cargo build --target wasm32-wasip2`.
    Rust,
    /// `guest-sdk/python` over componentize-py.
    Python,
    /// `guest-sdk/js` over componentize-js.
    Js,
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "rust" => Ok(Lang::Rust),
            "python" => Ok(Lang::Python),
            "js" => Ok(Lang::Js),
            other => Err(format!(
                "unknown language {other:?}: expected rust, python or js"
            )),
        }
    }
}

/// Why a project could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// Names become file, crate and header names.
    #[error("invalid name {0:?}: use lower-case letters, digits and '-', starting with a letter")]
    Name(String),
    /// Never overwrite someone's work.
    #[error("{0} already exists")]
    Exists(PathBuf),
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where this build of Shallot keeps its SDKs and WIT (the source tree it
/// was built from), unless `SHALLOT_HOME` says otherwise.
pub fn shallot_home() -> PathBuf {
    std::env::var_os("SHALLOT_HOME").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        PathBuf::from,
    )
}

/// Writes the project `dir/name` and returns the files written.
pub fn middleware(
    dir: &Path,
    name: &str,
    lang: Lang,
    home: &Path,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(ScaffoldError::Name(name.to_owned()));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(ScaffoldError::Exists(root));
    }
    let snake = name.replace('-', "_");
    let class = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<String>();
    let home = home.display().to_string();
    let mut files = vec![
        ("shallot.toml".to_owned(), config(name)),
        ("test.sh".to_owned(), test_script(name)),
    ];
    match lang {
        Lang::Rust => {
            files.push(("Cargo.toml".into(), cargo_toml(name, &home)));
            files.push(("src/lib.rs".into(), rust_source(name, &class)));
            files.push((
                "build.sh".into(),
                build_script(&format!(
                    "cargo build --release --target wasm32-wasip2\n\
                     cp \"${{CARGO_TARGET_DIR:-target}}/wasm32-wasip2/release/{snake}.wasm\" {name}.wasm"
                )),
            ));
        }
        Lang::Python => {
            files.push((format!("{snake}.py"), python_source(name, &class)));
            files.push((
                "build.sh".into(),
                build_script(&format!(
                    "SHALLOT_HOME=\"${{SHALLOT_HOME:-{home}}}\"\n\
                     PYTHON=\"${{PYTHON:-$SHALLOT_HOME/target/guest-tools/py/bin/python}}\"\n\
                     \"$PYTHON\" \"$SHALLOT_HOME/guest-sdk/python/shallot_build.py\" {snake}.py -o {name}.wasm"
                )),
            ));
        }
        Lang::Js => {
            files.push((format!("{snake}.js"), js_source(name, &class)));
            files.push((
                "build.sh".into(),
                build_script(&format!(
                    "SHALLOT_HOME=\"${{SHALLOT_HOME:-{home}}}\"\n\
                     node \"$SHALLOT_HOME/guest-sdk/js/shallot-build.mjs\" {snake}.js -o {name}.wasm"
                )),
            ));
        }
    }
    let mut written = Vec::new();
    for (file, text) in files {
        let path = root.join(file);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().expect("a file in the project"))?;
            std::fs::write(&path, text)
        };
        write().map_err(|source| ScaffoldError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn header(name: &str) -> String {
    format!("X-{name}")
}

fn config(name: &str) -> String {
    format!(
        "# The middleware alone: every request gets 404 (no routes), and its\n\
         # process_response still runs, like Django's.\n\
         #\n\
         # Run with: bash build.sh && shallot serve shallot.toml\n\n\
         [[middleware]]\n\
         name = \"{name}\"\n\
         component = \"{name}.wasm\"\n"
    )
}

fn build_script(body: &str) -> String {
    format!(
        "#!/usr/bin/env bash\n\
         # Builds the component.\n\
         set -euo pipefail\n\
         cd \"$(dirname \"$0\")\"\n\
         {body}\n"
    )
}

fn test_script(name: &str) -> String {
    let header = header(name).to_ascii_lowercase();
    format!(
        "#!/usr/bin/env bash\n\
         # Builds the component, sends it one request in process, and checks\n\
         # the header its process_response adds.\n\
         set -euo pipefail\n\
         cd \"$(dirname \"$0\")\"\n\
         bash build.sh\n\
         out=\"$(\"${{SHALLOT:-shallot}}\" call shallot.toml /)\"\n\
         echo \"$out\"\n\
         if ! grep -qi '^{header}: ok' <<<\"$out\"; then\n\
         \x20 echo \"test failed: no '{header}: ok' header\" >&2\n\
         \x20 exit 1\n\
         fi\n\
         echo \"ok: {name} adds its header\"\n"
    )
}

fn cargo_toml(name: &str, home: &str) -> String {
    format!(
        "[package]\n\
         name = \"{name}\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\n\
         [lib]\n\
         crate-type = [\"cdylib\"]\n\n\
         [dependencies]\n\
         shallot-guest = {{ path = \"{home}/guest-sdk\" }}\n\n\
         # A project of its own, not part of any enclosing workspace.\n\
         [workspace]\n"
    )
}

fn rust_source(name: &str, class: &str) -> String {
    format!(
        "//! The `{name}` middleware.\n\n\
         use shallot_guest::{{Error, Middleware, Request, Response, middleware}};\n\n\
         #[derive(Default)]\n\
         struct {class};\n\n\
         #[middleware]\n\
         impl Middleware for {class} {{\n\
         \x20   fn process_request(&mut self, _req: &Request) -> Result<Option<Response>, Error> {{\n\
         \x20       Ok(None) // on to the next layer\n\
         \x20   }}\n\n\
         \x20   fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {{\n\
         \x20       resp.set_header(\"{header}\", \"ok\")?;\n\
         \x20       Ok(resp)\n\
         \x20   }}\n\
         }}\n",
        header = header(name)
    )
}

fn python_source(name: &str, class: &str) -> String {
    format!(
        "\"\"\"The `{name}` middleware.\"\"\"\n\n\
         from shallot import Middleware\n\n\n\
         class {class}(Middleware):\n\
         \x20   def process_request(self, request):\n\
         \x20       return None  # on to the next layer\n\n\
         \x20   def process_response(self, request, response):\n\
         \x20       response[\"{header}\"] = \"ok\"\n\
         \x20       return response\n",
        header = header(name)
    )
}

fn js_source(name: &str, class: &str) -> String {
    format!(
        "// The `{name}` middleware.\n\n\
         export default class {class} {{\n\
         \x20 processRequest(request) {{\n\
         \x20   return null; // on to the next layer\n\
         \x20 }}\n\n\
         \x20 processResponse(request, response) {{\n\
         \x20   response.set('{header}', 'ok');\n\
         \x20   return response;\n\
         \x20 }}\n\
         }}\n",
        header = header(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_names_and_existing_projects() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "Caps", "1st", "a_b", "a b"] {
            let err = middleware(dir.path(), bad, Lang::Js, Path::new("/x")).unwrap_err();
            assert!(matches!(err, ScaffoldError::Name(_)), "{bad}: {err}");
        }
        middleware(dir.path(), "ok", Lang::Js, Path::new("/x")).unwrap();
        let err = middleware(dir.path(), "ok", Lang::Python, Path::new("/x")).unwrap_err();
        assert!(err.to_string().ends_with("ok already exists"), "{err}");
    }

    #[test]
    fn writes_the_files_of_each_language() {
        let dir = tempfile::tempdir().unwrap();
        let names = |lang, name| {
            middleware(dir.path(), name, lang, Path::new("/sdk"))
                .unwrap()
                .iter()
                .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Lang::Rust, "add-hdr"),
            [
                "add-hdr/shallot.toml",
                "add-hdr/test.sh",
                "add-hdr/Cargo.toml",
                "add-hdr/src/lib.rs",
                "add-hdr/build.sh"
            ]
        );
        assert_eq!(
            names(Lang::Python, "py-mw"),
            [
                "py-mw/shallot.toml",
                "py-mw/test.sh",
                "py-mw/py_mw.py",
                "py-mw/build.sh"
            ]
        );
        let source = std::fs::read_to_string(dir.path().join("py-mw/py_mw.py")).unwrap();
        assert!(source.contains("class PyMw(Middleware):"), "{source}");
        assert!(
            source.contains("response[\"X-py-mw\"] = \"ok\""),
            "{source}"
        );
        let cargo = std::fs::read_to_string(dir.path().join("add-hdr/Cargo.toml")).unwrap();
        assert!(cargo.contains("path = \"/sdk/guest-sdk\""), "{cargo}");
    }
}
