#!/usr/bin/env bash
# Shallot against Django and the native reference, side by side in one run.
#
# Run with: bash bench/run.sh            (about 15 minutes on an idle 2-core box)
#
# 1. builds the guests and `shallot` in release;
# 2. runs ../shared/bench/django/run.sh for the reference servers (gunicorn
#    sync, granian "best", native hyper/tokio) with the settings below;
# 3. serves examples/quickstart/shallot.toml once per instance policy and
#    measures it with the same wrk settings and the same wrk report script:
#    cold start (empty compile cache) and warm start to the first response,
#    idle RSS, peak RSS under load, page faults per request, server CPU per
#    request;
# 4. runs the in-process cycle benchmark (cargo bench --bench cycle: cost
#    per fresh and per reused layer, no socket);
# 5. counts the instructions per request of the same in-process cases
#    (bench/instructions.sh, callgrind: figures that do not move between
#    runs, unlike times on this machine);
# 6. prints one table with ratios to native and to Django, and writes it to
#    bench/results/<timestamp>/summary.md (every run is in raw.txt).
#
# BEFORE=/path/to/an/older/shallot also serves the same configs with that
# binary (rows `shallot-before-<policy>`), side by side in the same run: how
# to measure what a change gained.
#
# Environment (defaults): DURATION=10s THREADS=2 CONNS=64 REPEAT=3 WARMUP=2s
#   ENDPOINTS="hello items boom"   POLICIES="per-request reuse"
#   REFERENCE="sync best native"   (empty: Shallot only, no ratios)
#   INPROC=1                       (0: skip the in-process benchmark)
#   INSTRUCTIONS=1                 (0: skip counting instructions, ~10 min)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" bench
SHARED="$(cd "$ROOT/../shared/bench/django" && pwd)"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
REPEAT="${REPEAT:-3}"
WARMUP="${WARMUP:-2s}"
ENDPOINTS="${ENDPOINTS:-hello items boom}"
POLICIES="${POLICIES:-per-request reuse}"
REFERENCE="${REFERENCE-sync best native}"
BEFORE="${BEFORE:-}"
INPROC="${INPROC:-1}"
INSTRUCTIONS="${INSTRUCTIONS:-1}"
PORT="${PORT:-18300}"
LUA="$SHARED/wrk/report.lua"
TOKEN_HEADER="Authorization: Bearer secret-token"
OUT="$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)"
HZ="$(getconf CLK_TCK)"

mkdir -p "$OUT"

need wrk

# ------------------------------------------------------------------ build
log "building guests and shallot (release)"
bash "$ROOT/scripts/build-guests.sh" >&2
(cd "$ROOT" && cargo build --release -q -p shallot)

# ------------------------------------------------------------------ reference
if [[ -n "$REFERENCE" ]]; then
  log "reference servers via $SHARED/run.sh: $REFERENCE"
  # shellcheck disable=SC2086
  DURATION="$DURATION" THREADS="$THREADS" CONNS="$CONNS" REPEAT="$REPEAT" WARMUP="$WARMUP" \
    ENDPOINTS="$ENDPOINTS" RESULTS_DIR="$OUT/reference" bash "$SHARED/run.sh" $REFERENCE
  ref_dir="$(ls -d "$OUT"/reference/*/ | tail -1)"
  cp "$ref_dir/raw.txt" "$OUT/raw.txt"
  cp "$ref_dir/memory.txt" "$OUT/memory.txt"
fi
touch "$OUT/raw.txt" "$OUT/memory.txt"

# ------------------------------------------------------------------ shallot
ep_path() { case "$1" in hello) echo /hello;; items) echo /items/42/;; boom) echo /boom;; esac; }
ep_expect() { case "$1" in boom) echo 500;; *) echo 200;; esac; }
wrk_ep() {  # url ep wrk-args...
  local url="$1" ep="$2"; shift 2
  if [[ "$ep" == items ]]; then "${PRIO[@]}" wrk "$@" -H "$TOKEN_HEADER" "$url"; else "${PRIO[@]}" wrk "$@" "$url"; fi
}
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }
proc_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
minflt() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $8}'; }
sys_ticks() { awk '/^cpu /{print $2+$3+$4, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
rss_mib() { awk -v k="$2" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

config_for() {  # policy -> config path (beside the quickstart, so its paths resolve)
  local policy="$1" cfg="$ROOT/examples/quickstart/shallot.toml"
  if [[ "$policy" == reuse ]]; then
    local reuse="$ROOT/examples/quickstart/.bench-reuse.toml"
    sed 's/^component = \(.*\)$/component = \1\ninstance_policy = "reuse"/' "$cfg" > "$reuse"
    cfg="$reuse"
  fi
  echo "$cfg"
}

SERVER_PID=""
STARTUP_MS=0
start_shallot() {  # config; sets SERVER_PID and STARTUP_MS (exec to the first 200)
  local cfg="$1" t0 i
  t0="$(date +%s%N)"
  "${PRIO[@]}" "${SERVE_BIN:-$BIN}" serve --listen "127.0.0.1:$PORT" "$cfg" > "$OUT/server-shallot.log" 2>&1 &
  SERVER_PID=$!
  for i in $(seq 1 3000); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/hello")" == 200 ]]; then
      STARTUP_MS=$(( ($(date +%s%N) - t0) / 1000000 )); return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server-shallot.log" >&2; die "shallot exited"; }
    sleep 0.005
  done
  die "shallot not ready after 15 s"
}
stop_shallot() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_shallot EXIT

measured_run() {  # url ep -> WRKRESULT line + CPU shares, like run.sh's
  local url="$1" ep="$2" s0 s1 t0 t1 line wrk_s tout ttime
  tout="$(mktemp)"; ttime="$(mktemp)"
  s0=($(sys_ticks)); t0="$(proc_ticks "$SERVER_PID")"
  { local TIMEFORMAT='%U %S'
    time wrk_ep "$url" "$ep" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" > "$tout"; } 2> "$ttime"
  s1=($(sys_ticks)); t1="$(proc_ticks "$SERVER_PID")"
  line="$(grep '^WRKRESULT' "$tout")"
  wrk_s="$(tail -1 "$ttime" | awk '{print $1 + $2}')"
  rm -f "$tout" "$ttime"
  awk -v l="$line" -v b=$((s1[0] - s0[0])) -v tot=$((s1[1] - s0[1])) -v srv=$((t1 - t0)) \
      -v w="$wrk_s" -v hz="$HZ" 'BEGIN {
        wt = w * hz; o = b - srv - wt; if (o < 0) o = 0; if (tot <= 0) tot = 1
        printf "%s srv_cpu=%.0f wrk_cpu=%.0f other_cpu=%.0f steal=0\n", l,
               100 * srv / tot, 100 * wt / tot, 100 * o / tot }'
}

STARTUP=()
RUNS=()
[[ -z "$BEFORE" ]] || for policy in $POLICIES; do RUNS+=("shallot-before-$policy|$policy|$BEFORE"); done
for policy in $POLICIES; do RUNS+=("shallot-$policy|$policy|$BIN"); done
for entry in "${RUNS[@]}"; do
  IFS='|' read -r name policy SERVE_BIN <<<"$entry"
  cfg="$(config_for "$policy")"
  log "=== $name ($cfg)"
  rm -rf "$ROOT/examples/quickstart/.shallot/cache"
  start_shallot "$cfg"; cold="$STARTUP_MS"; stop_shallot
  start_shallot "$cfg"; warm="$STARTUP_MS"
  STARTUP+=("$name|$cold|$warm")
  log "$name: first response ${cold} ms with an empty compile cache, ${warm} ms with a warm one"
  sleep 1
  idle="$(rss_mib "$SERVER_PID" VmRSS)"
  for ep in $ENDPOINTS; do
    url="http://127.0.0.1:$PORT$(ep_path "$ep")"
    code="$(if [[ "$ep" == items ]]; then curl -s -o /dev/null -w '%{http_code}' -H "$TOKEN_HEADER" "$url"; else curl -s -o /dev/null -w '%{http_code}' "$url"; fi)"
    [[ "$code" == "$(ep_expect "$ep")" ]] || die "$name $url returned $code"
    wrk_ep "$url" "$ep" -t"$THREADS" -c"$CONNS" -d"$WARMUP" > /dev/null
    for run in $(seq 1 "$REPEAT"); do
      f0="$(minflt "$SERVER_PID")"
      line="$(measured_run "$url" "$ep")"
      f1="$(minflt "$SERVER_PID")"
      faults="$(awk -v d=$((f1 - f0)) -v n="$(field requests "$line")" 'BEGIN{printf "%.4f", (n > 0 ? d / n : 0)}')"
      tag=clean; (( $(field other_cpu "$line") <= 10 )) || tag=disturbed
      echo "$name $ep run=$run busy_before=-1% $line faults_per_req=$faults $tag" >> "$OUT/raw.txt"
      log "$name $ep run $run: $(field rps "$line") req/s p50 $(field p50_ms "$line") ms p99 $(field p99_ms "$line") ms, $faults page faults/request ($tag)"
    done
  done
  peak="$(rss_mib "$SERVER_PID" VmHWM)"
  echo "$name mem_idle(rss_mib pss_mib procs)=$idle - 1 mem_after_load=$(rss_mib "$SERVER_PID" VmRSS) - 1 peak_rss=$peak" >> "$OUT/memory.txt"
  stop_shallot
done
rm -f "$ROOT/examples/quickstart/.bench-reuse.toml"
printf '%s\n' "${STARTUP[@]}" > "$OUT/startup.txt"

# ------------------------------------------------------------------ in process
INPROC_TABLE=""
if [[ "$INPROC" == 1 ]]; then
  log "in-process cycle benchmark (cargo bench --bench cycle)"
  (cd "$ROOT" && cargo bench -q -p shallot-tests --bench cycle) > "$OUT/cycle.txt" 2>&1 \
    || { cat "$OUT/cycle.txt" >&2; die "cargo bench --bench cycle failed"; }
  INPROC_TABLE="$(python3 - "$OUT/cycle.txt" <<'PY'
import re, sys
group = None
for line in open(sys.argv[1], encoding="utf-8"):
    if m := re.match(r"^[\u251c\u2570]\u2500 (\S+)", line):
        group = m.group(1)
    elif m := re.match(r"^[\u2502 ]\s+[\u251c\u2570]\u2500 (\S+)\s+\S+ \S+\s+\u2502\s*\S+ \S+\s+\u2502\s*(\S+ \S+)", line):
        print(f"| {group} | {m.group(1)} | {m.group(2)} |")
PY
)"
fi

INSTR_TABLE=""
if [[ "$INSTRUCTIONS" == 1 ]]; then
  log "instructions per request (bench/instructions.sh)"
  # A failure here must not cost the load runs above their summary.
  if bash "$ROOT/bench/instructions.sh" > "$OUT/instructions.txt" 2>&1; then
    INSTR_TABLE="$(sed -n '/^| case/,$p' "$OUT/instructions.txt" | grep -v '^\[instructions')"
  else
    log "bench/instructions.sh failed (see $OUT/instructions.txt); the summary goes on without it"
  fi
fi

# ------------------------------------------------------------------ summary
summarize() {
  awk -v conns="$CONNS" '
    FNR == NR {                                  # memory.txt
      split($4, a, "="); idle[$1] = a[2]
      for (i = 1; i <= NF; i++) if ($i ~ /^peak_rss=/) { split($i, b, "="); peak[$1] = b[2] }
      for (i = 1; i <= NF; i++) if ($i ~ /^mem_after_load=/) { split($i, c, "="); if (!($1 in peak)) peak[$1] = c[2] }
      next
    }
    {
      key = $1 "|" $2; clean = ($NF == "clean")
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      cpu_us = (v["requests"] > 0) ? v["srv_cpu"] / 100 * 2 * v["duration_s"] / v["requests"] * 1e6 : 0
      err = v["connect"] + v["read"] + v["write"] + v["timeout"]
      err += ($2 == "boom") ? v["requests"] - v["non2xx3xx"] : v["non2xx3xx"]
      row = v["rps"] " " v["p50_ms"] " " v["p99_ms"] " " err " " cpu_us " " (("faults_per_req" in v) ? v["faults_per_req"] : "-")
      delete v
      if (clean) { n[key]++; runs[key, n[key]] = row } else { nd[key]++; druns[key, nd[key]] = row }
      if (!(key in seen)) { seen[key] = 1; order[++k] = key }
    }
    END {
      for (j = 1; j <= k; j++) {
        key = order[j]; m = n[key]
        if (m == 0) { m = nd[key]; for (i = 1; i <= m; i++) runs[key, i] = druns[key, i] }
        # median by req/s
        for (i = 1; i <= m; i++) { split(runs[key, i], r, " "); val[i] = r[1] + 0; idx[i] = i }
        for (i = 1; i <= m; i++) for (l = i + 1; l <= m; l++) if (val[idx[l]] < val[idx[i]]) { t = idx[i]; idx[i] = idx[l]; idx[l] = t }
        med[key] = runs[key, idx[int((m + 1) / 2)]]
      }
      print "| server | endpoint | req/s | p50 ms | p99 ms | errors | CPU µs/req | page faults/req | idle RSS MiB | peak RSS MiB | × native | × granian | × gunicorn |"
      print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (j = 1; j <= k; j++) {
        key = order[j]; split(key, kk, "|"); split(med[key], r, " ")
        nat = med["native|" kk[2]]; split(nat, rn, " ")
        gr = med["best|" kk[2]]; split(gr, rg, " ")
        gu = med["sync|" kk[2]]; split(gu, rs, " ")
        name = kk[1]; if (name == "best") name = "django-granian"; if (name == "sync") name = "django-gunicorn"
        printf "| %s | %s | %.0f | %.2f | %.2f | %d | %.1f | %s | %s | %s | %s | %s | %s |\n", name, kk[2], r[1], r[2], r[3], r[4], r[5], r[6],
          idle[kk[1]], ((kk[1] in peak) ? peak[kk[1]] : "-"),
          (rn[1] > 0 ? sprintf("%.2f", r[1] / rn[1]) : "-"),
          (rg[1] > 0 ? sprintf("%.2f", r[1] / rg[1]) : "-"),
          (rs[1] > 0 ? sprintf("%.2f", r[1] / rs[1]) : "-")
        if (kk[1] == "native") nat_p99[kk[2]] = r[3]
      }
    }' "$OUT/memory.txt" "$OUT/raw.txt"
}
{
  echo "# Shallot vs Django vs native ($(date -u +%FT%TZ))"
  echo
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, median (by req/s) of $REPEAT runs; wrk and the server share $(nproc) cores."
  echo
  summarize
  echo
  echo "| shallot | first response, empty compile cache (ms) | first response, warm cache (ms) |"
  echo "|---|---:|---:|"
  for s in "${STARTUP[@]}"; do IFS='|' read -r n c w <<<"$s"; echo "| $n | $c | $w |"; done
  echo
  if [[ -n "$INPROC_TABLE" ]]; then
    echo "In process (cargo bench --bench cycle, median per request; per_request and reuse by number of cors layers in front of the hello view):"
    echo
    echo "| group | case | median |"
    echo "|---|---|---:|"
    echo "$INPROC_TABLE"
    echo
  fi
  if [[ -n "$INSTR_TABLE" ]]; then
    echo "Instructions per request in process (bench/instructions.sh: callgrind, user space only):"
    echo
    echo "$INSTR_TABLE"
    echo
  fi
  echo "errors = socket errors + responses of an unexpected class (for /boom, 500 is expected)."
  echo "CPU µs/req = the server's CPU time over the run / requests. Page faults: the server's minor faults over the run / requests."
  echo "peak RSS = VmHWM after all endpoints ran with $CONNS connections (Django rows: RSS after load, summed over workers)."
} | tee "$OUT/summary.md"
log "results in $OUT"
