//! Write Shallot middleware and views in Rust.
//!
//! A middleware is a type with Django's hooks. Implement the ones you need on
//! [`Middleware`] and mark the impl with [`#[middleware]`](middleware): the
//! component then exports exactly those hooks, nothing else.
//!
//! ```ignore
//! use shallot_guest::{Error, Middleware, Request, Response, middleware};
//!
//! /// Adds `Server-Timing: app;dur=<ms>` to every response.
//! #[derive(Default)]
//! struct Timing {
//!     start: Option<std::time::Instant>,
//! }
//!
//! #[middleware]
//! impl Middleware for Timing {
//!     fn process_request(&mut self, _req: &Request) -> Result<Option<Response>, Error> {
//!         self.start = Some(std::time::Instant::now());
//!         Ok(None)
//!     }
//!
//!     fn process_response(&mut self, _req: &Request, resp: Response) -> Result<Response, Error> {
//!         let ms = self.start.map_or(0.0, |s| s.elapsed().as_secs_f64() * 1000.0);
//!         resp.set_header("Server-Timing", &format!("app;dur={ms:.3}"))?;
//!         Ok(resp)
//!     }
//! }
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip2 --release` (crate type
//! `cdylib`) and list the `.wasm` in `shallot.toml`.
//!
//! Each instance of the component holds one value of your type, created (with
//! `Default`) when the first of its hooks runs on that instance. The hooks of
//! a request run on the same instance, so on the same value (unless one
//! traps: the next gets another instance). Under the default
//! `instance_policy = "per-request"` an instance serves one request and no
//! state survives to the next. Under `"reuse"` a warm instance serves a
//! series of requests, one at a time, and the value with it: whatever a hook
//! leaves in `self` is there for the next request (maybe another user's), so
//! set per-request fields in `process_request` (as `Timing` does) and keep
//! nothing one request must not see. Treat it as a cache at best: an
//! instance is dropped when it traps or hits a limit, after `max_requests`,
//! or when idle for `idle_timeout_secs`, and concurrent requests each have
//! an instance of their own. A view is a function:
//!
//! ```ignore
//! #[shallot_guest::view]
//! fn hello(_req: &Request, _view: ViewInfo) -> Result<Response, Error> {
//!     Ok(Response::text(200, "hello world"))
//! }
//! ```

#[doc(hidden)]
pub mod __bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "shallot:http/imports",
    });
}

/// Capability imports, generated apart from the base imports: a component
/// imports them only if it calls them, and one that does needs a grant.
#[doc(hidden)]
pub mod __capabilities {
    wit_bindgen::generate!({
        path: "../wit",
        world: "shallot:http/capabilities",
        with: {
            "shallot:http/types@0.1.0": crate::__bindings::shallot::http::types,
        },
    });
}

/// Named key-value stores (grant: `key_value_stores = ["name"]`).
///
/// ```ignore
/// let store = shallot_guest::kv::Store::open("sessions")?;
/// let hits = store.increment("hits", 1, Some(60_000))?;
/// ```
pub mod kv {
    pub use crate::__capabilities::shallot::http::key_value::Store;
}

/// SQL databases (grant: `sql_databases = ["default"]`, or
/// `{ default = "read" }` for read-only). Values always travel as
/// parameters; nothing here builds SQL from strings.
///
/// ```ignore
/// use shallot_guest::sql::{Connection, Value};
/// let db = Connection::open("default")?;
/// let rows = db.query("SELECT id, title FROM notes WHERE id = ?1", &[Value::from(42)])?;
/// db.begin()?;
/// db.execute("INSERT INTO notes (title) VALUES (?1)", &["hello".into()])?;
/// db.commit()?;
/// ```
///
/// A connection lasts as long as the hook call that opened it; a
/// transaction still open then is rolled back. An [`SqlError`](sql::SqlError)
/// converts into the hook's [`Error`] with `?` (`unavailable` stays 503,
/// `permission-denied` 403, anything else is a 500).
pub mod sql {
    pub use crate::__capabilities::shallot::http::sql::{
        Connection, Executed, Rows, SqlError, SqlErrorKind, Value,
    };

    impl From<SqlError> for crate::Error {
        fn from(e: SqlError) -> Self {
            let kind = match e.kind {
                SqlErrorKind::Unavailable => crate::ErrorKind::Unavailable,
                SqlErrorKind::PermissionDenied => crate::ErrorKind::PermissionDenied,
                _ => crate::ErrorKind::Internal,
            };
            crate::Error {
                kind,
                message: format!("sql ({}): {}", e.kind.name(), e.message),
            }
        }
    }

    impl SqlErrorKind {
        /// The kind as the WIT spells it (`too-large`).
        pub fn name(self) -> &'static str {
            match self {
                SqlErrorKind::Integrity => "integrity",
                SqlErrorKind::Programming => "programming",
                SqlErrorKind::PermissionDenied => "permission-denied",
                SqlErrorKind::Timeout => "timeout",
                SqlErrorKind::TooLarge => "too-large",
                SqlErrorKind::Unavailable => "unavailable",
                SqlErrorKind::Closed => "closed",
                SqlErrorKind::Operational => "operational",
            }
        }
    }

    impl From<i64> for Value {
        fn from(v: i64) -> Self {
            Value::Integer(v)
        }
    }

    impl From<f64> for Value {
        fn from(v: f64) -> Self {
            Value::Real(v)
        }
    }

    impl From<&str> for Value {
        fn from(v: &str) -> Self {
            Value::Text(v.to_owned())
        }
    }

    impl From<String> for Value {
        fn from(v: String) -> Self {
            Value::Text(v)
        }
    }

    impl From<Vec<u8>> for Value {
        fn from(v: Vec<u8>) -> Self {
            Value::Blob(v)
        }
    }

    impl<T: Into<Value>> From<Option<T>> for Value {
        fn from(v: Option<T>) -> Self {
            v.map_or(Value::Null, Into::into)
        }
    }

    impl Value {
        /// The value as JSON (`null`, a number, a string, an array of bytes).
        pub fn to_json(&self) -> crate::Value {
            match self {
                Value::Null => crate::Value::Null,
                Value::Integer(i) => (*i).into(),
                Value::Real(r) => (*r).into(),
                Value::Text(s) => s.as_str().into(),
                Value::Blob(b) => b.as_slice().into(),
            }
        }

        /// The integer, if this is one.
        pub fn as_i64(&self) -> Option<i64> {
            match self {
                Value::Integer(i) => Some(*i),
                _ => None,
            }
        }

        /// The text, if this is text.
        pub fn as_str(&self) -> Option<&str> {
            match self {
                Value::Text(s) => Some(s),
                _ => None,
            }
        }
    }

    impl Rows {
        /// Each row as a JSON object keyed by column (Django's
        /// `QuerySet.values()`), ready for a template's context: integers
        /// and reals as numbers, text as strings, blobs as arrays of bytes.
        pub fn records(&self) -> Vec<crate::Value> {
            self.rows
                .iter()
                .map(|row| {
                    let record: crate::Map<String, crate::Value> = self
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(column, value)| (column.clone(), value.to_json()))
                        .collect();
                    crate::Value::Object(record)
                })
                .collect()
        }

        /// The value of `column` in row `row`.
        pub fn get(&self, row: usize, column: &str) -> Option<&Value> {
            let i = self.columns.iter().position(|c| c == column)?;
            self.rows.get(row)?.get(i)
        }
    }
}

/// Outbound HTTP to allowed hosts (grant: `allowed_outbound_hosts`).
pub mod http {
    pub use crate::__capabilities::shallot::http::outbound_http::{
        IncomingResponse, OutgoingRequest, send,
    };

    /// A `GET` of `url` with no headers.
    pub fn get(url: &str) -> Result<IncomingResponse, crate::Error> {
        send(&OutgoingRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        })
    }
}

pub use __bindings::shallot::http::types::{Error, ErrorKind, Request, Response, ViewInfo};
pub use shallot_guest_macro::{context_processor, filters, middleware, view};

pub mod auth;
pub mod csrf;
mod helpers;
pub mod log;
pub mod messages;
pub mod session;
mod streaming;
mod template;

pub use helpers::{
    cookie, form_value, is_safe_redirect, json_string, patch_vary_headers, quote, require_method,
    unquote,
};
pub use template::{Filtered, Map, TemplateResponse, Value, json};

/// Django's middleware hooks. Implement the ones you need; mark the impl with
/// [`#[middleware]`](middleware) so that only those are exported.
pub trait Middleware: Default + 'static {
    /// Before URL resolution. `Ok(Some(resp))` short-circuits: inner layers
    /// and the view are skipped.
    fn process_request(&mut self, req: &Request) -> Result<Option<Response>, Error> {
        let _ = req;
        Ok(None)
    }

    /// After URL resolution, before the view. `Ok(Some(resp))` skips the view.
    fn process_view(&mut self, req: &Request, view: &ViewInfo) -> Result<Option<Response>, Error> {
        let _ = (req, view);
        Ok(None)
    }

    /// When the view failed. `Ok(Some(resp))` answers for it.
    fn process_exception(&mut self, req: &Request, err: &Error) -> Result<Option<Response>, Error> {
        let _ = (req, err);
        Ok(None)
    }

    /// On a template response from `process_view`, the view or
    /// `process_exception`, before it is rendered: every middleware's, bottom
    /// to top. Change its context or template and return it; returning a
    /// response that is not a template response fails the rendering (500),
    /// as in Django.
    fn process_template_response(
        &mut self,
        req: &Request,
        resp: Response,
    ) -> Result<Response, Error> {
        let _ = req;
        Ok(resp)
    }

    /// On every response passing this layer; return it or a replacement.
    fn process_response(&mut self, req: &Request, resp: Response) -> Result<Response, Error> {
        let _ = req;
        Ok(resp)
    }
}

/// The component's own `config` table from `shallot.toml`.
pub mod config {
    use crate::__bindings::shallot::http::config as host;

    /// One value; numbers and booleans come as written (`"3"`, `"true"`).
    pub fn get(key: &str) -> Option<String> {
        host::get(key)
    }

    /// Every key and value.
    pub fn all() -> Vec<(String, String)> {
        host::get_all()
    }

    /// A list value (`key = ["a", "b"]`, served as a JSON array of
    /// strings); a single value is a list of one, a missing key an empty
    /// list.
    pub fn get_list(key: &str) -> Vec<String> {
        match get(key) {
            None => Vec::new(),
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| vec![text]),
        }
    }
}

/// Django's `reverse()` and `resolve()` over the pipeline's URLconf.
///
/// ```ignore
/// let url = shallot_guest::urls::reverse("api:item-detail", &[], &[("pk", "42")])?;
/// assert_eq!(url, "/api/items/42/");
/// ```
pub mod urls {
    use crate::__bindings::shallot::http::urls as host;

    /// The path of the route `name` (namespaces joined by ':'), filled in
    /// with `args` or `kwargs` (not both); Django's `NoReverseMatch` comes
    /// back as an `internal` error with Django's message.
    pub fn reverse(
        name: &str,
        args: &[&str],
        kwargs: &[(&str, &str)],
    ) -> Result<String, crate::Error> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let kwargs: Vec<(String, String)> = kwargs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        host::reverse(name, &args, &kwargs)
    }

    /// Django's `resolve()`: what the request's URLconf matches `path` to,
    /// if anything.
    pub fn resolve(path: &str) -> Option<crate::ViewInfo> {
        host::resolve(path)
    }

    /// Django's `is_valid_path()`: whether the request's URLconf resolves
    /// `path`.
    pub fn is_valid_path(path: &str) -> bool {
        resolve(path).is_some()
    }
}

#[doc(hidden)]
pub mod __private {
    pub use crate::__bindings::shallot::http::{config, log, types, urls};
    pub use crate::streaming::next_chunk;
    pub use serde_json;
    pub use wit_bindgen;

    /// Where the macros find the WIT package.
    pub const WIT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../wit");
}
