//! Shallot's integration tests: one binary, one module per area.

mod apps;
mod auth;
mod browser;
mod cycle;
mod fuzz_corpus;
mod guests;
mod hardening;
mod health;
mod hotswap;
mod instances;
mod load;
mod model;
mod quickstart;
mod responses;
mod routing;
mod sandbox;
mod socket;
mod sql;
mod standard;
mod statics;
mod streaming;
mod template_response;
mod templates;
mod theater;
mod tls;
mod urlconfs;
