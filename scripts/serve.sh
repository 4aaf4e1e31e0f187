#!/usr/bin/env bash
# Serves the quickstart (the reference Django stack as Wasm components) on
# http://127.0.0.1:8000. Extra arguments go to `shallot serve`
# (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-guests.sh
exec cargo run --release -p shallot -- serve "$@" examples/quickstart/shallot.toml
