//! A pipeline's key-value stores, wherever each one lives: the embedded
//! file unless `[key_value.NAME]` puts it on Redis. The host functions see
//! one set of operations; this is the only place that tells the backends
//! apart.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::KvError;
use super::redis::{RedisSpec, RedisStore};
use super::store::{KvDatabase, KvQuota};

/// Every store the pipeline's grants name; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct KvStores {
    /// Opened only when some granted store is not on Redis.
    file: Option<KvDatabase>,
    redis: Arc<BTreeMap<String, RedisStore>>,
}

/// Where one store's operations go.
enum Backend<'a> {
    File(&'a KvDatabase),
    Redis(&'a RedisStore),
}

impl KvStores {
    /// Configure phase: `granted` is every store some component may open.
    /// The file is opened (and locked) only if one of them is kept there;
    /// Redis stores connect on first use.
    pub(crate) fn configure<'a>(
        granted: impl IntoIterator<Item = &'a str>,
        path: &Path,
        quota: KvQuota,
        redis: &BTreeMap<String, RedisSpec>,
    ) -> Result<Option<KvStores>, KvError> {
        let granted: Vec<&str> = granted.into_iter().collect();
        if granted.is_empty() {
            return Ok(None);
        }
        let in_file = granted.iter().any(|s| !redis.contains_key(*s));
        let file = in_file.then(|| KvDatabase::open(path, quota)).transpose()?;
        let redis = redis
            .iter()
            .filter(|(name, _)| granted.contains(&name.as_str()))
            .map(|(name, spec)| Ok((name.clone(), RedisStore::new(spec, quota.max_value_bytes)?)))
            .collect::<Result<_, KvError>>()?;
        Ok(Some(KvStores {
            file,
            redis: Arc::new(redis),
        }))
    }

    fn backend(&self, store: &str) -> Result<Backend<'_>, KvError> {
        if let Some(redis) = self.redis.get(store) {
            return Ok(Backend::Redis(redis));
        }
        self.file
            .as_ref()
            .map(Backend::File)
            .ok_or_else(|| KvError::Db(format!("no database holds store {store:?}")))
    }

    pub(crate) async fn get(&self, store: &str, key: String) -> Result<Option<Vec<u8>>, KvError> {
        match self.backend(store)? {
            Backend::Redis(r) => r.get(&key).await,
            Backend::File(db) => off_thread(db, store, move |db, s| db.get(s, &key)).await,
        }
    }

    pub(crate) async fn set(
        &self,
        store: &str,
        key: String,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), KvError> {
        match self.backend(store)? {
            Backend::Redis(r) => r.set(&key, &value, ttl).await,
            Backend::File(db) => {
                off_thread(db, store, move |db, s| db.set(s, &key, &value, ttl)).await
            }
        }
    }

    pub(crate) async fn delete(&self, store: &str, key: String) -> Result<bool, KvError> {
        match self.backend(store)? {
            Backend::Redis(r) => r.delete(&key).await,
            Backend::File(db) => off_thread(db, store, move |db, s| db.delete(s, &key)).await,
        }
    }

    pub(crate) async fn increment(
        &self,
        store: &str,
        key: String,
        delta: i64,
        ttl_if_new: Option<Duration>,
    ) -> Result<i64, KvError> {
        match self.backend(store)? {
            Backend::Redis(r) => r.increment(&key, delta, ttl_if_new).await,
            Backend::File(db) => {
                off_thread(db, store, move |db, s| {
                    db.increment(s, &key, delta, ttl_if_new)
                })
                .await
            }
        }
    }

    pub(crate) async fn ttl(&self, store: &str, key: String) -> Result<Option<Duration>, KvError> {
        match self.backend(store)? {
            Backend::Redis(r) => r.ttl(&key).await,
            Backend::File(db) => off_thread(db, store, move |db, s| db.ttl(s, &key)).await,
        }
    }
}

/// Runs a file operation on tokio's blocking pool: a redb commit writes and
/// syncs the file, which must not stall the async worker's other requests.
async fn off_thread<T: Send + 'static>(
    db: &KvDatabase,
    store: &str,
    op: impl FnOnce(&KvDatabase, &str) -> Result<T, KvError> + Send + 'static,
) -> Result<T, KvError> {
    let (db, store) = (db.clone(), store.to_owned());
    super::super::blocking(move || op(&db, &store))
        .await
        .map_err(|e| KvError::Db(e.to_string()))?
}
