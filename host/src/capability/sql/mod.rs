//! `shallot:http/sql`: the databases of `[databases.NAME]`, opened by
//! components granted them in `sql_databases`.
//!
//! - **grant**: `sql_databases = ["default"]` (read and write) or
//!   `{ default = "read" }`; checked at link time and again on every `open`.
//! - **configure**: opens each database once per pipeline (a file that is
//!   not a database stops the load; a PostgreSQL server is not contacted
//!   until a request opens a connection, so one that is down fails those
//!   requests `unavailable`, not the load).
//! - **per request**: a connection is a resource in the store's table. It
//!   is taken from the database's pool on `open` and given back (its open
//!   transaction rolled back) when the hook call that opened it ends,
//!   trap or not; a handle the guest keeps answers `closed` afterwards.
//!
//! Two backends, chosen by `url`: SQLite (`sqlite.rs`; statements run on
//! tokio's blocking pool) and PostgreSQL (`postgres.rs`; async, on the
//! serving thread). The statement timeout bounds each statement; a pool
//! with every connection in use makes `open` wait at most that long, then
//! fail `unavailable`. SQL text, parameters and results are charged to the
//! calling hook's CPU budget like any copy.

pub mod migrate;
mod postgres;
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
    /// Where the database is (`url`, `read_url`).
    pub location: DatabaseLocation,
    /// Its numbered `.sql` migrations (`migrations = "FOLDER"`), if any.
    pub migrations: Option<PathBuf>,
    /// Its limits.
    pub limits: SqlLimits,
}

/// Where a database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// `url = "sqlite:PATH"`: a file, made if missing.
    Sqlite(PathBuf),
    /// `url = "postgres://..."`, and the role read grants connect as.
    Postgres {
        /// `url`.
        url: String,
        /// `read_url`: a role that may only read.
        read_url: Option<String>,
    },
}

impl DatabaseLocation {
    /// The file, or the URL without its password: for messages.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(path) => path.display().to_string(),
            DatabaseLocation::Postgres { url, .. } => match url::Url::parse(url) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    url.to_string()
                }
                Err(_) => "postgres://...".to_owned(),
            },
        }
    }
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
    backend: Backend,
    permits: Arc<Semaphore>,
}

enum Backend {
    Sqlite(sqlite::SqliteDb),
    // Boxed: its two connection configs make it five times SQLite's size.
    Postgres(Box<postgres::PostgresDb>),
}

/// A pooled connection of either backend.
enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::PgConnection),
}

/// What a guest asks a connection to run.
enum Call {
    Query(String, Vec<Value>),
    Execute(String, Vec<Value>),
    /// `BEGIN`, `COMMIT` or `ROLLBACK`.
    Batch(&'static str),
}

/// What it ran.
enum Done {
    Rows(Rows),
    Executed(Executed),
    Batch,
}

impl SqlDatabase {
    fn limits(&self) -> &SqlLimits {
        match &self.backend {
            Backend::Sqlite(db) => db.limits(),
            Backend::Postgres(db) => db.limits(),
        }
    }

    /// An idle connection, or a new one.
    async fn take(self: &Arc<Self>, read_only: bool) -> wasmtime::Result<Result<Conn, SqlError>> {
        Ok(match &self.backend {
            // An idle connection is taken here; only opening a new one
            // (it reads the file) goes to the blocking pool.
            Backend::Sqlite(sqlite) => match sqlite.take_idle(read_only) {
                Some(conn) => Ok(Conn::Sqlite(conn)),
                None => {
                    let db = self.clone();
                    let limits = *self.limits();
                    blocking(move || match &db.backend {
                        Backend::Sqlite(sqlite) => sqlite.take(read_only),
                        Backend::Postgres(_) => unreachable!("a SQLite database"),
                    })
                    .await?
                    .map(Conn::Sqlite)
                    .map_err(|e| SqlError {
                        kind: SqlErrorKind::Unavailable,
                        ..sqlite::error(&e, &limits)
                    })
                }
            },
            Backend::Postgres(postgres) => match postgres.take_idle(read_only) {
                Some(conn) => Ok(Conn::Postgres(conn)),
                None => postgres.connect(read_only).await.map(Conn::Postgres),
            },
        })
    }

    /// Gives `conn` back to the pool, then frees its `permit`. Without a
    /// transaction to roll back that is a push onto the idle list, done
    /// here; a rollback is I/O, so it happens off this call (handing every
    /// give-back to the blocking pool was most of a 20-row query's cost:
    /// thread wake-ups, not SQLite).
    fn give_back(self: &Arc<Self>, conn: Conn, read_only: bool, permit: OwnedSemaphorePermit) {
        let db = self.clone();
        match (&self.backend, conn) {
            (Backend::Sqlite(sqlite), Conn::Sqlite(conn)) => {
                if sqlite::needs_rollback(&conn) {
                    super::blocking_detached(move || {
                        if let Backend::Sqlite(sqlite) = &db.backend {
                            sqlite.give_back(conn, read_only);
                        }
                        drop(permit);
                    });
                } else {
                    sqlite.give_back(conn, read_only);
                }
            }
            (Backend::Postgres(postgres), Conn::Postgres(conn)) => {
                if !conn.needs_rollback() {
                    postgres.give_back_clean(conn, read_only);
                } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        if let Backend::Postgres(postgres) = &db.backend {
                            postgres.give_back(conn, read_only).await;
                        }
                        drop(permit);
                    });
                }
                // Without a runtime the connection is dropped: closing it
                // makes the server roll back.
            }
            _ => unreachable!("a connection comes from its own database's backend"),
        }
    }
}

/// Every configured database, by name, shared by a pipeline's components.
pub(crate) type SqlDatabases = Arc<BTreeMap<String, Arc<SqlDatabase>>>;

/// A database that could not be opened at load.
#[derive(Debug, thiserror::Error)]
#[error("database {name:?} ({location}): {source}")]
pub(crate) struct SqlOpenError {
    pub(crate) name: String,
    /// The file, or the URL without its password.
    pub(crate) location: String,
    #[source]
    pub(crate) source: Box<dyn std::error::Error + Send + Sync>,
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
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| SqlOpenError {
            name: name.clone(),
            location: spec.location.describe(),
            source,
        };
        let backend = match &spec.location {
            DatabaseLocation::Sqlite(path) => sqlite::SqliteDb::open(path, spec.limits)
                .map(Backend::Sqlite)
                .map_err(|e| failed(e.into()))?,
            DatabaseLocation::Postgres { url, read_url } => {
                postgres::PostgresDb::new(url, read_url.as_deref(), spec.limits)
                    .map(|db| Backend::Postgres(Box::new(db)))
                    .map_err(|e| failed(e.into()))?
            }
        };
        let db = SqlDatabase {
            backend,
            permits: Arc::new(Semaphore::new(spec.limits.max_connections)),
        };
        open.insert(name.clone(), Arc::new(db));
    }
    Ok(Arc::new(open))
}

/// A guest's connection: a pooled connection while its hook call lasts,
/// nothing after.
#[expect(unreachable_pub, reason = "bindgen!'s `with:` re-exports it")]
pub struct SqlConnection {
    db: Arc<SqlDatabase>,
    read_only: bool,
    /// `None` once closed, and while a statement runs on it.
    conn: Option<Conn>,
    closed: bool,
    /// Its place under `max_connections`, freed on close even if the guest
    /// keeps the handle.
    permit: Option<OwnedSemaphorePermit>,
}

impl SqlConnection {
    /// Gives the connection back to its pool and answers `closed` from now
    /// on; its place under `max_connections` is freed once it is back, so
    /// the next `open` finds it idle.
    pub(crate) fn close(&mut self) {
        self.closed = true;
        // Without a connection, a statement was cut short (its call
        // trapped): there is nothing to give back.
        if let (Some(conn), Some(permit)) = (self.conn.take(), self.permit.take()) {
            self.db.give_back(conn, self.read_only, permit);
        }
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
        let conn = match db.take(read_only).await? {
            Ok(conn) => conn,
            Err(error) => return Ok(Err(error)),
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

    /// Runs `statement` on the connection `handle` names: on the blocking
    /// pool for SQLite, here for PostgreSQL.
    async fn run(&mut self, handle: &Resource<SqlConnection>, call: Call) -> Outcome<Done> {
        let entry = self.table.get_mut(handle)?;
        if entry.closed {
            return Ok(Err(failure(
                SqlErrorKind::Closed,
                "this connection was closed when the hook call that opened it ended",
            )));
        }
        let Some(conn) = entry.conn.take() else {
            return Err(wasmtime::Error::msg(
                "connection in use by another statement",
            ));
        };
        let limits = *entry.db.limits();
        let (conn, result) = match conn {
            Conn::Sqlite(mut conn) => {
                blocking(move || {
                    let result = sqlite::run(&mut conn, &limits, call);
                    (Conn::Sqlite(conn), result)
                })
                .await?
            }
            Conn::Postgres(mut conn) => {
                let result = postgres::run(&mut conn, &limits, call).await;
                (Conn::Postgres(conn), result)
            }
        };
        self.table.get_mut(handle)?.conn = Some(conn);
        Ok(result)
    }

    fn charge(&mut self, sql: &str, params: &[Value]) -> wasmtime::Result<()> {
        let bytes = sql.len() + params.iter().map(size).sum::<usize>();
        self.meter.charge_copy(bytes)
    }
}

impl SqlView<'_> {
    async fn batch(&mut self, conn: Resource<SqlConnection>, sql: &'static str) -> Outcome<()> {
        Ok(self.run(&conn, Call::Batch(sql)).await?.map(|_| ()))
    }
}

/// A query's rows as a backend collects them, within `max_rows` and
/// `max_result_bytes`: past either the query fails `too-large`, nothing
/// truncated.
struct RowsBuilder<'a> {
    limits: &'a SqlLimits,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    bytes: usize,
}

impl<'a> RowsBuilder<'a> {
    fn new(limits: &'a SqlLimits, columns: Vec<String>) -> Self {
        RowsBuilder {
            limits,
            bytes: columns.iter().map(String::len).sum(),
            columns,
            rows: Vec::new(),
        }
    }

    /// Before reading another row: is there room for it?
    fn check_count(&self) -> Result<(), SqlError> {
        if self.rows.len() == self.limits.max_rows {
            return Err(failure(
                SqlErrorKind::TooLarge,
                format!(
                    "the query returned more than max_rows ({}) rows",
                    self.limits.max_rows
                ),
            ));
        }
        Ok(())
    }

    fn push(&mut self, row: Vec<Value>) -> Result<(), SqlError> {
        self.bytes += row.iter().map(size).sum::<usize>();
        if self.bytes > self.limits.max_result_bytes {
            return Err(failure(
                SqlErrorKind::TooLarge,
                format!(
                    "the query returned more than max_result_kib ({} KiB)",
                    self.limits.max_result_bytes >> 10
                ),
            ));
        }
        self.rows.push(row);
        Ok(())
    }

    fn finish(self) -> Rows {
        Rows {
            columns: self.columns,
            rows: self.rows,
        }
    }
}

/// What a value costs to hand over: its bytes, or a word.
fn size(v: &Value) -> usize {
    match v {
        Value::Text(s) => s.len(),
        Value::Blob(b) => b.len(),
        _ => 8,
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
        let rows = match self.run(&conn, Call::Query(sql, params)).await? {
            Ok(Done::Rows(rows)) => rows,
            Ok(_) => unreachable!("a query answers rows"),
            Err(e) => return Ok(Err(e)),
        };
        let bytes = rows.rows.iter().flatten().map(size).sum();
        self.meter.charge_copy(bytes)?;
        Ok(Ok(rows))
    }

    async fn execute(
        &mut self,
        conn: Resource<SqlConnection>,
        sql: String,
        params: Vec<Value>,
    ) -> Outcome<Executed> {
        self.charge(&sql, &params)?;
        Ok(match self.run(&conn, Call::Execute(sql, params)).await? {
            Ok(Done::Executed(done)) => Ok(done),
            Ok(_) => unreachable!("execute answers what it did"),
            Err(e) => Err(e),
        })
    }

    async fn begin(&mut self, conn: Resource<SqlConnection>) -> Outcome<()> {
        self.batch(conn, "BEGIN").await
    }

    async fn commit(&mut self, conn: Resource<SqlConnection>) -> Outcome<()> {
        self.batch(conn, "COMMIT").await
    }

    async fn rollback(&mut self, conn: Resource<SqlConnection>) -> Outcome<()> {
        self.batch(conn, "ROLLBACK").await
    }

    async fn drop(&mut self, conn: Resource<SqlConnection>) -> wasmtime::Result<()> {
        // Dropping it closes it (see `Drop for SqlConnection`).
        self.table.delete(conn)?;
        Ok(())
    }
}
