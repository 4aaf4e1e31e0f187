#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test
# (the tests' build script compiles the guests from source: Rust, and
# Python and JavaScript with the toolchains guest-toolchains.sh installs).
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain rust-toolchain.toml pins, with its components and the
# guests' target (a no-op once installed).
rustup toolchain install >/dev/null
# A clean clone builds everything once: incremental caches would only
# cost disk (3 GB of target/debug/incremental).
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL=0; fi
bash scripts/guest-toolchains.sh
# Real servers the tests start themselves, from Debian's packages: the
# browser test's Chromium and chromedriver, Redis for the key-value stores
# hosts share, HAProxy and wrk for the several-hosts test.
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium fonts-dejavu-core)
[[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
if (( ${#missing[@]} )); then
  sudo=(); [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The SQL tests' PostgreSQL server (target/postgres, loopback only),
# stopped however the suite ends.
SHALLOT_TEST_POSTGRES="$(bash scripts/postgres.sh start)"
export SHALLOT_TEST_POSTGRES
trap 'bash scripts/postgres.sh stop' EXIT
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# Three hosts behind HAProxy on Redis and PostgreSQL: sessions, a rate
# limit and a booking across hosts, a host killed and a config rolled
# under load (about a minute).
SHALLOT_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/shallot" bash scripts/cluster.sh
