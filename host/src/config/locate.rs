//! Turns byte spans into `file:line:column` and names the field there.

use std::ops::Range;
use std::path::Path;

use super::ConfigError;

/// A byte range in the config text.
pub(super) type Span = Range<usize>;

pub(super) struct Source<'a> {
    path: &'a Path,
    text: &'a str,
    /// The `[databases]` names, once read: grants are checked against
    /// them where the grant is written, with its line.
    pub(super) databases: Vec<String>,
    /// Those of them on PostgreSQL without a `read_url`, where a `"read"`
    /// grant could not be enforced.
    pub(super) no_read_role: Vec<String>,
}

impl<'a> Source<'a> {
    pub(super) fn new(path: &'a Path, text: &'a str) -> Self {
        Source {
            path,
            text,
            databases: Vec::new(),
            no_read_role: Vec::new(),
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    }

    /// Checks a table's own name (`[databases.NAME]`, `[key_value.NAME]`):
    /// letters, digits, `_` and `-`, as `what` ("a database name") says.
    pub(super) fn table_name(
        &self,
        name: &toml::Spanned<String>,
        field: &str,
        what: &str,
    ) -> Result<(), ConfigError> {
        let text = name.get_ref();
        if text.is_empty()
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(self.error(
                name.span(),
                field,
                format!("{what} is letters, digits, `_` and `-`"),
            ));
        }
        Ok(())
    }

    pub(super) fn location(&self, span: Span) -> String {
        format!("{}:{}", self.path.display(), self.line_col(span.start).0)
    }

    pub(super) fn error(&self, span: Span, field: &str, message: String) -> ConfigError {
        let (line, column) = self.line_col(span.start);
        ConfigError::Invalid {
            file: self.path.to_owned(),
            line,
            column,
            field: field.to_owned(),
            message,
        }
    }

    /// A syntax or schema error from `toml`; the field is recovered from the
    /// text around the span, since toml only reports where, not what.
    pub(super) fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let start = e.span().map_or(0, |s| s.start);
        let message = e.message().trim_end().to_owned();
        self.error(start..start, &self.field_at(start), message)
    }

    /// `server.listen`, `middleware[1].config`: the table header above the
    /// offset (arrays of tables counted) plus the key on the offset's line.
    fn field_at(&self, offset: usize) -> String {
        let before = &self.text[..offset.min(self.text.len())];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[line_start..].lines().next().unwrap_or("").trim();
        let mut table = String::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        // An error reported at a table's header (a missing field) is about
        // that table.
        let well_formed = if line.starts_with("[[") {
            line.ends_with("]]")
        } else {
            line.starts_with('[') && line.ends_with(']') && !line.ends_with("]]")
        };
        let current_header = well_formed.then_some(line);
        for header in before[..line_start]
            .lines()
            .map(str::trim)
            .chain(current_header)
        {
            if let Some(name) = header.strip_prefix("[[").and_then(|h| h.split("]]").next()) {
                let name = name.trim().to_owned();
                let n = match counts.iter_mut().find(|(k, _)| *k == name) {
                    Some(entry) => {
                        entry.1 += 1;
                        entry.1
                    }
                    None => {
                        counts.push((name.clone(), 0));
                        0
                    }
                };
                table = format!("{name}[{n}]");
            } else if let Some(name) = header.strip_prefix('[').and_then(|h| h.split(']').next()) {
                table = name.trim().to_owned();
            }
        }
        let key = if line.starts_with('[') {
            ""
        } else {
            line.split('=').next().unwrap_or("").trim()
        };
        match (table.is_empty(), key.is_empty()) {
            (true, _) => key.to_owned(),
            (false, true) => table,
            (false, false) => format!("{table}.{key}"),
        }
    }
}
