//! Django's `reverse()`: from a route name (with its namespaces) and
//! arguments back to a path, the way `django/urls/base.py` and
//! `URLResolver._reverse_with_prefix` do it.
//!
//! The table is read once, when the router is built, into the lookups
//! Django's `_populate` makes: each named endpoint under the full pattern
//! that leads to it, normalized into the forms it can be filled in as.
//! Where several routes share a name, the one defined **last** is tried
//! first, as in Django; a namespace defined twice is the first one.
//! Reversing then fills in each form whose parameters are exactly the
//! arguments given, and keeps the first result that the route's own regex
//! matches, so converters are honoured (`<int:pk>` does not reverse with
//! `pk="x"`).

use std::collections::HashMap;

use regex::Regex;

use super::normalize::{Form, Piece, normalize};
use super::pyfmt::py_repr;
use super::{Node, NodeKind};

/// Why a name cannot be reversed, worded as Django words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReverseError {
    /// Django's `NoReverseMatch`.
    #[error("{0}")]
    NoReverseMatch(String),
    /// Positional and keyword arguments together (a `ValueError` in Django).
    #[error("Don't mix *args and **kwargs in call to reverse()!")]
    MixedArguments,
}

/// The lookups of one namespace (the root is one too).
#[derive(Debug, Default)]
pub(super) struct Namespace {
    /// By route name; the last-defined route first.
    by_name: HashMap<String, Vec<Entry>>,
    namespaces: HashMap<String, Namespace>,
}

/// One way to reach a named endpoint.
#[derive(Debug)]
struct Entry {
    /// The full pattern from the root, each level's `^` removed, as Django
    /// lists it in `NoReverseMatch`.
    pattern: String,
    forms: Vec<Form>,
    /// `^/` and the full pattern: a filled-in URL must match it.
    check: Option<Regex>,
}

/// What `_populate` collects below one resolver, relative to it.
#[derive(Default)]
struct Lookups {
    /// (name, Django's pattern, the check pattern), last-defined first.
    names: Vec<(String, String, String)>,
    /// (namespace, the prefix leading to it in both syntaxes, its lookups).
    namespaces: Vec<(String, String, String, Lookups)>,
}

/// Reads the route table into its reverse lookups.
pub(super) fn build(nodes: &[Node]) -> Namespace {
    finish(populate(nodes), "", "")
}

fn populate(nodes: &[Node]) -> Lookups {
    let mut out = Lookups::default();
    for node in nodes.iter().rev() {
        let python = strip_caret(&node.pattern.python);
        let check = strip_caret(&node.pattern.check);
        match &node.kind {
            NodeKind::Endpoint { name, .. } => {
                if let Some(name) = name {
                    out.names
                        .push((name.clone(), python.to_owned(), check.to_owned()));
                }
            }
            NodeKind::Include {
                namespace: Some(namespace),
                children,
            } => out.namespaces.push((
                namespace.clone(),
                python.to_owned(),
                check.to_owned(),
                populate(children),
            )),
            NodeKind::Include {
                namespace: None,
                children,
            } => {
                let inner = populate(children);
                for (name, p, c) in inner.names {
                    out.names
                        .push((name, format!("{python}{p}"), format!("{check}{c}")));
                }
                for (namespace, p, c, lookups) in inner.namespaces {
                    out.namespaces.push((
                        namespace,
                        format!("{python}{p}"),
                        format!("{check}{c}"),
                        lookups,
                    ));
                }
            }
        }
    }
    out
}

/// Makes every pattern absolute and prepares its forms and check.
fn finish(lookups: Lookups, python_prefix: &str, check_prefix: &str) -> Namespace {
    let mut namespace = Namespace::default();
    for (name, python, check) in lookups.names {
        let pattern = format!("{python_prefix}{python}");
        let entry = Entry {
            // A pattern Django cannot normalize never reverses.
            forms: normalize(&pattern).unwrap_or_default(),
            check: Regex::new(&format!("^/{check_prefix}{check}")).ok(),
            pattern,
        };
        namespace.by_name.entry(name).or_default().push(entry);
    }
    // Reversed, so that the first-defined of two namespaces of one name wins.
    for (name, python, check, inner) in lookups.namespaces.into_iter().rev() {
        let python = format!("{python_prefix}{python}");
        let check = format!("{check_prefix}{check}");
        namespace
            .namespaces
            .insert(name, finish(inner, &python, &check));
    }
    namespace
}

fn strip_caret(pattern: &str) -> &str {
    pattern.strip_prefix('^').unwrap_or(pattern)
}

impl Namespace {
    /// `reverse(viewname, args=args, kwargs=kwargs)`.
    pub(super) fn reverse(
        &self,
        viewname: &str,
        args: &[String],
        kwargs: &[(String, String)],
    ) -> Result<String, ReverseError> {
        if !args.is_empty() && !kwargs.is_empty() {
            return Err(ReverseError::MixedArguments);
        }
        let mut path: Vec<&str> = viewname.split(':').collect();
        let view = path.pop().unwrap_or_default();
        let mut resolver = self;
        let mut resolved: Vec<&str> = Vec::new();
        for ns in path {
            let Some(inner) = resolver.namespaces.get(ns) else {
                let message = if resolved.is_empty() {
                    format!("{} is not a registered namespace", py_repr(ns))
                } else {
                    format!(
                        "{} is not a registered namespace inside '{}'",
                        py_repr(ns),
                        resolved.join(":")
                    )
                };
                return Err(ReverseError::NoReverseMatch(message));
            };
            resolved.push(ns);
            resolver = inner;
        }
        let entries = resolver.by_name.get(view).map_or(&[][..], Vec::as_slice);
        for entry in entries {
            for form in &entry.forms {
                if let Some(url) = fill(entry, form, args, kwargs) {
                    return Ok(url);
                }
            }
        }
        Err(ReverseError::NoReverseMatch(not_found(
            view, entries, args, kwargs,
        )))
    }
}

/// One form filled in, if the arguments fit it and the result matches.
fn fill(
    entry: &Entry,
    form: &Form,
    args: &[String],
    kwargs: &[(String, String)],
) -> Option<String> {
    let mut subs: HashMap<&str, &str> = HashMap::new();
    if args.is_empty() {
        let given: std::collections::HashSet<&str> =
            kwargs.iter().map(|(k, _)| k.as_str()).collect();
        let wanted: std::collections::HashSet<&str> =
            form.params.iter().map(String::as_str).collect();
        if given != wanted {
            return None;
        }
        subs.extend(kwargs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    } else {
        if args.len() != form.params.len() {
            return None;
        }
        subs.extend(
            form.params
                .iter()
                .map(String::as_str)
                .zip(args.iter().map(String::as_str)),
        );
    }
    let mut candidate = String::from("/");
    for piece in &form.pieces {
        match piece {
            Piece::Text(text) => candidate.push_str(text),
            Piece::Param(name) => candidate.push_str(subs.get(name.as_str())?),
        }
    }
    if !entry.check.as_ref()?.is_match(&candidate) {
        return None;
    }
    Some(escape_leading_slashes(quote(&candidate)))
}

/// `urllib.parse.quote(url, safe=RFC3986_SUBDELIMS + "/~:@")`.
fn quote(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for byte in url.bytes() {
        if byte.is_ascii_alphanumeric() || b"_.-~!$&'()*+,;=/:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Django's `escape_leading_slashes`: `//evil.example` would leave the site.
fn escape_leading_slashes(url: String) -> String {
    match url.strip_prefix("//") {
        Some(rest) => format!("/%2F{rest}"),
        None => url,
    }
}

/// `NoReverseMatch`'s message, as `_reverse_with_prefix` words it.
fn not_found(
    view: &str,
    entries: &[Entry],
    args: &[String],
    kwargs: &[(String, String)],
) -> String {
    let name = format!("'{view}'");
    if entries.is_empty() {
        return format!(
            "Reverse for {name} not found. {name} is not a valid view function or pattern name."
        );
    }
    let arguments = if !args.is_empty() {
        let items: Vec<String> = args.iter().map(|a| py_repr(a)).collect();
        let tuple = if items.len() == 1 {
            format!("({},)", items[0])
        } else {
            format!("({})", items.join(", "))
        };
        format!("arguments '{tuple}'")
    } else if !kwargs.is_empty() {
        let items: Vec<String> = kwargs
            .iter()
            .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
            .collect();
        format!("keyword arguments '{{{}}}'", items.join(", "))
    } else {
        "no arguments".to_owned()
    };
    let patterns: Vec<String> = entries.iter().map(|e| py_repr(&e.pattern)).collect();
    format!(
        "Reverse for {name} with {arguments} not found. {} pattern(s) tried: [{}]",
        entries.len(),
        patterns.join(", ")
    )
}
