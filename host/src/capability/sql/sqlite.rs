//! The SQLite backend: one database file, a pool of connections, and the
//! statements run on them. Everything here blocks; the capability calls it
//! on tokio's blocking pool.
//!
//! - Read-only grants get connections opened `SQLITE_OPEN_READ_ONLY` (and
//!   `query_only`), so SQLite refuses their writes whatever the SQL says.
//! - The statement timeout is a progress handler that interrupts the
//!   statement once its deadline passes; the same budget bounds waiting for
//!   another connection's write lock (`busy_timeout`).
//! - The file is in WAL mode: readers do not wait for a writer.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{Call, Done, Executed, Rows, RowsBuilder, SqlError, SqlErrorKind, SqlLimits, Value};

/// One SQLite file and its idle connections, read-write and read-only.
pub(crate) struct SqliteDb {
    path: PathBuf,
    limits: SqlLimits,
    idle: [Mutex<Vec<Connection>>; 2],
}

impl SqliteDb {
    /// Opens (creating it if needed) the file, in WAL mode, with foreign
    /// keys enforced. Fails if the file cannot be opened or is not SQLite.
    pub(crate) fn open(path: &Path, limits: SqlLimits) -> Result<SqliteDb, rusqlite::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                rusqlite::Error::InvalidPath(PathBuf::from(format!("{}: {e}", dir.display())))
            })?;
        }
        let db = SqliteDb {
            path: path.to_owned(),
            limits,
            idle: Default::default(),
        };
        let first = db.connect(false)?;
        first.pragma_update(None, "journal_mode", "WAL")?;
        // Reading the schema proves the file is a database.
        first.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        db.give_back(first, false);
        Ok(db)
    }

    /// What this database allows one call.
    pub(crate) fn limits(&self) -> &SqlLimits {
        &self.limits
    }

    /// An idle connection, if there is one: no I/O, so callers take it
    /// on the serving thread.
    pub(crate) fn take_idle(&self, read_only: bool) -> Option<Connection> {
        lock(&self.idle[usize::from(read_only)]).pop()
    }

    /// An idle connection, or a new one (opening one reads the file).
    pub(crate) fn take(&self, read_only: bool) -> Result<Connection, rusqlite::Error> {
        match self.take_idle(read_only) {
            Some(conn) => Ok(conn),
            None => self.connect(read_only),
        }
    }

    /// Returns a connection to the pool, rolling back a transaction its
    /// guest left open. One that cannot roll back is closed instead. Only
    /// the rollback does I/O (see [`needs_rollback`]).
    pub(crate) fn give_back(&self, conn: Connection, read_only: bool) {
        if needs_rollback(&conn) && conn.execute_batch("ROLLBACK").is_err() {
            return;
        }
        let mut idle = lock(&self.idle[usize::from(read_only)]);
        if idle.len() < self.limits.max_connections {
            idle.push(conn);
        }
    }

    fn connect(&self, read_only: bool) -> Result<Connection, rusqlite::Error> {
        let access = if read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let conn = Connection::open_with_flags(
            &self.path,
            access | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )?;
        conn.busy_timeout(self.limits.statement_timeout)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        if read_only {
            conn.pragma_update(None, "query_only", "ON")?;
        }
        Ok(conn)
    }
}

/// Whether giving `conn` back means rolling back a transaction first.
pub(crate) fn needs_rollback(conn: &Connection) -> bool {
    !conn.is_autocommit()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs what a guest asked for.
pub(super) fn run(conn: &mut Connection, limits: &SqlLimits, call: Call) -> Result<Done, SqlError> {
    match call {
        Call::Query(sql, params) => query(conn, limits, &sql, params).map(Done::Rows),
        Call::Execute(sql, params) => execute(conn, limits, &sql, params).map(Done::Executed),
        Call::Batch(sql) => batch(conn, limits, sql).map(|()| Done::Batch),
    }
}

/// Runs `op` with the statement timeout armed.
fn timed<T>(
    conn: &mut Connection,
    limits: &SqlLimits,
    op: impl FnOnce(&mut Connection) -> Result<T, SqlError>,
) -> Result<T, SqlError> {
    let deadline = Instant::now() + limits.statement_timeout;
    // Called every 1,000 virtual-machine steps; `true` interrupts.
    let armed = conn.progress_handler(1_000, Some(move || Instant::now() >= deadline));
    armed.map_err(|e| error(&e, limits))?;
    let result = op(conn);
    let _ = conn.progress_handler(0, None::<fn() -> bool>);
    result
}

/// `sql` with `params`, its rows capped by `max_rows` and `max_result_bytes`.
pub(crate) fn query(
    conn: &mut Connection,
    limits: &SqlLimits,
    sql: &str,
    params: Vec<Value>,
) -> Result<Rows, SqlError> {
    timed(conn, limits, |conn| {
        let mut stmt = conn.prepare(sql).map_err(|e| error(&e, limits))?;
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let width = columns.len();
        let mut out = RowsBuilder::new(limits, columns);
        bind(&mut stmt, params, limits)?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(|e| error(&e, limits))? {
            out.check_count()?;
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(from_sql(row.get_ref(i).map_err(|e| error(&e, limits))?));
            }
            out.push(values)?;
        }
        Ok(out.finish())
    })
}

/// `sql` with `params`, for statements that return no rows.
pub(crate) fn execute(
    conn: &mut Connection,
    limits: &SqlLimits,
    sql: &str,
    params: Vec<Value>,
) -> Result<Executed, SqlError> {
    timed(conn, limits, |conn| {
        let before = conn.last_insert_rowid();
        let mut stmt = conn.prepare(sql).map_err(|e| error(&e, limits))?;
        bind(&mut stmt, params, limits)?;
        let changed = stmt.raw_execute().map_err(|e| error(&e, limits))?;
        drop(stmt);
        let after = conn.last_insert_rowid();
        Ok(Executed {
            rows_affected: changed as u64,
            last_insert_id: (after != 0 && after != before).then_some(after),
        })
    })
}

/// `BEGIN`, `COMMIT` or `ROLLBACK`.
pub(crate) fn batch(conn: &mut Connection, limits: &SqlLimits, sql: &str) -> Result<(), SqlError> {
    timed(conn, limits, |conn| {
        conn.execute_batch(sql).map_err(|e| error(&e, limits))
    })
}

/// Binds `params` by number: `?1` and `$1` (PostgreSQL's form, so the same
/// SQL runs on both) take the first value wherever they appear, a bare `?`
/// the next one. Named parameters (`:name`, `@name`) are refused, and so is
/// a count that does not match what the statement uses.
fn bind(
    stmt: &mut rusqlite::Statement<'_>,
    params: Vec<Value>,
    limits: &SqlLimits,
) -> Result<(), SqlError> {
    let programming = |message: String| SqlError {
        kind: SqlErrorKind::Programming,
        message,
    };
    let mut used = 0;
    for i in 1..=stmt.parameter_count() {
        let number = match stmt.parameter_name(i) {
            None => i,
            Some(name) => match name.split_at(1) {
                ("?" | "$", digits) if digits.parse::<usize>().is_ok_and(|n| n > 0) => {
                    digits.parse().unwrap_or(i)
                }
                _ => {
                    return Err(programming(format!(
                        "parameter {name} is named; use numbered ones, ?1 or $1"
                    )));
                }
            },
        };
        let Some(value) = params.get(number - 1) else {
            return Err(programming(format!(
                "the statement uses parameter {number}, but {} were given",
                params.len()
            )));
        };
        used = used.max(number);
        stmt.raw_bind_parameter(i, to_sql(value.clone()))
            .map_err(|e| error(&e, limits))?;
    }
    if used != params.len() {
        return Err(programming(format!(
            "{} parameters were given, but the statement uses {used}",
            params.len()
        )));
    }
    Ok(())
}

fn to_sql(v: Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(f) => SqlValue::Real(f),
        Value::Text(s) => SqlValue::Text(s),
        Value::Blob(b) => SqlValue::Blob(b),
    }
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// SQLite's error, sorted the way Django sorts database exceptions.
pub(crate) fn error(e: &rusqlite::Error, limits: &SqlLimits) -> SqlError {
    use rusqlite::Error as E;
    let kind = match e {
        E::SqliteFailure(f, _) => match f.code {
            ErrorCode::ConstraintViolation => SqlErrorKind::Integrity,
            ErrorCode::OperationInterrupted => {
                return SqlError {
                    kind: SqlErrorKind::Timeout,
                    message: format!(
                        "the statement ran past statement_timeout_ms ({} ms)",
                        limits.statement_timeout.as_millis()
                    ),
                };
            }
            ErrorCode::ReadOnly => SqlErrorKind::PermissionDenied,
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => SqlErrorKind::Timeout,
            ErrorCode::CannotOpen | ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                SqlErrorKind::Unavailable
            }
            ErrorCode::Unknown | ErrorCode::TooBig | ErrorCode::TypeMismatch => {
                SqlErrorKind::Programming
            }
            _ => SqlErrorKind::Operational,
        },
        E::SqlInputError { .. }
        | E::InvalidParameterCount(..)
        | E::InvalidParameterName(_)
        | E::MultipleStatement
        | E::ExecuteReturnedResults
        | E::InvalidQuery => SqlErrorKind::Programming,
        _ => SqlErrorKind::Operational,
    };
    SqlError {
        kind,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Connection, SqlLimits) {
        let dir = tempfile::tempdir().unwrap();
        let limits = SqlLimits::default();
        let db = SqliteDb::open(&dir.path().join("t.db"), limits).unwrap();
        let conn = db.take(false).unwrap();
        (dir, conn, limits)
    }

    fn one(
        conn: &mut Connection,
        limits: &SqlLimits,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Value>, SqlError> {
        query(conn, limits, sql, params).map(|r| r.rows.into_iter().next().unwrap_or_default())
    }

    #[test]
    fn parameters_bind_by_number_in_either_style() {
        let (_dir, mut conn, limits) = db();
        let text = |s: &str| Value::Text(s.to_owned());
        let params = || vec![text("a"), text("b")];
        // `$2` before `$1` still takes the second value, as in PostgreSQL.
        let row = one(&mut conn, &limits, "SELECT $2, $1", params()).unwrap();
        assert!(matches!(&row[..], [Value::Text(x), Value::Text(y)] if x == "b" && y == "a"));
        let row = one(&mut conn, &limits, "SELECT ?2, ?1, ?1", params()).unwrap();
        assert!(
            matches!(&row[..], [Value::Text(x), Value::Text(y), Value::Text(z)] if x == "b" && y == "a" && z == "a")
        );
        let row = one(&mut conn, &limits, "SELECT ?, ?", params()).unwrap();
        assert!(matches!(&row[..], [Value::Text(x), Value::Text(y)] if x == "a" && y == "b"));

        let mut refused = |sql: &str, params: Vec<Value>| {
            let e = one(&mut conn, &limits, sql, params).unwrap_err();
            assert!(
                matches!(e.kind, SqlErrorKind::Programming),
                "{sql}: {}",
                e.message
            );
            e.message
        };
        assert!(refused("SELECT :name", vec![text("a")]).contains("named"));
        assert!(refused("SELECT $1, $2", vec![text("a")]).contains("uses parameter 2"));
        assert!(refused("SELECT $1", params()).contains("2 parameters were given"));
    }
}
