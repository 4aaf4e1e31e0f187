#!/usr/bin/env bash
# What abusive clients cost a well-behaved route (the hardening issue's
# finding 1): wrk measures /ok alone, then again while ABUSERS clients loop
# on a route whose guest writes key-value values as large as the cap allows
# (ten 1 MiB sets per request) and one that copies a 24 MiB body out of the
# host in a loop until its CPU limit stops it, and one whose guest spins in
# a loop until its CPU limit (100 ms) stops it: a spinning guest yields at
# every 2 ms tick, so the other requests of its worker thread wait for a
# tick, not for its whole limit. Release build, one run.
#
# Run with: bash bench/hostile.sh     Environment: DURATION=10s CONNS=16 ABUSERS=2
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" hostile
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-16}"
ABUSERS="${ABUSERS:-2}"
PORT="${PORT:-18400}"
GUESTS="$ROOT/target/guests/wasm32-wasip2/release"
WORK="$(mktemp -d)"

need wrk
log "building guests and shallot (release)"
bash "$ROOT/scripts/build-guests.sh" >&2
(cd "$ROOT" && cargo build --release -q -p shallot)

cat > "$WORK/shallot.toml" <<TOML
[key_value]
path = "$WORK/kv.redb"
store_quota_mib = 4096

[views.kv]
component = "$GUESTS/hostile.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = { action = "kv-big", count = "10", size_kib = "1024" }
limits = { cpu_ms = 1000 }

[views.copy]
component = "$GUESTS/hostile.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = { action = "host-loop", size_mib = "24", iterations = "1000" }

[views.spin]
component = "$GUESTS/hostile.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:1"]
key_value_stores = ["granted"]
config = { action = "loop" }

[views.ok]
component = "$GUESTS/hello.wasm"

[[routes]]
path = "spin"
view = "spin"

[[routes]]
path = "kv"
view = "kv"

[[routes]]
path = "copy"
view = "copy"

[[routes]]
path = "ok"
view = "ok"
TOML

"$BIN" serve --listen "127.0.0.1:$PORT" "$WORK/shallot.toml" > "$WORK/server.log" 2>&1 &
SERVER=$!
ABUSING=()
stop_abusers() {  # (with none, `wait` alone would wait for the server too)
  [[ ${#ABUSING[@]} -gt 0 ]] || return 0
  kill "${ABUSING[@]}" 2>/dev/null || true; wait "${ABUSING[@]}" 2>/dev/null || true; ABUSING=()
}
cleanup() { stop_abusers; kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/ok" && break
  sleep 0.1
done

measure() {  # label
  local out; out="$(wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/ok")"
  local rps p50 p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  printf '| %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99"
}

abuse() {  # path: loops until killed, counting statuses
  local path="$1" file="$WORK/abuse-$1-$2"
  while true; do curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PORT/$path" >> "$file"; done
}

echo "| /ok measured | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
measure "alone"
for i in $(seq "$ABUSERS"); do abuse kv "$i" & ABUSING+=($!); done
sleep 1
measure "with $ABUSERS clients writing 10 x 1 MiB values per request"
stop_abusers
for i in $(seq "$ABUSERS"); do abuse copy "$i" & ABUSING+=($!); done
sleep 1
measure "with $ABUSERS clients looping on 24 MiB body copies"
stop_abusers
for i in $(seq "$ABUSERS"); do abuse spin "$i" & ABUSING+=($!); done
sleep 1
measure "with $ABUSERS clients on a guest spinning to its 100 ms CPU limit"
stop_abusers
for f in "$WORK"/abuse-*; do
  printf '%s: %s\n' "$(basename "$f")" "$(sort "$f" | uniq -c | tr '\n' ' ')"
done
