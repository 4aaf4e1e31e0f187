#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test
# (the tests' build script compiles the guests from source: Rust, and
# Python and JavaScript with the toolchains guest-toolchains.sh installs).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
bash scripts/guest-toolchains.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
