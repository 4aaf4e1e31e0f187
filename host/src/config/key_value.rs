//! `[key_value]`: where the stores behind `key_value_stores` live and how
//! much one guest can make the host keep there.

use std::path::{Path, PathBuf};

use super::locate::Source;
use super::schema::RawKeyValue;
use super::{ConfigError, KvQuota};

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
