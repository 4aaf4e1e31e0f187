//! Default backend of the key-value capability: one redb file holds every
//! named store, so data outlives the process.
//!
//! One process opens a file once ([`KvDatabase::open`] hands out the open
//! database again while any version of the pipeline holds it), so a reload
//! that keeps the same file shares it with the version it replaces instead
//! of failing on redb's file lock.
//!
//! On-disk layout, three tables:
//! - `kv_entries`: key = store length (u64 BE) ++ store ++ key; value = expiry
//!   (unix millis, u64 BE, 0 = never) ++ value bytes. The length prefix makes
//!   the store/key split unambiguous and keeps each store a contiguous range.
//! - `kv_expiries`: key = expiry (u64 BE) ++ entry key; value = (). Ordered by
//!   expiry so each write can purge a few expired entries cheaply; otherwise
//!   keys never touched again (per-client rate-limit counters) would pile up.
//! - `kv_sizes`: key = store; value = bytes (keys plus values) it holds,
//!   kept in step by every write, for the per-store quota.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{CommitError, DatabaseError, StorageError, TableError, TransactionError};
use redb::{
    Database, ReadableDatabase, ReadableTable, Table, TableDefinition, TableHandle,
    WriteTransaction,
};

const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv_entries");
const EXPIRIES: TableDefinition<&[u8], ()> = TableDefinition::new("kv_expiries");
const SIZES: TableDefinition<&[u8], u64> = TableDefinition::new("kv_sizes");
/// Caps the cleanup a single write does for garbage it did not create.
const SWEEP_LIMIT: usize = 32;

/// Why a key-value operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KvError {
    /// The directory meant to hold the database file could not be created.
    #[error("{}: cannot create directory: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// redb failed (open, transaction, I/O, corruption): redb's own message,
    /// bare because callers already say which database it is.
    #[error("{0}")]
    Db(String),
    /// The store's server could not be reached in time (Redis): the
    /// request may be retried, this one gets 503.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The store's server is out of memory (Redis over `maxmemory`).
    #[error("the server is full: {0}")]
    ServerFull(String),
    /// `increment` found a value that is not a decimal i64.
    #[error("key {key:?} does not hold a decimal 64-bit integer")]
    NotAnInteger {
        /// The key, within its store.
        key: String,
    },
    /// A value over `[key_value] max_value_kib`.
    #[error("a value of {len} bytes is over the limit of {max} bytes per value")]
    ValueTooLarge {
        /// The value's size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The write would take the store over `[key_value] store_quota_mib`.
    #[error("store {store:?} is full: {needed} bytes needed, {quota} allowed")]
    QuotaExceeded {
        /// The store.
        store: String,
        /// Its size after the write.
        needed: u64,
        /// The quota.
        quota: u64,
    },
    /// `increment` would leave the i64 range; wrapping would corrupt counters.
    #[error("incrementing key {key:?} by {delta} overflows a 64-bit integer")]
    Overflow {
        /// The key, within its store.
        key: String,
        /// The requested increment.
        delta: i64,
    },
}

macro_rules! from_redb {
    ($($error:ty),*) => {$(
        impl From<$error> for KvError {
            fn from(error: $error) -> Self {
                KvError::Db(error.to_string())
            }
        }
    )*};
}
from_redb!(
    DatabaseError,
    TransactionError,
    TableError,
    StorageError,
    CommitError
);

/// `[key_value]` caps: what one guest can make the host store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvQuota {
    /// The largest value one `set` may store. Default 1 MiB.
    pub max_value_bytes: u64,
    /// Bytes (keys plus values) one named store may hold. Default 64 MiB.
    pub store_bytes: u64,
}

impl Default for KvQuota {
    fn default() -> Self {
        KvQuota {
            max_value_bytes: 1 << 20,
            store_bytes: 64 << 20,
        }
    }
}

/// One database file shared by all stores; cheap to clone (Arc inside), Send + Sync.
#[derive(Clone, Debug)]
pub(crate) struct KvDatabase {
    db: Arc<Database>,
    quota: KvQuota,
}

/// The databases this process has open, by canonical path.
static OPEN: Mutex<Option<HashMap<PathBuf, Weak<Database>>>> = Mutex::new(None);

impl KvDatabase {
    /// Opens (creating if needed, with parent dirs) the database file, or
    /// shares it if this process has it open already.
    pub(crate) fn open(path: &Path, quota: KvQuota) -> Result<KvDatabase, KvError> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        let io = |source| KvError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let key = dir
            .canonicalize()
            .map_err(io)?
            .join(path.file_name().unwrap_or_default());
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let open = open.get_or_insert_with(HashMap::new);
        open.retain(|_, db| db.strong_count() > 0);
        if let Some(db) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(KvDatabase { db, quota });
        }
        let db = Arc::new(Database::create(path)?);
        let txn = db.begin_write()?;
        let counted = txn.list_tables()?.any(|t| t.name() == SIZES.name());
        // Creating the tables up front lets read transactions assume they exist.
        txn.open_table(ENTRIES)?;
        txn.open_table(EXPIRIES)?;
        txn.open_table(SIZES)?;
        if !counted {
            count_sizes(&txn)?;
        }
        txn.commit()?;
        open.insert(key, Arc::downgrade(&db));
        Ok(KvDatabase { db, quota })
    }

    /// The value of `key` in `store`, or None if absent or expired.
    pub(crate) fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.read(store, key, |expiry, value, now| {
            is_live(expiry, now).then(|| value.to_vec())
        })
    }

    /// Stores `value` under `key` in `store`, replacing any value and expiry.
    /// ttl: None = no expiry; Some(d) = the key disappears after d.
    pub(crate) fn set(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), KvError> {
        let len = value.len() as u64;
        if len > self.quota.max_value_bytes {
            return Err(KvError::ValueTooLarge {
                len,
                max: self.quota.max_value_bytes,
            });
        }
        let key = entry_key(store, key);
        self.write(|w| w.put(&key, expires_at(ttl, w.now), value))
    }

    /// Removes `key` from `store`.
    /// true if the key existed (and was not expired).
    pub(crate) fn delete(&self, store: &str, key: &str) -> Result<bool, KvError> {
        let key = entry_key(store, key);
        self.write(|w| w.remove(&key))
    }

    /// Atomically adds `delta` to an integer value (stored as decimal ASCII, like Redis INCRBY) and returns the new value.
    /// A missing or expired key counts as 0 and gets `ttl_if_new` as its expiry; an existing key KEEPS its expiry
    /// (so a rate limiter's window does not slide). A value that is not a decimal i64 -> KvError::NotAnInteger.
    /// Overflow -> an error, never wraps.
    pub(crate) fn increment(
        &self,
        store: &str,
        key: &str,
        delta: i64,
        ttl_if_new: Option<Duration>,
    ) -> Result<i64, KvError> {
        let entry = entry_key(store, key);
        self.write(|w| {
            let now = w.now;
            let current = read_entry(&w.entries, &entry, |expiry, value| {
                is_live(expiry, now).then(|| (expiry, parse_i64(value)))
            })?;
            let (old, expiry) = match current.flatten() {
                None => (0, expires_at(ttl_if_new, now)),
                Some((expiry, Some(old))) => (old, expiry),
                Some((_, None)) => {
                    return Err(KvError::NotAnInteger {
                        key: key.to_owned(),
                    });
                }
            };
            let new = old.checked_add(delta).ok_or_else(|| KvError::Overflow {
                key: key.to_owned(),
                delta,
            })?;
            w.put(&entry, expiry, new.to_string().as_bytes())?;
            Ok(new)
        })
    }

    /// Time until the key expires (millisecond precision; round up for
    /// Retry-After): Ok(None) if it has no expiry or does not exist.
    pub(crate) fn ttl(&self, store: &str, key: &str) -> Result<Option<Duration>, KvError> {
        self.read(store, key, |expiry, _, now| {
            (expiry != 0 && expiry > now).then(|| Duration::from_millis(expiry - now))
        })
    }

    /// Reads from a snapshot, so readers never wait for writers; expired
    /// entries are left for a write to purge.
    fn read<T>(
        &self,
        store: &str,
        key: &str,
        f: impl FnOnce(u64, &[u8], u64) -> Option<T>,
    ) -> Result<Option<T>, KvError> {
        let table = self.db.begin_read()?.open_table(ENTRIES)?;
        let now = now_millis();
        Ok(read_entry(&table, &entry_key(store, key), |e, v| f(e, v, now))?.flatten())
    }

    /// Runs `op` in one write transaction (so read-modify-write is atomic),
    /// after purging a few expired entries; an error aborts everything.
    fn write<T>(
        &self,
        op: impl FnOnce(&mut Writer<'_>) -> Result<T, KvError>,
    ) -> Result<T, KvError> {
        let txn = self.db.begin_write()?;
        let result = {
            let mut writer = Writer {
                entries: txn.open_table(ENTRIES)?,
                expiries: txn.open_table(EXPIRIES)?,
                sizes: txn.open_table(SIZES)?,
                quota: self.quota.store_bytes,
                now: now_millis(),
            };
            writer.sweep()?;
            op(&mut writer)?
        };
        txn.commit()?;
        Ok(result)
    }
}

/// Both tables of one write transaction; its methods keep them in step.
struct Writer<'t> {
    entries: Table<'t, &'static [u8], &'static [u8]>,
    expiries: Table<'t, &'static [u8], ()>,
    sizes: Table<'t, &'static [u8], u64>,
    /// Bytes one store may hold.
    quota: u64,
    /// Taken once the write lock is held, so all checks in a write agree.
    now: u64,
}

impl Writer<'_> {
    fn put(&mut self, key: &[u8], expiry: u64, value: &[u8]) -> Result<(), KvError> {
        let old = read_entry(&self.entries, key, |_, v| footprint(key, v))?.unwrap_or(0);
        let new = footprint(key, value);
        let store = store_of(key);
        let used = self.size_of(store)?;
        let needed = used.saturating_sub(old).saturating_add(new);
        // Shrinking is always allowed, so a full store can be repaired.
        if new > old && needed > self.quota {
            return Err(KvError::QuotaExceeded {
                store: String::from_utf8_lossy(store).into_owned(),
                needed,
                quota: self.quota,
            });
        }
        self.sizes.insert(store, needed)?;
        self.unindex(key)?;
        let raw = [&expiry.to_be_bytes()[..], value].concat();
        self.entries.insert(key, raw.as_slice())?;
        if expiry != 0 {
            self.expiries
                .insert(index_key(expiry, key).as_slice(), ())?;
        }
        Ok(())
    }

    /// Removes `key`; true if it was live.
    fn remove(&mut self, key: &[u8]) -> Result<bool, KvError> {
        let Some(expiry) = self.unindex(key)? else {
            return Ok(false);
        };
        self.delete_entry(key)?;
        Ok(is_live(expiry, self.now))
    }

    /// Deletes an entry and takes its bytes off its store's size.
    fn delete_entry(&mut self, key: &[u8]) -> Result<(), KvError> {
        let Some(removed) = self.entries.remove(key)? else {
            return Ok(());
        };
        let freed = footprint(key, removed.value().get(8..).unwrap_or_default());
        drop(removed);
        let store = store_of(key);
        let left = self.size_of(store)?.saturating_sub(freed);
        if left == 0 {
            self.sizes.remove(store)?;
        } else {
            self.sizes.insert(store, left)?;
        }
        Ok(())
    }

    fn size_of(&self, store: &[u8]) -> Result<u64, KvError> {
        Ok(self.sizes.get(store)?.map_or(0, |g| g.value()))
    }

    /// Drops `key`'s expiry-index entry so a later sweep cannot delete a
    /// value that replaced it; returns the stored expiry.
    fn unindex(&mut self, key: &[u8]) -> Result<Option<u64>, KvError> {
        let expiry = read_entry(&self.entries, key, |expiry, _| expiry)?;
        if let Some(expiry) = expiry.filter(|&e| e != 0) {
            self.expiries.remove(index_key(expiry, key).as_slice())?;
        }
        Ok(expiry)
    }

    /// Deletes up to SWEEP_LIMIT expired entries, oldest first.
    fn sweep(&mut self) -> Result<(), KvError> {
        let due_before = self.now.saturating_add(1).to_be_bytes();
        let mut due = Vec::new();
        let extracted = self
            .expiries
            .extract_from_if(..due_before.as_slice(), |_, _| true)?;
        for item in extracted.take(SWEEP_LIMIT) {
            due.push(item?.0.value().to_vec());
        }
        for index in due {
            if let Some(key) = index.get(8..) {
                self.delete_entry(key)?;
            }
        }
        Ok(())
    }
}

/// Hands the stored `(expiry, value)` of `key`, expired or not, to `f`, so
/// callers copy only what they need.
fn read_entry<T>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
    f: impl FnOnce(u64, &[u8]) -> T,
) -> Result<Option<T>, KvError> {
    let Some(guard) = table.get(key)? else {
        return Ok(None);
    };
    let (expiry, value) = guard
        .value()
        .split_first_chunk::<8>()
        .ok_or_else(|| KvError::Db("corrupt entry: shorter than its expiry header".into()))?;
    Ok(Some(f(u64::from_be_bytes(*expiry), value)))
}

/// What an entry counts against its store's quota: its key and value.
fn footprint(entry_key: &[u8], value: &[u8]) -> u64 {
    (entry_key.len() + value.len()) as u64
}

/// The store's part of an entry key (see the layout above).
fn store_of(entry_key: &[u8]) -> &[u8] {
    let len = entry_key
        .first_chunk::<8>()
        .map_or(0, |n| usize::try_from(u64::from_be_bytes(*n)).unwrap_or(0));
    entry_key.get(8..8 + len).unwrap_or_default()
}

/// Fills `kv_sizes` for a database written before it existed.
fn count_sizes(txn: &WriteTransaction) -> Result<(), KvError> {
    let entries = txn.open_table(ENTRIES)?;
    let mut sizes = txn.open_table(SIZES)?;
    let mut totals: HashMap<Vec<u8>, u64> = HashMap::new();
    for item in entries.iter()? {
        let (key, value) = item?;
        let (key, value) = (key.value(), value.value());
        *totals.entry(store_of(key).to_vec()).or_default() +=
            footprint(key, value.get(8..).unwrap_or_default());
    }
    for (store, bytes) in totals {
        sizes.insert(store.as_slice(), bytes)?;
    }
    Ok(())
}

fn entry_key(store: &str, key: &str) -> Vec<u8> {
    let store_len = (store.len() as u64).to_be_bytes();
    [&store_len[..], store.as_bytes(), key.as_bytes()].concat()
}

fn index_key(expiry: u64, entry_key: &[u8]) -> Vec<u8> {
    [&expiry.to_be_bytes()[..], entry_key].concat()
}

fn is_live(expiry: u64, now: u64) -> bool {
    expiry == 0 || expiry > now
}

/// Rounds up so a key lives at least `ttl`; never yields 0 ("no expiry").
fn expires_at(ttl: Option<Duration>, now: u64) -> u64 {
    ttl.map_or(0, |ttl| {
        let millis = u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
        now.saturating_add(millis).max(1)
    })
}

fn parse_i64(value: &[u8]) -> Option<i64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A clock before 1970 reads as 0, which only makes expiring keys live longer.
fn now_millis() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableTableMetadata;
    use std::thread::sleep;

    /// Long enough that a set and the get right after it fit in it even on
    /// a loaded machine (an fsync can take tens of milliseconds there).
    const SHORT: Option<Duration> = Some(Duration::from_millis(500));
    const BIG: KvQuota = KvQuota {
        max_value_bytes: 16 << 20,
        store_bytes: 1 << 30,
    };
    const PAST_SHORT: Duration = Duration::from_millis(600);

    fn open() -> (tempfile::TempDir, KvDatabase) {
        let dir = tempfile::tempdir().unwrap();
        let db = KvDatabase::open(&dir.path().join("nested/dir/kv.redb"), BIG).unwrap();
        (dir, db)
    }

    fn get(db: &KvDatabase, store: &str, key: &str) -> Option<String> {
        db.get(store, key)
            .unwrap()
            .map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn writes_purge_expired_entries_but_not_replaced_ones() {
        let (_dir, db) = open();
        for i in 0..10 {
            db.set("s", &i.to_string(), b"v", SHORT).unwrap();
        }
        db.set("s", "0", b"permanent", None).unwrap();
        sleep(PAST_SHORT);
        db.set("other", "k", b"v", None).unwrap();
        let txn = db.db.begin_read().unwrap();
        assert_eq!(txn.open_table(ENTRIES).unwrap().len().unwrap(), 2);
        assert_eq!(txn.open_table(EXPIRIES).unwrap().len().unwrap(), 0);
        assert_eq!(get(&db, "s", "0").as_deref(), Some("permanent"));
    }

    #[test]
    fn stores_never_collide() {
        let (_dir, db) = open();
        db.set("a", "b:c", b"first", None).unwrap();
        db.set("a:b", "c", b"second", None).unwrap();
        assert_eq!(get(&db, "a", "b:c").as_deref(), Some("first"));
        assert_eq!(get(&db, "a:b", "c").as_deref(), Some("second"));
        db.set("", "ab", b"x", None).unwrap();
        assert_eq!(get(&db, "a", "b"), None);
    }

    #[test]
    fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        let db = KvDatabase::open(&path, BIG).unwrap();
        db.set("s", "k", b"persisted", None).unwrap();
        db.set("s", "t", b"v", Some(Duration::from_secs(60)))
            .unwrap();
        drop(db);
        let db = KvDatabase::open(&path, BIG).unwrap();
        assert_eq!(get(&db, "s", "k").as_deref(), Some("persisted"));
        assert!(db.ttl("s", "t").unwrap().is_some());
    }

    #[test]
    fn values_over_the_cap_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let quota = KvQuota {
            max_value_bytes: 1024,
            store_bytes: 1 << 20,
        };
        let db = KvDatabase::open(&dir.path().join("kv.redb"), quota).unwrap();
        db.set("s", "fits", &[0; 1024], None).unwrap();
        let err = db.set("s", "big", &[0; 1025], None).unwrap_err();
        assert!(
            matches!(
                err,
                KvError::ValueTooLarge {
                    len: 1025,
                    max: 1024
                }
            ),
            "{err}"
        );
        assert_eq!(get(&db, "s", "big"), None);
    }

    #[test]
    fn a_full_store_refuses_growth_but_not_shrinking_or_other_stores() {
        let dir = tempfile::tempdir().unwrap();
        let quota = KvQuota {
            max_value_bytes: 1 << 20,
            store_bytes: 10_000,
        };
        let db = KvDatabase::open(&dir.path().join("kv.redb"), quota).unwrap();
        let mut stored = 0;
        let err = loop {
            match db.set("s", &format!("k{stored}"), &[1; 1000], None) {
                Ok(()) => stored += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(stored, 9, "each entry is its value plus its key");
        assert!(
            matches!(err, KvError::QuotaExceeded { ref store, quota: 10_000, .. } if store == "s"),
            "{err}"
        );
        // Overwriting with something smaller, deleting and other stores work.
        db.set("s", "k0", b"small", None).unwrap();
        assert!(db.delete("s", "k1").unwrap());
        db.set("s", "again", &[1; 1000], None).unwrap();
        db.set("other", "k", &[1; 1000], None).unwrap();
        // Expired entries give their room back when swept.
        for i in 2..9 {
            db.set("s", &format!("k{i}"), &[1; 1000], SHORT).unwrap();
        }
        sleep(PAST_SHORT);
        db.set("s", "after-expiry", &[1; 5000], None).unwrap();
    }

    #[test]
    fn one_process_opens_a_file_once_and_shares_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        let first = KvDatabase::open(&path, BIG).unwrap();
        // redb would refuse a second open of a locked file.
        let second = KvDatabase::open(&dir.path().join("./kv.redb"), BIG).unwrap();
        first.set("s", "k", b"v", None).unwrap();
        assert_eq!(get(&second, "s", "k").as_deref(), Some("v"));
        drop((first, second));
        // Closed with its last user: the file can be opened afresh.
        let third = KvDatabase::open(&path, BIG).unwrap();
        assert_eq!(get(&third, "s", "k").as_deref(), Some("v"));
    }

    #[test]
    fn sizes_are_counted_for_a_database_written_before_quotas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            let mut entries = txn.open_table(ENTRIES).unwrap();
            let key = entry_key("s", "old");
            let raw = [&0u64.to_be_bytes()[..], &[7; 5000]].concat();
            entries.insert(key.as_slice(), raw.as_slice()).unwrap();
            drop(entries);
            txn.open_table(EXPIRIES).unwrap();
            txn.commit().unwrap();
        }
        let quota = KvQuota {
            max_value_bytes: 1 << 20,
            store_bytes: 8000,
        };
        let db = KvDatabase::open(&path, quota).unwrap();
        let err = db.set("s", "new", &[1; 4000], None).unwrap_err();
        assert!(matches!(err, KvError::QuotaExceeded { .. }), "{err}");
        db.set("s", "new", &[1; 2000], None).unwrap();
    }
}
