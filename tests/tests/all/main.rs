//! Shallot's integration tests: one binary, one module per area.

mod apps;
mod cycle;
mod guests;
mod hardening;
mod hotswap;
mod instances;
mod load;
mod quickstart;
mod responses;
mod routing;
mod sandbox;
mod socket;
