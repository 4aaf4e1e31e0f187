//! The PostgreSQL server of the test run: `scripts/postgres.sh` starts it
//! and `scripts/test.sh` names it in `SHALLOT_TEST_POSTGRES` (a superuser's
//! URL without a database). Each test gets a database of its own.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's URL, or a panic that says how to get one.
fn server() -> String {
    std::env::var("SHALLOT_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "SHALLOT_TEST_POSTGRES is not set: run the suite with scripts/test.sh, or \
             `export SHALLOT_TEST_POSTGRES=$(bash scripts/postgres.sh start)`"
        )
    })
}

/// A new, empty database: its URL, and the URL of the same database as
/// `shallot_ro`, the role that may only read (it is granted SELECT on
/// what the first URL's role creates).
pub async fn fresh_database() -> (String, String) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let server = server();
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server at {server}: {e}"));
    let driver = tokio::spawn(connection);
    // One statement each: CREATE DATABASE may not share a transaction.
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        client
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
    drop(client);
    let _ = driver.await;
    let read = server.replacen("://shallot@", "://shallot_ro@", 1);
    (format!("{server}/{name}"), format!("{read}/{name}"))
}
