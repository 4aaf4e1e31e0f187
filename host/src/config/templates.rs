//! `[templates]`: where templates are found and how far one rendering may
//! go (Django's `TEMPLATES` with the Jinja2 backend).

use std::path::{Path, PathBuf};

use crate::limits::Limits;

use super::component::named_list;
use super::locate::Source;
use super::numbers::to_usize;
use super::schema::RawTemplates;
use super::{ComponentSpec, ConfigError};

/// `[templates]`: what the host renders template responses with.
#[derive(Debug, Clone)]
pub struct TemplatesConfig {
    /// Folders searched in order, resolved against the config file's
    /// folder; the first that holds a name wins (Django's `DIRS`).
    pub dirs: Vec<PathBuf>,
    /// Template instructions one rendering may run (loops, calls). Default
    /// 1,000,000: a runaway loop fails the request instead of a worker.
    pub fuel: u64,
    /// Bytes one rendering may produce. Default 4 MiB.
    pub max_output_bytes: usize,
    /// How deep `include`s, macros, blocks and nested loops may go.
    /// Default 100 (the engine's own ceiling is 500).
    pub recursion_limit: usize,
    /// `[[templates.context_processors]]`, in order: components whose
    /// values every rendering's context gets.
    pub context_processors: Vec<ComponentSpec>,
    /// `[[templates.filters]]`: components providing template filters.
    pub filters: Vec<ComponentSpec>,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        TemplatesConfig {
            dirs: Vec::new(),
            fuel: 1_000_000,
            max_output_bytes: 4 << 20,
            recursion_limit: 100,
            context_processors: Vec::new(),
            filters: Vec::new(),
        }
    }
}

/// `[templates]`, each folder checked to exist.
pub(super) fn templates(
    src: &Source<'_>,
    base: &Path,
    raw: RawTemplates,
    defaults: &Limits,
) -> Result<TemplatesConfig, ConfigError> {
    let context_processors = named_list(
        src,
        base,
        raw.context_processors,
        defaults,
        "context processor",
        "templates.context_processors",
    )?;
    for (i, entry) in raw.filters.iter().enumerate() {
        let granted = [
            (
                "allowed_outbound_hosts",
                entry.get_ref().allowed_outbound_hosts.first(),
            ),
            ("key_value_stores", entry.get_ref().key_value_stores.first()),
        ];
        let sql = entry
            .get_ref()
            .sql_databases
            .as_ref()
            .map(|g| ("sql_databases", g.span()));
        let found = granted
            .into_iter()
            .find_map(|(field, v)| v.map(|v| (field, v.span())))
            .or(sql);
        if let Some((field, span)) = found {
            return Err(src.error(
                span,
                &format!("templates.filters[{i}].{field}"),
                "filters are pure functions of their arguments and get no capability".to_owned(),
            ));
        }
    }
    let filters = named_list(
        src,
        base,
        raw.filters,
        defaults,
        "filter component",
        "templates.filters",
    )?;
    let mut out = TemplatesConfig {
        context_processors,
        filters,
        ..TemplatesConfig::default()
    };
    for (i, dir) in raw.dirs.iter().enumerate() {
        let path = base.join(dir.get_ref());
        if !path.is_dir() {
            return Err(src.error(
                dir.span(),
                &format!("templates.dirs[{i}]"),
                format!("no such folder: {}", path.display()),
            ));
        }
        out.dirs.push(path);
    }
    if let Some(fuel) = src.bounded_opt(raw.fuel.as_ref(), "templates.fuel", 1_000, u64::MAX)? {
        out.fuel = fuel;
    }
    if let Some(kib) = src.bounded_opt(
        raw.max_output_kib.as_ref(),
        "templates.max_output_kib",
        1,
        1 << 20,
    )? {
        out.max_output_bytes = to_usize(kib << 10);
    }
    if let Some(n) = src.bounded_opt(
        raw.recursion_limit.as_ref(),
        "templates.recursion_limit",
        1,
        500,
    )? {
        out.recursion_limit = to_usize(n);
    }
    Ok(out)
}
