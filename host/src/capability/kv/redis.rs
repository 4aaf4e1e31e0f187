//! The Redis backend of the key-value capability, for stores that several
//! hosts share (`[key_value.NAME] url = "redis://..."`): the same five
//! operations with the same meaning as the embedded file's.
//!
//! One connection per store and pipeline version, multiplexed by every
//! request (Redis answers in order on one socket, so a pool would only add
//! sockets) and re-made by the connection manager after it is lost. An
//! operation that cannot reach the server within the store's `timeout_ms`
//! is `Unavailable`, which the guest sees as `unavailable` and a view that
//! passes it on answers with 503; the next request tries again.
//!
//! Keys are `prefix ++ key`, the prefix `shallot:NAME:` unless configured,
//! so stores sharing a server do not collide and `redis-cli --scan
//! --pattern 'shallot:sessions:*'` finds one store's keys.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisError};

use super::KvError;

/// A `[key_value.NAME]` table, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSpec {
    /// `redis://[user:password@]host[:port][/db]`.
    pub url: String,
    /// Put before every key of the store.
    pub prefix: String,
    /// How long one operation may take, connecting included.
    pub timeout: Duration,
}

impl RedisSpec {
    /// Whether `url` is one the client can connect to (no connection made).
    pub(crate) fn check_url(url: &str) -> Result<(), String> {
        Client::open(url).map(drop).map_err(|e| e.to_string())
    }
}

/// One store on a Redis server; cheap to clone (the connection is shared).
#[derive(Clone)]
pub(crate) struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    max_value_bytes: u64,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects lazily: the first operation dials, so a host starts (and a
    /// reload succeeds) while Redis is briefly away, and that operation is
    /// the one that fails.
    pub(crate) fn new(spec: &RedisSpec, max_value_bytes: u64) -> Result<RedisStore, KvError> {
        let client = Client::open(spec.url.as_str()).map_err(|e| KvError::Db(e.to_string()))?;
        // One quick retry, then the request fails: a guest waiting seconds
        // for a server that is down holds its worker for nothing.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(spec.timeout))
            .set_response_timeout(Some(spec.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| KvError::Db(e.to_string()))?;
        Ok(RedisStore {
            connection,
            prefix: spec.prefix.clone(),
            timeout: spec.timeout,
            max_value_bytes,
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs one command, bounded by the store's timeout whatever the
    /// connection manager does, and sorts its error.
    async fn query<T: redis::FromRedisValue>(
        &self,
        key: &str,
        cmd: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, KvError> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(self.timeout, cmd(&mut connection)).await {
            Ok(result) => result.map_err(|e| classify(e, key)),
            Err(_) => Err(KvError::Unavailable(format!(
                "Redis did not answer within {:?}",
                self.timeout
            ))),
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let k = self.key(key);
        self.query(key, async |c| {
            redis::cmd("GET").arg(&k).query_async(c).await
        })
        .await
    }

    /// Replaces the value and its expiry, as `SET` without `KEEPTTL` does.
    pub(crate) async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), KvError> {
        let len = value.len() as u64;
        if len > self.max_value_bytes {
            return Err(KvError::ValueTooLarge {
                len,
                max: self.max_value_bytes,
            });
        }
        let k = self.key(key);
        if ttl == Some(Duration::ZERO) {
            // Expired as it is written, as in the file; `PX 0` is an error.
            return self.delete(key).await.map(drop);
        }
        self.query(key, async |c| {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&k).arg(value);
            if let Some(ttl) = ttl {
                cmd.arg("PX").arg(millis(ttl));
            }
            cmd.query_async(c).await
        })
        .await
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<bool, KvError> {
        let k = self.key(key);
        let removed: u64 = self
            .query(key, async |c| {
                redis::cmd("DEL").arg(&k).query_async(c).await
            })
            .await?;
        Ok(removed > 0)
    }

    pub(crate) async fn increment(
        &self,
        key: &str,
        delta: i64,
        ttl_if_new: Option<Duration>,
    ) -> Result<i64, KvError> {
        let k = self.key(key);
        // One transaction: the key is created at 0 with the expiry only if
        // it is absent (`SET NX PX`), and INCRBY keeps an existing expiry,
        // as the embedded backend does (a rate limit's window starts with
        // its first hit and does not slide). Not a Lua script: Lua's
        // numbers are doubles, which would round counters past 2^53.
        let result = self
            .query(key, async |c| {
                let mut pipe = redis::pipe();
                pipe.atomic();
                if let Some(ttl) = ttl_if_new {
                    pipe.cmd("SET").arg(&k).arg(0).arg("PX").arg(millis(ttl));
                    pipe.arg("NX").ignore();
                }
                pipe.cmd("INCRBY").arg(&k).arg(delta);
                let (value,): (i64,) = pipe.query_async(c).await?;
                Ok(value)
            })
            .await;
        match result {
            Err(KvError::Overflow { key, .. }) => Err(KvError::Overflow { key, delta }),
            other => other,
        }
    }

    /// `PTTL`: -2 for no such key, -1 for no expiry.
    pub(crate) async fn ttl(&self, key: &str) -> Result<Option<Duration>, KvError> {
        let k = self.key(key);
        let left: i64 = self
            .query(key, async |c| {
                redis::cmd("PTTL").arg(&k).query_async(c).await
            })
            .await?;
        Ok(u64::try_from(left).ok().map(Duration::from_millis))
    }
}

/// Milliseconds for `PX`, at least 1 (Redis refuses 0) and at most 2^62:
/// Redis refuses an expiry past its clock's range, where the file's
/// saturates, and nobody waits 146 million years.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, 1 << 62)
}

/// Sorts a Redis error: the server unreachable or not serving for now
/// (the request gets 503, a later one may succeed), out of memory (a full
/// store, as the file's quota), and what the command itself was refused
/// for.
fn classify(e: RedisError, key: &str) -> KvError {
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        return KvError::Unavailable(e.to_string());
    }
    let text = e.to_string();
    match e.code() {
        // Loading its data after a restart, a replica, a failover, a
        // script running: all pass.
        Some("LOADING" | "READONLY" | "MASTERDOWN" | "TRYAGAIN" | "BUSY") => {
            KvError::Unavailable(text)
        }
        Some("OOM") => KvError::ServerFull(text),
        _ if text.contains("overflow") => KvError::Overflow {
            key: key.to_owned(),
            delta: 0,
        },
        _ if text.contains("not an integer") => KvError::NotAnInteger {
            key: key.to_owned(),
        },
        _ => KvError::Db(text),
    }
}
