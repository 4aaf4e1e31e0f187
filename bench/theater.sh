#!/usr/bin/env bash
# A load run of the movie theater's main pages (examples/movie-theater),
# served as `bash scripts/serve.sh movie-theater` serves it: HTTPS, the
# eight standard middleware, SQLite, templates. Each page is run under both
# instance policies in one run, side by side: every component
# `per-request` (the default: a fresh instance per request) and every
# component `reuse` (warm instances).
#
# Run with: bash bench/theater.sh      (about 5 minutes on an idle 2-core box)
#
# Rows (median of REPEAT wrk runs by req/s, wrk over HTTPS/1.1 keep-alive):
#   list     GET /                 anonymous: 5 movies, one query, the layout
#   detail   GET /movies/4/        anonymous: a movie, its showtimes and free seats
#   mine     GET /bookings/mine/   logged in as bob: session, user and
#                                  permissions loaded from SQL, his bookings
#   booking  GET /movies/1/        logged in: the booking forms with CSRF tokens
#   static   GET /static/css/site.css   the server's static files (no component)
#
# Environment (defaults): DURATION=10s THREADS=2 CONNS=32 REPEAT=3 WARMUP=2s
#   PORT=18700 BUILD=1 POLICIES="per-request reuse"
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" theater
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
REPEAT="${REPEAT:-3}"
WARMUP="${WARMUP:-2s}"
PORT="${PORT:-18700}"
BUILD="${BUILD:-1}"
read -r -a POLICY_NAMES <<<"${POLICIES:-per-request reuse}"
OUT="$ROOT/bench/results/theater-$(date +%Y%m%d-%H%M%S)"
LUA="$OUT/report.lua"
HZ="$(getconf CLK_TCK)"
APP="$ROOT/examples/movie-theater"

mkdir -p "$OUT"

need wrk
if [[ "$BUILD" == 1 ]]; then
  log "building shallot and the guests (release)"
  (cd "$ROOT" && cargo build --release -q -p shallot && bash scripts/build-guests.sh >/dev/null 2>&1)
fi
[[ -x "$BIN" ]] || die "no $BIN (run with BUILD=1)"

# One machine-readable line per wrk run (no per-request Lua callbacks).
cat > "$LUA" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRKRESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx3xx=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
LUA

# The example's config with its paths made absolute, its state (database,
# certificate) under $OUT, two workers, and one instance policy.
config_for() {
  local policy="$1" dir="$OUT/$1"
  mkdir -p "$dir"
  sed -e "s#\.\./\.\./target/guests#$ROOT/target/guests#" \
      -e "s#\.\./\.\./target/movie-theater#$dir#" \
      -e "s#^dirs = \[\"templates\"\]#dirs = [\"$APP/templates\"]#" \
      -e "s#^dirs = \[\"static\"\]#dirs = [\"$APP/static\"]#" \
      -e "s#^migrations = \"migrations\"#migrations = \"$APP/migrations\"#" \
      -e "s#^listen = .*#listen = \"127.0.0.1:$PORT\"\nworkers = 2#" \
      "$APP/shallot.toml" > "$dir/shallot.toml"
  if [[ "$policy" == reuse ]]; then
    sed -i -e 's#^\(component = .*\)$#\1\ninstance_policy = "reuse"#' "$dir/shallot.toml"
  fi
  "$BIN" dev-cert --out "$dir" localhost 127.0.0.1 >/dev/null
  "$BIN" migrate "$dir/shallot.toml" >/dev/null
  echo "$dir/shallot.toml"
}

SERVER=""
stop_server() {
  [[ -n "$SERVER" ]] || return 0
  kill -TERM "$SERVER" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

BASE="https://127.0.0.1:$PORT"
export SHALLOT_SESSION_SECRET="bench-$(date +%s)"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm), $(nproc) cores; cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "shallot: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
  echo "wrk: -t$THREADS -c$CONNS -d$DURATION --latency over HTTPS, warm-up $WARMUP, median of $REPEAT"
} > "$OUT/versions.txt"

ROWS=(list detail mine booking static)
declare -A PATH_OF=([list]=/ [detail]=/movies/4/ [mine]=/bookings/mine/ [booking]=/movies/1/ [static]=/static/css/site.css)
declare -A NEEDS=([list]="Now showing" [detail]="A Quiet Orbit" [mine]="My bookings" [booking]="csrfmiddlewaretoken" [static]="--ink")
RESULTS="$OUT/results.txt"
: > "$RESULTS"

for policy in "${POLICY_NAMES[@]}"; do
  config="$(config_for "$policy")"
  "$BIN" serve "$config" >"$OUT/server-$policy.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do
    [[ "$(curl -sk -o /dev/null -m 2 -w '%{http_code}' "$BASE/")" == 200 ]] && break
    sleep 0.1
  done
  # bob logs in as a browser would: the CSRF cookie and token, then the form.
  jar="$OUT/$policy/cookies.txt"
  token="$(curl -sk -c "$jar" "$BASE/accounts/login/" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' | head -1)"
  code="$(curl -sk -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' -H "Referer: $BASE/accounts/login/" \
    --data "csrfmiddlewaretoken=$token&username=bob&password=bob-secret" "$BASE/accounts/login/")"
  [[ "$code" == 302 ]] || die "login answered $code"
  cookie="$(awk '$0 !~ /^#/ || /^#HttpOnly_/ {sub(/^#HttpOnly_/, ""); if (NF >= 7) printf "%s=%s; ", $6, $7}' "$jar")"
  for row in "${ROWS[@]}"; do
    url="$BASE${PATH_OF[$row]}"
    headers=(-H "X-Bench: 1")
    [[ "$row" == mine || "$row" == booking ]] && headers=(-H "Cookie: $cookie")
    body="$(curl -sk "${headers[@]}" "$url")"
    [[ "$body" == *"${NEEDS[$row]}"* ]] || die "$policy $row: the page lacks '${NEEDS[$row]}'"
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${headers[@]}" "$url" >/dev/null 2>&1 || true
    runs=()
    for i in $(seq 1 "$REPEAT"); do
      before="$(awk '{print $14 + $15}' "/proc/$SERVER/stat")"
      line="$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" "${headers[@]}" "$url" | grep WRKRESULT)"
      after="$(awk '{print $14 + $15}' "/proc/$SERVER/stat")"
      rps="$(sed 's/.*rps=\([0-9.]*\).*/\1/' <<<"$line")"
      secs="${DURATION%s}"
      cpu_us="$(awk -v t=$((after - before)) -v hz="$HZ" -v r="$rps" -v s="$secs" 'BEGIN{printf "%.0f", t / hz * 1e6 / (r * s)}')"
      runs+=("$rps $line cpu_us=$cpu_us")
      log "$policy $row run $i: $line cpu_us=$cpu_us"
    done
    median="$(printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p" | cut -d' ' -f2-)"
    echo "$policy $row $median" >> "$RESULTS"
  done
  stop_server
done

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
{
  echo
  echo "| page | policy | req/s | p50 ms | p99 ms | server CPU µs/req | errors + non-2xx/3xx |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  while read -r policy row rest; do
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$row" "$policy" "$(field rps "$rest")" \
      "$(field p50_ms "$rest")" "$(field p99_ms "$rest")" "$(field cpu_us "$rest")" \
      "$(( $(field errors "$rest") + $(field non2xx3xx "$rest") ))"
  done < "$RESULTS"
} | tee "$OUT/table.md"
log "results in $OUT"
