//! `shallot migrate`, and what `check` and `serve` do about migrations not
//! yet applied, on the real binary and a real SQLite file.

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

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn migrations_apply_in_order_once_each_file_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("shallot.toml"),
        "[databases.default]\nurl = \"sqlite:data/app.db\"\nmigrations = \"migrations\"\n",
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
        "INSERT INTO notes (title) VALUES ('a');",
    )
    .unwrap();
    std::fs::write(
        m.join("10_more.sql"),
        "INSERT INTO notes (title) VALUES ('b');",
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
    let db = d.join("data/app.db");
    assert_eq!(count(&db, "SELECT count(*) FROM notes"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM shallot_migrations"), 3);

    // Idempotent.
    let out = shallot(d, &["migrate"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no migrations to apply"),
        "{}",
        text(&out)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM notes"), 2);
    assert!(shallot(d, &["check"]).status.success());

    // A file that fails leaves nothing of itself, and is not recorded.
    std::fs::write(
        m.join("11_broken.sql"),
        "INSERT INTO notes (title) VALUES ('c');\nINSERT INTO nope VALUES (1);",
    )
    .unwrap();
    let out = shallot(d, &["migrate"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("11_broken.sql"), "{}", text(&out));
    assert!(text(&out).contains("no such table: nope"), "{}", text(&out));
    assert_eq!(count(&db, "SELECT count(*) FROM notes"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM shallot_migrations"), 3);

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
