//! `[databases.NAME]`: the SQL databases behind `sql_databases` grants,
//! with their limits. The database itself is opened at load (the `sql`
//! capability's configure phase); here only what is written is checked.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::ConfigError;
use super::locate::Source;
use super::numbers::{DAY_SECS, to_usize};
use super::schema::RawDatabase;
use crate::capability::sql::{DatabaseSpec, SqlLimits};

/// Every `[databases.NAME]`, by name.
pub(super) fn databases(
    src: &Source<'_>,
    base: &Path,
    raw: BTreeMap<Spanned<String>, Spanned<RawDatabase>>,
) -> Result<BTreeMap<String, DatabaseSpec>, ConfigError> {
    let mut databases = BTreeMap::new();
    for (name, db) in raw {
        let field = format!("databases.{}", name.get_ref());
        if name.get_ref().is_empty()
            || !name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(src.error(
                name.span(),
                &field,
                "a database name is letters, digits, `_` and `-`".to_owned(),
            ));
        }
        let db = db.into_inner();
        let migrations = match &db.migrations {
            None => None,
            Some(dir) => {
                let path = base.join(dir.get_ref());
                if !path.is_dir() {
                    return Err(src.error(
                        dir.span(),
                        &format!("{field}.migrations"),
                        format!("no such folder: {}", path.display()),
                    ));
                }
                Some(path)
            }
        };
        let spec = DatabaseSpec {
            migrations,
            path: sqlite_path(src, base, &format!("{field}.url"), &db.url)?,
            limits: limits(src, &field, &db)?,
        };
        databases.insert(name.into_inner(), spec);
    }
    Ok(databases)
}

/// `sqlite:PATH`, relative to the config file's folder.
fn sqlite_path(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    url: &Spanned<String>,
) -> Result<std::path::PathBuf, ConfigError> {
    let text = url.get_ref();
    if let Some(path) = text.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(src.error(
                url.span(),
                field,
                "`sqlite:` needs a file path, like \"sqlite:data/app.db\"".to_owned(),
            ));
        }
        return Ok(base.join(path));
    }
    let reason = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        "PostgreSQL databases are not supported yet; use \"sqlite:PATH\"".to_owned()
    } else {
        format!("unknown database URL {text:?}: expected \"sqlite:PATH\"")
    };
    Err(src.error(url.span(), field, reason))
}

fn limits(src: &Source<'_>, field: &str, db: &RawDatabase) -> Result<SqlLimits, ConfigError> {
    let mut limits = SqlLimits::default();
    if let Some(n) = src.bounded_opt(
        db.max_connections.as_ref(),
        &format!("{field}.max_connections"),
        1,
        10_000,
    )? {
        limits.max_connections = to_usize(n);
    }
    if let Some(ms) = src.bounded_opt(
        db.statement_timeout_ms.as_ref(),
        &format!("{field}.statement_timeout_ms"),
        1,
        DAY_SECS * 1000,
    )? {
        limits.statement_timeout = Duration::from_millis(ms);
    }
    if let Some(n) = src.bounded_opt(
        db.max_rows.as_ref(),
        &format!("{field}.max_rows"),
        1,
        1 << 32,
    )? {
        limits.max_rows = to_usize(n);
    }
    if let Some(kib) = src.bounded_opt(
        db.max_result_kib.as_ref(),
        &format!("{field}.max_result_kib"),
        1,
        1 << 30,
    )? {
        limits.max_result_bytes = to_usize(kib) << 10;
    }
    Ok(limits)
}
