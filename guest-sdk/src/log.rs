//! Log lines go to the host's log, tagged with this component's name.

use crate::__bindings::shallot::http::log::{Level, log};

/// Debug detail.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Normal operation.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Something unexpected that was handled.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// A failure.
pub fn error(message: &str) {
    log(Level::Error, message);
}
