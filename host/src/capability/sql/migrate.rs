//! Migrations: the numbered `.sql` files of a database's `migrations`
//! folder, applied in order, each in one transaction with its record, so a
//! file is applied whole or not at all and never twice (the record table
//! is `shallot_migrations`, Django's `django_migrations`).
//!
//! A file is named `NNNN_description.sql`: its number orders it; two files
//! with one number, or a file that does not start with a number, are an
//! error before anything runs. On PostgreSQL each file's transaction first
//! locks the record table, so two `shallot migrate` at once apply a file
//! once: the second waits, then skips what the first recorded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::{DatabaseLocation, DatabaseSpec};

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
    /// The database refused a statement, or could not be reached; nothing
    /// of `name` was applied.
    #[error("{database} ({location}): {name}: {source}")]
    Database {
        /// The `[databases]` name.
        database: String,
        /// The file, or the URL without its password.
        location: String,
        /// The migration being applied, or the record table.
        name: String,
        /// What the database said.
        source: Box<dyn std::error::Error + Send + Sync>,
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

/// Builds the error for migration `migration` of database `name`.
fn failed<E: std::error::Error + Send + Sync + 'static>(
    name: &str,
    spec: &DatabaseSpec,
    migration: &str,
) -> impl Fn(E) -> MigrateError + use<E> {
    let (database, location, migration) = (
        name.to_owned(),
        spec.location.describe(),
        migration.to_owned(),
    );
    move |source| MigrateError::Database {
        database: database.clone(),
        location: location.clone(),
        name: migration.clone(),
        source: Box::new(source),
    }
}

const RECORDS: &str = "shallot_migrations";

/// The migrations of `spec` not yet recorded in its database (all of them
/// for a database that has no record table, or no file yet). Reads only.
pub async fn pending(name: &str, spec: &DatabaseSpec) -> Result<Vec<Migration>, MigrateError> {
    let Some(dir) = &spec.migrations else {
        return Ok(Vec::new());
    };
    let all = files(dir)?;
    let applied = match &spec.location {
        DatabaseLocation::Sqlite(path) => {
            sqlite_applied(path).map_err(failed(name, spec, RECORDS))?
        }
        DatabaseLocation::Postgres { url, .. } => {
            let records = |e| failed(name, spec, RECORDS)(said(e));
            let client = pg_connect(url).await.map_err(records)?;
            pg_applied(&client).await.map_err(records)?
        }
    };
    Ok(all
        .into_iter()
        .filter(|m| !applied.contains(&m.name))
        .collect())
}

/// Applies what [`pending`] lists, in order, each file and its record in
/// one transaction; stops at the first that fails (it leaves nothing).
/// Returns the ones applied.
pub async fn apply(name: &str, spec: &DatabaseSpec) -> Result<Vec<Migration>, MigrateError> {
    let todo = pending(name, spec).await?;
    if todo.is_empty() {
        return Ok(todo);
    }
    let mut done = Vec::new();
    match &spec.location {
        DatabaseLocation::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| MigrateError::Read {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            let records = failed(name, spec, RECORDS);
            let mut conn = Connection::open(path).map_err(&records)?;
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(&records)?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS shallot_migrations (\
                 name TEXT PRIMARY KEY, applied TEXT NOT NULL DEFAULT (datetime('now')))",
            )
            .map_err(&records)?;
            for migration in todo {
                let sql = read(&migration)?;
                let err = failed(name, spec, &migration.name);
                let tx = conn.transaction().map_err(&err)?;
                tx.execute_batch(&sql).map_err(&err)?;
                tx.execute(
                    "INSERT INTO shallot_migrations (name) VALUES (?1)",
                    [&migration.name],
                )
                .map_err(&err)?;
                tx.commit().map_err(&err)?;
                done.push(migration);
            }
        }
        DatabaseLocation::Postgres { url, .. } => {
            let records = |e| failed(name, spec, RECORDS)(said(e));
            let mut client = pg_connect(url).await.map_err(records)?;
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS shallot_migrations (\
                     name TEXT PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())",
                )
                .await
                .map_err(records)?;
            for migration in todo {
                let sql = read(&migration)?;
                let err = |e| failed(name, spec, &migration.name)(said(e));
                let tx = client.transaction().await.map_err(&err)?;
                tx.batch_execute("LOCK TABLE shallot_migrations IN EXCLUSIVE MODE")
                    .await
                    .map_err(&err)?;
                let recorded = tx
                    .query_opt(
                        "SELECT 1 FROM shallot_migrations WHERE name = $1",
                        &[&migration.name],
                    )
                    .await
                    .map_err(&err)?;
                if recorded.is_some() {
                    continue;
                }
                tx.batch_execute(&sql).await.map_err(&err)?;
                tx.execute(
                    "INSERT INTO shallot_migrations (name) VALUES ($1)",
                    &[&migration.name],
                )
                .await
                .map_err(&err)?;
                tx.commit().await.map_err(&err)?;
                done.push(migration);
            }
        }
    }
    Ok(done)
}

fn read(migration: &Migration) -> Result<String, MigrateError> {
    std::fs::read_to_string(&migration.path).map_err(|source| MigrateError::Read {
        path: migration.path.clone(),
        source,
    })
}

/// The names recorded in a SQLite file; none if there is no file yet.
fn sqlite_applied(path: &Path) -> Result<BTreeSet<String>, rusqlite::Error> {
    if !path.exists() {
        return Ok(BTreeSet::new());
    }
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let recorded: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'shallot_migrations'",
        [],
        |row| row.get(0),
    )?;
    if recorded == 0 {
        return Ok(BTreeSet::new());
    }
    let mut stmt = conn.prepare("SELECT name FROM shallot_migrations")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    names.collect()
}

/// What the server said (a `tokio_postgres::Error` shows only "db error").
fn said(e: tokio_postgres::Error) -> std::io::Error {
    match e.as_db_error() {
        Some(db) => std::io::Error::other(db.message().to_owned()),
        None => std::io::Error::other(e.to_string()),
    }
}

/// A connection for migrating, its socket driven by a task of its own.
async fn pg_connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The names recorded in a PostgreSQL database.
async fn pg_applied(
    client: &tokio_postgres::Client,
) -> Result<BTreeSet<String>, tokio_postgres::Error> {
    let exists = client
        .query_one("SELECT to_regclass('shallot_migrations') IS NOT NULL", &[])
        .await?;
    if !exists.get::<_, bool>(0) {
        return Ok(BTreeSet::new());
    }
    let rows = client
        .query("SELECT name FROM shallot_migrations", &[])
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}
