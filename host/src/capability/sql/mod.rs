//! `shallot:http/sql`: the databases of `[databases.NAME]`, opened by
//! components granted them in `sql_databases`.
//!
//! - **grant**: `sql_databases = ["default"]` (read and write) or
//!   `{ default = "read" }`; checked at link time and again on every `open`.
//! - **configure**: opens each database once per pipeline (a file that is
//!   not a database stops the load).
//! - **per request**: a connection is a resource in the store's table. It
//!   is taken from the database's pool on `open` and given back (its open
//!   transaction rolled back) when the hook call that opened it ends,
//!   trap or not; a handle the guest keeps answers `closed` afterwards.
//!
//! Statements run on tokio's blocking pool. The statement timeout bounds
//! each one; a pool with every connection in use makes `open` wait at most
//! that long, then fail `unavailable`. SQL text, parameters and results
//! are charged to the calling hook's CPU budget like any copy.

pub mod migrate;
mod sqlite;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use super::{Grant, blocking};
use crate::bindings::sql::{self, Host, HostConnection};
use crate::limits::Meter;

pub(crate) use crate::bindings::sql::{Executed, Rows, SqlError, SqlErrorKind, Value};

/// The grant that links this interface: `sql_databases = [...]`.
pub(crate) const GRANT: Grant = Grant {
    interface: "sql",
    field: "sql_databases",
    granted: |g| !g.sql_databases.is_empty(),
};

/// One `sql_databases` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlGrant {
    /// The `[databases]` name.
    pub name: String,
    /// What the component may do there.
    pub access: SqlAccess,
}

/// Read-only, or read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlAccess {
    /// `"read"`: connections the database opens read-only.
    Read,
    /// `"write"`, or a plain name.
    Write,
}

/// `[databases.NAME]` as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSpec {
    /// The SQLite file (`url = "sqlite:PATH"`).
    pub path: PathBuf,
    /// Its numbered `.sql` migrations (`migrations = "FOLDER"`), if any.
    pub migrations: Option<PathBuf>,
    /// Its limits.
    pub limits: SqlLimits,
}

/// What one call may ask of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// Connections open at once (`max_connections`, default 16).
    pub max_connections: usize,
    /// How long one statement may run (`statement_timeout_ms`, default 5 s).
    pub statement_timeout: Duration,
    /// Rows one query may return (`max_rows`, default 10,000).
    pub max_rows: usize,
    /// Bytes one query may return (`max_result_kib`, default 8 MiB).
    pub max_result_bytes: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        SqlLimits {
            max_connections: 16,
            statement_timeout: Duration::from_secs(5),
            max_rows: 10_000,
            max_result_bytes: 8 << 20,
        }
    }
}

/// An opened database: the backend and the cap on its connections.
pub(crate) struct SqlDatabase {
    backend: sqlite::SqliteDb,
    permits: Arc<Semaphore>,
}

impl SqlDatabase {
    fn limits(&self) -> &SqlLimits {
        self.backend.limits()
    }
}

/// Every configured database, by name, shared by a pipeline's components.
pub(crate) type SqlDatabases = Arc<BTreeMap<String, Arc<SqlDatabase>>>;

/// A database that could not be opened at load.
#[derive(Debug, thiserror::Error)]
#[error("database {name:?} ({}): {source}", path.display())]
pub(crate) struct SqlOpenError {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    #[source]
    pub(crate) source: rusqlite::Error,
}

/// Configure phase, once per pipeline: opens the databases some component
/// is granted (the others are not touched).
pub(crate) fn configure<'a>(
    specs: &BTreeMap<String, DatabaseSpec>,
    granted: impl Iterator<Item = &'a str>,
) -> Result<SqlDatabases, SqlOpenError> {
    let granted: std::collections::BTreeSet<&str> = granted.collect();
    let mut open = BTreeMap::new();
    for (name, spec) in specs.iter().filter(|(n, _)| granted.contains(n.as_str())) {
        let backend =
            sqlite::SqliteDb::open(&spec.path, spec.limits).map_err(|source| SqlOpenError {
                name: name.clone(),
                path: spec.path.clone(),
                source,
            })?;
        let db = SqlDatabase {
            backend,
            permits: Arc::new(Semaphore::new(spec.limits.max_connections)),
        };
        open.insert(name.clone(), Arc::new(db));
    }
    Ok(Arc::new(open))
}

/// A guest's connection: a pooled SQLite connection while its hook call
/// lasts, nothing after.
#[expect(unreachable_pub, reason = "bindgen!'s `with:` re-exports it")]
pub struct SqlConnection {
    db: Arc<SqlDatabase>,
    read_only: bool,
    /// `None` once closed, and while a statement runs on it.
    conn: Option<rusqlite::Connection>,
    closed: bool,
    /// Its place under `max_connections`, freed on close even if the guest
    /// keeps the handle.
    permit: Option<OwnedSemaphorePermit>,
}

impl SqlConnection {
    /// Gives the connection back to its pool and answers `closed` from now
    /// on. Without a transaction to roll back that is a push onto the idle
    /// list, done here; a rollback may touch the disk, so it runs on the
    /// blocking pool. (Handing every give-back to the blocking pool was
    /// most of a 20-row query's cost: thread wake-ups, not SQLite.)
    pub(crate) fn close(&mut self) {
        self.closed = true;
        if let Some(conn) = self.conn.take() {
            let (db, read_only) = (self.db.clone(), self.read_only);
            if sqlite::needs_rollback(&conn) {
                super::blocking_detached(move || db.backend.give_back(conn, read_only));
            } else {
                db.backend.give_back(conn, read_only);
            }
        }
        // After the connection is back, so the next `open` finds it idle.
        self.permit = None;
    }
}

impl Drop for SqlConnection {
    fn drop(&mut self) {
        self.close();
    }
}

/// What the SQL host functions reach, per request.
pub(crate) struct SqlView<'a> {
    pub(crate) table: &'a mut ResourceTable,
    pub(crate) meter: &'a mut Meter,
    /// Who is asking, for errors.
    pub(crate) component: &'a str,
    /// Its `sql_databases`.
    pub(crate) grants: &'a [SqlGrant],
    pub(crate) databases: &'a SqlDatabases,
    /// Set when a connection is opened, so the end of the call knows there
    /// is something to close.
    pub(crate) opened: &'a mut bool,
}

struct Sql;

impl HasData for Sql {
    type Data<'a> = SqlView<'a>;
}

/// Link phase: `shallot:http/sql`, only for granted components.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> SqlView<'_>,
) -> wasmtime::Result<()> {
    sql::add_to_linker::<T, Sql>(linker, view)
}

/// Closes every connection still open in `table`: the end of a hook call.
pub(crate) fn close_all(table: &mut ResourceTable) {
    for entry in table.iter_mut() {
        if let Some(conn) = entry.downcast_mut::<SqlConnection>() {
            conn.close();
        }
    }
}

fn failure(kind: SqlErrorKind, message: impl Into<String>) -> SqlError {
    SqlError {
        kind,
        message: message.into(),
    }
}

type Outcome<T> = wasmtime::Result<Result<T, SqlError>>;

impl SqlView<'_> {
    async fn open_connection(&mut self, name: String) -> Outcome<Resource<SqlConnection>> {
        let Some(grant) = self.grants.iter().find(|g| g.name == name) else {
            return Ok(Err(failure(
                SqlErrorKind::PermissionDenied,
                format!(
                    "{} may not open database {name:?}: not in its sql_databases",
                    self.component
                ),
            )));
        };
        let Some(db) = self.databases.get(&name).cloned() else {
            return Err(wasmtime::Error::msg(format!(
                "database {name:?} was not opened at load"
            )));
        };
        let read_only = grant.access == SqlAccess::Read;
        let wait = db.limits().statement_timeout;
        let permit = match tokio::time::timeout(wait, db.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                return Ok(Err(failure(
                    SqlErrorKind::Unavailable,
                    format!(
                        "every connection to database {name:?} stayed in use for {} ms (max_connections = {})",
                        wait.as_millis(),
                        db.limits().max_connections
                    ),
                )));
            }
        };
        // An idle connection is taken here; only opening a new one (it
        // reads the file) goes to the blocking pool.
        let taken = match db.backend.take_idle(read_only) {
            Some(conn) => Ok(conn),
            None => {
                let db = db.clone();
                blocking(move || db.backend.take(read_only)).await?
            }
        };
        let conn = match taken {
            Ok(conn) => conn,
            Err(e) => {
                let mut error = sqlite::error(&e, db.limits());
                error.kind = SqlErrorKind::Unavailable;
                return Ok(Err(error));
            }
        };
        *self.opened = true;
        let handle = self.table.push(SqlConnection {
            db,
            read_only,
            conn: Some(conn),
            closed: false,
            permit: Some(permit),
        })?;
        Ok(Ok(handle))
    }

    /// Runs `op` on the connection `handle` names, off the async workers.
    async fn run<T: Send + 'static>(
        &mut self,
        handle: &Resource<SqlConnection>,
        op: impl FnOnce(&mut rusqlite::Connection, &SqlLimits) -> Result<T, SqlError> + Send + 'static,
    ) -> Outcome<T> {
        let entry = self.table.get_mut(handle)?;
        if entry.closed {
            return Ok(Err(failure(
                SqlErrorKind::Closed,
                "this connection was closed when the hook call that opened it ended",
            )));
        }
        let Some(mut conn) = entry.conn.take() else {
            return Err(wasmtime::Error::msg(
                "connection in use by another statement",
            ));
        };
        let limits = *entry.db.limits();
        let (conn, result) = blocking(move || {
            let result = op(&mut conn, &limits);
            (conn, result)
        })
        .await?;
        self.table.get_mut(handle)?.conn = Some(conn);
        Ok(result)
    }

    fn charge(&mut self, sql: &str, params: &[Value]) -> wasmtime::Result<()> {
        let bytes = sql.len() + params.iter().map(sqlite::size).sum::<usize>();
        self.meter.charge_copy(bytes)
    }
}

impl Host for SqlView<'_> {}

impl HostConnection for SqlView<'_> {
    async fn open(&mut self, name: String) -> Outcome<Resource<SqlConnection>> {
        self.open_connection(name).await
    }

    async fn query(
        &mut self,
        conn: Resource<SqlConnection>,
        sql: String,
        params: Vec<Value>,
    ) -> Outcome<Rows> {
        self.charge(&sql, &params)?;
        let rows = self
            .run(&conn, move |c, limits| {
                sqlite::query(c, limits, &sql, params)
            })
            .await?;
        if let Ok(rows) = &rows {
            let bytes = rows.rows.iter().flatten().map(sqlite::size).sum();
            self.meter.charge_copy(bytes)?;
        }
        Ok(rows)
    }

    async fn execute(
        &mut self,
        conn: Resource<SqlConnection>,
        sql: String,
        params: Vec<Value>,
    ) -> Outcome<Executed> {
        self.charge(&sql, &params)?;
        self.run(&conn, move |c, limits| {
            sqlite::execute(c, limits, &sql, params)
        })
        .await
    }

    async fn begin(&mut self, conn: Resource<SqlConnection>) -> Outcome<()> {
        self.run(&conn, |c, limits| sqlite::batch(c, limits, "BEGIN"))
            .await
    }

    async fn commit(&mut self, conn: Resource<SqlConnection>) -> Outcome<()> {
        self.run(&conn, |c, limits| sqlite::batch(c, limits, "COMMIT"))
            .await
    }

    async fn rollback(&mut self, conn: Resource<SqlConnection>) -> Outcome<()> {
        self.run(&conn, |c, limits| sqlite::batch(c, limits, "ROLLBACK"))
            .await
    }

    async fn drop(&mut self, conn: Resource<SqlConnection>) -> wasmtime::Result<()> {
        // Dropping it closes it (see `Drop for SqlConnection`).
        self.table.delete(conn)?;
        Ok(())
    }
}
