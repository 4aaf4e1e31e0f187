#!/usr/bin/env bash
# Serves the quickstart (the reference Django stack as Wasm components) on
# http://127.0.0.1:8000, or another config given first
# (`bash scripts/serve.sh examples/movies/shallot.toml`). Extra arguments go
# to `shallot serve` (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-guests.sh
config=examples/quickstart/shallot.toml
if [[ "${1:-}" == *.toml ]]; then config="$1"; shift; fi
exec cargo run --release -p shallot -- serve "$@" "$config"
