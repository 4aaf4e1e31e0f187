//! `[key_value]`: where the stores behind `key_value_stores` live and how
//! much one guest can make the host keep there. A store is in the embedded
//! file unless a `[key_value.NAME]` table puts it on a Redis server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::locate::Source;
use super::schema::{RawKeyValue, RawKvStore};
use super::{ConfigError, KvQuota};
use crate::capability::kv::RedisSpec;

/// Where key-value data lives unless `[key_value] path` says otherwise.
const DEFAULT_KV_PATH: &str = ".shallot/kv.redb";

/// `[key_value] max_value_kib` and `store_quota_mib`.
pub(super) fn quota(src: &Source<'_>, raw: &RawKeyValue) -> Result<KvQuota, ConfigError> {
    let mut quota = KvQuota::default();
    if let Some(kib) = src.bounded_opt(
        raw.max_value_kib.as_ref(),
        "key_value.max_value_kib",
        1,
        1 << 20,
    )? {
        quota.max_value_bytes = kib << 10;
    }
    if let Some(mib) = src.bounded_opt(
        raw.store_quota_mib.as_ref(),
        "key_value.store_quota_mib",
        1,
        1 << 20,
    )? {
        quota.store_bytes = mib << 20;
    }
    Ok(quota)
}

/// `[key_value] path`, resolved against `base`, the config file's folder.
pub(super) fn path(base: &Path, raw: &RawKeyValue) -> PathBuf {
    base.join(raw.path.as_deref().unwrap_or(DEFAULT_KV_PATH))
}

/// Every `[key_value.NAME]`: the stores kept on Redis, by name.
pub(super) fn redis_stores(
    src: &Source<'_>,
    raw: BTreeMap<Spanned<String>, Spanned<RawKvStore>>,
) -> Result<BTreeMap<String, RedisSpec>, ConfigError> {
    let mut stores = BTreeMap::new();
    for (name, store) in raw {
        let field = format!("key_value.{}", name.get_ref());
        src.table_name(&name, &field, "a store name")?;
        let store = store.into_inner();
        let url = &store.url;
        // The client is built without TLS: say so rather than fail at the
        // first request.
        if url.get_ref().starts_with("rediss://") {
            return Err(src.error(
                url.span(),
                &format!("{field}.url"),
                "rediss:// (TLS) is not supported: use redis:// on a private network, \
                 or a TLS tunnel on loopback"
                    .to_owned(),
            ));
        }
        if let Err(e) = RedisSpec::check_url(url.get_ref()) {
            return Err(src.error(
                url.span(),
                &format!("{field}.url"),
                format!("not a Redis URL: {e}"),
            ));
        }
        let timeout_ms = src
            .bounded_opt(
                store.timeout_ms.as_ref(),
                &format!("{field}.timeout_ms"),
                1,
                60_000,
            )?
            .unwrap_or(1_000);
        let prefix = store
            .prefix
            .unwrap_or_else(|| format!("shallot:{}:", name.get_ref()));
        // Stores on one server are namespaces only if no prefix starts
        // another (the file's stores never collide either).
        let clash = stores.iter().find(|(_, other): &(&String, &RedisSpec)| {
            other.url == *url.get_ref()
                && (other.prefix.starts_with(&prefix) || prefix.starts_with(&other.prefix))
        });
        if prefix.is_empty() || clash.is_some() {
            let why = match clash {
                Some((other, _)) => format!(
                    "prefix {prefix:?} overlaps store {other:?}'s on the same server: their keys would mix"
                ),
                None => {
                    "the prefix is empty: this store's keys would mix with every other's".to_owned()
                }
            };
            return Err(src.error(name.span(), &format!("{field}.prefix"), why));
        }
        stores.insert(
            name.into_inner(),
            RedisSpec {
                url: url.get_ref().clone(),
                prefix,
                timeout: Duration::from_millis(timeout_ms),
            },
        );
    }
    Ok(stores)
}
