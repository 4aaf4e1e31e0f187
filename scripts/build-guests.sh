#!/usr/bin/env bash
# Builds every guest in guests/ for wasm32-wasip2 into target/guests, where
# the examples and the tests find them. Installs the rustup target if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
packages=()
for dir in guests/*/; do packages+=(-p "$(basename "$dir")"); done
cargo build --release --target wasm32-wasip2 --target-dir target/guests "${packages[@]}"
