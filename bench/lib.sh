# What the bench scripts share. Sourced, never run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" <tag>
#
# Sets ROOT (the repository) and BIN (the release `shallot`), and defines
# log and die (lines tagged "[<tag> HH:MM:SS]" on stderr), need (installs a
# missing command from Debian's packages), PRIO (the priority NICE, as
# $ROOT/../shared/bench/django/run.sh gives its servers, when this user may
# set it), and pid_tree and tree_ticks (a server's CPU time with its
# children).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/target/release/shallot"
BENCH_TAG="${1:?bench/lib.sh needs a tag for log lines}"

log() { printf '[%s %s] %s\n' "$BENCH_TAG" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need() {  # command [package]: installs the package (default: the command's name) if the command is missing
  command -v "$1" >/dev/null && return 0
  log "installing ${2:-$1} (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${2:-$1}" >/dev/null
}

# Servers and wrk at the priority run.sh gives its servers (when allowed),
# so that the two sides of a comparison are scheduled alike.
NICE="${NICE:--15}"
PRIO=()
if [[ -n "$NICE" && "$NICE" != 0 ]] && nice -n "$NICE" true 2>/dev/null \
   && [[ "$(nice -n "$NICE" nice 2>/dev/null)" == "$NICE" ]]; then
  PRIO=(nice -n "$NICE")
fi

pid_tree() {  # pid -> the pid and all its descendants
  ps -e -o pid= -o ppid= | awk -v r="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { q[1] = r; n = 1; i = 1
          while (i <= n) { p = q[i++]; print p; m = split(kids[p], k, " ")
                           for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}

tree_ticks() {  # pid... -> CPU ticks (user + system) of them and their descendants
  local s=0 pid p v
  for pid in "$@"; do
    for p in $(pid_tree "$pid"); do
      v="$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || true)"; s=$((s + ${v:-0}))
    done
  done
  echo "$s"
}
