//! SQL databases for tests, on either backend: a fresh SQLite file, or a
//! fresh database on the PostgreSQL server of the test run, which
//! `scripts/postgres.sh` starts and `scripts/test.sh` names in
//! `SHALLOT_TEST_POSTGRES` (a superuser's URL without a database).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use shallot::{Config, Pipeline};

/// Where a test's database lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A file in a fresh temporary folder.
    Sqlite,
    /// A fresh database on the test run's server.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`: the folder of a backend's migrations.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Each listed `async fn name(backend: Backend)` of the calling module as a
/// test per backend: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        pub(crate) mod sqlite {
            $(
                #[tokio::test]
                pub(crate) async fn $name() {
                    super::$name($crate::databases::Backend::Sqlite).await;
                }
            )*
        }
        pub(crate) mod postgres {
            $(
                #[tokio::test]
                pub(crate) async fn $name() {
                    super::$name($crate::databases::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// A database no other test uses, with the migrations in
/// `migrations/<backend>`: the lines of its `[databases.NAME]` table
/// (`url`, `read_url` on PostgreSQL, `migrations`).
pub async fn fresh(backend: Backend, migrations: &Path) -> String {
    let url = match backend {
        Backend::Sqlite => {
            let dir = crate::template_dir(&[]);
            format!("url = \"sqlite:{}\"", dir.join("app.db").display())
        }
        Backend::Postgres => {
            let (url, read_url) = fresh_postgres().await;
            format!("url = \"{url}\"\nread_url = \"{read_url}\"")
        }
    };
    format!(
        "{url}\nmigrations = \"{}\"\n",
        migrations.join(backend.name()).display()
    )
}

/// Applies the migrations of every database of `config`, as `shallot
/// migrate` would, then loads it.
pub async fn migrated(config: &Config) -> Pipeline {
    for (name, spec) in &config.databases {
        shallot::migrate::apply(name, spec)
            .await
            .unwrap_or_else(|e| panic!("migrations of {name}: {e}"));
    }
    Pipeline::load_with(crate::runtime(), config)
        .await
        .unwrap_or_else(|e| panic!("test pipeline does not load: {e}"))
}

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
async fn fresh_postgres() -> (String, String) {
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
