#!/usr/bin/env bash
# Streaming memory: CLIENTS concurrent downloads of a SIZE_MIB static file
# (sparse, so no disk is used, but every byte is read and sent) from
# `shallot serve`, with the server's resident set sampled every 100 ms.
# Prints the RSS before, the peak during, the bytes sent and the time.
#
# Run with: bash bench/stream.sh     (about a minute)
#
# Environment (defaults): CLIENTS=100 SIZE_MIB=1024 PORT=18700 BUILD=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="${CLIENTS:-100}"
SIZE_MIB="${SIZE_MIB:-1024}"
PORT="${PORT:-18700}"
BUILD="${BUILD:-1}"
BIN="$ROOT/target/release/shallot"
OUT="$ROOT/bench/results/stream-$(date +%Y%m%d-%H%M%S)"
log() { printf '[stream %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
mkdir -p "$OUT/files"

if [[ "$BUILD" == 1 ]]; then
  (cd "$ROOT" && cargo build --release -q -p shallot)
fi
truncate -s "${SIZE_MIB}M" "$OUT/files/big.bin"
printf '[server]\nlisten = "127.0.0.1:%s"\nworkers = 2\n\n[static]\ndirs = ["files"]\n' "$PORT" > "$OUT/shallot.toml"
"$BIN" serve "$OUT/shallot.toml" 2>"$OUT/server.log" &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$OUT/files" "$OUT/.shallot"' EXIT
for _ in $(seq 1 200); do
  curl -s -o /dev/null -r 0-0 "http://127.0.0.1:$PORT/static/big.bin" && break
  sleep 0.05
done
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
before="$(rss)"
peak="$before"
start="$(date +%s.%N)"
pids=()
for _ in $(seq 1 "$CLIENTS"); do
  curl -s -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:$PORT/static/big.bin" >> "$OUT/sizes.txt" &
  pids+=($!)
done
while kill -0 "${pids[@]}" 2>/dev/null; do
  now="$(rss)"; (( now > peak )) && peak="$now"
  sleep 0.1
  # any client still running keeps the loop going
  alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
  ((alive)) || break
done
wait "${pids[@]}" 2>/dev/null || true
secs="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')"
full="$(awk -v want=$((SIZE_MIB * 1048576)) '$1 == want {n++} END {print n + 0}' "$OUT/sizes.txt")"
total_gib="$(awk '{s += $1} END {printf "%.1f", s / 1073741824}' "$OUT/sizes.txt")"
hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")"
{
  echo "# Streaming memory ($(date -u +%FT%TZ), $(cd "$ROOT" && git rev-parse --short HEAD))"
  echo
  echo "| clients | file | complete downloads | sent | time | RSS before | peak RSS (sampled) | VmHWM | peak - before |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '| %s | %s MiB | %s | %s GiB | %s s | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB |\n' \
    "$CLIENTS" "$SIZE_MIB" "$full" "$total_gib" "$secs" \
    "$(awk -v k="$before" 'BEGIN{print k/1024}')" "$(awk -v k="$peak" 'BEGIN{print k/1024}')" \
    "$(awk -v k="$hwm" 'BEGIN{print k/1024}')" "$(awk -v a="$hwm" -v b="$before" 'BEGIN{print (a-b)/1024}')"
} | tee "$OUT/summary.md"
