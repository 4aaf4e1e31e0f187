#!/usr/bin/env bash
# Streaming memory, both ways, on one `shallot serve`:
# - CLIENTS concurrent downloads of a SIZE_MIB static file (sparse, so no
#   disk is used, but every byte is read and sent);
# - UPLOADS concurrent uploads of UPLOAD_MIB each to a view (the probe-view
#   guest, `count-body:65536`) that reads the body in 64 KiB chunks with
#   `read-body` and answers how many bytes it saw (`max_stream_bytes` lets
#   the bodies in);
# - STREAMS concurrent downloads of a STREAM_MIB streaming response from a
#   view (the probe-view guest, `stream:N:65536`: Django's
#   StreamingHttpResponse, 64 KiB pulled from the guest at a time).
# The server's resident set is sampled every 100 ms and its high-water mark
# (VmHWM) reset between the two. Prints the RSS before, the peak during,
# the bytes moved and the time.
#
# Run with: bash bench/stream.sh     (about a minute; the guests must be
# built: bash scripts/build-guests.sh)
#
# Environment (defaults): CLIENTS=100 SIZE_MIB=1024 UPLOADS=1 UPLOAD_MIB=200
# STREAMS=10 STREAM_MIB=1024 PORT=18700 BUILD=1
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" stream
CLIENTS="${CLIENTS:-100}"
SIZE_MIB="${SIZE_MIB:-1024}"
UPLOADS="${UPLOADS:-1}"
UPLOAD_MIB="${UPLOAD_MIB:-200}"
STREAMS="${STREAMS:-10}"
STREAM_MIB="${STREAM_MIB:-1024}"
PORT="${PORT:-18700}"
BUILD="${BUILD:-1}"
OUT="$ROOT/bench/results/stream-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT/files"

if [[ "$BUILD" == 1 ]]; then
  (cd "$ROOT" && cargo build --release -q -p shallot)
fi
GUEST="$ROOT/target/guests/wasm32-wasip2/release/probe_view.wasm"
[[ -f "$GUEST" ]] || { echo "$GUEST is missing: bash scripts/build-guests.sh" >&2; exit 1; }
truncate -s "${SIZE_MIB}M" "$OUT/files/big.bin"
truncate -s "${UPLOAD_MIB}M" "$OUT/upload.bin"
cat > "$OUT/shallot.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
workers = 2
max_stream_bytes = $(( (UPLOAD_MIB + 1) * 1048576 ))

[static]
dirs = ["files"]

[views.count]
component = "$GUEST"
config = { action = "count-body:65536" }
# Copying the body into the guest is charged at 2 GB/s of CPU.
limits = { cpu_ms = 60000 }

[[routes]]
path = "count"
view = "count"

[views.stream]
component = "$GUEST"
config = { action = "stream:$((STREAM_MIB * 16)):65536" }

[[routes]]
path = "stream"
view = "stream"
TOML
"$BIN" serve "$OUT/shallot.toml" 2>"$OUT/server.log" &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$OUT/files" "$OUT/upload.bin" "$OUT/.shallot"' EXIT
for _ in $(seq 1 200); do
  curl -s -o /dev/null -r 0-0 "http://127.0.0.1:$PORT/static/big.bin" && break
  sleep 0.05
done
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$PID/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

# Runs the clients whose pids are in `pids`, sampling the server's RSS;
# sets `before`, `peak`, `secs`.
measure() {
  # Reset VmHWM to the current RSS, so it covers this phase only.
  echo 5 > "/proc/$PID/clear_refs"
  before="$(rss)"
  peak="$before"
  local start; start="$(date +%s.%N)"
  "$@"
  while :; do
    now="$(rss)"; (( now > peak )) && peak="$now"
    alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
    ((alive)) || break
    sleep 0.1
  done
  wait "${pids[@]}" 2>/dev/null || true
  secs="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')"
}

downloads() {
  pids=()
  for _ in $(seq 1 "$CLIENTS"); do
    curl -s -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:$PORT/static/big.bin" >> "$OUT/sizes.txt" &
    pids+=($!)
  done
}
uploads() {
  pids=()
  for _ in $(seq 1 "$UPLOADS"); do
    # -T streams the file (--data-binary would read it all into curl first).
    curl -s -X POST -T "$OUT/upload.bin" -H 'Content-Type: application/octet-stream' \
      "http://127.0.0.1:$PORT/count" >> "$OUT/uploads.txt" &
    pids+=($!)
  done
}

streams() {
  pids=()
  for _ in $(seq 1 "$STREAMS"); do
    curl -s -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:$PORT/stream" >> "$OUT/streamed.txt" &
    pids+=($!)
  done
}

measure downloads
full="$(awk -v want=$((SIZE_MIB * 1048576)) '$1 == want {n++} END {print n + 0}' "$OUT/sizes.txt")"
total_gib="$(awk '{s += $1} END {printf "%.1f", s / 1073741824}' "$OUT/sizes.txt")"
down="$(printf '| %s downloads of %s MiB | %s complete | %s GiB | %s s | %s MiB | %s MiB | %s MiB | %s MiB |' \
  "$CLIENTS" "$SIZE_MIB" "$full" "$total_gib" "$secs" \
  "$(mib "$before")" "$(mib "$peak")" "$(mib "$(hwm)")" "$(mib $(( $(hwm) - before )))")"

: > "$OUT/uploads.txt"
measure uploads
counted="$(grep -o "bytes=$((UPLOAD_MIB * 1048576)) " "$OUT/uploads.txt" | wc -l)"
up="$(printf '| %s uploads of %s MiB | %s counted whole | %s GiB | %s s | %s MiB | %s MiB | %s MiB | %s MiB |' \
  "$UPLOADS" "$UPLOAD_MIB" "$counted" "$(awk -v n="$UPLOADS" -v m="$UPLOAD_MIB" 'BEGIN{printf "%.1f", n*m/1024}')" "$secs" \
  "$(mib "$before")" "$(mib "$peak")" "$(mib "$(hwm)")" "$(mib $(( $(hwm) - before )))")"
measure streams
streamed_full="$(awk -v want=$((STREAM_MIB * 1048576)) '$1 == want {n++} END {print n + 0}' "$OUT/streamed.txt")"
gen="$(printf '| %s streaming responses of %s MiB | %s complete | %s GiB | %s s | %s MiB | %s MiB | %s MiB | %s MiB |' \
  "$STREAMS" "$STREAM_MIB" "$streamed_full" "$(awk '{s += $1} END {printf "%.1f", s / 1073741824}' "$OUT/streamed.txt")" "$secs" \
  "$(mib "$before")" "$(mib "$peak")" "$(mib "$(hwm)")" "$(mib $(( $(hwm) - before )))")"
{
  echo "# Streaming memory ($(date -u +%FT%TZ), $(cd "$ROOT" && git rev-parse --short HEAD))"
  echo
  echo "| run | finished | moved | time | RSS before | peak RSS (sampled) | VmHWM | VmHWM - before |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  echo "$down"
  echo "$up"
  echo "$gen"
} | tee "$OUT/summary.md"
