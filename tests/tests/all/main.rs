//! Shallot's integration tests: one binary, one module per area.

mod config_errors;
mod cycle;
mod guests;
mod load;
mod quickstart;
mod routing;
mod socket;
