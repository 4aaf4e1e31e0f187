#!/usr/bin/env bash
# The database half of the cycle: a view reading one row by primary key
# (/notes/7/) and a view listing 20 rows (/notes/), from Shallot's `notes`
# guest (per-request and reuse) against the same views in Django 6.1's ORM
# on granian, on the same database: one SQLite file, then one PostgreSQL
# database (the server of scripts/postgres.sh), in one run.
#
# Run with: bash bench/sql.sh      (about 10 minutes on an idle 2-core box)
#
# 1. builds the guests and `shallot` in release; makes (or reuses) the Django
#    venv of bench/templates.sh (target/templates-bench-venv, its pins) and
#    adds psycopg (bench/sql/requirements.txt);
# 2. per backend, creates the database with `shallot migrate`
#    (bench/sql/sqlite or bench/sql/postgres: the notes table, 1,000 rows);
#    Django reads the same database (bench/sql/noteapp, no middleware, a
#    persistent connection);
# 3. VERIFIES that every server answers both paths with the same status,
#    content type and body (the script fails otherwise);
# 4. per server, per path: warm-up, then REPEAT wrk runs with the report
#    script of bench/run.sh; the median by req/s is reported with its p99
#    and the server's CPU per request;
# 5. prints the table and writes it to bench/results/sql-<time>/summary.md.
#
# Simpler than bench/templates.sh: it does not wait for an idle machine or
# retry disturbed runs, so run it on an otherwise idle machine.
#
# Environment (defaults): DURATION=10s THREADS=2 CONNS=64 REPEAT=3 WARMUP=2s
#   SERVERS="shallot-per-request shallot-reuse django" PORT=18500 BUILD=1
#   BACKENDS="sqlite postgres"
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" sql
APP="$ROOT/bench/sql"
SHARED="$(cd "$ROOT/../shared/bench/django" && pwd)"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
REPEAT="${REPEAT:-3}"
WARMUP="${WARMUP:-2s}"
SERVERS="${SERVERS:-shallot-per-request shallot-reuse django}"
PORT="${PORT:-18500}"
BUILD="${BUILD:-1}"
BACKENDS="${BACKENDS:-sqlite postgres}"
VENV="$ROOT/target/templates-bench-venv"
LUA="$SHARED/wrk/report.lua"
OUT="$ROOT/bench/results/sql-$(date +%Y%m%d-%H%M%S)"
GUEST="$ROOT/target/guests/wasm32-wasip2/release/notes.wasm"
HZ="$(getconf CLK_TCK)"
PATHS=("/notes/7/" "/notes/")
export PYTHONDONTWRITEBYTECODE=1

mkdir -p "$OUT"

# ------------------------------------------------------------------ setup
need wrk
if [[ ! -x "$VENV/bin/granian" ]]; then
  # The venv bench/templates.sh makes, from the same pins.
  py=""
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for cand in "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3 \
              "$(command -v python3.13 || true)" "$(command -v python3.12 || true)"; do
    [[ -n "$cand" && -x "$cand" ]] && { py="$cand"; break; }
  done
  [[ -n "$py" ]] || die "no Python >= 3.12 for Django 6 (pyenv install 3.13)"
  log "creating $VENV with $py"
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/bench/templates/requirements.txt"
fi
"$VENV/bin/python" -c "import psycopg" 2>/dev/null || "$VENV/bin/pip" install -q -r "$APP/requirements.txt"
if [[ "$BUILD" == 1 ]]; then
  log "building guests and shallot (release)"
  bash "$ROOT/scripts/build-guests.sh" >&2
  (cd "$ROOT" && cargo build --release -q -p shallot)
fi
[[ -x "$BIN" && -f "$GUEST" ]] || die "no $BIN or $GUEST (run with BUILD=1)"

DB_URL=""
READ_LINE=""
config() {  # policy line -> a config serving the two views on $DB_URL
  cat <<TOML
[databases.default]
url = "$DB_URL"
$READ_LINE
migrations = "$APP/$BACKEND"

[views.note]
component = "$GUEST"
sql_databases = { default = "read" }
$1
[views.page]
component = "$GUEST"
sql_databases = { default = "read" }
$1
[[routes]]
path = "notes/<int:id>/"
view = "note"

[[routes]]
path = "notes/"
view = "page"
TOML
}
PG_SERVER=""
use_backend() {  # sqlite | postgres: a fresh, migrated database and configs
  BACKEND="$1"
  case "$BACKEND" in
    sqlite)
      DB_URL="sqlite:$OUT/notes.db"; READ_LINE=""
      DJANGO_ENV=(NOTES_DB="$OUT/notes.db") ;;
    postgres)
      [[ -n "$PG_SERVER" ]] || PG_SERVER="$(bash "$ROOT/scripts/postgres.sh" start)"
      local port="${PG_SERVER##*:}"
      psql -X -q -h 127.0.0.1 -p "$port" -U shallot -d postgres \
        -c "DROP DATABASE IF EXISTS bench_notes" -c "CREATE DATABASE bench_notes" >&2
      DB_URL="$PG_SERVER/bench_notes"
      READ_LINE="read_url = \"${PG_SERVER/shallot@/shallot_ro@}/bench_notes\""
      DJANGO_ENV=(NOTES_PG_PORT="$port") ;;
    *) die "unknown backend $BACKEND" ;;
  esac
  config "" > "$OUT/per-request.toml"
  config 'instance_policy = "reuse"' > "$OUT/reuse.toml"
  "$BIN" migrate "$OUT/per-request.toml" >&2
}
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm), $(nproc) cores; cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "python: $("$VENV/bin/python" -V 2>&1); $("$VENV/bin/pip" freeze | grep -iE '^(django|granian)==' | tr '\n' ' ')"
  echo "shallot: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
  echo "wrk: -t$THREADS -c$CONNS -d$DURATION --latency, warm-up $WARMUP, median of $REPEAT; ${PRIO[*]:-default priority}"
} > "$OUT/versions.txt"

# ------------------------------------------------------------------ servers
SERVER_PID=""
start_server() {
  local name="$1" logf="$OUT/server-$1.log"
  case "$name" in
    shallot-per-request) ("${PRIO[@]}" "$BIN" serve --listen "127.0.0.1:$PORT" "$OUT/per-request.toml") >"$logf" 2>&1 & ;;
    shallot-reuse) ("${PRIO[@]}" "$BIN" serve --listen "127.0.0.1:$PORT" "$OUT/reuse.toml") >"$logf" 2>&1 & ;;
    django)
      (cd "$APP" && exec env "${DJANGO_ENV[@]}" "${PRIO[@]}" "$VENV/bin/granian" \
         --interface wsgi --workers 2 --runtime-mode st --blocking-threads 4 \
         --host 127.0.0.1 --port "$PORT" noteapp.wsgi:application) >"$logf" 2>&1 & ;;
    *) die "unknown server $name" ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/notes/")" == 200 ]]; then
      for _ in 1 2 3 4 5 6 7 8; do curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/notes/7/" || true; done
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$logf" >&2; die "$name exited during startup"; }
    sleep 0.05
  done
  die "$name not ready after 30 s"
}
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local p
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  for p in $(pid_tree "$SERVER_PID" | sort -rn); do kill -KILL "$p" 2>/dev/null || true; done
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$OUT/.shallot"; [[ -z "$PG_SERVER" ]] || bash "$ROOT/scripts/postgres.sh" stop' EXIT
trap 'exit 130' INT TERM

field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }
ROWS=()
for BACKEND in $BACKENDS; do
  use_backend "$BACKEND"
  # ------------------------------------------------------------------ verify
  for name in $SERVERS; do
    start_server "$name"
    for p in "${PATHS[@]}"; do
      curl -s -o "$OUT/$BACKEND-$name${p//\//_}.body" -w '%{http_code} %{content_type}\n' \
        "http://127.0.0.1:$PORT$p" > "$OUT/$BACKEND-$name${p//\//_}.head"
    done
    stop_server
  done
  first="${SERVERS%% *}"
  for name in $SERVERS; do
    for p in "${PATHS[@]}"; do
      f="${p//\//_}"
      cmp -s "$OUT/$BACKEND-$first$f.head" "$OUT/$BACKEND-$name$f.head" && cmp -s "$OUT/$BACKEND-$first$f.body" "$OUT/$BACKEND-$name$f.body" \
        || die "$name answers $p differently from $first (see $OUT/*$f.*)"
    done
  done
  log "$BACKEND: verified: every server answers ${PATHS[*]} alike ($(cat "$OUT/$BACKEND-$first${PATHS[0]//\//_}.head"))"

  # ------------------------------------------------------------------ bench
  for name in $SERVERS; do
    start_server "$name"
    for p in "${PATHS[@]}"; do
      url="http://127.0.0.1:$PORT$p"
      "${PRIO[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" > /dev/null
      runs=""
      for i in $(seq 1 "$REPEAT"); do
        t0="$(tree_ticks "$SERVER_PID")"
        line="$("${PRIO[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" "$url" | grep '^WRKRESULT')"
        t1="$(tree_ticks "$SERVER_PID")"
        cpu_us="$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$(field requests "$line")" 'BEGIN{printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')"
        echo "$BACKEND $name $p run=$i $line cpu_us=$cpu_us" >> "$OUT/raw.txt"
        log "$BACKEND $name $p run $i: $(field rps "$line") req/s, p99 $(field p99_ms "$line") ms, $cpu_us µs CPU/req"
        runs+="$line cpu_us=$cpu_us"$'\n'
      done
      # the median run by req/s
      med="$(grep . <<<"$runs" | awk '{ match($0, / rps=[0-9.]+/); print substr($0, RSTART + 5, RLENGTH - 5) "\t" $0 }' \
        | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p" | cut -f2-)"
      errors=$(( $(field connect "$med") + $(field read "$med") + $(field write "$med") + $(field timeout "$med") + $(field non2xx3xx "$med") ))
      ROWS+=("$BACKEND|$name|$p|$(field rps "$med")|$(field p50_ms "$med")|$(field p99_ms "$med")|$errors|$(field cpu_us "$med")")
    done
    stop_server
  done

done

# ------------------------------------------------------------------ table
{
  echo "# Shallot vs Django ORM on SQLite and PostgreSQL ($(date -u +%FT%TZ))"
  echo
  sed 's/^/    /' "$OUT/versions.txt"
  echo
  echo "| database | server | path | req/s | p50 ms | p99 ms | errors | server CPU µs/req | × django |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r backend name p rps p50 p99 err cpu <<<"$row"
    base="$(printf '%s\n' "${ROWS[@]}" | awk -F'|' -v b="$backend" -v p="$p" '$1 == b && $2 == "django" && $3 == p { print $4 }')"
    ratio="$(awk -v a="$rps" -v b="${base:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')"
    printf '| %s | %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "$backend" "$name" "$p" "$rps" "$p50" "$p99" "$err" "$cpu" "$ratio"
  done
} | tee "$OUT/summary.md"
