//! `shallot migrate`, and what `check` and `serve` do about migrations not
//! yet applied, on the real binary: on a real SQLite file, and on the
//! PostgreSQL server of the test run (`SHALLOT_TEST_POSTGRES`, started by
//! `scripts/test.sh`).

use std::path::Path;
use std::process::{Command, Output};

fn shallot(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shallot"))
        .args(args)
        .arg(dir.join("shallot.toml"))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn migrations_apply_in_order_once_each_file_whole_or_not_at_all_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/app.db");
    let count = |sql: &str| -> i64 {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    migrations_apply(
        dir.path(),
        "sqlite:data/app.db",
        count,
        "no such table: nope",
    );
}

#[test]
fn migrations_apply_in_order_once_each_file_whole_or_not_at_all_on_postgres() {
    let server = std::env::var("SHALLOT_TEST_POSTGRES")
        .expect("SHALLOT_TEST_POSTGRES is not set: run the suite with scripts/test.sh");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let name = format!("migrate_{}", std::process::id());
    let admin = runtime.block_on(connect(&format!("{server}/postgres")));
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        runtime.block_on(admin.batch_execute(&sql)).unwrap();
    }
    let url = format!("{server}/{name}");
    let client = runtime.block_on(connect(&url));
    let count = |sql: &str| -> i64 { runtime.block_on(client.query_one(sql, &[])).unwrap().get(0) };
    let dir = tempfile::tempdir().unwrap();
    migrations_apply(dir.path(), &url, count, "relation \"nope\" does not exist");
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    tokio::spawn(connection);
    client
}

/// The migration checks, on the database at `url`; `count` answers a
/// `SELECT count(*)` there, and `missing` is how the database says a
/// table does not exist.
fn migrations_apply(d: &Path, url: &str, count: impl Fn(&str) -> i64, missing: &str) {
    std::fs::write(
        d.join("shallot.toml"),
        format!("[databases.default]\nurl = \"{url}\"\nmigrations = \"migrations\"\n"),
    )
    .unwrap();
    let m = d.join("migrations");
    std::fs::create_dir(&m).unwrap();
    // Numbers order them, not the names' text (10 after 2).
    std::fs::write(
        m.join("0001_notes.sql"),
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);",
    )
    .unwrap();
    std::fs::write(
        m.join("2_seed.sql"),
        "INSERT INTO notes (id, title) VALUES (1, 'a');",
    )
    .unwrap();
    std::fs::write(
        m.join("10_more.sql"),
        "INSERT INTO notes (id, title) VALUES (2, 'b');",
    )
    .unwrap();
    std::fs::write(m.join("README.txt"), "not a migration").unwrap();

    // Before: check fails and serve refuses to start, naming the files.
    let out = shallot(d, &["check"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(
            "database \"default\" has 3 unapplied migrations: 0001_notes.sql, 2_seed.sql, 10_more.sql"
        ),
        "{}",
        text(&out)
    );
    let out = shallot(d, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("run `shallot migrate"),
        "{}",
        text(&out)
    );

    let out = shallot(d, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "default: applied 0001_notes.sql\ndefault: applied 2_seed.sql\n\
         default: applied 10_more.sql\nok: 3 applied\n"
    );
    assert_eq!(count("SELECT count(*) FROM notes"), 2);
    assert_eq!(count("SELECT count(*) FROM shallot_migrations"), 3);

    // Idempotent.
    let out = shallot(d, &["migrate"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no migrations to apply"),
        "{}",
        text(&out)
    );
    assert_eq!(count("SELECT count(*) FROM notes"), 2);
    assert!(shallot(d, &["check"]).status.success());

    // A file that fails leaves nothing of itself, and is not recorded.
    std::fs::write(
        m.join("11_broken.sql"),
        "INSERT INTO notes (id, title) VALUES (3, 'c');\nINSERT INTO nope VALUES (1);",
    )
    .unwrap();
    let out = shallot(d, &["migrate"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("11_broken.sql"), "{}", text(&out));
    assert!(text(&out).contains(missing), "{}", text(&out));
    assert_eq!(count("SELECT count(*) FROM notes"), 2);
    assert_eq!(count("SELECT count(*) FROM shallot_migrations"), 3);

    // Two files with one number are refused before anything runs.
    std::fs::remove_file(m.join("11_broken.sql")).unwrap();
    std::fs::write(m.join("0002_again.sql"), "SELECT 1;").unwrap();
    let out = shallot(d, &["migrate"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("0002_again.sql and 2_seed.sql have the same number"),
        "{}",
        text(&out)
    );
}
