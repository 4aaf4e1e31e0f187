//! A host function's two ways to fail, kept apart: an error the guest
//! receives as a value (`result<_, error>` in the WIT, Django's exception)
//! and a trap that ends the call (a limit, a bad handle). Host code returns
//! [`HostResult`] and uses `?` for both; [`trappable`] splits them at the
//! binding, the way wasmtime's `trappable_error_type` does. (That option
//! would put the conversion on `types::Host`, which every interface using
//! `error` would then have to implement whole.)

use crate::bindings::types::{Error, ErrorKind};

/// A failure inside a host function.
#[derive(Debug)]
pub(crate) enum HostError {
    /// Returned to the guest as its `error`.
    Guest(Error),
    /// Ends the guest's call.
    Trap(wasmtime::Error),
}

/// What host functions return.
pub(crate) type HostResult<T> = Result<T, HostError>;

impl HostError {
    /// An error for the guest.
    pub(crate) fn guest(kind: ErrorKind, message: impl Into<String>) -> Self {
        HostError::Guest(Error {
            kind,
            message: message.into(),
        })
    }
}

impl From<Error> for HostError {
    fn from(e: Error) -> Self {
        HostError::Guest(e)
    }
}

impl From<wasmtime::Error> for HostError {
    fn from(e: wasmtime::Error) -> Self {
        HostError::Trap(e)
    }
}

impl From<wasmtime::component::ResourceTableError> for HostError {
    fn from(e: wasmtime::component::ResourceTableError) -> Self {
        HostError::Trap(e.into())
    }
}

/// Splits a host result as the bindings want it: traps out, guest errors in.
pub(crate) fn trappable<T>(result: HostResult<T>) -> wasmtime::Result<Result<T, Error>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(HostError::Guest(e)) => Ok(Err(e)),
        Err(HostError::Trap(e)) => Err(e),
    }
}
