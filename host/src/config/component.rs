//! `[[middleware]]`, `[views.NAME]` and the template components: one
//! [`ComponentSpec`] per entry.
//! Everything an entry says is checked here, where the text is at hand, so
//! that a bad file, name or value is reported with its line and column
//! rather than when the component is loaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::limits::Limits;

use super::grants::grants;
use super::instance_policy::instance_policy;
use super::limits::overlay;
use super::locate::{Source, Span};
use super::schema::RawComponent;
use super::{ComponentSpec, ConfigError};

/// `[[middleware]]`, in order; each starts from the `[limits]` `defaults`.
pub(super) fn middleware(
    src: &Source<'_>,
    base: &Path,
    raw: Vec<Spanned<RawComponent>>,
    defaults: &Limits,
) -> Result<Vec<ComponentSpec>, ConfigError> {
    named_list(src, base, raw, defaults, "middleware", "middleware")
}

/// An array of tables of named components (`[[middleware]]`,
/// `[[templates.context_processors]]`), in order: `kind` names one in
/// messages, `key` is the array's dotted name.
pub(super) fn named_list(
    src: &Source<'_>,
    base: &Path,
    raw: Vec<Spanned<RawComponent>>,
    defaults: &Limits,
    kind: &str,
    key: &str,
) -> Result<Vec<ComponentSpec>, ConfigError> {
    let mut list: Vec<ComponentSpec> = Vec::with_capacity(raw.len());
    for (i, entry) in raw.into_iter().enumerate() {
        let field = format!("{key}[{i}]");
        let span = entry.span();
        let mut entry = entry.into_inner();
        let Some(name) = entry.name.take() else {
            return Err(src.error(span, &field, format!("a {kind} needs a `name`")));
        };
        check_name(src, &format!("{field}.name"), &name)?;
        if let Some(prev) = list.iter().position(|m| m.name == *name.get_ref()) {
            return Err(src.error(
                name.span(),
                &format!("{field}.name"),
                format!(
                    "duplicate {kind} name {:?} (also {key}[{prev}])",
                    name.get_ref()
                ),
            ));
        }
        let spec = component_spec(src, base, &field, name.into_inner(), span, entry, defaults)?;
        list.push(spec);
    }
    Ok(list)
}

/// `[views.NAME]`, by name; each starts from the `[limits]` `defaults`.
pub(super) fn views(
    src: &Source<'_>,
    base: &Path,
    raw: BTreeMap<Spanned<String>, Spanned<RawComponent>>,
    defaults: &Limits,
) -> Result<BTreeMap<String, ComponentSpec>, ConfigError> {
    let mut views = BTreeMap::new();
    for (name, view) in raw {
        let field = format!("views.{}", name.get_ref());
        check_name(src, &field, &name)?;
        let span = view.span();
        let view = view.into_inner();
        if let Some(n) = &view.name {
            return Err(src.error(
                n.span(),
                &format!("{field}.name"),
                "a view is named by its table key; remove `name`".to_owned(),
            ));
        }
        let spec = component_spec(
            src,
            base,
            &field,
            name.get_ref().clone(),
            span,
            view,
            defaults,
        )?;
        views.insert(name.into_inner(), spec);
    }
    Ok(views)
}

/// One entry, `field` naming it in errors (`middleware[1]`, `views.home`).
fn component_spec(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    name: String,
    span: Span,
    raw: RawComponent,
    defaults: &Limits,
) -> Result<ComponentSpec, ConfigError> {
    let limits = match &raw.limits {
        None => defaults.clone(),
        Some(own) => {
            let own_span = own.span();
            let own = own.get_ref();
            if own.max_stack_kib.is_some()
                || own.request_timeout_ms.is_some()
                || own.concurrent_instances.is_some()
            {
                return Err(src.error(
                    own_span,
                    &format!("{field}.limits"),
                    "max_stack_kib, request_timeout_ms and concurrent_instances apply to the whole server: set them in [limits]".to_owned(),
                ));
            }
            overlay(src, &format!("{field}.limits"), defaults, own)?
        }
    };
    let grants = grants(src, base, field, &raw)?;
    let policy = instance_policy(src, field, raw.instance_policy, raw.reuse)?;
    Ok(ComponentSpec {
        name,
        component: component_path(src, base, &format!("{field}.component"), &raw.component)?,
        config: config_values(src, &format!("{field}.config"), raw.config)?,
        location: src.location(span),
        limits,
        grants,
        policy,
    })
}

/// Names appear in logs, metrics and the admin API: keep them plain.
fn check_name(src: &Source<'_>, field: &str, name: &Spanned<String>) -> Result<(), ConfigError> {
    let n = name.get_ref();
    let ok = n.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(src.error(
            name.span(),
            field,
            format!("invalid name {n:?}: use lower-case letters, digits, '-' and '_', starting with a letter"),
        ))
    }
}

/// `component`, resolved against `base`; the file must exist.
fn component_path(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    value: &Spanned<String>,
) -> Result<PathBuf, ConfigError> {
    let path = base.join(value.get_ref());
    if !path.is_file() {
        return Err(src.error(
            value.span(),
            field,
            format!("component file not found: {}", path.display()),
        ));
    }
    Ok(path)
}

/// The `config` table as the strings `shallot:http/config` serves. A list
/// (Django settings are often lists: `SECURE_REDIRECT_EXEMPT`) is served
/// as a JSON array of strings, so no separator is ever ambiguous.
fn config_values(
    src: &Source<'_>,
    field: &str,
    table: BTreeMap<String, Spanned<toml::Value>>,
) -> Result<Vec<(String, String)>, ConfigError> {
    table
        .into_iter()
        .map(|(key, value)| {
            let refuse = |what: &str| {
                src.error(
                    value.span(),
                    &format!("{field}.{key}"),
                    format!(
                        "config values must be strings, numbers, booleans or lists of them, not {what}"
                    ),
                )
            };
            let text = match value.get_ref() {
                toml::Value::Array(items) => {
                    let items = items
                        .iter()
                        .map(|item| scalar(item).ok_or_else(|| refuse(&format!("a list holding {}", item.type_str()))))
                        .collect::<Result<Vec<_>, _>>()?;
                    serde_json::to_string(&items).expect("strings serialize")
                }
                other => scalar(other).ok_or_else(|| refuse(other.type_str()))?,
            };
            Ok((key, text))
        })
        .collect()
}

/// A string, number, boolean or date as the text a guest reads.
fn scalar(value: &toml::Value) -> Option<String> {
    Some(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(_) | toml::Value::Table(_) => return None,
    })
}
