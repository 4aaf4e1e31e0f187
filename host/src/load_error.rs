//! Why a component or a pipeline was refused at load.
//!
//! Each cause is its own variant, with the underlying error kept as its
//! `source()`; the message already includes the cause's text (it is what
//! `shallot check` and a failed reload print), so printers of the chain
//! should skip a cause whose text is already shown.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;

/// An underlying error, kept whole with its own chain.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

/// Which component a load error is about: where its config entry is, what
/// it is called and which file it loaded.
#[derive(Debug, Clone)]
pub struct At {
    /// `file:line` of the config entry.
    pub location: String,
    /// `middleware `x`` or `view `x``.
    pub label: String,
    /// The component file.
    pub path: PathBuf,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.label)
    }
}

/// Why a component was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file cannot be read, is not a valid component, or does not compile.
    #[error("{at}: cannot compile {}: {}", .at.path.display(), Chain(.source.as_ref()))]
    Compile {
        /// The component.
        at: At,
        /// wasmtime's explanation.
        source: Cause,
    },
    /// The component imports something this host does not provide.
    #[error("{at}: cannot link {}: {}", .at.path.display(), Chain(.source.as_ref()))]
    Link {
        /// The component.
        at: At,
        /// The missing or mismatched import.
        source: Cause,
    },
    /// The component imports a capability its config does not grant
    /// (link-time denial).
    #[error(
        "{at}: cannot link {}: imports `{import}`, but its config grants no {field} (add `{field} = [...]` to grant it)",
        .at.path.display()
    )]
    Ungranted {
        /// The component.
        at: At,
        /// The import, e.g. `shallot:http/key-value@0.1.0`.
        import: String,
        /// The config field that would grant it.
        field: &'static str,
    },
    /// The component's exports do not fit its role.
    #[error("{at}: {}: {reason}", .at.path.display())]
    Exports {
        /// The component.
        at: At,
        /// What is missing or wrong.
        reason: String,
    },
    /// The component could not be instantiated to check its exports (a
    /// start function trapped, a limit was hit).
    #[error("{at}: {}: instantiation failed: {}", .at.path.display(), Chain(.source.as_ref()))]
    Instantiate {
        /// The component.
        at: At,
        /// Why.
        source: Cause,
    },
    /// An export has the right name but not this host's signature.
    #[error("{at}: {}: export signature mismatch: {}", .at.path.display(), Chain(.source.as_ref()))]
    Signature {
        /// The component.
        at: At,
        /// wasmtime's type error.
        source: Cause,
    },
    /// A component has a fuel budget, but the runtime was built without
    /// fuel counting.
    #[error("{label} has a fuel limit but this runtime counts no fuel (EngineOptions::fuel)")]
    FuelNotCounted {
        /// The component.
        label: String,
    },
    /// A route names a view the config does not define.
    #[error("route '{route}' names view `{view}`, which is not defined")]
    UnknownView {
        /// The route's full pattern.
        route: String,
        /// The missing view.
        view: String,
    },
    /// The key-value database some component is granted cannot be opened.
    #[error("cannot open the key-value database {}: {source}", .path.display())]
    KeyValue {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: Cause,
    },
    /// An SQL database some component is granted cannot be opened (or the
    /// file is not a database).
    #[error("cannot open SQL database {name:?} ({location}): {source}")]
    Database {
        /// Its `[databases]` name.
        name: String,
        /// The database file, or its URL without the password.
        location: String,
        /// Why.
        source: Cause,
    },
    /// `[static] root` has a manifest that cannot be read.
    #[error("cannot load static files: {0}")]
    Static(String),
    /// A template folder cannot be read or a template does not compile.
    #[error("cannot load templates: {0}")]
    Templates(#[from] crate::templates::TemplateError),
    /// `[server] otlp_endpoint`'s exporter could not be made.
    #[error("cannot export traces: {0}")]
    Otlp(#[from] crate::metrics::otlp::OtlpError),
    /// The engine could not be set up.
    #[error("cannot set up the Wasm engine: {source}")]
    Engine {
        /// wasmtime's explanation.
        source: Cause,
    },
}

impl LoadError {
    /// The component the error is about, if it is about one.
    pub fn at(&self) -> Option<&At> {
        match self {
            LoadError::Compile { at, .. }
            | LoadError::Link { at, .. }
            | LoadError::Ungranted { at, .. }
            | LoadError::Exports { at, .. }
            | LoadError::Instantiate { at, .. }
            | LoadError::Signature { at, .. } => Some(at),
            _ => None,
        }
    }
}

/// A wasmtime error as a [`Cause`], its chain kept.
pub(crate) fn cause(e: wasmtime::Error) -> Cause {
    e.into()
}

/// An error and its sources, joined by `: ` (what anyhow's `{:#}` prints).
struct Chain<'a>(&'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}
