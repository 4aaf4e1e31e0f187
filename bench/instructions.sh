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
# valgrind counts every byte `rep movsb` (memcpy) moves as one, so memory
# copies get a column of their own and the figure to compare between
# builds is the one without them.
#
# Environment (defaults):
#   CASES="reuse/0 reuse/1 reuse/6 per_request/0 per_request/1 per_request/6
#          quickstart_hello/reuse quickstart_items/reuse
#          quickstart_hello/per-request quickstart_items/per-request
#          language_reuse/rust language_reuse/python language_reuse/js
#          traced/0 traced/1"  (the quickstart with OTLP on, keeping no
#          request / every request)
#   COUNT=900 (requests counted per case, below `reuse`'s default
#          max_requests of 1000; per-request cases count COUNT/5)
#   BY_FUNCTION=0 (1: keep each case's per-request instructions by
#                  function in <out>/<case>.functions.txt)
# Valgrind cannot map the default instance pool, so the counted runs use a
# pool of 7 instances: cases need at most 7 instances alive at once.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" instructions
CASES="${CASES:-reuse/0 reuse/1 reuse/6 per_request/0 per_request/1 per_request/6 quickstart_hello/reuse quickstart_items/reuse quickstart_hello/per-request quickstart_items/per-request language_reuse/rust language_reuse/python language_reuse/js traced/0 traced/1}"
COUNT="${COUNT:-900}"
BY_FUNCTION="${BY_FUNCTION:-0}"
OUT="$ROOT/bench/results/instructions-$(date +%Y%m%d-%H%M%S)"
CACHE="$ROOT/target/cycle-count-cache"
mkdir -p "$OUT" "$CACHE"

need valgrind

log "building the cycle benchmark (release)"
CYCLE_BIN="$(cd "$ROOT" && cargo bench -q -p shallot-tests --bench cycle --no-run --message-format=json \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "cycle" and m.get("executable"):
        print(m["executable"])')"
[[ -x "$CYCLE_BIN" ]] || die "no cycle benchmark binary"

# One counted run of `case` with `n` requests, its profile in `out`.
counted() {  # case n out
  local log="$OUT/valgrind.log"
  CYCLE_CASE="$1" CYCLE_COUNT="$2" CYCLE_CACHE="$CACHE" \
    valgrind --tool=callgrind --callgrind-out-file="$3" "$CYCLE_BIN" > "$log" 2>&1 \
    || { cat "$log" >&2; die "$1 failed under valgrind"; }
}

# Per-request instructions: the two runs' profiles subtracted, by function
# (to `functions`), and printed as "all copies": everything, and what
# libc's memcpy/memmove/memset executed. Copies are apart because their
# count follows code generation more than cost: valgrind counts each byte
# `rep movsb` moves as an instruction, so a future a few bytes larger that
# the compiler now moves with memcpy instead of inline moves shows up as
# thousands of instructions.
per_request() {  # before.cg after.cg n functions
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
diff = {k: (after[k] - before.get(k, 0)) / n for k in set(after) | set(before)}
with open(sys.argv[4], "w") as f:
    for name, cost in sorted(diff.items(), key=lambda kv: -kv[1]):
        if abs(cost) >= 1:
            print(f"{cost:9.0f}  {name}", file=f)
copies = sum(c for k, c in diff.items() if re.search(r"libc\.so.*\]$", k) and re.search(r":__mem(cpy|move|set)", k))
print(round(sum(diff.values())), round(copies))
PY
}

ROWS=()
for case in $CASES; do
  n="$COUNT"
  [[ "$case" == *per_request* || "$case" == *per-request* ]] && n=$((COUNT / 5))
  log "$case: $n requests"
  # Under valgrind the CPU reports fewer features, so code compiled outside
  # it does not match: fill the cache under valgrind (its fastest tool).
  CYCLE_CASE="$case" CYCLE_COUNT=1 CYCLE_CACHE="$CACHE" valgrind --tool=none "$CYCLE_BIN" >/dev/null 2>&1 \
    || die "$case does not run (see cycle.rs's case())"
  counted "$case" 1 "$OUT/one.cg"
  counted "$case" $((n + 1)) "$OUT/many.cg"
  functions="$OUT/${case//\//-}.functions.txt"
  read -r per copies < <(per_request "$OUT/one.cg" "$OUT/many.cg" "$n" "$functions")
  rm -f "$OUT/one.cg" "$OUT/many.cg"
  [[ "$BY_FUNCTION" == 1 ]] || rm -f "$functions"
  echo "$case $per $copies" >> "$OUT/raw.txt"
  ROWS+=("$case $per $copies")
done

# Without copies: the figure to compare between builds.
per_case() { awk -v c="$1" '$1 == c {print $2 - $3}' "$OUT/raw.txt"; }
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
  echo "Copies: what libc's memcpy/memmove/memset executed (see the script's header)."
  echo
  echo "| case | instructions per request | without copies | copies |"
  echo "|---|---:|---:|---:|"
  for row in "${ROWS[@]}"; do
    read -r c v m <<<"$row"
    printf '| %s | %s | %s | %s |\n' "$c" "$(printf "%'d" "$v")" "$(printf "%'d" $((v - m)))" "$(printf "%'d" "$m")"
  done
  for policy in reuse per_request; do
    if per="$(layer "$policy")" && [[ -n "$per" ]]; then
      echo
      printf 'per %s layer without copies (one cors middleware, (6 layers - 0) / 6): %s\n' "$policy" "$(printf "%'d" "$per")"
    fi
  done
} | tee "$OUT/summary.md"
log "results in $OUT"
