//! Template rendering: Django's `TemplateResponse.render()` with the
//! conventions of Django's Jinja2 backend, on minijinja.
//!
//! Templates are deployed files, and rendering is generic work like serving
//! static files, so the host does it, not a guest. Every file under the
//! configured folders is compiled when the pipeline loads: a syntax error
//! refuses the pipeline (the previous one keeps serving) and names the file
//! and line. Rendering is bounded by the `[templates]` limits (instructions,
//! depth, output size), so a runaway template fails its request, never a
//! worker.

use std::path::{Path, PathBuf};

use minijinja::Environment;

use crate::config::TemplatesConfig;
use crate::resources::{PendingTemplate, RequestResource};
use crate::router::Router;

mod escape;
mod globals;

/// The compiled templates of one pipeline and how far a rendering may go.
pub(crate) struct Templates {
    env: Environment<'static>,
    max_output_bytes: usize,
}

/// A template folder that cannot be read, or a template that does not
/// compile.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// A folder or file could not be read (or is not UTF-8).
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A template's syntax is wrong.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// The parser's explanation.
        message: String,
    },
}

/// Why a rendering failed: Django's `TemplateDoesNotExist`,
/// `TemplateSyntaxError` and the errors a template raises while it runs.
#[derive(Debug)]
pub(crate) struct RenderError(pub(crate) String);

impl Templates {
    /// Compiles every template under `config.dirs`; for a name found in
    /// several folders the first folder wins (Django's loader order).
    pub(crate) fn load(
        config: &TemplatesConfig,
        static_url: &str,
        router: Router,
    ) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_fuel(Some(config.fuel));
        env.set_recursion_limit(config.recursion_limit);
        escape::install(&mut env);
        globals::install(&mut env, static_url, router);
        for dir in &config.dirs {
            for (name, path) in files(dir)? {
                if env.get_template(&name).is_ok() {
                    continue;
                }
                let source =
                    std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                        path: path.clone(),
                        source,
                    })?;
                env.add_template_owned(name, source)
                    .map_err(|e| TemplateError::Syntax {
                        line: e.line().unwrap_or(1),
                        message: e.detail().unwrap_or("syntax error").to_owned(),
                        path,
                    })?;
            }
        }
        Ok(Templates {
            env,
            max_output_bytes: config.max_output_bytes,
        })
    }

    /// Renders the first of `template.names` that exists.
    pub(crate) fn render(
        &self,
        template: &PendingTemplate,
        request: &RequestResource,
    ) -> Result<String, RenderError> {
        let Some(found) = template
            .names
            .iter()
            .find_map(|name| self.env.get_template(name).ok())
        else {
            return Err(RenderError(format!(
                "TemplateDoesNotExist: {}",
                template.names.join(", ")
            )));
        };
        let context = globals::context(&template.context, request);
        let mut out = Capped::new(self.max_output_bytes);
        match found.render_captured_to(context, &mut out) {
            Ok(_) => String::from_utf8(out.buf)
                .map_err(|_| RenderError("the template produced invalid UTF-8".into())),
            Err(_) if out.over => Err(RenderError(format!(
                "template {} produced more than its {} bytes of output ([templates] max_output_kib)",
                found.name(),
                self.max_output_bytes
            ))),
            Err(e) => Err(RenderError(describe(&e))),
        }
    }
}

/// An error as Django would name it, with the template and line.
fn describe(e: &minijinja::Error) -> String {
    use minijinja::ErrorKind as K;
    let what = match e.kind() {
        K::TemplateNotFound => "TemplateDoesNotExist",
        K::SyntaxError => "TemplateSyntaxError",
        K::OutOfFuel => {
            "the template ran out of fuel: it ran more instructions than [templates] fuel allows"
        }
        _ => "template error",
    };
    // An include's failure keeps the real cause (the recursion limit, the
    // missing template) as its source.
    let mut detail = e.detail().unwrap_or_default().to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        detail = format!("{detail}: {inner}");
        source = inner.source();
    }
    let place = match (e.name(), e.line()) {
        (Some(name), Some(line)) => format!(" (in {name}:{line})"),
        (Some(name), None) => format!(" (in {name})"),
        _ => String::new(),
    };
    if detail.is_empty() {
        format!("{what}{place}")
    } else {
        format!("{what}: {detail}{place}")
    }
}

/// Every file under `dir` as (name with '/' separators, path), sorted;
/// hidden files and folders are skipped (editor swap files, `.git`).
fn files(dir: &Path) -> Result<Vec<(String, PathBuf)>, TemplateError> {
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

/// Output with a ceiling: writing past it fails the rendering.
struct Capped {
    buf: Vec<u8>,
    max: usize,
    over: bool,
}

impl Capped {
    fn new(max: usize) -> Self {
        Capped {
            buf: Vec::new(),
            max,
            over: false,
        }
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.max {
            self.over = true;
            return Err(std::io::Error::other("template output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
