//! The `sql` capability on SQLite: a view reading and writing a real
//! database file, and the hostile cases it must survive (a statement that
//! never ends, a million rows, a write through a read-only grant, an
//! injection attempt, a trap inside a transaction, a connection kept past
//! its hook call, a database not granted).

use shallot::{LoadError, Pipeline};
use shallot_tests::{Outcome, get, pipeline, request, run};

/// A fresh database file's folder.
fn database_dir() -> std::path::PathBuf {
    shallot_tests::template_dir(&[])
}

/// The `notes` guest under every view name it serves, on `db`; `grant` is
/// the views' `sql_databases`, `extra` more config.
fn app(db: &std::path::Path, grant: &str, extra: &str) -> String {
    let mut toml = format!(
        "[databases.default]\nurl = \"sqlite:{}\"\nstatement_timeout_ms = 300\nmax_rows = 1000\n{extra}\n",
        db.display()
    );
    for (name, path) in [
        ("notes", "notes/"),
        ("note", "notes/<int:id>/"),
        ("page", "page/"),
        ("search", "search/"),
        ("slow", "slow/"),
        ("busy", "busy/"),
        ("huge", "huge/"),
        ("write", "write/"),
        ("trap", "trap/"),
        ("other", "other/"),
    ] {
        toml.push_str(&format!(
            "[views.{name}]\ncomponent = \"{{notes}}\"\nsql_databases = {grant}\n\
             [[routes]]\npath = \"{path}\"\nview = \"{name}\"\n"
        ));
    }
    toml.push_str(&format!(
        "[views.keep]\ncomponent = \"{{notes}}\"\nsql_databases = {grant}\n\
         instance_policy = \"reuse\"\nreuse = {{ max_idle = 1 }}\n\
         [[routes]]\npath = \"keep/\"\nview = \"keep\"\n"
    ));
    toml
}

fn post(uri: &str, body: &str) -> http::Request<bytes::Bytes> {
    let (parts, _) = request("POST", uri, &[]).into_parts();
    http::Request::from_parts(parts, bytes::Bytes::from(body.to_owned()))
}

/// The kind of a database error the guest reported (see the guest's docs).
fn kind(out: &Outcome) -> String {
    assert_eq!(out.response.status(), 500, "{}", out.body());
    let v: serde_json::Value =
        serde_json::from_str(out.body()).unwrap_or_else(|e| panic!("{e}: {}", out.body()));
    v["kind"].as_str().unwrap_or_default().to_owned()
}

async fn writable(extra: &str) -> (Pipeline, std::path::PathBuf) {
    let dir = database_dir();
    let db = dir.join("app.db");
    (pipeline(&app(&db, "[\"default\"]", extra)).await, db)
}

#[tokio::test]
pub(crate) async fn notes() {
    let (p, db) = writable("").await;
    let out = run(&p, post("/notes/", "first")).await;
    assert_eq!(out.response.status(), 201, "{}", out.body());
    assert_eq!(out.body(), "{\"id\": 1}");
    let out = run(&p, post("/notes/", "second")).await;
    assert_eq!(out.body(), "{\"id\": 2}");
    // The file is a real SQLite database, in WAL mode, holding the rows.
    assert!(db.is_file());
    assert!(db.with_file_name("app.db-wal").exists());

    let out = run(&p, get("/notes/")).await;
    assert_eq!(
        out.body(),
        "[{\"id\": 1, \"title\": \"first\"}, {\"id\": 2, \"title\": \"second\"}]"
    );
    // The benchmark's page: the first 20 by id, the same JSON.
    assert_eq!(run(&p, get("/page/")).await.body(), out.body());
    let out = run(&p, get("/notes/2/")).await;
    assert_eq!(out.body(), "{\"id\": 2, \"title\": \"second\"}");
    assert_eq!(run(&p, get("/notes/9/")).await.response.status(), 404);

    // A unique constraint: Django's IntegrityError, told apart.
    assert_eq!(kind(&run(&p, post("/notes/", "first")).await), "integrity");
}

#[tokio::test]
async fn parameters_are_never_sql() {
    let (p, _) = writable("").await;
    run(&p, post("/notes/", "x")).await;
    for attempt in [
        "x'%20OR%20'1'='1",
        "x';%20DROP%20TABLE%20notes;%20--",
        "%22%20OR%201=1%20--",
    ] {
        let out = run(&p, get(&format!("/search/?q={attempt}"))).await;
        assert_eq!(out.body(), "0", "{attempt} matched rows");
    }
    assert_eq!(run(&p, get("/search/?q=x")).await.body(), "1");
    // The table is still there.
    assert_eq!(
        run(&p, get("/notes/")).await.body(),
        "[{\"id\": 1, \"title\": \"x\"}]"
    );
}

#[tokio::test]
async fn a_statement_that_never_ends_hits_the_statement_timeout() {
    let (p, _) = writable("").await;
    let started = std::time::Instant::now();
    assert_eq!(kind(&run(&p, get("/slow/")).await), "timeout");
    // Interrupted, not left running: the request ends soon after 300 ms.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // The connection went back to the pool usable.
    assert_eq!(run(&p, get("/notes/")).await.response.status(), 200);
}

#[tokio::test]
async fn a_pool_with_every_connection_in_use_fails_unavailable_not_hangs() {
    // One connection; each `busy` request holds it for three statement
    // timeouts (900 ms), and a waiting `open` gives up after one (300 ms):
    // of two at once, whichever comes second is refused, whatever the order.
    let (p, _) = writable("max_connections = 1").await;
    let (a, b) = tokio::join!(run(&p, get("/busy/")), run(&p, get("/busy/")));
    let mut outcomes = [a, b].map(|out| match out.response.status().as_u16() {
        200 => "held".to_owned(),
        _ => kind(&out),
    });
    outcomes.sort();
    assert_eq!(outcomes, ["held", "unavailable"]);
    // The connection is back afterwards.
    assert_eq!(run(&p, get("/notes/")).await.response.status(), 200);
}

#[tokio::test]
async fn a_million_rows_are_refused_past_max_rows() {
    let (p, _) = writable("").await;
    let out = run(&p, get("/huge/")).await;
    assert_eq!(kind(&out), "too-large");
    assert!(out.body().contains("max_rows (1000)"), "{}", out.body());
}

#[tokio::test]
async fn a_read_only_grant_cannot_write() {
    let dir = database_dir();
    let db = dir.join("app.db");
    // Written through a writable grant first, so the table exists.
    let rw = pipeline(&app(&db, "[\"default\"]", "")).await;
    run(&rw, post("/notes/", "kept")).await;
    let ro = pipeline(&app(&db, "{ default = \"read\" }", "")).await;
    assert_eq!(kind(&run(&ro, get("/write/")).await), "permission-denied");
    assert_eq!(
        kind(&run(&ro, post("/notes/", "new")).await),
        "permission-denied"
    );
    // Reading is allowed (`CREATE TABLE IF NOT EXISTS` on an existing table
    // writes nothing, so the list view works too).
    assert_eq!(
        run(&ro, get("/notes/1/")).await.body(),
        "{\"id\": 1, \"title\": \"kept\"}"
    );
    assert_eq!(
        run(&ro, get("/notes/")).await.body(),
        "[{\"id\": 1, \"title\": \"kept\"}]"
    );
}

#[tokio::test]
async fn a_trap_inside_a_transaction_rolls_it_back_and_releases_the_lock() {
    let (p, _) = writable("").await;
    let out = run(&p, get("/trap/")).await;
    assert_eq!(out.response.status(), 500);
    // The write lock is free at once (a held one would make this insert
    // wait 300 ms and fail), and the uncommitted row is gone.
    let out = run(&p, post("/notes/", "after")).await;
    assert_eq!(out.response.status(), 201, "{}", out.body());
    assert_eq!(
        run(&p, get("/notes/")).await.body(),
        "[{\"id\": 1, \"title\": \"after\"}]"
    );
}

#[tokio::test]
async fn a_connection_ends_with_the_hook_call_that_opened_it() {
    let (p, _) = writable("").await;
    assert_eq!(run(&p, get("/keep/")).await.body(), "kept");
    // The same warm instance (reuse, one idle) uses what it kept.
    assert_eq!(kind(&run(&p, get("/keep/")).await), "closed");
}

#[tokio::test]
async fn only_granted_databases_open() {
    let dir = database_dir();
    let toml = format!(
        "[databases.other]\nurl = \"sqlite:{}\"\n{}",
        dir.join("other.db").display(),
        app(&dir.join("app.db"), "[\"default\"]", "")
    );
    let p = pipeline(&toml).await;
    let out = run(&p, get("/other/")).await;
    assert_eq!(kind(&out), "permission-denied");
    assert!(
        out.body().contains("not in its sql_databases"),
        "{}",
        out.body()
    );
}

#[tokio::test]
async fn importing_sql_without_a_grant_is_refused_at_load() {
    let config = shallot_tests::config(
        "[views.n]\ncomponent = \"{notes}\"\n[[routes]]\npath = \"n/\"\nview = \"n\"\n",
    );
    let err = Pipeline::load_with(shallot_tests::runtime(), &config)
        .await
        .err()
        .expect("should be refused");
    let LoadError::Ungranted { import, field, .. } = &err else {
        panic!("expected an ungranted import, got {err:?}");
    };
    assert_eq!(import, "shallot:http/sql@0.1.0");
    assert_eq!(*field, "sql_databases");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_at_load() {
    let dir = database_dir();
    let db = dir.join("junk.db");
    std::fs::write(&db, vec![b'x'; 4096]).unwrap();
    let config = shallot_tests::config(&app(&db, "[\"default\"]", ""));
    let err = Pipeline::load_with(shallot_tests::runtime(), &config)
        .await
        .err()
        .expect("should be refused");
    assert!(matches!(err, LoadError::Database { .. }), "{err:?}");
    assert!(err.to_string().contains("\"default\""), "{err}");
}

#[tokio::test]
pub(crate) async fn py_notes() {
    // The Python SDK's DB-API flavour: rows as dicts, Django's exception
    // classes, `atomic()`.
    check_notes("py-notes").await;
}

/// The Python or JavaScript `notes` guest: insert, a duplicate (the
/// IntegrityError class), a rolled-back `atomic()`, the list.
async fn check_notes(guest: &str) {
    let dir = database_dir();
    let p = pipeline(&format!(
        "[databases.default]\nurl = \"sqlite:{}\"\n\
         [views.notes]\ncomponent = \"{{{guest}}}\"\nsql_databases = [\"default\"]\n\
         [[routes]]\npath = \"n/\"\nview = \"notes\"\n",
        dir.join("app.db").display()
    ))
    .await;
    let out = run(&p, post("/n/", "first")).await;
    assert_eq!(out.response.status(), 201, "{}", out.body());
    assert_eq!(out.body(), "{\"id\": 1}");
    let out = run(&p, post("/n/", "first")).await;
    assert_eq!(out.response.status(), 409);
    assert_eq!(out.body(), "duplicate: integrity");
    // Raising inside atomic() rolls the insert back.
    let out = run(&p, post("/n/?fail=1", "second")).await;
    assert_eq!(out.body(), "rolled back");
    let out = run(&p, get("/n/")).await;
    assert_eq!(out.body(), "[{\"id\": 1, \"title\": \"first\"}]");
}

#[tokio::test]
pub(crate) async fn js_notes() {
    // The JavaScript SDK: the same checks as the Python one.
    check_notes("js-notes").await;
}
