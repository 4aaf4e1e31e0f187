//! Shallot runs Django's request/response cycle with every middleware and
//! every view a sandboxed WebAssembly component.
//!
//! How to use it as a library:
//!
//! 1. Read a config: [`Config::load`] (`shallot.toml`, see the README).
//! 2. Build the pipeline: [`Pipeline::load`] compiles and links every
//!    component and refuses a broken one with the reason.
//! 3. Serve it: [`server::serve`] on a socket, or call
//!    [`Pipeline::handle`] directly with an `http::Request<Bytes>`, which is
//!    what the tests do.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = shallot::Config::load("examples/quickstart/shallot.toml")?;
//! let pipeline = shallot::Pipeline::load(&config).await?;
//! let req = http::Request::get("/hello").body(bytes::Bytes::new())?;
//! let resp = pipeline.handle(req).await;
//! assert_eq!(resp.status(), 200);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod admin;
mod bindings;
mod cache;
mod capability;
pub mod component;
pub mod config;
mod context;
mod cycle;
mod engine;
mod error;
mod hooks;
mod instance;
pub mod limits;
mod linker;
mod load;
mod load_error;
mod metrics;
pub mod pipeline;
pub mod reload;
mod request_body;
mod resources;
pub mod router;
pub mod scaffold;
pub mod server;
mod state;
pub mod statics;
mod templates;
mod untrusted;
mod urlconfs;
pub mod watch;

pub use capability::sql::{DatabaseSpec, SqlAccess, SqlGrant, SqlLimits, migrate};
pub use config::{Config, ConfigError, InstancePolicy, ReusePolicy};
pub use engine::{EngineOptions, Runtime};
pub use hooks::{Direction, Hook, Role};
pub use load_error::{At, Cause, LoadError};
pub use pipeline::{ClientAddr, Pipeline, Scheme};
pub use reload::{LivePipeline, ReloadError, ReloadStatus};
pub use request_body::RequestBody;
pub use templates::TemplateError;
