//! The file's shape, exactly as written: what serde reads before anything is
//! checked. Every table denies unknown fields, so a typo is an error rather
//! than a setting silently ignored; values keep their spans so that the
//! checks after parsing can point at the line and column of a bad one.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::numbers::Number;

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) server: RawServer,
    #[serde(default)]
    pub(super) limits: RawLimits,
    #[serde(default)]
    pub(super) key_value: RawKeyValue,
    #[serde(default)]
    pub(super) databases: BTreeMap<Spanned<String>, Spanned<RawDatabase>>,
    #[serde(default)]
    pub(super) middleware: Vec<Spanned<RawComponent>>,
    #[serde(default)]
    pub(super) views: BTreeMap<Spanned<String>, Spanned<RawComponent>>,
    #[serde(default)]
    pub(super) routes: Vec<Spanned<RawRoute>>,
    #[serde(default)]
    pub(super) error_views: RawErrorViews,
    #[serde(default)]
    pub(super) urlconfs: BTreeMap<Spanned<String>, RawUrlconf>,
    #[serde(default)]
    pub(super) templates: RawTemplates,
    #[serde(default, rename = "static")]
    pub(super) static_files: RawStatic,
}

/// `[error_views]`, or a URLconf's `error_views`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawErrorViews {
    #[serde(rename = "400")]
    pub(super) bad_request: Option<Spanned<String>>,
    #[serde(rename = "403")]
    pub(super) permission_denied: Option<Spanned<String>>,
    #[serde(rename = "404")]
    pub(super) not_found: Option<Spanned<String>>,
    #[serde(rename = "500")]
    pub(super) server_error: Option<Spanned<String>>,
}

/// `[urlconfs.NAME]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUrlconf {
    #[serde(default)]
    pub(super) routes: Vec<Spanned<RawRoute>>,
    #[serde(default)]
    pub(super) error_views: RawErrorViews,
}

/// `[templates]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplates {
    #[serde(default)]
    pub(super) dirs: Vec<Spanned<String>>,
    pub(super) fuel: Option<Number>,
    pub(super) max_output_kib: Option<Number>,
    pub(super) recursion_limit: Option<Number>,
    #[serde(default)]
    pub(super) context_processors: Vec<Spanned<RawComponent>>,
    #[serde(default)]
    pub(super) filters: Vec<Spanned<RawComponent>>,
}

/// `[static]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStatic {
    pub(super) url: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) dirs: Vec<Spanned<String>>,
    pub(super) root: Option<Spanned<String>>,
    pub(super) serve: Option<Spanned<String>>,
    pub(super) max_age_secs: Option<Number>,
}

/// `[server]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) listen: Option<Spanned<String>>,
    pub(super) max_header_bytes: Option<Number>,
    pub(super) max_body_bytes: Option<Number>,
    pub(super) max_stream_bytes: Option<Number>,
    pub(super) shutdown_timeout_secs: Option<Number>,
    pub(super) compile_cache: Option<String>,
    pub(super) admin: Option<Spanned<String>>,
    pub(super) admin_token_env: Option<Spanned<String>>,
    pub(super) health_path: Option<Spanned<String>>,
    pub(super) drain_secs: Option<Number>,
    pub(super) backlog: Option<Number>,
    pub(super) workers: Option<Number>,
    pub(super) header_read_timeout_secs: Option<Number>,
    pub(super) send_timeout_secs: Option<Number>,
    #[serde(default)]
    pub(super) trusted_proxies: Vec<Spanned<String>>,
    pub(super) tls: Option<RawTls>,
    pub(super) http2: Option<bool>,
    pub(super) h2c: Option<bool>,
    pub(super) max_concurrent_streams: Option<Number>,
    pub(super) server_timing: Option<bool>,
    pub(super) otlp_endpoint: Option<Spanned<String>>,
    pub(super) otlp_service_name: Option<Spanned<String>>,
    pub(super) otlp_sample_ratio: Option<Spanned<f64>>,
}

/// `[server.tls]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub(super) cert: Spanned<String>,
    pub(super) key: Spanned<String>,
    pub(super) redirect_http: Option<Spanned<String>>,
}

/// A `[[middleware]]` entry or a `[views.NAME]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    /// Middleware only; a view is named by its table key.
    pub(super) name: Option<Spanned<String>>,
    pub(super) component: Spanned<String>,
    #[serde(default)]
    pub(super) config: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) limits: Option<Spanned<RawLimits>>,
    #[serde(default)]
    pub(super) env: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) dirs: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) allowed_outbound_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) key_value_stores: Vec<Spanned<String>>,
    /// An array of names or a table of accesses; read by `grants`, since
    /// an untagged enum cannot keep spans.
    pub(super) sql_databases: Option<Spanned<toml::Value>>,
    pub(super) instance_policy: Option<Spanned<String>>,
    pub(super) reuse: Option<Spanned<RawReuse>>,
}

/// A component's `reuse = { ... }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReuse {
    pub(super) max_requests: Option<Number>,
    pub(super) idle_timeout_secs: Option<Number>,
    pub(super) max_idle: Option<Number>,
}

/// `[limits]`, and a component's own `limits` (the server-wide fields only
/// in `[limits]`).
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) memory_mib: Option<Number>,
    pub(super) cpu_ms: Option<Number>,
    pub(super) fuel: Option<Number>,
    pub(super) instances: Option<Number>,
    pub(super) tables: Option<Number>,
    pub(super) table_elements: Option<Number>,
    pub(super) memories: Option<Number>,
    pub(super) output_kib: Option<Number>,
    pub(super) concurrency: Option<Number>,
    pub(super) max_stack_kib: Option<Number>,
    pub(super) request_timeout_ms: Option<Number>,
    pub(super) concurrent_instances: Option<Number>,
}

/// `[key_value]`: its own settings, and a `[key_value.NAME]` table for
/// each store kept elsewhere than the embedded file (Redis).
#[derive(Default)]
pub(super) struct RawKeyValue {
    pub(super) path: Option<String>,
    pub(super) max_value_kib: Option<Number>,
    pub(super) store_quota_mib: Option<Number>,
    pub(super) stores: BTreeMap<Spanned<String>, Spanned<RawKvStore>>,
}

/// `[key_value.NAME]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKvStore {
    pub(super) url: Spanned<String>,
    pub(super) prefix: Option<String>,
    pub(super) timeout_ms: Option<Number>,
}

/// By hand rather than derived: serde's `flatten` (the derive's way to mix
/// fixed keys with a map) buffers values and loses toml's spans, so errors
/// inside a store's table could not name their line. Every key that is not
/// one of `[key_value]`'s own must be a store's table.
impl<'de> Deserialize<'de> for RawKeyValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = RawKeyValue;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the [key_value] table")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawKeyValue, A::Error> {
                let mut raw = RawKeyValue::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    match key.get_ref().as_str() {
                        "path" => raw.path = Some(map.next_value()?),
                        "max_value_kib" => raw.max_value_kib = Some(map.next_value()?),
                        "store_quota_mib" => raw.store_quota_mib = Some(map.next_value()?),
                        _ => {
                            let store = map.next_value::<StoreTable>()?.0;
                            raw.stores.insert(key, store);
                        }
                    }
                }
                Ok(raw)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A `[key_value.NAME]` table, named as such when something else stands
/// in its place (a misspelt `[key_value]` setting, most likely).
struct StoreTable(Spanned<RawKvStore>);

impl<'de> Deserialize<'de> for StoreTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<RawKvStore>::deserialize(deserializer)
            .map(StoreTable)
            .map_err(|e| {
                let message = e.to_string();
                // Only when the value itself is not a table: an error inside
                // one (`url = 6379`) is toml's own, with its line.
                if message.contains("expected struct RawKvStore") {
                    serde::de::Error::custom(
                        "unknown field: [key_value] has `path`, `max_value_kib` and \
                         `store_quota_mib`; any other key is a store's table \
                         `[key_value.NAME]` with `url = \"redis://...\"`",
                    )
                } else {
                    e
                }
            })
    }
}

/// `[databases.NAME]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) url: Spanned<String>,
    pub(super) read_url: Option<Spanned<String>>,
    pub(super) migrations: Option<Spanned<String>>,
    pub(super) max_connections: Option<Number>,
    pub(super) statement_timeout_ms: Option<Number>,
    pub(super) max_rows: Option<Number>,
    pub(super) max_result_kib: Option<Number>,
}

/// A `[[routes]]` entry, or one in a route's `include`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub(super) path: Option<Spanned<String>>,
    pub(super) regex: Option<Spanned<String>>,
    pub(super) view: Option<Spanned<String>>,
    pub(super) name: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) include: Option<Vec<Spanned<RawRoute>>>,
}
