//! `shallot-c`: the two steps of a C guest's build that need the component
//! model (the compiling itself is any C compiler for `wasm32-wasi`; see
//! `guest-sdk/c/build.sh`).
//!
//! - `shallot-c bindings [--wit DIR] -o OUT HOOK...`: C bindings (`guest.h`,
//!   `guest.c`, `guest_component_type.o`) for a world that imports what
//!   every Shallot component gets and exports exactly `HOOK...`
//!   (`process-request`, ..., or `view`);
//! - `shallot-c component CORE.wasm -o OUT.wasm`: a component from the
//!   compiled core module, its WASI preview 1 imports adapted to preview 2.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_bindgen_core::Files;

const USAGE: &str = "usage: shallot-c bindings [--wit DIR] -o OUT_DIR HOOK... | shallot-c component CORE.wasm -o OUT.wasm";
const HOOKS: [&str; 6] = [
    "process-request",
    "process-view",
    "process-exception",
    "process-template-response",
    "process-response",
    "view",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, rest) = take_output(&args)?;
    match rest.split_first() {
        Some((cmd, rest)) if cmd == "bindings" => bindings(rest, &out),
        Some((cmd, [core])) if cmd == "component" => component(Path::new(core), &out),
        _ => bail!("{USAGE}"),
    }
}

/// Splits `-o PATH` off the arguments.
fn take_output(args: &[String]) -> Result<(PathBuf, Vec<String>)> {
    let at = args
        .iter()
        .position(|a| a == "-o")
        .with_context(|| USAGE.to_owned())?;
    let out = args.get(at + 1).with_context(|| USAGE.to_owned())?;
    let rest = args[..at].iter().chain(&args[at + 2..]).cloned().collect();
    Ok((PathBuf::from(out), rest))
}

fn bindings(args: &[String], out: &Path) -> Result<()> {
    let (wit, hooks) = match args {
        [flag, dir, hooks @ ..] if flag == "--wit" => (PathBuf::from(dir), hooks),
        hooks => (default_wit(), hooks),
    };
    if hooks.is_empty() {
        bail!("name the hooks to export, e.g. `process-response` (or `view`)");
    }
    for h in hooks {
        if !HOOKS.contains(&h.as_str()) {
            bail!("unknown hook {h:?}: expected one of {}", HOOKS.join(", "));
        }
    }
    let mut resolve = wit_parser::Resolve::default();
    resolve
        .push_dir(&wit)
        .with_context(|| format!("cannot read the WIT package in {}", wit.display()))?;
    let exports: String = hooks
        .iter()
        .map(|h| format!("    export shallot:http/{h}@0.1.0;\n"))
        .collect();
    let world = format!(
        "package shallot:c-guest;\n\nworld guest {{\n    include shallot:http/imports@0.1.0;\n{exports}}}\n"
    );
    let pkg = resolve.push_str("guest.wit", &world)?;
    let world = resolve.select_world(&[pkg], Some("guest"))?;
    let mut files = Files::default();
    let opts = wit_bindgen_c::Opts {
        // Every hook borrows the request: the bindings end the borrow when
        // the hook returns, so a C hook need not (wasmtime traps a call
        // that returns with a borrow still held).
        autodrop_borrows: wit_bindgen_c::Enabled::Yes,
        ..Default::default()
    };
    opts.build().generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(out)?;
    for (name, contents) in files.iter() {
        let path = out.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

fn component(core: &Path, out: &Path) -> Result<()> {
    let module = std::fs::read(core).with_context(|| format!("cannot read {}", core.display()))?;
    let bytes = wit_component::ComponentEncoder::default()
        .module(&module)
        .with_context(|| {
            format!(
                "{} has no component type section (link guest_component_type.o)",
                core.display()
            )
        })?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .validate(true)
        .encode()
        .with_context(|| format!("cannot make a component of {}", core.display()))?;
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!("{}", out.display());
    Ok(())
}

/// The WIT of the source tree this tool was built from.
fn default_wit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../wit")
}
