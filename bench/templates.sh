#!/usr/bin/env bash
# The template half of the cycle: examples/movies' 50-row HTML table page
# (/movies/) from Shallot against the same page from Django 6.1 on granian,
# with Django's Jinja2 backend (the very same template files) and with Django
# templates (bench/templates/dtl, the pages translated), in one run.
#
# Run with: bash bench/templates.sh      (about 5 minutes on an idle 2-core box)
#
# 1. builds the guests and `shallot` in release, makes the Django venv
#    (target/templates-bench-venv, Python >= 3.12, bench/templates/requirements.txt);
# 2. writes two configs for examples/movies, absolute paths, one with every
#    component (middleware, view, context processor, filter) under
#    instance_policy = "reuse";
# 3. VERIFIES: status, content type and body of /movies/ and /movies/7/ from
#    shallot-per-request and django-jinja2 must be byte-identical (a diff is
#    printed and the script fails if not); shallot-reuse must equal
#    shallot-per-request; django-dtl is compared after whitespace
#    normalisation and only reported; X-Request-Id must be echoed by all;
# 4. per server in turn: start, idle RSS, warm-up, REPEAT measured wrk runs on
#    /movies/ with the settings and the report script of bench/run.sh
#    (../shared/bench/django/wrk/report.lua), server CPU per request;
# 5. prints a table (median run by req/s; ratios to django-jinja2) and writes
#    it to bench/results/templates-<timestamp>/summary.md, every run in raw.txt.
#
# Servers: shallot-per-request, shallot-reuse (`shallot serve --listen`, as
# bench/run.sh serves it); django-jinja2, django-dtl (granian WSGI, 2 workers,
# --runtime-mode st --blocking-threads 4: the "best" setup of
# ../shared/bench/django/run.sh). Server and wrk run at nice -15 when allowed.
#
# Environment (defaults): DURATION=10s THREADS=2 CONNS=64 REPEAT=3 WARMUP=2s
#   SERVERS="shallot-per-request shallot-reuse django-jinja2 django-dtl"
#   PORT=18400 VENV=<root>/target/templates-bench-venv BUILD=1 (0: use what is built)
#   WAIT_IDLE=30 (max seconds to wait before each measured run for the machine
#   to be idle: busy below IDLE_BUSY_MAX=15 % over 1 s)
#   OTHER_MAX=10 RETRIES=1 (a run during which other processes took more than
#   OTHER_MAX % of the CPU is "disturbed"; runs go on until REPEAT clean ones or
#   REPEAT*(1+RETRIES) in all; the median of the clean ones is reported, of all
#   of them if none was clean)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" templates
APP="$ROOT/bench/templates"
SHARED="$(cd "$ROOT/../shared/bench/django" && pwd)"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
REPEAT="${REPEAT:-3}"
WARMUP="${WARMUP:-2s}"
SERVERS="${SERVERS:-shallot-per-request shallot-reuse django-jinja2 django-dtl}"
PORT="${PORT:-18400}"
VENV="${VENV:-$ROOT/target/templates-bench-venv}"
BUILD="${BUILD:-1}"
WAIT_IDLE="${WAIT_IDLE:-30}"
IDLE_BUSY_MAX="${IDLE_BUSY_MAX:-15}"
OTHER_MAX="${OTHER_MAX:-10}"
RETRIES="${RETRIES:-1}"
LUA="$SHARED/wrk/report.lua"
BENCH_PATH=/movies/
OUT="$ROOT/bench/results/templates-$(date +%Y%m%d-%H%M%S)"
GUESTS="$ROOT/target/guests/wasm32-wasip2/release"
HZ="$(getconf CLK_TCK)"
NCPU="$(nproc)"
export PYTHONDONTWRITEBYTECODE=1   # keep bench/templates free of __pycache__

mkdir -p "$OUT"

# ------------------------------------------------------------------ setup
need wrk

pick_python() {  # Django 6.x needs >= 3.12: pyenv's 3.13 / 3.12, then PATH
  local root cand
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for cand in "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3 \
              "$(command -v python3.13 || true)" "$(command -v python3.12 || true)"; do
    [[ -n "$cand" && -x "$cand" ]] && { echo "$cand"; return; }
  done
  die "no Python >= 3.12 (pyenv install 3.13 or install python3.12)"
}
want="$(grep -E '^[A-Za-z]' "$APP/requirements.txt" | LC_ALL=C sort -f)"
if [[ ! -x "$VENV/bin/granian" ]] \
   || [[ "$("$VENV/bin/pip" freeze 2>/dev/null | LC_ALL=C sort -f)" != "$want" ]]; then
  py="$(pick_python)"
  log "creating $VENV with $py ($("$py" -V 2>&1))"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$APP/requirements.txt"
fi

if [[ "$BUILD" == 1 ]]; then
  log "building guests and shallot (release)"
  bash "$ROOT/scripts/build-guests.sh" >&2
  (cd "$ROOT" && cargo build --release -q -p shallot)
fi
[[ -x "$BIN" ]] || die "no $BIN (run with BUILD=1)"

# Configs: examples/movies/shallot.toml with absolute paths; the reuse one
# adds instance_policy = "reuse" under every `component =` line.
CFG_PR="$OUT/movies-per-request.toml"
CFG_RE="$OUT/movies-reuse.toml"
sed -e "s#\"\\.\\./\\.\\./target/guests/wasm32-wasip2/release/#\"$GUESTS/#" \
    -e "s#^dirs = \\[\"templates\"\\]#dirs = [\"$ROOT/examples/movies/templates\"]#" \
    "$ROOT/examples/movies/shallot.toml" > "$CFG_PR"
grep -q '"\.\./\.\./' "$CFG_PR" && die "relative component path left in $CFG_PR"
grep -q "^dirs = \[\"/" "$CFG_PR" || die "templates dir not made absolute in $CFG_PR"
sed 's/^component = \(.*\)$/component = \1\ninstance_policy = "reuse"/' "$CFG_PR" > "$CFG_RE"
(( $(grep -c '^instance_policy = "reuse"' "$CFG_RE") == $(grep -c '^component = ' "$CFG_PR") )) \
  || die "not every component got instance_policy in $CFG_RE"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm), $NCPU cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "python: $("$VENV/bin/python" -V 2>&1)"
  "$VENV/bin/pip" freeze | sed 's/^/pip: /'
  echo "wrk: $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "rustc: $(rustc --version)"
  echo "shallot: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
  echo "wrk settings: -t$THREADS -c$CONNS -d$DURATION --latency, warmup $WARMUP, on $BENCH_PATH; median of $REPEAT clean runs; server and wrk: ${PRIO[*]:-default priority}"
} > "$OUT/versions.txt"

# ------------------------------------------------------------------ servers
tree_rss_mib() {
  local s=0 p v
  for p in $(pid_tree "$1"); do
    v="$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || true)"; s=$((s + ${v:-0}))
  done
  awk -v s="$s" 'BEGIN{printf "%.1f", s / 1024}'
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

SERVER_PID=""
start_server() {  # name
  local name="$1" logf="$OUT/server-$1.log" i
  port_free "$PORT" || die "port $PORT already in use"
  case "$name" in
    shallot-per-request) ("${PRIO[@]}" "$BIN" serve --listen "127.0.0.1:$PORT" "$CFG_PR") >"$logf" 2>&1 & ;;
    shallot-reuse)       ("${PRIO[@]}" "$BIN" serve --listen "127.0.0.1:$PORT" "$CFG_RE") >"$logf" 2>&1 & ;;
    django-jinja2|django-dtl)
      (cd "$APP" && MOVIES_TEMPLATES="${name#django-}" exec "${PRIO[@]}" "$VENV/bin/granian" \
         --interface wsgi --workers 2 --runtime-mode st --blocking-threads 4 \
         --host 127.0.0.1 --port "$PORT" movieapp.wsgi:application) >"$logf" 2>&1 & ;;
    *) die "unknown server $name (see the header of $0)" ;;
  esac
  SERVER_PID=$!
  for i in $(seq 1 600); do
    if [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT$BENCH_PATH")" == 200 ]]; then
      # every worker (granian has two) has booted and rendered once
      for _ in 1 2 3 4 5 6 7 8; do curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT$BENCH_PATH" || true; done
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$logf" >&2; die "$name exited during startup"; }
    sleep 0.05
  done
  die "$name not ready after 30 s"
}
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local i p
  for i in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    log "server $SERVER_PID did not stop on TERM; killing its process tree"
    for p in $(pid_tree "$SERVER_PID" | sort -rn); do kill -KILL "$p" 2>/dev/null || true; done
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$OUT/.shallot"' EXIT   # the compile cache beside the configs
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ verify
VDIR="$OUT/verify"; mkdir -p "$VDIR"
VPATHS=("/movies/" "/movies/7/")
vname() { local p="${1#/}"; p="${p%/}"; echo "${p//\//_}"; }   # /movies/7/ -> movies_7
# status, content type and the echoed request id (one awk over the file: no pipe to break)
verified_part() {
  awk '{ sub(/\r$/, "") }
       NR == 1 { print "status: " $2; next }
       /^$/ { exit }
       { i = index($0, ":"); n = tolower(substr($0, 1, i - 1)); v = substr($0, i + 1); sub(/^ +/, "", v)
         if (n == "content-type" || n == "x-request-id") print n ": " v }' "$1" | LC_ALL=C sort
}
raw_body() {  # the body bytes exactly as sent (curl -si output, after the blank line)
  "$VENV/bin/python" -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1])' "$1"
}

log "verifying $BENCH_PATH and /movies/7/ on every server"
for name in $SERVERS; do
  start_server "$name"
  for p in "${VPATHS[@]}"; do
    f="$VDIR/$name-$(vname "$p")"
    curl -si -H 'X-Request-Id: bench-verify-1' "http://127.0.0.1:$PORT$p" > "$f.raw"
    { verified_part "$f.raw"; echo "--- body"; } > "$f.head"
    raw_body "$f.raw" > "$f.body"
  done
  stop_server
done

vbad=0
compare() {  # a b mode(exact|whitespace) -> prints one line per path; returns 1 on a difference
  local a="$1" b="$2" mode="$3" p n rc=0
  for p in "${VPATHS[@]}"; do
    n="$(vname "$p")"
    if [[ ! -f "$VDIR/$a-$n.raw" || ! -f "$VDIR/$b-$n.raw" ]]; then continue; fi
    if [[ "$mode" == exact ]]; then
      if diff -u "$VDIR/$a-$n.head" "$VDIR/$b-$n.head" > "$VDIR/$a-vs-$b-$n.diff" \
         && cmp -s "$VDIR/$a-$n.body" "$VDIR/$b-$n.body"; then
        printf '  %-18s %s = %s: identical (status, content type, X-Request-Id, body: %s bytes)\n' \
          "$p" "$a" "$b" "$(wc -c < "$VDIR/$a-$n.body")"
      else
        diff -u "$VDIR/$a-$n.body" "$VDIR/$b-$n.body" >> "$VDIR/$a-vs-$b-$n.diff" || true
        [[ -s "$VDIR/$a-vs-$b-$n.diff" ]] || echo "(the bodies differ in bytes diff does not show, e.g. the final newline: $(wc -c < "$VDIR/$a-$n.body") vs $(wc -c < "$VDIR/$b-$n.body") bytes)" >> "$VDIR/$a-vs-$b-$n.diff"
        printf '  %-18s %s vs %s: DIFFERENT\n' "$p" "$a" "$b"; cat "$VDIR/$a-vs-$b-$n.diff"; rc=1
      fi
    else
      # whitespace normalised: every run of whitespace one space, ends trimmed
      local na nb
      na="$(tr -s ' \t\r\n' ' ' < "$VDIR/$a-$n.body" | sed 's/^ //; s/ $//')"
      nb="$(tr -s ' \t\r\n' ' ' < "$VDIR/$b-$n.body" | sed 's/^ //; s/ $//')"
      if [[ "$na" == "$nb" ]] && diff -q "$VDIR/$a-$n.head" "$VDIR/$b-$n.head" >/dev/null; then
        local how="byte-identical"
        cmp -s "$VDIR/$a-$n.body" "$VDIR/$b-$n.body" \
          || how="equal after whitespace normalisation ($(wc -c < "$VDIR/$a-$n.body") vs $(wc -c < "$VDIR/$b-$n.body") bytes)"
        printf '  %-18s %s = %s: %s\n' "$p" "$a" "$b" "$how"
      else
        printf '  %-18s %s vs %s: DIFFERENT even after whitespace normalisation\n' "$p" "$a" "$b"
        diff -u "$VDIR/$a-$n.head" "$VDIR/$b-$n.head" || true
        diff -u <(fold -w 100 <<<"$na") <(fold -w 100 <<<"$nb") || true
        rc=1
      fi
    fi
  done
  return "$rc"
}
{
  echo "verify (status, content-type, X-Request-Id echo of 'bench-verify-1', body):"
  compare shallot-per-request django-jinja2 exact || vbad=1
  compare shallot-reuse shallot-per-request exact || vbad=1
  compare django-dtl django-jinja2 whitespace || echo "  (django-dtl differs: reported only, not a failure)"
  echo "verify: $([[ "$vbad" == 0 ]] && echo PASSED || echo FAILED)"
} | tee "$OUT/verify.txt"
grep -q '^verify: PASSED' "$OUT/verify.txt" || die "the pages differ (see $VDIR); not benchmarking"

# ------------------------------------------------------------------ bench
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }
sys_ticks() { awk '/^cpu /{print $2+$3+$4, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
cpu_busy_pct() {
  local a b
  a=($(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)); sleep 1
  b=($(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat))
  awk -v b1="${a[0]}" -v i1="${a[1]}" -v b2="${b[0]}" -v i2="${b[1]}" \
    'BEGIN{d=(b2-b1)+(i2-i1); printf "%.0f", (d > 0 ? 100 * (b2 - b1) / d : 0)}'
}
LAST_BUSY=0
wait_idle() {
  local waited=0 busy
  while :; do
    busy="$(cpu_busy_pct)"; waited=$((waited + 1))
    (( busy < IDLE_BUSY_MAX )) && break
    (( waited >= WAIT_IDLE )) && { log "machine still ${busy}% busy after ${WAIT_IDLE}s; running anyway"; break; }
  done
  LAST_BUSY="$busy"
}
measured_run() {  # url -> WRKRESULT line + CPU shares of the machine (server tree, wrk, others)
  local url="$1" s0 s1 t0 t1 line wrk_s tout ttime
  tout="$(mktemp)"; ttime="$(mktemp)"
  s0=($(sys_ticks)); t0="$(tree_ticks "$SERVER_PID")"
  { local TIMEFORMAT='%U %S'
    time "${PRIO[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" "$url" > "$tout"; } 2> "$ttime"
  s1=($(sys_ticks)); t1="$(tree_ticks "$SERVER_PID")"
  line="$(grep '^WRKRESULT' "$tout" || true)"
  wrk_s="$(tail -1 "$ttime" | awk '{print $1 + $2}')"
  rm -f "$tout" "$ttime"
  [[ -n "$line" ]] || return 1
  awk -v l="$line" -v b=$((s1[0] - s0[0])) -v tot=$((s1[1] - s0[1])) -v srv=$((t1 - t0)) \
      -v w="$wrk_s" -v hz="$HZ" 'BEGIN {
        wt = w * hz; o = b - srv - wt; if (o < 0) o = 0; if (tot <= 0) tot = 1
        printf "%s srv_cpu=%.0f wrk_cpu=%.0f other_cpu=%.0f\n", l,
               100 * srv / tot, 100 * wt / tot, 100 * o / tot }'
}

ROWS=()
for name in $SERVERS; do
  log "=== $name"
  start_server "$name"
  sleep 1
  idle="$(tree_rss_mib "$SERVER_PID")"
  url="http://127.0.0.1:$PORT$BENCH_PATH"
  "${PRIO[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" > /dev/null   # warm-up, discarded
  runs=""; clean=0; total=0; max_runs=$(( REPEAT * (1 + RETRIES) ))
  while (( clean < REPEAT && total < max_runs )); do
    wait_idle
    line="$(measured_run "$url")" || die "wrk produced no result for $name"
    total=$((total + 1))
    if (( $(field other_cpu "$line") <= OTHER_MAX )); then clean=$((clean + 1)); tag=clean; else tag=disturbed; fi
    line="$line $tag"
    echo "$name run=$total busy_before=${LAST_BUSY}% $line" >> "$OUT/raw.txt"
    log "$name run $total ($tag): $(field rps "$line") req/s p50 $(field p50_ms "$line") ms p99 $(field p99_ms "$line") ms; CPU server $(field srv_cpu "$line")% wrk $(field wrk_cpu "$line")% other $(field other_cpu "$line")%"
    runs+="$line"$'\n'
  done
  peak="$(tree_rss_mib "$SERVER_PID")"
  stop_server
  pool="$(grep ' clean$' <<<"$runs" || true)"
  [[ -n "$pool" ]] || { pool="$(grep . <<<"$runs")"; log "WARNING: no clean run for $name; reporting the median of all $total runs"; }
  npool="$(grep -c . <<<"$pool")"
  med="$(awk '{for(i=1;i<=NF;i++) if ($i ~ /^rps=/) {split($i,a,"="); print a[2] "\t" $0}}' <<<"$pool" \
         | sort -n | awk -v m=$(( (npool + 1) / 2 )) 'NR==m' | cut -f2-)"
  err=$(( $(field connect "$med") + $(field read "$med") + $(field write "$med") + $(field timeout "$med") + $(field non2xx3xx "$med") ))
  cpu_us="$(awk -v c="$(field srv_cpu "$med")" -v n="$NCPU" -v d="$(field duration_s "$med")" -v r="$(field requests "$med")" \
            'BEGIN{printf "%.0f", (r > 0 ? c / 100 * n * d / r * 1e6 : 0)}')"
  ROWS+=("$name|$(field rps "$med")|$(field p50_ms "$med")|$(field p99_ms "$med")|$err|$cpu_us|$idle|$peak|$(field srv_cpu "$med")/$(field wrk_cpu "$med")/$(field other_cpu "$med")|$clean/$total")
done

# ------------------------------------------------------------------ summary
base="$(printf '%s\n' "${ROWS[@]}" | awk -F'|' '$1 == "django-jinja2" {print $2}')"
{
  echo "# examples/movies /movies/ (50-row table): Shallot vs Django on granian ($(date -u +%FT%TZ))"
  echo
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency on $BENCH_PATH, median (by req/s) of $REPEAT clean runs;"
  echo "wrk and the server share this machine's $NCPU cores."
  echo
  echo "| server | req/s | p50 ms | p99 ms | errors | server CPU µs/req | idle RSS MiB | RSS after load MiB | CPU % server/wrk/other | clean runs | × django-jinja2 |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"
  for r in "${ROWS[@]}"; do
    IFS='|' read -r n rps p50 p99 err cpu idle peak shares cl <<<"$r"
    ratio="-"; [[ -n "$base" ]] && ratio="$(awk -v a="$rps" -v b="$base" 'BEGIN{printf "%.2f", a / b}')"
    printf '| %s | %.0f | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s |\n' \
      "$n" "$rps" "$p50" "$p99" "$err" "$cpu" "$idle" "$peak" "$shares" "$cl" "$ratio"
  done
  echo
  grep '^verify:' "$OUT/verify.txt" | sed 's/^/page check: /'
  echo
  echo "shallot-*: target/release/shallot serve on examples/movies (request-id middleware, movies view,"
  echo "site context processor, text filter component); -reuse: every component instance_policy = \"reuse\"."
  echo "django-*: Django $("$VENV/bin/python" -c 'import django; print(django.get_version())'), granian WSGI 2 workers,"
  echo "--runtime-mode st --blocking-threads 4; only a RequestId middleware; Jinja2 backend over the same"
  echo "template files, or DTL over bench/templates/dtl."
  echo "errors = socket errors + non-2xx/3xx responses. Server CPU µs/req = the server tree's CPU time / requests."
  echo "RSS is summed over the server's process tree. CPU % is of the whole machine during the median run;"
  echo "'other' is everything else (a run with other > $OTHER_MAX % is 'disturbed'). Every run is in raw.txt."
} | tee "$OUT/summary.md"
log "results in $OUT"
