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
use crate::capability::sql::{DatabaseLocation, DatabaseSpec, SqlLimits};

/// Every `[databases.NAME]`, by name.
pub(super) fn databases(
    src: &Source<'_>,
    base: &Path,
    raw: BTreeMap<Spanned<String>, Spanned<RawDatabase>>,
) -> Result<BTreeMap<String, DatabaseSpec>, ConfigError> {
    let mut databases = BTreeMap::new();
    for (name, db) in raw {
        let field = format!("databases.{}", name.get_ref());
        src.table_name(&name, &field, "a database name")?;
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
            location: location(src, base, &field, &db)?,
            limits: limits(src, &field, &db)?,
        };
        databases.insert(name.into_inner(), spec);
    }
    Ok(databases)
}

/// `url` (and `read_url`): `sqlite:PATH`, relative to the config file's
/// folder, or a `postgres://` URL.
fn location(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    db: &RawDatabase,
) -> Result<DatabaseLocation, ConfigError> {
    let url = &db.url;
    let text = url.get_ref();
    let url_field = format!("{field}.url");
    if let Some(path) = text.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(src.error(
                url.span(),
                &url_field,
                "`sqlite:` needs a file path, like \"sqlite:data/app.db\"".to_owned(),
            ));
        }
        if let Some(read_url) = &db.read_url {
            return Err(src.error(
                read_url.span(),
                &format!("{field}.read_url"),
                "`read_url` is for PostgreSQL; SQLite opens the file read-only for \"read\" grants"
                    .to_owned(),
            ));
        }
        return Ok(DatabaseLocation::Sqlite(base.join(path)));
    }
    if is_postgres(text) {
        let postgres = |url: &Spanned<String>, field: &str| {
            url.get_ref()
                .parse::<tokio_postgres::Config>()
                .map(|_| url.get_ref().clone())
                .map_err(|e| {
                    let why = std::error::Error::source(&e)
                        .map_or_else(|| e.to_string(), ToString::to_string);
                    src.error(url.span(), field, format!("not a PostgreSQL URL: {why}"))
                })
        };
        let read_url = match &db.read_url {
            None => None,
            Some(read_url) if is_postgres(read_url.get_ref()) => {
                Some(postgres(read_url, &format!("{field}.read_url"))?)
            }
            Some(read_url) => {
                return Err(src.error(
                    read_url.span(),
                    &format!("{field}.read_url"),
                    "expected a \"postgres://\" URL, for a role that may only read".to_owned(),
                ));
            }
        };
        return Ok(DatabaseLocation::Postgres {
            url: postgres(url, &url_field)?,
            read_url,
        });
    }
    Err(src.error(
        url.span(),
        &url_field,
        format!("unknown database URL {text:?}: expected \"sqlite:PATH\" or \"postgres://...\""),
    ))
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
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
