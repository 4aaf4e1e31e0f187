//! `shallot:http/key-value`: named stores over the embedded database. A
//! component opens only the stores its config grants; every store is its
//! own namespace.
//!
//! Every operation runs on tokio's blocking pool: a redb commit writes and
//! syncs the file, and a guest's write must not stall the other requests of
//! the async worker it runs on. The bytes an operation moves (key and value
//! in, value out) are charged to the calling hook's CPU budget like any
//! copy; its time is not, because most of it is waiting (for the file's
//! write lock, for fsync) that a busy machine stretches, and values and
//! stores are capped (`[key_value] max_value_kib`,
//! `store_quota_mib`), with `quota-exceeded` when a write would pass a cap.

use std::time::Duration;

use wasmtime::component::Resource;

use super::KvDatabase;
use super::kv_store::KvError;
use crate::bindings::key_value::{Host, HostStore};
use crate::bindings::types::{Error, ErrorKind};
use crate::state::RequestState;

/// An open store, as a guest holds it.
#[derive(Debug)]
#[expect(unreachable_pub, reason = "bindgen!'s `with:` re-exports it")]
pub struct KvStoreHandle {
    name: String,
}

/// A failed operation as the guest sees it: a full store is told apart.
fn guest_error(e: KvError) -> Error {
    let kind = match e {
        KvError::ValueTooLarge { .. } | KvError::QuotaExceeded { .. } => ErrorKind::QuotaExceeded,
        _ => ErrorKind::Internal,
    };
    Error {
        kind,
        message: format!("key-value: {e}"),
    }
}

impl RequestState {
    /// Runs `op` on the store `handle` names, off the async workers.
    async fn kv<T: Send + 'static>(
        &mut self,
        handle: &Resource<KvStoreHandle>,
        op: impl FnOnce(&KvDatabase, &str) -> Result<T, KvError> + Send + 'static,
    ) -> wasmtime::Result<Result<T, Error>> {
        let name = self.table.get(handle)?.name.clone();
        let db = self
            .current
            .services
            .kv
            .clone()
            .ok_or_else(|| wasmtime::Error::msg("key-value store used without a database"))?;
        let run = move || op(&db, &name);
        let result = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.spawn_blocking(run).await?,
            // An embedder without tokio: nothing else to keep responsive.
            Err(_) => run(),
        };
        Ok(result.map_err(guest_error))
    }
}

fn ttl(ms: Option<u64>) -> Option<Duration> {
    ms.map(Duration::from_millis)
}

impl Host for RequestState {}

impl HostStore for RequestState {
    async fn open(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<KvStoreHandle>, Error>> {
        if !self.current.grants.key_value_stores.contains(&name) {
            return Ok(Err(Error {
                kind: ErrorKind::PermissionDenied,
                message: format!(
                    "{} may not open key-value store {name:?}: not in its key_value_stores",
                    self.current.label
                ),
            }));
        }
        Ok(Ok(self.table.push(KvStoreHandle { name })?))
    }

    async fn get(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        self.charge_copy(key.len())?;
        let value = self.kv(&store, move |db, name| db.get(name, &key)).await?;
        if let Ok(Some(value)) = &value {
            self.charge_copy(value.len())?;
        }
        Ok(value)
    }

    async fn set(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.kv(&store, move |db, name| {
            db.set(name, &key, &value, ttl(ttl_ms))
        })
        .await
    }

    async fn delete(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        self.kv(&store, move |db, name| db.delete(name, &key)).await
    }

    async fn increment(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<i64, Error>> {
        self.kv(&store, move |db, name| {
            db.increment(name, &key, delta, ttl(ttl_ms))
        })
        .await
    }

    async fn ttl_ms(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<u64>, Error>> {
        self.kv(&store, move |db, name| {
            let left = db.ttl(name, &key)?;
            Ok(left.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)))
        })
        .await
    }

    async fn drop(&mut self, store: Resource<KvStoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
