//! The `sql` capability on SQLite and on a real PostgreSQL server: a view
//! reading and writing, and the hostile cases it must survive (a statement
//! that never ends, a million rows, a write through a read-only grant, an
//! injection attempt, a trap inside a transaction, a connection kept past
//! its hook call, a database not granted). Each test runs on both
//! backends (`sql::sqlite::*`, `sql::postgres::*`); the PostgreSQL server
//! is the one `scripts/postgres.sh` starts, named by
//! `SHALLOT_TEST_POSTGRES`.

use shallot::{LoadError, Pipeline};
use shallot_tests::databases::{self, Backend};
use shallot_tests::{Outcome, get, request, run};

shallot_tests::on_both_backends!(
    notes,
    parameters_are_never_sql,
    a_statement_that_never_ends_hits_the_statement_timeout,
    a_pool_with_every_connection_in_use_fails_unavailable_not_hangs,
    a_million_rows_are_refused_past_max_rows,
    a_read_only_grant_cannot_write,
    a_trap_inside_a_transaction_rolls_it_back_and_releases_the_lock,
    a_connection_ends_with_the_hook_call_that_opened_it,
    py_notes,
    js_notes,
);

/// A fresh database with the `notes` guests' migrations: the lines of its
/// `[databases.default]` table.
async fn fresh(backend: Backend) -> String {
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests/notes/migrations");
    databases::fresh(backend, &migrations).await
}

/// Loads `toml` after applying its databases' migrations.
async fn pipeline(toml: &str) -> Pipeline {
    databases::migrated(&shallot_tests::config(toml)).await
}

/// The `notes` guest under every view name it serves, on the database
/// `db` (its `[databases.default]` lines); `grant` is the views'
/// `sql_databases`, `extra` more of `[databases.default]`.
fn app(db: &str, grant: &str, extra: &str) -> String {
    let mut toml =
        format!("[databases.default]\n{db}statement_timeout_ms = 300\nmax_rows = 1000\n{extra}\n");
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

/// The `notes` app on a fresh, writable database.
async fn writable(backend: Backend, extra: &str) -> Pipeline {
    pipeline(&app(&fresh(backend).await, "[\"default\"]", extra)).await
}

async fn notes(backend: Backend) {
    let db = fresh(backend).await;
    let p = pipeline(&app(&db, "[\"default\"]", "")).await;
    let out = run(&p, post("/notes/", "first")).await;
    assert_eq!(out.response.status(), 201, "{}", out.body());
    assert_eq!(out.body(), "{\"id\": 1}");
    let out = run(&p, post("/notes/", "second")).await;
    assert_eq!(out.body(), "{\"id\": 2}");
    if backend == Backend::Sqlite {
        // The file is a real SQLite database, in WAL mode, holding the rows.
        let file = db
            .split('"')
            .nth(1)
            .and_then(|u| u.strip_prefix("sqlite:"))
            .unwrap();
        let file = std::path::Path::new(file);
        assert!(file.is_file());
        assert!(file.with_file_name("app.db-wal").exists());
    }

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

async fn parameters_are_never_sql(backend: Backend) {
    let p = writable(backend, "").await;
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

async fn a_statement_that_never_ends_hits_the_statement_timeout(backend: Backend) {
    let p = writable(backend, "").await;
    let started = std::time::Instant::now();
    assert_eq!(kind(&run(&p, get("/slow/")).await), "timeout");
    // Interrupted, not left running: the request ends soon after 300 ms.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // The connection went back to the pool usable.
    assert_eq!(run(&p, get("/notes/")).await.response.status(), 200);
}

async fn a_pool_with_every_connection_in_use_fails_unavailable_not_hangs(backend: Backend) {
    // One connection; each `busy` request holds it for three statement
    // timeouts (900 ms), and a waiting `open` gives up after one (300 ms):
    // of two at once, whichever comes second is refused, whatever the order.
    let p = writable(backend, "max_connections = 1").await;
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

async fn a_million_rows_are_refused_past_max_rows(backend: Backend) {
    let p = writable(backend, "").await;
    let out = run(&p, get("/huge/")).await;
    assert_eq!(kind(&out), "too-large");
    assert!(out.body().contains("max_rows (1000)"), "{}", out.body());
}

async fn a_read_only_grant_cannot_write(backend: Backend) {
    // SQLite opens the file read-only; PostgreSQL connects as `read_url`,
    // a role that may only SELECT.
    let db = fresh(backend).await;
    let rw = pipeline(&app(&db, "[\"default\"]", "")).await;
    run(&rw, post("/notes/", "kept")).await;
    let ro = pipeline(&app(&db, "{ default = \"read\" }", "")).await;
    assert_eq!(kind(&run(&ro, get("/write/")).await), "permission-denied");
    assert_eq!(
        kind(&run(&ro, post("/notes/", "new")).await),
        "permission-denied"
    );
    // Reading is allowed.
    assert_eq!(
        run(&ro, get("/notes/1/")).await.body(),
        "{\"id\": 1, \"title\": \"kept\"}"
    );
    assert_eq!(
        run(&ro, get("/notes/")).await.body(),
        "[{\"id\": 1, \"title\": \"kept\"}]"
    );
}

async fn a_trap_inside_a_transaction_rolls_it_back_and_releases_the_lock(backend: Backend) {
    let p = writable(backend, "").await;
    let out = run(&p, get("/trap/")).await;
    assert_eq!(out.response.status(), 500);
    // The lock is free (a held one would make this insert of the same
    // title wait 300 ms and fail), and the uncommitted row is gone.
    let out = run(&p, post("/notes/", "uncommitted")).await;
    assert_eq!(out.response.status(), 201, "{}", out.body());
    // PostgreSQL's sequences are not transactional: the rolled-back
    // insert used id 1.
    let id = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    };
    assert_eq!(
        run(&p, get("/notes/")).await.body(),
        format!("[{{\"id\": {id}, \"title\": \"uncommitted\"}}]")
    );
}

async fn a_connection_ends_with_the_hook_call_that_opened_it(backend: Backend) {
    let p = writable(backend, "").await;
    assert_eq!(run(&p, get("/keep/")).await.body(), "kept");
    // The same warm instance (reuse, one idle) uses what it kept.
    assert_eq!(kind(&run(&p, get("/keep/")).await), "closed");
}

#[tokio::test]
async fn only_granted_databases_open() {
    let dir = shallot_tests::template_dir(&[]);
    let toml = format!(
        "[databases.other]\nurl = \"sqlite:{}\"\n{}",
        dir.join("other.db").display(),
        app(&fresh(Backend::Sqlite).await, "[\"default\"]", "")
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
    let dir = shallot_tests::template_dir(&[]);
    let db = dir.join("junk.db");
    std::fs::write(&db, vec![b'x'; 4096]).unwrap();
    let db = format!("url = \"sqlite:{}\"\n", db.display());
    let config = shallot_tests::config(&app(&db, "[\"default\"]", ""));
    let err = Pipeline::load_with(shallot_tests::runtime(), &config)
        .await
        .err()
        .expect("should be refused");
    assert!(matches!(err, LoadError::Database { .. }), "{err:?}");
    assert!(err.to_string().contains("\"default\""), "{err}");
}

#[tokio::test]
async fn a_postgres_server_that_is_down_fails_requests_unavailable_not_the_load() {
    // Nothing listens on the port of a socket just closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let db = format!("url = \"postgres://shallot@127.0.0.1:{port}/none\"\n");
    let p = pipeline(&app(&db, "[\"default\"]", "")).await;
    let out = run(&p, get("/notes/")).await;
    assert_eq!(kind(&out), "unavailable");
}

async fn py_notes(backend: Backend) {
    // The Python SDK's DB-API flavour: rows as dicts, Django's exception
    // classes, `atomic()`.
    check_notes(backend, "py-notes").await;
}

/// The Python or JavaScript `notes` guest: insert, a duplicate (the
/// IntegrityError class), a rolled-back `atomic()`, the list.
async fn check_notes(backend: Backend, guest: &str) {
    let p = pipeline(&format!(
        "[databases.default]\n{}\
         [views.notes]\ncomponent = \"{{{guest}}}\"\nsql_databases = [\"default\"]\n\
         [[routes]]\npath = \"n/\"\nview = \"notes\"\n",
        fresh(backend).await
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

async fn js_notes(backend: Backend) {
    // The JavaScript SDK: the same checks as the Python one.
    check_notes(backend, "js-notes").await;
}
