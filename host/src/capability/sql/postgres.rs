//! The PostgreSQL backend: a server reached by URL, a pool of its
//! connections (tokio-postgres; each connection's socket is a task on the
//! runtime that opened it), and the statements run on them.
//!
//! - Read-only grants connect as the database's `read_url` role, with
//!   `default_transaction_read_only` on as well: the role is what the
//!   server enforces (a session may switch read-only transactions off).
//! - The statement timeout is the server's `statement_timeout`, set for the
//!   session at connect; a client-side deadline a second later cancels the
//!   query and drops the connection if the server or the network hangs.
//! - Parameters are `$1`, `$2`...: each value is converted to the type the
//!   server inferred for it when the statement was prepared (an integer
//!   binds to `int2`/`int4`/`int8`/`float`/`bool`, text to the text types,
//!   a blob to `bytea`); any other pairing is a programming error, before
//!   anything runs. Columns come back the same way; other types need a
//!   cast in the SQL (`created::text`).
//! - Prepared statements are kept per connection, by SQL text.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Mutex;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::TryStreamExt;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{CancelToken, Client, Config, NoTls, Statement};

use super::{Call, Done, Executed, Rows, RowsBuilder, SqlError, SqlErrorKind, SqlLimits, Value};

/// Statements kept per connection before the cache starts over.
const KEPT_STATEMENTS: usize = 128;

/// How much longer than `statement_timeout` the client waits for the
/// server before giving the connection up.
const GRACE: Duration = Duration::from_secs(1);

/// One PostgreSQL database and its idle connections, read-write and
/// read-only.
pub(crate) struct PostgresDb {
    /// How to connect: `[write, read]`; `read` is `None` without a
    /// `read_url` (no read grant is then allowed, see the config).
    configs: [Option<Config>; 2],
    limits: SqlLimits,
    idle: [Mutex<Vec<PgConnection>>; 2],
}

/// A connection and the statements prepared on it.
pub(crate) struct PgConnection {
    client: Client,
    statements: HashMap<String, Statement>,
    /// It may be inside a transaction (it ran something other than a
    /// plain `SELECT` since the last commit or rollback), so giving it back
    /// means a `ROLLBACK` first.
    dirty: bool,
    /// The client-side deadline passed: closed, never given back.
    broken: bool,
}

impl PgConnection {
    /// Whether giving it back means rolling back first.
    pub(crate) fn needs_rollback(&self) -> bool {
        self.dirty
    }
}

impl PostgresDb {
    /// Reads the URLs (the config checked they parse); connects to nothing
    /// yet, so a server that is down fails requests, with `unavailable`,
    /// not the load.
    pub(crate) fn new(
        url: &str,
        read_url: Option<&str>,
        limits: SqlLimits,
    ) -> Result<PostgresDb, tokio_postgres::Error> {
        let session = |url: &str, read_only: bool| -> Result<Config, tokio_postgres::Error> {
            let mut config: Config = url.parse()?;
            let mut options = config.get_options().unwrap_or_default().to_owned();
            options.push_str(&format!(
                " -c statement_timeout={}",
                limits.statement_timeout.as_millis()
            ));
            if read_only {
                options.push_str(" -c default_transaction_read_only=on");
            }
            config
                .options(options.trim_start())
                .application_name("shallot")
                .connect_timeout(limits.statement_timeout);
            Ok(config)
        };
        Ok(PostgresDb {
            configs: [
                Some(session(url, false)?),
                read_url.map(|u| session(u, true)).transpose()?,
            ],
            limits,
            idle: Default::default(),
        })
    }

    /// What this database allows one call.
    pub(crate) fn limits(&self) -> &SqlLimits {
        &self.limits
    }

    /// An idle connection whose server is still there, if there is one.
    pub(crate) fn take_idle(&self, read_only: bool) -> Option<PgConnection> {
        let mut idle = lock(&self.idle[usize::from(read_only)]);
        while let Some(conn) = idle.pop() {
            if !conn.client.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    /// A new connection. Its socket is driven by a task on this runtime.
    pub(crate) async fn connect(&self, read_only: bool) -> Result<PgConnection, SqlError> {
        let Some(config) = &self.configs[usize::from(read_only)] else {
            return Err(failure(
                SqlErrorKind::PermissionDenied,
                "this database has no read_url for read-only connections",
            ));
        };
        let connecting = tokio::time::timeout(self.limits.statement_timeout, config.connect(NoTls));
        let (client, connection) = match connecting.await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                let mut e = error(&e, &self.limits);
                e.kind = SqlErrorKind::Unavailable;
                return Err(e);
            }
            Err(_) => {
                return Err(failure(
                    SqlErrorKind::Unavailable,
                    format!(
                        "the server did not accept a connection within statement_timeout_ms ({} ms)",
                        self.limits.statement_timeout.as_millis()
                    ),
                ));
            }
        };
        tokio::spawn(async move {
            // It ends when the client is dropped or the server goes away;
            // requests see the latter as `unavailable`.
            let _ = connection.await;
        });
        Ok(PgConnection {
            client,
            statements: HashMap::new(),
            dirty: false,
            broken: false,
        })
    }

    /// Returns a connection to the pool, rolling back first if it may be in
    /// a transaction; one that cannot roll back is dropped (which closes
    /// it, and the server rolls back).
    pub(crate) async fn give_back(&self, mut conn: PgConnection, read_only: bool) {
        if conn.broken || conn.client.is_closed() {
            return;
        }
        if conn.dirty {
            let rollback = conn.client.batch_execute("ROLLBACK");
            match tokio::time::timeout(self.limits.statement_timeout, rollback).await {
                Ok(Ok(())) => conn.dirty = false,
                _ => return,
            }
        }
        let mut idle = lock(&self.idle[usize::from(read_only)]);
        if idle.len() < self.limits.max_connections {
            idle.push(conn);
        }
    }

    /// Puts back a connection that needs no rollback, here and now.
    pub(crate) fn give_back_clean(&self, conn: PgConnection, read_only: bool) {
        debug_assert!(!conn.dirty);
        if conn.broken || conn.client.is_closed() {
            return;
        }
        let mut idle = lock(&self.idle[usize::from(read_only)]);
        if idle.len() < self.limits.max_connections {
            idle.push(conn);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ends a statement run under the client-side deadline. Past it the query
/// is cancelled on the server and the connection marked broken, so that it
/// is closed rather than given back.
fn deadline<T>(
    conn: &mut PgConnection,
    cancel: CancelToken,
    limits: &SqlLimits,
    outcome: Result<Result<T, SqlError>, tokio::time::error::Elapsed>,
) -> Result<T, SqlError> {
    outcome.unwrap_or_else(|_| {
        conn.broken = true;
        tokio::spawn(async move {
            let _ = cancel.cancel_query(NoTls).await;
        });
        Err(failure(
            SqlErrorKind::Timeout,
            format!(
                "the server did not answer within statement_timeout_ms ({} ms)",
                limits.statement_timeout.as_millis()
            ),
        ))
    })
}

/// Runs `op` on `conn` with the client-side deadline.
macro_rules! timed {
    ($conn:ident, $limits:ident, $op:expr) => {{
        let cancel = $conn.client.cancel_token();
        let outcome = tokio::time::timeout($limits.statement_timeout + GRACE, $op).await;
        deadline($conn, cancel, $limits, outcome)
    }};
}

/// Runs what a guest asked for.
pub(super) async fn run(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    call: Call,
) -> Result<Done, SqlError> {
    match call {
        Call::Query(sql, params) => query(conn, limits, &sql, params).await.map(Done::Rows),
        Call::Execute(sql, params) => execute(conn, limits, &sql, params)
            .await
            .map(Done::Executed),
        Call::Batch(sql) => batch(conn, limits, sql).await.map(|()| Done::Batch),
    }
}

/// The prepared statement for `sql`, from the cache or the server.
async fn prepare(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    sql: &str,
) -> Result<Statement, SqlError> {
    if let Some(statement) = conn.statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = conn
        .client
        .prepare(sql)
        .await
        .map_err(|e| error(&e, limits))?;
    if conn.statements.len() >= KEPT_STATEMENTS {
        conn.statements.clear();
    }
    conn.statements.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// Whether `sql` could leave a transaction open: anything but a `SELECT`.
fn may_open_transaction(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or_default();
    !head.eq_ignore_ascii_case("select")
}

/// `sql` with `params`, its rows capped by `max_rows` and `max_result_bytes`.
async fn query(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    sql: &str,
    params: Vec<Value>,
) -> Result<Rows, SqlError> {
    conn.dirty |= may_open_transaction(sql);
    timed!(conn, limits, rows(conn, limits, sql, params))
}

async fn rows(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    sql: &str,
    params: Vec<Value>,
) -> Result<Rows, SqlError> {
    {
        let statement = prepare(conn, limits, sql).await?;
        let params = bind(&statement, params)?;
        let columns: Vec<String> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        let stream = conn
            .client
            .query_raw(&statement, params.iter())
            .await
            .map_err(|e| error(&e, limits))?;
        let mut stream = std::pin::pin!(stream);
        let mut out = RowsBuilder::new(limits, columns);
        // Dropping the stream part-way discards the rest: never more than
        // the caps are held.
        while let Some(row) = stream.try_next().await.map_err(|e| error(&e, limits))? {
            out.check_count()?;
            let mut values = Vec::with_capacity(statement.columns().len());
            for (i, column) in statement.columns().iter().enumerate() {
                let Raw(raw) = row.try_get(i).map_err(|e| error(&e, limits))?;
                values.push(decode(column.type_(), raw).map_err(|message| {
                    failure(
                        SqlErrorKind::Programming,
                        format!("column {:?}: {message}", column.name()),
                    )
                })?);
            }
            out.push(values)?;
        }
        Ok(out.finish())
    }
}

/// `sql` with `params`, for statements that return no rows. PostgreSQL has
/// no last insert id: `INSERT ... RETURNING id` through `query` gives it,
/// on SQLite as well.
async fn execute(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    sql: &str,
    params: Vec<Value>,
) -> Result<Executed, SqlError> {
    conn.dirty = true;
    timed!(conn, limits, affected(conn, limits, sql, params))
}

async fn affected(
    conn: &mut PgConnection,
    limits: &SqlLimits,
    sql: &str,
    params: Vec<Value>,
) -> Result<Executed, SqlError> {
    let statement = prepare(conn, limits, sql).await?;
    let params = bind(&statement, params)?;
    let rows_affected = conn
        .client
        .execute_raw(&statement, params.iter())
        .await
        .map_err(|e| error(&e, limits))?;
    Ok(Executed {
        rows_affected,
        last_insert_id: None,
    })
}

/// `BEGIN`, `COMMIT` or `ROLLBACK`.
async fn batch(conn: &mut PgConnection, limits: &SqlLimits, sql: &str) -> Result<(), SqlError> {
    conn.dirty = true;
    let client = &conn.client;
    timed!(conn, limits, async {
        client
            .batch_execute(sql)
            .await
            .map_err(|e| error(&e, limits))
    })?;
    // Only the end of a transaction makes the connection clean again.
    conn.dirty = sql == "BEGIN";
    Ok(())
}

/// A parameter, converted to the type the server expects.
#[derive(Debug)]
enum Bound {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    Oid(u32),
    F32(f32),
    F64(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl ToSql for Bound {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Bound::Null => Ok(IsNull::Yes),
            Bound::Bool(v) => v.to_sql(ty, out),
            Bound::I16(v) => v.to_sql(ty, out),
            Bound::I32(v) => v.to_sql(ty, out),
            Bound::I64(v) => v.to_sql(ty, out),
            Bound::Oid(v) => v.to_sql(ty, out),
            Bound::F32(v) => v.to_sql(ty, out),
            Bound::F64(v) => v.to_sql(ty, out),
            Bound::Text(v) => v.to_sql(ty, out),
            Bound::Bytes(v) => v.to_sql(ty, out),
        }
    }

    /// [`bind`] already matched each value to its type.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
    ]
    .contains(ty)
}

/// `params` converted to the statement's parameter types, or why not.
fn bind(statement: &Statement, params: Vec<Value>) -> Result<Vec<Bound>, SqlError> {
    let types = statement.params();
    if types.len() != params.len() {
        return Err(failure(
            SqlErrorKind::Programming,
            format!(
                "{} parameters were given, but the statement uses {}",
                params.len(),
                types.len()
            ),
        ));
    }
    let mut bound = Vec::with_capacity(params.len());
    for (i, (value, ty)) in params.into_iter().zip(types).enumerate() {
        let mismatch = |what: &str| {
            failure(
                SqlErrorKind::Programming,
                format!(
                    "parameter ${} is {what}, but the statement needs a {ty} there (cast it in the SQL, like ${}::text)",
                    i + 1,
                    i + 1
                ),
            )
        };
        let out_of_range = |_| mismatch("an integer out of range");
        bound.push(match value {
            Value::Null => Bound::Null,
            Value::Integer(v) => match *ty {
                Type::INT8 => Bound::I64(v),
                Type::INT4 => Bound::I32(i32::try_from(v).map_err(out_of_range)?),
                Type::INT2 => Bound::I16(i16::try_from(v).map_err(out_of_range)?),
                Type::OID => Bound::Oid(u32::try_from(v).map_err(out_of_range)?),
                Type::BOOL => Bound::Bool(v != 0),
                Type::FLOAT8 => Bound::F64(v as f64),
                Type::FLOAT4 => Bound::F32(v as f32),
                _ => return Err(mismatch("an integer")),
            },
            Value::Real(v) => match *ty {
                Type::FLOAT8 => Bound::F64(v),
                Type::FLOAT4 => Bound::F32(v as f32),
                _ => return Err(mismatch("a real number")),
            },
            Value::Text(v) if is_text(ty) => Bound::Text(v),
            Value::Text(_) => return Err(mismatch("text")),
            Value::Blob(v) if *ty == Type::BYTEA => Bound::Bytes(v),
            Value::Blob(_) => return Err(mismatch("a blob")),
        });
    }
    Ok(bound)
}

/// A column's value as the server sent it, decoded by [`decode`].
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A column value of type `ty` as a [`Value`]; `bool` becomes 0 or 1, as
/// SQLite stores it.
fn decode(ty: &Type, raw: Option<&[u8]>) -> Result<Value, String> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    let decoded = match *ty {
        Type::BOOL => bool::from_sql(ty, raw).map(|b| Value::Integer(b.into())),
        Type::INT2 => i16::from_sql(ty, raw).map(|v| Value::Integer(v.into())),
        Type::INT4 => i32::from_sql(ty, raw).map(|v| Value::Integer(v.into())),
        Type::INT8 => i64::from_sql(ty, raw).map(Value::Integer),
        Type::OID => u32::from_sql(ty, raw).map(|v| Value::Integer(v.into())),
        Type::FLOAT4 => f32::from_sql(ty, raw).map(|v| Value::Real(v.into())),
        Type::FLOAT8 => f64::from_sql(ty, raw).map(Value::Real),
        Type::BYTEA => Vec::<u8>::from_sql(ty, raw).map(Value::Blob),
        _ if is_text(ty) => String::from_sql(ty, raw).map(Value::Text),
        _ => {
            return Err(format!(
                "type {ty} has no Shallot value; cast it in the SQL (like created::text)"
            ));
        }
    };
    decoded.map_err(|e| e.to_string())
}

fn failure(kind: SqlErrorKind, message: impl Into<String>) -> SqlError {
    SqlError {
        kind,
        message: message.into(),
    }
}

/// PostgreSQL's error, sorted by its SQLSTATE the way Django sorts
/// database exceptions.
pub(crate) fn error(e: &tokio_postgres::Error, limits: &SqlLimits) -> SqlError {
    let Some(db) = e.as_db_error() else {
        // No SQLSTATE: the connection failed, or the server went away.
        return failure(SqlErrorKind::Unavailable, e.to_string());
    };
    let code = db.code().code();
    let kind = match code {
        // query_canceled: the statement timeout.
        "57014" => {
            return failure(
                SqlErrorKind::Timeout,
                format!(
                    "the statement ran past statement_timeout_ms ({} ms)",
                    limits.statement_timeout.as_millis()
                ),
            );
        }
        // insufficient_privilege, read_only_sql_transaction
        "42501" | "25006" => SqlErrorKind::PermissionDenied,
        // lock_not_available
        "55P03" => SqlErrorKind::Timeout,
        // admin_shutdown, crash_shutdown, cannot_connect_now
        "57P01" | "57P02" | "57P03" => SqlErrorKind::Unavailable,
        _ => match code.get(..2).unwrap_or_default() {
            "23" => SqlErrorKind::Integrity,
            // syntax errors and undefined objects; invalid data
            "42" | "22" | "0A" | "26" | "34" => SqlErrorKind::Programming,
            // connection exceptions; insufficient resources
            "08" | "53" => SqlErrorKind::Unavailable,
            _ => SqlErrorKind::Operational,
        },
    };
    let mut message = db.message().to_owned();
    if let Some(detail) = db.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    failure(kind, message)
}
