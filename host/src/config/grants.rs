//! A component's capabilities: `env`, `dirs`, `allowed_outbound_hosts`,
//! `key_value_stores` and `sql_databases`. What is granted is checked now, so that a grant that
//! could never work (a relative guest path, a missing directory, a malformed
//! host pattern) stops the config from loading instead of failing a request.

use std::path::Path;

use toml::Spanned;

use super::locate::Source;
use super::schema::RawComponent;
use super::{ConfigError, Grants};
use crate::capability::sql::{SqlAccess, SqlGrant};

/// The grants of the entry `field`, directories resolved against `base`.
pub(super) fn grants(
    src: &Source<'_>,
    base: &Path,
    field: &str,
    raw: &RawComponent,
) -> Result<Grants, ConfigError> {
    let mut grants = Grants::default();
    for var in &raw.env {
        grants.env.push(var.get_ref().clone());
    }
    for (guest, host) in &raw.dirs {
        let dir = base.join(host.get_ref());
        if !guest.starts_with('/') {
            return Err(src.error(
                host.span(),
                &format!("{field}.dirs"),
                format!("guest path {guest:?} must be absolute, like \"/static\""),
            ));
        }
        if !dir.is_dir() {
            return Err(src.error(
                host.span(),
                &format!("{field}.dirs.{guest}"),
                format!("directory not found: {}", dir.display()),
            ));
        }
        grants.dirs.push((guest.clone(), dir));
    }
    for (i, pattern) in raw.allowed_outbound_hosts.iter().enumerate() {
        crate::capability::check_host_pattern(pattern.get_ref()).map_err(|reason| {
            src.error(
                pattern.span(),
                &format!("{field}.allowed_outbound_hosts[{i}]"),
                reason,
            )
        })?;
        grants
            .allowed_outbound_hosts
            .push(pattern.get_ref().clone());
    }
    for store in &raw.key_value_stores {
        grants.key_value_stores.push(store.get_ref().clone());
    }
    if let Some(sql) = &raw.sql_databases {
        grants.sql_databases = sql_grants(src, &format!("{field}.sql_databases"), sql)?;
    }
    Ok(grants)
}

/// `sql_databases = ["default"]` (read and write) or
/// `sql_databases = { default = "read" }`; each name must be a
/// `[databases]` entry. Errors point at the whole value (its items keep
/// no spans of their own) and name the item in the field.
fn sql_grants(
    src: &Source<'_>,
    field: &str,
    raw: &Spanned<toml::Value>,
) -> Result<Vec<SqlGrant>, ConfigError> {
    let bad = |at: &str, message: String| src.error(raw.span(), at, message);
    let mut entries: Vec<(String, String, SqlAccess)> = Vec::new();
    match raw.get_ref() {
        toml::Value::Array(names) => {
            for (i, name) in names.iter().enumerate() {
                let at = format!("{field}[{i}]");
                let Some(name) = name.as_str() else {
                    return Err(bad(&at, "expected a database name (a string)".to_owned()));
                };
                entries.push((name.to_owned(), at, SqlAccess::Write));
            }
        }
        toml::Value::Table(accesses) => {
            for (name, access) in accesses {
                let at = format!("{field}.{name}");
                let access = match access.as_str() {
                    Some("read") => SqlAccess::Read,
                    Some("write") => SqlAccess::Write,
                    _ => {
                        return Err(bad(
                            &at,
                            format!("access {access} is neither \"read\" nor \"write\""),
                        ));
                    }
                };
                entries.push((name.clone(), at, access));
            }
        }
        _ => {
            return Err(bad(
                field,
                "expected names, like [\"default\"], or accesses, like { default = \"read\" }"
                    .to_owned(),
            ));
        }
    }
    let mut grants = Vec::new();
    for (name, at, access) in entries {
        if !src.databases.contains(&name) {
            let known = if src.databases.is_empty() {
                "there is no [databases] table".to_owned()
            } else {
                format!("defined: {}", src.databases.join(", "))
            };
            return Err(bad(&at, format!("no database named {name:?} ({known})")));
        }
        if access == SqlAccess::Read && src.no_read_role.contains(&name) {
            return Err(bad(
                &at,
                format!(
                    "a \"read\" grant on PostgreSQL needs the database's `read_url`, a role that \
                     may only SELECT: a session can turn PostgreSQL's read-only transactions off \
                     (databases.{name}.read_url)"
                ),
            ));
        }
        grants.push(SqlGrant { name, access });
    }
    Ok(grants)
}
