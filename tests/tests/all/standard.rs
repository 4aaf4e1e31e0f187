//! Django's standard middleware (`settings.MIDDLEWARE`) as components,
//! one module per middleware: each behaviour of its Django counterpart on
//! the settings it supports.

pub(crate) mod common;
pub(crate) mod conditional_get;
pub(crate) mod csp;
pub(crate) mod csrf;
pub(crate) mod gzip;
pub(crate) mod messages;
pub(crate) mod security;
pub(crate) mod x_frame_options;
