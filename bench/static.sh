#!/usr/bin/env bash
# The web server's part of the cycle, against nginx: the same files served
# by nginx (Debian's package, started here on loopback) and by Shallot's
# static file server, with the same wrk settings, in one run.
#
# Run with: bash bench/static.sh      (about 8 minutes on an idle 2-core box)
#
# Rows (each server, each row; median of REPEAT wrk runs by req/s):
#   1k          GET of a 1 KiB file, keep-alive, plain HTTP
#   100k        GET of a 100 KiB file, keep-alive, plain HTTP
#   304         GET of the 1 KiB file with its own ETag in If-None-Match
#   https-1k    the 1 KiB file over HTTPS, keep-alive (HTTP/1.1: wrk's)
#   handshakes  the 1 KiB file over HTTPS with `Connection: close`: one new
#               TLS handshake per request (TLS 1.3, the same ECDSA P-256
#               certificate for both, from `shallot dev-cert`)
#
# Both servers get 2 workers (nginx `worker_processes 2`, Shallot
# `workers = 2`), on the same 2 cores as wrk. nginx runs with sendfile,
# open_file_cache and no access log: its fast configuration, not its
# defaults. (`listen ... ssl http2`, not `http2 on`: Debian 12 has nginx
# 1.22.) The script first checks that both answer every row's request
# with the same status and body.
#
# Environment (defaults): DURATION=10s THREADS=2 CONNS=64 REPEAT=3 WARMUP=2s
#   PORT=18600 BUILD=1 ROWS="1k 100k 304 https-1k handshakes"
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" static
SHARED="$(cd "$ROOT/../shared/bench/django" && pwd)"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
REPEAT="${REPEAT:-3}"
WARMUP="${WARMUP:-2s}"
PORT="${PORT:-18600}"
TLS_PORT=$((PORT + 1))
BUILD="${BUILD:-1}"
LUA="$SHARED/wrk/report.lua"
OUT="$ROOT/bench/results/static-$(date +%Y%m%d-%H%M%S)"
HZ="$(getconf CLK_TCK)"

mkdir -p "$OUT/files" "$OUT/tls" "$OUT/nginx"

# ------------------------------------------------------------------ setup
need wrk
# /usr/sbin is not on every user's PATH.
[[ -x /usr/sbin/nginx ]] || need nginx nginx-light
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
if [[ "$BUILD" == 1 ]]; then
  log "building shallot (release)"
  (cd "$ROOT" && cargo build --release -q -p shallot)
fi
[[ -x "$BIN" ]] || die "no $BIN (run with BUILD=1)"

head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 > "$OUT/files/1k.txt"
head -c 102400 /dev/urandom > "$OUT/files/100k.bin"
"$BIN" dev-cert --out "$OUT/tls" localhost 127.0.0.1 >/dev/null

cat > "$OUT/shallot.toml" <<TOML
[server]
listen = "127.0.0.1:$TLS_PORT"
workers = 2

[static]
dirs = ["files"]
TOML
# Plain HTTP and HTTPS are two processes: one config serves one scheme.
sed -e "s/$TLS_PORT/$PORT/" "$OUT/shallot.toml" > "$OUT/shallot-http.toml"
cat >> "$OUT/shallot.toml" <<TOML

[server.tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
TOML

cat > "$OUT/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 1s;
  client_body_temp_path $OUT/nginx/body;
  proxy_temp_path $OUT/nginx/proxy;
  fastcgi_temp_path $OUT/nginx/fastcgi;
  uwsgi_temp_path $OUT/nginx/uwsgi;
  scgi_temp_path $OUT/nginx/scgi;
  server {
    listen 127.0.0.1:$PORT reuseport;
    listen 127.0.0.1:$TLS_PORT ssl http2 reuseport;
    ssl_certificate $OUT/tls/cert.pem;
    ssl_certificate_key $OUT/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location /static/ { alias $OUT/files/; }
  }
}
CONF

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm), $(nproc) cores; cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*: //'); shallot: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
  echo "wrk: -t$THREADS -c$CONNS -d$DURATION --latency, warm-up $WARMUP, median of $REPEAT"
} > "$OUT/versions.txt"

# ------------------------------------------------------------------ servers
PIDS=()
wait_ready() {
  for _ in $(seq 1 300); do
    [[ "$(curl -sk -o /dev/null -m 2 -w '%{http_code}' "$1")" == 200 ]] && return 0
    sleep 0.05
  done
  die "not ready: $1"
}
start_server() {
  case "$1" in
    nginx)
      "$NGINX" -c "$OUT/nginx/nginx.conf" -p "$OUT/nginx" >"$OUT/server-nginx.log" 2>&1 &
      PIDS=($!) ;;
    shallot)
      "$BIN" serve "$OUT/shallot-http.toml" >"$OUT/server-shallot-http.log" 2>&1 &
      PIDS=($!)
      "$BIN" serve "$OUT/shallot.toml" >"$OUT/server-shallot-https.log" 2>&1 &
      PIDS+=($!) ;;
  esac
  wait_ready "http://127.0.0.1:$PORT/static/1k.txt"
  wait_ready "https://127.0.0.1:$TLS_PORT/static/1k.txt"
}
stop_server() {
  local pid p
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    for p in $(pid_tree "$pid" | sort -rn); do kill -KILL "$p" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap 'stop_server; rm -rf "$OUT/.shallot"' EXIT
trap 'exit 130' INT TERM

read -r -a ROW_NAMES <<<"${ROWS:-1k 100k 304 https-1k handshakes}"
url_of() {
  case "$1" in
    1k|304) echo "http://127.0.0.1:$PORT/static/1k.txt" ;;
    100k) echo "http://127.0.0.1:$PORT/static/100k.bin" ;;
    https-1k|handshakes) echo "https://127.0.0.1:$TLS_PORT/static/1k.txt" ;;
  esac
}
ETAG=""
headers_of() {
  case "$1" in
    304) echo "If-None-Match: $ETAG" ;;
    handshakes) echo "Connection: close" ;;
    *) echo "X-Bench: 1" ;;
  esac
}

# ------------------------------------------------------------------ verify
for name in nginx shallot; do
  start_server "$name"
  for row in 1k 100k https-1k; do
    curl -sk -o "$OUT/$name-$row.body" -w '%{http_code}\n' "$(url_of "$row")" > "$OUT/$name-$row.status"
    cmp -s "$OUT/$name-$row.body" "$OUT/files/$([[ $row == 100k ]] && echo 100k.bin || echo 1k.txt)" \
      || die "$name serves $row wrong"
  done
  etag="$(curl -s -D - -o /dev/null "$(url_of 304)" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')"
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$(url_of 304)")"
  [[ "$code" == 304 ]] || die "$name answers its own ETag with $code"
  proto="$(curl -sk --http2 -o /dev/null -w '%{http_version}' "$(url_of https-1k)")"
  log "$name: verified (ETag $etag -> 304; HTTPS negotiates HTTP/$proto)"
  stop_server
done

# ------------------------------------------------------------------ bench
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }
ROWS=()
for name in nginx shallot; do
  start_server "$name"
  ETAG="$(curl -s -D - -o /dev/null "$(url_of 304)" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')"
  for row in "${ROW_NAMES[@]}"; do
    url="$(url_of "$row")"
    hdr="$(headers_of "$row")"
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -H "$hdr" "$url" > /dev/null
    runs=""
    for i in $(seq 1 "$REPEAT"); do
      t0="$(tree_ticks "${PIDS[@]}")"
      line="$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$hdr" -s "$LUA" "$url" | grep '^WRKRESULT')"
      t1="$(tree_ticks "${PIDS[@]}")"
      cpu_us="$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$(field requests "$line")" 'BEGIN{printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')"
      echo "$name $row run=$i $line cpu_us=$cpu_us" >> "$OUT/raw.txt"
      log "$name $row run $i: $(field rps "$line") req/s, p99 $(field p99_ms "$line") ms, $cpu_us µs CPU/req"
      runs+="$line cpu_us=$cpu_us"$'\n'
    done
    med="$(grep . <<<"$runs" | awk '{ match($0, / rps=[0-9.]+/); print substr($0, RSTART + 5, RLENGTH - 5) "\t" $0 }' \
      | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p" | cut -f2-)"
    errors=$(( $(field connect "$med") + $(field read "$med") + $(field write "$med") + $(field timeout "$med") + $(field non2xx3xx "$med") ))
    ROWS+=("$row|$name|$(field rps "$med")|$(field p50_ms "$med")|$(field p99_ms "$med")|$errors|$(field cpu_us "$med")")
  done
  stop_server
done

# ------------------------------------------------------------------ table
{
  echo "# Shallot's static files vs nginx ($(date -u +%FT%TZ))"
  echo
  sed 's/^/    /' "$OUT/versions.txt"
  echo
  echo "| row | server | req/s | p50 ms | p99 ms | errors | server CPU µs/req | × nginx |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r r name rps p50 p99 err cpu <<<"$row"
    base="$(printf '%s\n' "${ROWS[@]}" | awk -F'|' -v r="$r" '$1 == r && $2 == "nginx" { print $3 }')"
    ratio="$(awk -v a="$rps" -v b="${base:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')"
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "$r" "$name" "$rps" "$p50" "$p99" "$err" "$cpu" "$ratio"
  done
} | tee "$OUT/summary.md"
