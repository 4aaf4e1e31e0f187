//! Notes in an SQL table, one view function serving several configured
//! views (it dispatches on the view's name), including the cases the sql
//! capability must survive:
//!
//! - `notes`: `GET` lists `[{"id": 1, "title": "..."}]`; `POST` inserts the
//!   body as a title and answers `{"id": N}` (201);
//! - `note` (`<int:id>`): one row by primary key, or 404;
//! - `page`: the first 20 rows by id, nothing else (`bench/sql.sh`);
//! - `search` (`?q=`): counts notes titled exactly `q`, passed as a
//!   parameter (an injection attempt is just an odd title);
//! - `slow`: a statement that runs for ever (until the statement timeout);
//! - `busy`: holds its connection through three statements that each run
//!   until the statement timeout;
//! - `huge`: a million rows (over `max_rows`);
//! - `write`: an insert (refused when the grant is read-only);
//! - `trap`: inserts in a transaction, then traps with it open;
//! - `keep`: opens a connection and keeps it for the next request on this
//!   instance, which uses it (`closed`);
//! - `other`: opens a database it was not granted.
//!
//! Errors from the database are answered as `{"kind": "...", "message":
//! "..."}` with status 500, so that tests can tell them apart.
//!
//! The same SQL runs on SQLite and PostgreSQL: parameters are `$1`, a new
//! row's id comes from `RETURNING`, and the table is made by the
//! database's migrations (`migrations/sqlite`, `migrations/postgres`).
//!
//! Grants: `sql_databases = ["default"]` (or read-only).

use std::cell::RefCell;

use shallot_guest::sql::{Connection, SqlError, Value};
use shallot_guest::{Error, Request, Response, ViewInfo, form_value, json_string, view};

/// A statement that never ends on its own.
const SPIN: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";

thread_local! {
    /// What `keep` leaves for the next request on this instance.
    static KEPT: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

#[view]
fn notes(req: &Request, view: ViewInfo) -> Result<Response, Error> {
    match run(req, &view) {
        Ok(resp) => Ok(resp),
        Err(e) => Ok(Response::json(
            500,
            &format!(
                "{{\"kind\": {}, \"message\": {}}}",
                json_string(e.kind.name()),
                json_string(&e.message)
            ),
        )),
    }
}

fn run(req: &Request, view: &ViewInfo) -> Result<Response, SqlError> {
    match view.view_name.as_str() {
        "other" => Connection::open("other").map(|_| Response::text(200, "opened")),
        "keep" => keep(),
        name => {
            let db = Connection::open("default")?;
            match name {
                "notes" if req.method() == "POST" => insert(&db, req),
                "notes" => list(&db),
                "note" => one(&db, view),
                "page" => page(&db),
                "search" => search(&db, req),
                "slow" => db.query(SPIN, &[]).map(|_| Response::text(200, "finished")),
                "busy" => {
                    for _ in 0..3 {
                        let _ = db.query(SPIN, &[]);
                    }
                    Ok(Response::text(200, "held"))
                }
                "huge" => db
                    .query(
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                         WHERE i < 1000000) SELECT i FROM n",
                        &[],
                    )
                    .map(|rows| Response::text(200, &rows.rows.len().to_string())),
                "write" => db
                    .execute("INSERT INTO notes (title) VALUES ($1)", &["written".into()])
                    .map(|_| Response::text(200, "written")),
                "trap" => {
                    db.begin()?;
                    db.execute(
                        "INSERT INTO notes (title) VALUES ($1)",
                        &["uncommitted".into()],
                    )?;
                    panic!("trapping with a transaction open");
                }
                _ => Ok(Response::text(404, "no such notes view")),
            }
        }
    }
}

fn insert(db: &Connection, req: &Request) -> Result<Response, SqlError> {
    let title = String::from_utf8_lossy(&req.body()).into_owned();
    let rows = db.query(
        "INSERT INTO notes (title) VALUES ($1) RETURNING id",
        &[title.into()],
    )?;
    let id = rows
        .get(0, "id")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    Ok(Response::json(201, &format!("{{\"id\": {id}}}")))
}

fn list(db: &Connection) -> Result<Response, SqlError> {
    let rows = db.query("SELECT id, title FROM notes ORDER BY id", &[])?;
    json_rows(&rows)
}

/// `[{"id": 1, "title": "..."}, ...]`, as Django's `JsonResponse` writes it.
fn json_rows(rows: &shallot_guest::sql::Rows) -> Result<Response, SqlError> {
    let items: Vec<String> = (0..rows.rows.len())
        .map(|i| {
            let id = rows
                .get(i, "id")
                .and_then(Value::as_i64)
                .unwrap_or_default();
            let title = rows
                .get(i, "title")
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("{{\"id\": {id}, \"title\": {}}}", json_string(title))
        })
        .collect();
    Ok(Response::json(200, &format!("[{}]", items.join(", "))))
}

fn page(db: &Connection) -> Result<Response, SqlError> {
    let rows = db.query("SELECT id, title FROM notes ORDER BY id LIMIT 20", &[])?;
    json_rows(&rows)
}

fn one(db: &Connection, view: &ViewInfo) -> Result<Response, SqlError> {
    let id: i64 = view
        .kwargs
        .iter()
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_default();
    let rows = db.query("SELECT title FROM notes WHERE id = $1", &[id.into()])?;
    Ok(match rows.get(0, "title").and_then(Value::as_str) {
        Some(title) => Response::json(
            200,
            &format!("{{\"id\": {id}, \"title\": {}}}", json_string(title)),
        ),
        None => Response::text(404, "no such note"),
    })
}

fn search(db: &Connection, req: &Request) -> Result<Response, SqlError> {
    let q = form_value(&req.query(), "q").unwrap_or_default();
    let rows = db.query(
        "SELECT count(*) AS n FROM notes WHERE title = $1",
        &[q.into()],
    )?;
    let n = rows.get(0, "n").and_then(Value::as_i64).unwrap_or_default();
    Ok(Response::text(200, &n.to_string()))
}

fn keep() -> Result<Response, SqlError> {
    let kept = KEPT.with(|k| k.borrow_mut().take());
    match kept {
        // A later request: the connection outlived its hook call.
        Some(db) => db
            .query("SELECT 1", &[])
            .map(|_| Response::text(200, "still open")),
        None => {
            let db = Connection::open("default")?;
            KEPT.with(|k| *k.borrow_mut() = Some(db));
            Ok(Response::text(200, "kept"))
        }
    }
}
