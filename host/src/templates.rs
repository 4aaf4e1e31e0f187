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

use std::path::PathBuf;
use std::sync::Arc;

use minijinja::Environment;
use minijinja::value::Value;

use crate::component::FilterComponent;
use crate::config::TemplatesConfig;
use crate::resources::{PendingTemplate, RequestResource};
use crate::statics::Manifest;
use crate::urlconfs::UrlConfs;

mod escape;
mod filters;
mod globals;
mod load;
mod output;

use filters::FilterCalls;
pub(crate) use globals::QUOTE;
pub(crate) use load::files;
use output::Capped;

/// The compiled templates of one pipeline and how far a rendering may go.
pub(crate) struct Templates {
    env: Environment<'static>,
    max_output_bytes: usize,
    /// The filter components, whose filters `env` calls.
    filters: Vec<FilterComponent>,
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
    /// A template applies a filter nothing provides.
    #[error("{}:{line}: no filter named {filter:?} (neither built in nor provided by a [[templates.filters]] component)", path.display())]
    UnknownFilter {
        /// The file.
        path: PathBuf,
        /// 1-based line where it is applied.
        line: usize,
        /// The filter's name.
        filter: String,
    },
    /// Two filter components provide the same filter, or one a built-in.
    #[error("filter {filter:?} of filter component `{component}` {clash}")]
    DuplicateFilter {
        /// The filter's name.
        filter: String,
        /// The component providing it again.
        component: String,
        /// What it clashes with.
        clash: String,
    },
}

/// Why a rendering failed: Django's `TemplateDoesNotExist`,
/// `TemplateSyntaxError` and the errors a template raises while it runs.
#[derive(Debug)]
pub(crate) struct RenderError(pub(crate) String);

impl Templates {
    /// Compiles every template under `config.dirs` and checks that each
    /// filter they apply exists.
    pub(crate) fn load(
        config: &TemplatesConfig,
        static_url: &str,
        manifest: Option<Arc<Manifest>>,
        urlconfs: UrlConfs,
        filters: Vec<FilterComponent>,
    ) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_fuel(Some(config.fuel));
        env.set_recursion_limit(config.recursion_limit);
        escape::install(&mut env);
        globals::install(&mut env, static_url, manifest, urlconfs);
        check_filter_names(&env, &filters)?;
        filters::install(&mut env, &filters);
        let paths = load::compile_dirs(&mut env, &config.dirs)?;
        load::check_filters(&env, &paths)?;
        Ok(Templates {
            env,
            max_output_bytes: config.max_output_bytes,
            filters,
        })
    }

    /// The context of one rendering: the view's values, then `request`,
    /// `csrf_token` and `csrf_input`, then the context processors' values
    /// (`processed`), each over the ones before (Django's Jinja2 backend).
    pub(crate) fn context(
        &self,
        template: &PendingTemplate,
        request: &RequestResource,
        processed: serde_json::Map<String, serde_json::Value>,
    ) -> Value {
        globals::context(&template.context, request, processed)
    }

    /// How many templates were loaded.
    pub(crate) fn count(&self) -> usize {
        self.env.templates().count()
    }

    /// The filter components.
    pub(crate) fn filter_components(&self) -> &[FilterComponent] {
        &self.filters
    }

    /// The filters the filter components provide.
    pub(crate) fn component_filters(&self) -> impl Iterator<Item = &str> {
        self.filters
            .iter()
            .flat_map(|f| f.filters.iter().map(String::as_str))
    }

    /// Whether a template called `name` exists.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    /// Renders `template` with its own context only: no request, no
    /// context processors (Django's `template.render()` without a request).
    pub(crate) async fn render_bare(
        self: &Arc<Self>,
        template: &PendingTemplate,
    ) -> Result<String, RenderError> {
        let context = template.context.clone();
        self.render(&template.names, context).await
    }

    /// Renders the first of `names` that exists with `context`, inline.
    /// A filter component's filter, when one is applied, waits for its
    /// guest call with the worker handed over to the runtime's other tasks
    /// (`block_in_place`); a single-threaded runtime cannot do that, so
    /// there a pipeline with filter components renders on a blocking thread.
    pub(crate) async fn render(
        self: &Arc<Self>,
        names: &[String],
        context: Value,
    ) -> Result<String, RenderError> {
        if self.filters.is_empty() {
            return self.render_now(names, context);
        }
        let runtime = tokio::runtime::Handle::current();
        let with_calls = |this: &Arc<Self>, runtime, inline, context| {
            let calls = Value::from_object(FilterCalls::new(Arc::clone(this), runtime, inline));
            let calls = Value::from_iter([(filters::CALLS, calls)]);
            minijinja::context! { ..calls, ..context }
        };
        if runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread {
            let context = with_calls(self, runtime, true, context);
            return self.render_now(names, context);
        }
        let this = Arc::clone(self);
        let names = names.to_vec();
        tokio::task::spawn_blocking(move || {
            let context = with_calls(&this, runtime, false, context);
            this.render_now(&names, context)
        })
        .await
        .map_err(|e| RenderError(format!("rendering failed: {e}")))?
    }

    fn render_now(&self, names: &[String], context: Value) -> Result<String, RenderError> {
        let Some(found) = names
            .iter()
            .find_map(|name| self.env.get_template(name).ok())
        else {
            return Err(RenderError(format!(
                "TemplateDoesNotExist: {}",
                names.join(", ")
            )));
        };
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

/// Refuses a filter name provided twice, or shadowing a built-in.
fn check_filter_names(
    env: &Environment<'static>,
    filters: &[FilterComponent],
) -> Result<(), TemplateError> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for component in filters {
        for filter in &component.filters {
            let clash = if let Some(other) = seen.insert(filter, &component.name) {
                format!("is also provided by filter component `{other}`")
            } else if load::exists(env, filter) {
                "would replace a built-in filter".to_owned()
            } else {
                continue;
            };
            return Err(TemplateError::DuplicateFilter {
                filter: filter.clone(),
                component: component.name.clone(),
                clash,
            });
        }
    }
    Ok(())
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
