//! Loading a pipeline's templates: every file under the configured folders
//! compiled up front, and every filter a template applies checked to
//! exist, so a broken template refuses the pipeline instead of failing
//! requests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use minijinja::Environment;
use minijinja::machinery::{Instruction, get_compiled_template};

use super::TemplateError;

/// Compiles every file under `dirs` into `env`; for a name found in
/// several folders the first folder wins (Django's loader order). Returns
/// each template's file.
pub(super) fn compile_dirs(
    env: &mut Environment<'static>,
    dirs: &[PathBuf],
) -> Result<HashMap<String, PathBuf>, TemplateError> {
    let mut paths = HashMap::new();
    for dir in dirs {
        for (name, path) in files(dir)? {
            if paths.contains_key(&name) {
                continue;
            }
            let source = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                path: path.clone(),
                source,
            })?;
            env.add_template_owned(name.clone(), source)
                .map_err(|e| TemplateError::Syntax {
                    line: e.line().unwrap_or(1),
                    message: e.detail().unwrap_or("syntax error").to_owned(),
                    path: path.clone(),
                })?;
            paths.insert(name, path);
        }
    }
    Ok(paths)
}

/// Refuses a template applying a filter neither built in nor provided by a
/// filter component (Django: `TemplateSyntaxError: Invalid filter`, when
/// the template is loaded).
pub(super) fn check_filters(
    env: &Environment<'static>,
    paths: &HashMap<String, PathBuf>,
) -> Result<(), TemplateError> {
    let mut known: HashMap<&str, bool> = HashMap::new();
    for (name, template) in env.templates() {
        let compiled = get_compiled_template(&template);
        let all = std::iter::once(&compiled.instructions).chain(compiled.blocks.values());
        for instructions in all {
            for idx in 0..instructions.len() {
                let idx = u32::try_from(idx).unwrap_or(u32::MAX);
                let Some(Instruction::ApplyFilter(filter, ..)) = instructions.get(idx) else {
                    continue;
                };
                if *known.entry(filter).or_insert_with(|| exists(env, filter)) {
                    continue;
                }
                return Err(TemplateError::UnknownFilter {
                    path: paths.get(name).cloned().unwrap_or_else(|| name.into()),
                    line: instructions.get_line(idx).unwrap_or(1),
                    filter: (*filter).to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// Whether `env` has a filter called `name` (minijinja only says so by
/// failing to find it when one is applied).
pub(super) fn exists(env: &Environment<'static>, name: &str) -> bool {
    let applied = env
        .compile_expression_owned(format!("none|{name}"))
        .and_then(|expr| expr.eval(()));
    !matches!(applied, Err(e) if e.kind() == minijinja::ErrorKind::UnknownFilter)
}

/// Every file under `dir` as (name with '/' separators, path), sorted;
/// hidden files and folders are skipped (editor swap files, `.git`).
pub(crate) fn files(dir: &Path) -> Result<Vec<(String, PathBuf)>, TemplateError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let read = std::fs::read_dir(&folder).map_err(|source| TemplateError::Read {
            path: folder.clone(),
            source,
        })?;
        for entry in read {
            let entry = entry.map_err(|source| TemplateError::Read {
                path: folder.clone(),
                source,
            })?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let name: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((name.join("/"), path));
            }
        }
    }
    out.sort();
    Ok(out)
}
