//! `shallot:http/key-value`: named stores over the embedded database. A
//! component opens only the stores its config grants; every store is its
//! own namespace.
//!
//! A store lives in the embedded redb file (the default) or on a Redis
//! server (`[key_value.NAME] url`), which hosts behind a load balancer
//! share; the guest cannot tell them apart. File operations run on tokio's
//! blocking pool: a redb commit writes and syncs the file, and a guest's
//! write must not stall the other requests of the async worker it runs on.
//! The bytes an operation moves (key and value in, value out) are charged
//! to the calling hook's CPU budget like any copy; its time is not, because
//! most of it is waiting (for the file's write lock, for fsync, for the
//! network) that a busy machine stretches, and values and stores are capped.
//!
//! The caps are `[key_value] max_value_kib` (both backends) and
//! `store_quota_mib` (the file; a Redis server's own `maxmemory` caps its
//! stores, and its OOM refusal is the same error); a write that would pass
//! one is a `quota-exceeded` error for the guest. A Redis server out of reach is `unavailable` (503 if the guest
//! passes it on).

mod redis;
mod store;
mod stores;
#[cfg(test)]
mod tests;

use std::time::Duration;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use super::Grant;
use super::error::{HostError, HostResult, trappable};
use crate::bindings::key_value::{self, Host, HostStore};
use crate::bindings::types::{Error, ErrorKind};
use crate::limits::Meter;
use crate::resources::KvStoreHandle;

pub use redis::RedisSpec;
pub(crate) use store::KvError;
pub use store::KvQuota;
pub(crate) use stores::KvStores;

/// The grant that links this interface: `key_value_stores = [...]`.
pub(crate) const GRANT: Grant = Grant {
    interface: "key-value",
    field: "key_value_stores",
    granted: |g| !g.key_value_stores.is_empty(),
};

/// What the key-value host functions reach, per request: the store's
/// table (for open stores) and meter, the component's grant and the
/// pipeline's database.
pub(crate) struct KvView<'a> {
    pub(crate) table: &'a mut ResourceTable,
    pub(crate) meter: &'a mut Meter,
    /// Who is asking, for errors.
    pub(crate) component: &'a str,
    /// The stores its `key_value_stores` grants.
    pub(crate) stores: &'a [String],
    pub(crate) db: Option<&'a KvStores>,
}

struct Kv;

impl HasData for Kv {
    type Data<'a> = KvView<'a>;
}

/// Link phase: `shallot:http/key-value`, only for granted components.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> KvView<'_>,
) -> wasmtime::Result<()> {
    key_value::add_to_linker::<T, Kv>(linker, view)
}

/// A failed operation as the guest sees it: a full store and an
/// unreachable server are told apart.
fn guest_error(e: KvError) -> HostError {
    let kind = match e {
        KvError::ValueTooLarge { .. } | KvError::QuotaExceeded { .. } | KvError::ServerFull(_) => {
            ErrorKind::QuotaExceeded
        }
        KvError::Unavailable(_) => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    HostError::guest(kind, format!("key-value: {e}"))
}

impl KvView<'_> {
    /// Runs `op` on the store `handle` names.
    async fn with_store<T>(
        &mut self,
        handle: &Resource<KvStoreHandle>,
        op: impl AsyncFnOnce(&KvStores, &str) -> Result<T, KvError>,
    ) -> HostResult<T> {
        let name = self.table.get(handle)?.name.clone();
        let db = self
            .db
            .ok_or_else(|| wasmtime::Error::msg("key-value store used without a database"))?;
        op(db, &name).await.map_err(guest_error)
    }

    /// Checked on every call, not only at link time: the grant names the
    /// stores, and only those open.
    fn open_store(&mut self, name: String) -> HostResult<Resource<KvStoreHandle>> {
        if !self.stores.contains(&name) {
            return Err(HostError::guest(
                ErrorKind::PermissionDenied,
                format!(
                    "{} may not open key-value store {name:?}: not in its key_value_stores",
                    self.component
                ),
            ));
        }
        Ok(self.table.push(KvStoreHandle { name })?)
    }

    async fn get_value(
        &mut self,
        store: &Resource<KvStoreHandle>,
        key: String,
    ) -> HostResult<Option<Vec<u8>>> {
        self.meter.charge_copy(key.len())?;
        let value = self
            .with_store(store, async |db, name| db.get(name, key).await)
            .await?;
        if let Some(value) = &value {
            self.meter.charge_copy(value.len())?;
        }
        Ok(value)
    }
}

fn ttl(ms: Option<u64>) -> Option<Duration> {
    ms.map(Duration::from_millis)
}

impl Host for KvView<'_> {}

impl HostStore for KvView<'_> {
    async fn open(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<KvStoreHandle>, Error>> {
        trappable(self.open_store(name))
    }

    async fn get(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        trappable(self.get_value(&store, key).await)
    }

    async fn set(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.meter.charge_copy(key.len() + value.len())?;
        trappable(
            self.with_store(&store, async |db, name| {
                db.set(name, key, value, ttl(ttl_ms)).await
            })
            .await,
        )
    }

    async fn delete(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        self.meter.charge_copy(key.len())?;
        trappable(
            self.with_store(&store, async |db, name| db.delete(name, key).await)
                .await,
        )
    }

    async fn increment(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<i64, Error>> {
        self.meter.charge_copy(key.len())?;
        trappable(
            self.with_store(&store, async |db, name| {
                db.increment(name, key, delta, ttl(ttl_ms)).await
            })
            .await,
        )
    }

    async fn ttl_ms(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<u64>, Error>> {
        self.meter.charge_copy(key.len())?;
        let left = self.with_store(&store, async |db, name| db.ttl(name, key).await);
        trappable(
            left.await
                .map(|t| t.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX))),
        )
    }

    async fn drop(&mut self, store: Resource<KvStoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
