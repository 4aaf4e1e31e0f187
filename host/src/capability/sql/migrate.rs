//! Migrations: the numbered `.sql` files of a database's `migrations`
//! folder, applied in order, each in one transaction with its record, so a
//! file is applied whole or not at all and never twice (the record table
//! is `shallot_migrations`, Django's `django_migrations`).
//!
//! A file is named `NNNN_description.sql`: its number orders it; two files
//! with one number, or a file that does not start with a number, are an
//! error before anything runs.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::DatabaseSpec;

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Its number, from the name.
    pub number: u64,
    /// The file name, as recorded (`0001_initial.sql`).
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
}

/// Why migrations could not be listed or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The folder or a file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `.sql` file whose name does not start with its number.
    #[error("{}: a migration's name starts with its number, like 0001_initial.sql", path.display())]
    Unnumbered {
        /// The file.
        path: PathBuf,
    },
    /// Two files with one number.
    #[error("{first} and {second} have the same number")]
    Duplicate {
        /// One file name.
        first: String,
        /// The other.
        second: String,
    },
    /// The database refused a statement; nothing of `name` was applied.
    #[error("{} ({}): {name}: {source}", database, path.display())]
    Database {
        /// The `[databases]` name.
        database: String,
        /// The database file.
        path: PathBuf,
        /// The migration being applied, or the record table.
        name: String,
        /// What the database said.
        source: Box<rusqlite::Error>,
    },
}

/// The migration files in `dir`, by number.
pub fn files(dir: &Path) -> Result<Vec<Migration>, MigrateError> {
    let read = |source| MigrateError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.extension().is_none_or(|e| e != "sql") || !path.is_file() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
        let Ok(number) = digits.parse::<u64>() else {
            return Err(MigrateError::Unnumbered { path });
        };
        found.push(Migration { number, name, path });
    }
    found.sort_by(|a, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    if let Some(pair) = found.windows(2).find(|w| w[0].number == w[1].number) {
        return Err(MigrateError::Duplicate {
            first: pair[0].name.clone(),
            second: pair[1].name.clone(),
        });
    }
    Ok(found)
}

const RECORDS: &str = "CREATE TABLE IF NOT EXISTS shallot_migrations (\
     name TEXT PRIMARY KEY, applied TEXT NOT NULL DEFAULT (datetime('now')))";

/// The migrations of `spec` not yet recorded in its database (all of them
/// for a database file that does not exist yet). Reads only.
pub fn pending(name: &str, spec: &DatabaseSpec) -> Result<Vec<Migration>, MigrateError> {
    let Some(dir) = &spec.migrations else {
        return Ok(Vec::new());
    };
    let all = files(dir)?;
    if !spec.path.exists() {
        return Ok(all);
    }
    let db_err = |source| MigrateError::Database {
        database: name.to_owned(),
        path: spec.path.clone(),
        name: "shallot_migrations".to_owned(),
        source: Box::new(source),
    };
    let conn = Connection::open_with_flags(&spec.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(db_err)?;
    let recorded = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'shallot_migrations'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map_err(db_err)?;
    if recorded == 0 {
        return Ok(all);
    }
    let mut applied = std::collections::BTreeSet::new();
    let mut stmt = conn
        .prepare("SELECT name FROM shallot_migrations")
        .map_err(db_err)?;
    for row in stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(db_err)?
    {
        applied.insert(row.map_err(db_err)?);
    }
    Ok(all
        .into_iter()
        .filter(|m| !applied.contains(&m.name))
        .collect())
}

/// Applies what [`pending`] lists, in order, each file and its record in
/// one transaction; stops at the first that fails (it leaves nothing).
/// Returns the ones applied.
pub fn apply(name: &str, spec: &DatabaseSpec) -> Result<Vec<Migration>, MigrateError> {
    let todo = pending(name, spec)?;
    if todo.is_empty() {
        return Ok(todo);
    }
    let db_err = |migration: &str| {
        let migration = migration.to_owned();
        move |source| MigrateError::Database {
            database: name.to_owned(),
            path: spec.path.clone(),
            name: migration,
            source: Box::new(source),
        }
    };
    if let Some(dir) = spec.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| MigrateError::Read {
            path: dir.to_owned(),
            source,
        })?;
    }
    let mut conn = Connection::open(&spec.path).map_err(db_err("shallot_migrations"))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err("shallot_migrations"))?;
    conn.execute_batch(RECORDS)
        .map_err(db_err("shallot_migrations"))?;
    for migration in &todo {
        let sql =
            std::fs::read_to_string(&migration.path).map_err(|source| MigrateError::Read {
                path: migration.path.clone(),
                source,
            })?;
        let tx = conn.transaction().map_err(db_err(&migration.name))?;
        tx.execute_batch(&sql).map_err(db_err(&migration.name))?;
        tx.execute(
            "INSERT INTO shallot_migrations (name) VALUES (?1)",
            [&migration.name],
        )
        .map_err(db_err(&migration.name))?;
        tx.commit().map_err(db_err(&migration.name))?;
    }
    Ok(todo)
}
