//! Failures, kept apart by origin and turned into responses in one place.
//!
//! A guest that *returns* an `error` raised an exception on purpose (Django:
//! `raise PermissionDenied`); a guest that *traps* crashed. Both become a
//! response at the layer where they happened, by [`response_for_failure`],
//! the counterpart of Django's `response_for_exception`.

use bytes::Bytes;

use crate::bindings::types::{Error, ErrorKind};
use crate::hooks::Hook;
use crate::limits::LimitHit;
use crate::resources::ResponseResource;
use crate::untrusted::Untrusted;

/// An exception the host raises in a guest's place from inside one of its
/// calls (Django's `request.body` raising `RequestDataTooBig`): the call
/// traps with it, and the layer fails with this error rather than `trap`.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.message)]
pub(crate) struct RaisedByHost(pub(crate) Error);

/// A hook or view that did not produce its result.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The guest returned an `error`.
    Raised(Error),
    /// The guest trapped, or the host could not enter it.
    Trap(wasmtime::Error),
    /// The guest hit one of its limits (a trap we caused on purpose).
    Limit(LimitHit, wasmtime::Error),
    /// No instance could be made: the server's instance pool is full.
    /// Not the guest's fault, and over as soon as other requests finish.
    Busy(wasmtime::Error),
}

impl Failure {
    /// The error as `process-exception` receives it. A trap's message says
    /// what trapped without leaking host internals beyond the trap reason.
    pub(crate) fn to_wit(&self, label: &str, hook: Hook) -> Error {
        match self {
            Failure::Raised(e) => e.clone(),
            Failure::Trap(trap) => Error {
                kind: ErrorKind::Trap,
                message: format!("{label} trapped in {hook}: {}", trap_reason(trap)),
            },
            Failure::Limit(hit, trap) => Error {
                kind: self.kind(),
                message: format!("{label} hit its {hit} in {hook}: {}", trap_reason(trap)),
            },
            Failure::Busy(e) => Error {
                kind: ErrorKind::Unavailable,
                message: format!("no instance of {label} for {hook}: {e}"),
            },
        }
    }

    /// Logs the failure like `django.request` does: 5xx at error level,
    /// 4xx at warning, with guest text escaped.
    pub(crate) fn log(&self, label: &str, hook: Hook, path: &str) {
        match self {
            Failure::Raised(e) if status_for(e.kind) >= 500 => {
                tracing::error!(component = label, hook = hook.name(), kind = ?e.kind, path, "raised: {}", Untrusted(&e.message))
            }
            Failure::Raised(e) => {
                tracing::warn!(component = label, hook = hook.name(), kind = ?e.kind, path, "raised: {}", Untrusted(&e.message))
            }
            Failure::Trap(trap) => {
                tracing::error!(
                    component = label,
                    hook = hook.name(),
                    path,
                    "trapped: {}",
                    Untrusted(&trap_reason(trap))
                )
            }
            Failure::Busy(e) => {
                tracing::warn!(
                    component = label,
                    hook = hook.name(),
                    path,
                    "unavailable: {}",
                    Untrusted(&e.to_string())
                )
            }
            Failure::Limit(hit, trap) => {
                tracing::error!(
                    component = label,
                    hook = hook.name(),
                    limit = %hit,
                    path,
                    "hit its {hit}: {}",
                    Untrusted(&trap_reason(trap))
                )
            }
        }
    }

    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            Failure::Raised(e) => e.kind,
            Failure::Trap(_) => ErrorKind::Trap,
            Failure::Limit(LimitHit::Memory | LimitHit::Tables, _) => ErrorKind::MemoryLimit,
            Failure::Limit(LimitHit::CpuTime, _) => ErrorKind::CpuLimit,
            Failure::Limit(LimitHit::Fuel, _) => ErrorKind::FuelLimit,
            Failure::Limit(LimitHit::Stack, _) => ErrorKind::StackLimit,
            Failure::Busy(_) => ErrorKind::Unavailable,
        }
    }
}

/// Django's page for a request that ran past its whole-request deadline
/// (Django has none; this is `ERROR_PAGE_TEMPLATE` with 504's title).
pub(crate) fn timeout_response() -> ResponseResource {
    ResponseResource::with_body(
        504,
        "text/html; charset=utf-8",
        Bytes::from(error_page("Gateway Timeout (504)", "")),
    )
}

/// The innermost cause of a trap (`wasm trap: wasm `unreachable` instruction
/// executed`), without the backtrace wasmtime attaches.
pub(crate) fn trap_reason(trap: &wasmtime::Error) -> String {
    match trap.downcast_ref::<wasmtime::Trap>() {
        Some(t) => t.to_string(),
        // A host function that refused (a limit, a bad handle): its own
        // message, without the wasm backtrace wrapped around it.
        None => trap.root_cause().to_string(),
    }
}

/// The status Django gives each exception class.
pub(crate) fn status_for(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::NotFound => 404,
        ErrorKind::PermissionDenied => 403,
        ErrorKind::BadRequest | ErrorKind::SuspiciousOperation => 400,
        ErrorKind::Internal
        | ErrorKind::Trap
        | ErrorKind::MemoryLimit
        | ErrorKind::CpuLimit
        | ErrorKind::FuelLimit
        | ErrorKind::StackLimit => 500,
        ErrorKind::Unavailable => 503,
        // WebDAV's "cannot store the representation": the nearest status to
        // a full store; Django has no exception for it.
        ErrorKind::QuotaExceeded => 507,
    }
}

/// Django's `response_for_exception` with `DEBUG = False`: the default error
/// views of `django.views.defaults`, byte for byte.
pub(crate) fn response_for_failure(kind: ErrorKind) -> ResponseResource {
    let status = status_for(kind);
    let (title, details) = match status {
        404 => (
            "Not Found",
            "The requested resource was not found on this server.",
        ),
        403 => ("403 Forbidden", ""),
        400 => ("Bad Request (400)", ""),
        503 => ("Service Unavailable (503)", ""),
        507 => ("Insufficient Storage (507)", ""),
        _ => ("Server Error (500)", ""),
    };
    ResponseResource::with_body(
        status,
        "text/html; charset=utf-8",
        Bytes::from(error_page(title, details)),
    )
}

/// `django.views.defaults.ERROR_PAGE_TEMPLATE`.
fn error_page(title: &str, details: &str) -> String {
    format!(
        "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{title}</title>\n</head>\n<body>\n  <h1>{title}</h1><p>{details}</p>\n</body>\n</html>\n"
    )
}
