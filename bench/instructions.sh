#!/usr/bin/env bash
# Instructions per request through the in-process cycle, counted by
# valgrind's callgrind: a figure that does not move between runs, unlike
# time on a shared 2-core machine, so a change that saves 2% shows as 2%.
#
# Run with: bash bench/instructions.sh     (about 10 minutes)
#
# Each case is one of `cargo bench --bench cycle`'s (the binary serves
# CYCLE_COUNT requests of CYCLE_CASE and exits). It runs twice under
# callgrind, once with 1 request and once with 1 + COUNT; the difference
# divided by COUNT is what one request costs, start-up and loading
# cancelled out. Compiled components come from a disk cache filled by a
# first run under valgrind.
#
# What it does not count: the kernel. A fresh instance's page faults and
# memory resets are a large part of its time (see the README's
# "Measured"), so per-request figures undercount it; reused calls spend
# almost nothing in the kernel. And an instruction is not a unit of time:
# valgrind counts every iteration of `rep movsb` (memcpy) as one.
#
# Environment (defaults):
#   CASES="reuse/0 reuse/1 reuse/6 per_request/0 per_request/1 per_request/6
#          quickstart_hello/reuse quickstart_items/reuse
#          quickstart_hello/per-request quickstart_items/per-request
#          language_reuse/rust language_reuse/python language_reuse/js"
#   COUNT=900 (requests counted per case, below `reuse`'s default
#          max_requests of 1000; per-request cases count COUNT/5)
#   BY_FUNCTION=0 (1: also write each case's per-request instructions by
#                  function to <out>/<case>.functions.txt)
# Valgrind cannot map the default instance pool, so the counted runs use a
# pool of 7 instances: cases need at most 7 instances alive at once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASES="${CASES:-reuse/0 reuse/1 reuse/6 per_request/0 per_request/1 per_request/6 quickstart_hello/reuse quickstart_items/reuse quickstart_hello/per-request quickstart_items/per-request language_reuse/rust language_reuse/python language_reuse/js}"
COUNT="${COUNT:-900}"
BY_FUNCTION="${BY_FUNCTION:-0}"
OUT="$ROOT/bench/results/instructions-$(date +%Y%m%d-%H%M%S)"
CACHE="$ROOT/target/cycle-count-cache"
log() { printf '[instructions %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
mkdir -p "$OUT" "$CACHE"

command -v valgrind >/dev/null || {
  log "installing valgrind (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}

log "building the cycle benchmark (release)"
BIN="$(cd "$ROOT" && cargo bench -q -p shallot-tests --bench cycle --no-run --message-format=json \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "cycle" and m.get("executable"):
        print(m["executable"])')"
[[ -x "$BIN" ]] || die "no cycle benchmark binary"

# Instructions callgrind collected in one run of `case` with `n` requests.
collected() {  # case n [callgrind-out]
  local out="${3:-/dev/null}" log="$OUT/valgrind.log"
  CYCLE_CASE="$1" CYCLE_COUNT="$2" CYCLE_CACHE="$CACHE" \
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" > "$log" 2>&1 \
    || { cat "$log" >&2; die "$1 failed under valgrind"; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log"
}

# Per-request instructions by function: the two runs' profiles subtracted.
by_function() {  # before.cg after.cg n -> stdout
  python3 - "$@" <<'PY'
import collections, re, subprocess, sys
def load(path):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    costs = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)", line)
        if m and "PROGRAM TOTALS" not in m.group(2):
            costs[m.group(2)] += int(m.group(1).replace(",", ""))
    return costs
before, after, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
diff = {k: (after[k] - before.get(k, 0)) / n for k in after}
for name, cost in sorted(diff.items(), key=lambda kv: -kv[1]):
    if cost >= 1:
        print(f"{cost:9.0f}  {name}")
PY
}

ROWS=()
for case in $CASES; do
  n="$COUNT"
  [[ "$case" == *per_request* || "$case" == *per-request* ]] && n=$((COUNT / 5))
  log "$case: $n requests"
  # Under valgrind the CPU reports fewer features, so code compiled outside
  # it does not match: fill the cache under valgrind (its fastest tool).
  CYCLE_CASE="$case" CYCLE_COUNT=1 CYCLE_CACHE="$CACHE" valgrind --tool=none "$BIN" >/dev/null 2>&1 \
    || die "$case does not run (see cycle.rs's case())"
  if [[ "$BY_FUNCTION" == 1 ]]; then
    one="$(collected "$case" 1 "$OUT/one.cg")"
    many="$(collected "$case" $((n + 1)) "$OUT/many.cg")"
    by_function "$OUT/one.cg" "$OUT/many.cg" "$n" > "$OUT/${case//\//-}.functions.txt"
    rm -f "$OUT/one.cg" "$OUT/many.cg"
  else
    one="$(collected "$case" 1)"
    many="$(collected "$case" $((n + 1)))"
  fi
  per=$(((many - one) / n))
  echo "$case $per" >> "$OUT/raw.txt"
  ROWS+=("$case $per")
done

per_case() { awk -v c="$1" '$1 == c {print $2}' "$OUT/raw.txt"; }
layer() {  # policy -> per-layer instructions from the 0- and 6-layer cases
  local zero six
  zero="$(per_case "$1/0")"; six="$(per_case "$1/6")"
  [[ -n "$zero" && -n "$six" ]] && echo $(((six - zero) / 6))
}
{
  dirty=""; [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]] && dirty="+changes"
  echo "# Instructions per request, in process ($(date -u +%FT%TZ), $(git -C "$ROOT" rev-parse --short HEAD)$dirty)"
  echo
  echo "callgrind, user space only; (run with 1 + n requests - run with 1) / n."
  echo
  echo "| case | instructions per request |"
  echo "|---|---:|"
  for row in "${ROWS[@]}"; do
    read -r c v <<<"$row"
    printf '| %s | %s |\n' "$c" "$(printf "%'d" "$v")"
  done
  for policy in reuse per_request; do
    if per="$(layer "$policy")" && [[ -n "$per" ]]; then
      echo
      printf 'per %s layer (one cors middleware, (6 layers - 0) / 6): %s\n' "$policy" "$(printf "%'d" "$per")"
    fi
  done
} | tee "$OUT/summary.md"
log "results in $OUT"
