//! The key-value semantics guests rely on, checked on both backends: each
//! test runs once on the embedded file and once on a Redis server of its
//! own (Debian's `redis-server`, started on a free loopback port and
//! killed at the end; `scripts/test.sh` installs it). What only one
//! backend has (the file's quota and sweeping, Redis's connection loss) is
//! tested beside it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{KvError, KvQuota, KvStores, RedisSpec};

const QUOTA: KvQuota = KvQuota {
    max_value_bytes: 16 << 20,
    store_bytes: 1 << 30,
};

/// A test's stores and what keeps them alive.
struct Fixture {
    stores: KvStores,
    _dir: tempfile::TempDir,
    _redis: Option<Redis>,
}

fn file() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.redb");
    let stores = KvStores::configure(["s", "t"], &path, QUOTA, &BTreeMap::new())
        .unwrap()
        .unwrap();
    Fixture {
        stores,
        _dir: dir,
        _redis: None,
    }
}

fn redis() -> Fixture {
    let server = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let specs = ["s", "t"]
        .into_iter()
        .map(|name| (name.to_owned(), spec(&server, name)))
        .collect();
    let stores = KvStores::configure(["s", "t"], &dir.path().join("kv.redb"), QUOTA, &specs)
        .unwrap()
        .unwrap();
    Fixture {
        stores,
        _dir: dir,
        _redis: Some(server),
    }
}

/// Each `async fn name(db: &KvStores)` as a test per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod file {
            $(#[tokio::test]
            async fn $name() {
                super::$name(&super::file().stores).await;
            })*
        }
        mod redis {
            $(#[tokio::test]
            async fn $name() {
                super::$name(&super::redis().stores).await;
            })*
        }
    };
}

on_both_backends!(
    get_set_delete_round_trip,
    expired_keys_are_absent,
    increment_keeps_the_first_expiry,
    increment_rejects_non_integers_and_overflow,
    ttl_reports_remaining_time,
    stores_are_namespaces,
    concurrent_increments_are_atomic,
    values_over_the_cap_are_refused,
);

async fn get(db: &KvStores, store: &str, key: &str) -> Option<String> {
    let value = db.get(store, key.to_owned()).await.unwrap();
    value.map(|v| String::from_utf8(v).unwrap())
}

async fn set(db: &KvStores, key: &str, value: &[u8], ttl: Option<Duration>) {
    db.set("s", key.to_owned(), value.to_vec(), ttl)
        .await
        .unwrap();
}

async fn get_set_delete_round_trip(db: &KvStores) {
    assert_eq!(get(db, "s", "k").await, None);
    set(db, "k", b"one", None).await;
    set(db, "k", b"two", None).await;
    assert_eq!(get(db, "s", "k").await.as_deref(), Some("two"));
    assert!(db.delete("s", "k".into()).await.unwrap());
    assert!(!db.delete("s", "k".into()).await.unwrap());
    assert_eq!(get(db, "s", "k").await, None);
    set(db, "", b"", None).await;
    assert_eq!(get(db, "s", "").await.as_deref(), Some(""));
    let huge = vec![7u8; 8 << 20];
    set(db, "huge", &huge, None).await;
    assert_eq!(db.get("s", "huge".into()).await.unwrap(), Some(huge));
}

async fn expired_keys_are_absent(db: &KvStores) {
    set(db, "gone", b"v", Some(Duration::from_millis(200))).await;
    set(db, "kept", b"v", None).await;
    set(db, "zero", b"v", Some(Duration::ZERO)).await;
    assert_eq!(get(db, "s", "zero").await, None);
    assert!(get(db, "s", "gone").await.is_some());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get(db, "s", "gone").await, None);
    assert_eq!(db.ttl("s", "gone".into()).await.unwrap(), None);
    assert!(!db.delete("s", "gone".into()).await.unwrap());
    assert!(get(db, "s", "kept").await.is_some());
    // A plain set drops an earlier expiry, as Redis's SET does.
    set(db, "kept", b"v", Some(Duration::from_secs(60))).await;
    set(db, "kept", b"w", None).await;
    assert_eq!(db.ttl("s", "kept".into()).await.unwrap(), None);
}

/// A rate limit's window starts with its first hit and does not slide.
async fn increment_keeps_the_first_expiry(db: &KvStores) {
    let window = Some(Duration::from_millis(400));
    assert_eq!(db.increment("s", "n".into(), 5, window).await.unwrap(), 5);
    let first = db.ttl("s", "n".into()).await.unwrap().unwrap();
    assert!(first <= Duration::from_millis(400));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let later = Some(Duration::from_secs(60));
    assert_eq!(db.increment("s", "n".into(), -2, later).await.unwrap(), 3);
    let left = db.ttl("s", "n".into()).await.unwrap().unwrap();
    assert!(left < first, "the window slid: {left:?} after {first:?}");
    assert_eq!(get(db, "s", "n").await.as_deref(), Some("3"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(db.increment("s", "n".into(), 1, None).await.unwrap(), 1);
    assert_eq!(db.ttl("s", "n".into()).await.unwrap(), None);
}

async fn increment_rejects_non_integers_and_overflow(db: &KvStores) {
    set(db, "text", b"abc", None).await;
    let err = db.increment("s", "text".into(), 1, None).await.unwrap_err();
    assert!(
        matches!(err, KvError::NotAnInteger { ref key } if key == "text"),
        "{err}"
    );
    set(db, "max", i64::MAX.to_string().as_bytes(), None).await;
    let err = db.increment("s", "max".into(), 1, None).await.unwrap_err();
    assert!(matches!(err, KvError::Overflow { delta: 1, .. }), "{err}");
    assert_eq!(
        db.increment("s", "max".into(), 0, None).await.unwrap(),
        i64::MAX
    );
    let min = db.increment("s", "min".into(), i64::MIN, None).await;
    assert_eq!(min.unwrap(), i64::MIN);
    let err = db.increment("s", "min".into(), -1, None).await.unwrap_err();
    assert!(matches!(err, KvError::Overflow { delta: -1, .. }), "{err}");
}

async fn ttl_reports_remaining_time(db: &KvStores) {
    assert_eq!(db.ttl("s", "missing".into()).await.unwrap(), None);
    set(db, "forever", b"v", None).await;
    assert_eq!(db.ttl("s", "forever".into()).await.unwrap(), None);
    set(db, "soon", b"v", Some(Duration::from_secs(10))).await;
    let left = db.ttl("s", "soon".into()).await.unwrap().unwrap();
    assert!(left > Duration::from_secs(9) && left <= Duration::from_secs(10));
}

async fn stores_are_namespaces(db: &KvStores) {
    set(db, "k", b"in s", None).await;
    assert_eq!(get(db, "t", "k").await, None);
    db.set("t", "k".into(), b"in t".to_vec(), None)
        .await
        .unwrap();
    assert_eq!(get(db, "s", "k").await.as_deref(), Some("in s"));
    assert_eq!(get(db, "t", "k").await.as_deref(), Some("in t"));
}

async fn concurrent_increments_are_atomic(db: &KvStores) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    db.increment("s", "n".into(), 1, None).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(get(db, "s", "n").await.as_deref(), Some("400"));
}

async fn values_over_the_cap_are_refused(db: &KvStores) {
    let max = QUOTA.max_value_bytes as usize;
    let err = db
        .set("s", "big".into(), vec![0; max + 1], None)
        .await
        .unwrap_err();
    assert!(matches!(err, KvError::ValueTooLarge { .. }), "{err}");
    assert_eq!(get(db, "s", "big").await, None);
}

/// Connection loss: while the server is away an operation fails within the
/// store's timeout as `Unavailable` (503 for the request); once it is back
/// the next operation succeeds on a new connection, with nothing done.
#[tokio::test]
async fn a_lost_redis_connection_is_unavailable_then_recovers() {
    let mut fixture = redis();
    let db = fixture.stores.clone();
    set(&db, "k", b"v", None).await;
    let server = fixture._redis.as_mut().unwrap();
    server.stop();
    let started = std::time::Instant::now();
    let err = db.get("s", "k".into()).await.unwrap_err();
    assert!(matches!(err, KvError::Unavailable(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "failed fast");
    let err = db.set("s", "k".into(), b"w".to_vec(), None).await;
    assert!(matches!(err, Err(KvError::Unavailable(_))), "{err:?}");
    server.restart();
    let mut recovered = None;
    for _ in 0..50 {
        match db.set("s", "k".into(), b"back".to_vec(), None).await {
            Ok(()) => {
                recovered = get(&db, "s", "k").await;
                break;
            }
            Err(KvError::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(recovered.as_deref(), Some("back"));
}

/// A granted store that a `[key_value.NAME]` puts on Redis leaves the file
/// unopened when no other store needs it: several hosts on one machine
/// then do not contend for its lock.
#[tokio::test]
async fn all_stores_on_redis_open_no_file() {
    let server = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv.redb");
    let specs = BTreeMap::from([("s".to_owned(), spec(&server, "s"))]);
    let db = KvStores::configure(["s"], &path, QUOTA, &specs)
        .unwrap()
        .unwrap();
    set(&db, "k", b"v", None).await;
    assert!(!path.exists());
}

/// The test crate's `redis-server` (a free loopback port, nothing saved,
/// killed on drop), compiled into these unit tests too: the host cannot
/// depend on the test crate, which depends on the host.
#[path = "../../../../tests/src/redis.rs"]
#[allow(
    unreachable_pub,
    reason = "public in the test crate, where it comes from"
)]
mod redis_server;
use redis_server::RedisServer as Redis;

/// Where store `store` lives on `server`.
fn spec(server: &Redis, store: &str) -> RedisSpec {
    RedisSpec {
        url: server.url(),
        prefix: format!("shallot:{store}:"),
        timeout: Duration::from_millis(500),
    }
}
