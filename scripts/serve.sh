#!/usr/bin/env bash
# Serves the quickstart (the reference Django stack as Wasm components) on
# http://127.0.0.1:8000, or another config given first
# (`bash scripts/serve.sh examples/movies/shallot.toml`), or the movie
# theater (`bash scripts/serve.sh movie-theater`: a dev certificate, the
# migrations with their seed data, then https://127.0.0.1:8443/). Extra
# arguments go to `shallot serve` (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-guests.sh
config=examples/quickstart/shallot.toml
shallot=(cargo run --quiet --release -p shallot --)
if [[ "${1:-}" == movie-theater ]]; then
    shift
    config=examples/movie-theater/shallot.toml
    state=target/movie-theater
    mkdir -p "$state"
    if [[ ! -f "$state/cert.pem" ]]; then
        "${shallot[@]}" dev-cert --out "$state" localhost 127.0.0.1 ::1
    fi
    "${shallot[@]}" migrate "$config"
    # Sessions are signed with this; a fresh one per run logs everyone out.
    if [[ -z "${SHALLOT_SESSION_SECRET:-}" ]]; then
        SHALLOT_SESSION_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
        export SHALLOT_SESSION_SECRET
    fi
    echo "serve.sh: the movie theater on https://127.0.0.1:8443/ (bob / bob-secret, alice / alice-secret)" >&2
elif [[ "${1:-}" == *.toml ]]; then
    config="$1"
    shift
fi
exec "${shallot[@]}" serve "$@" "$config"
