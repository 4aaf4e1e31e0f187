//! `shallot:http/key-value`: named stores over the embedded database. A
//! component opens only the stores its config grants; every store is its
//! own namespace.

use std::time::Duration;

use wasmtime::component::Resource;

use crate::bindings::key_value::{Host, HostStore};
use crate::bindings::types::{Error, ErrorKind};
use crate::state::RequestState;

/// An open store, as a guest holds it.
#[derive(Debug)]
#[expect(unreachable_pub, reason = "bindgen!'s `with:` re-exports it")]
pub struct KvStoreHandle {
    name: String,
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error {
        kind: ErrorKind::Internal,
        message: format!("key-value: {e}"),
    }
}

impl RequestState {
    fn kv_store(
        &self,
        handle: &Resource<KvStoreHandle>,
    ) -> wasmtime::Result<(&super::KvDatabase, String)> {
        let name = self.table.get(handle)?.name.clone();
        let db = self
            .current
            .services
            .kv
            .as_ref()
            .ok_or_else(|| wasmtime::Error::msg("key-value store used without a database"))?;
        Ok((db, name))
    }
}

fn ttl(ms: Option<u64>) -> Option<Duration> {
    ms.map(Duration::from_millis)
}

impl Host for RequestState {}

impl HostStore for RequestState {
    fn open(&mut self, name: String) -> wasmtime::Result<Result<Resource<KvStoreHandle>, Error>> {
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

    fn get(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let (db, name) = self.kv_store(&store)?;
        Ok(db.get(&name, &key).map_err(internal))
    }

    fn set(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (db, name) = self.kv_store(&store)?;
        Ok(db.set(&name, &key, &value, ttl(ttl_ms)).map_err(internal))
    }

    fn delete(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let (db, name) = self.kv_store(&store)?;
        Ok(db.delete(&name, &key).map_err(internal))
    }

    fn increment(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let (db, name) = self.kv_store(&store)?;
        Ok(db
            .increment(&name, &key, delta, ttl(ttl_ms))
            .map_err(internal))
    }

    fn ttl_ms(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<u64>, Error>> {
        let (db, name) = self.kv_store(&store)?;
        Ok(db
            .ttl(&name, &key)
            .map(|t| t.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
            .map_err(internal))
    }

    fn drop(&mut self, store: Resource<KvStoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
