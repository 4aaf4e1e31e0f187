#!/usr/bin/env bash
# Several hosts behind a load balancer, built, checked and torn down:
# Redis and PostgreSQL (Debian's packages), three `shallot serve` processes
# running the movie theater on loopback ports, and HAProxy in front (TLS,
# HTTP/2, health checks on each host's `/-/health`). Then, with the figures
# written to target/cluster/results.md:
#   1. a session made through the load balancer is valid on every host;
#   2. a rate limit (Redis) is counted across all hosts;
#   3. concurrent bookings of one seat spread over the hosts book it once
#      (PostgreSQL's UNIQUE constraint);
#   4. under load, one host killed with SIGKILL: the load balancer retries
#      what it can, the others keep serving; then it is started again;
#   5. under load, a config change rolled host by host (each hot-swaps):
#      every response comes whole from one version, never a mix.
# Everything listens on 127.0.0.1 only and is stopped however the script
# ends. `LOAD_SECS` sets each load phase (default 12).
#
#   bash scripts/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
state="$root/target/cluster"
app="$root/examples/movie-theater"
guests="$root/target/guests/wasm32-wasip2/release"
load_secs="${LOAD_SECS:-12}"
rm -rf "$state"
mkdir -p "$state"
log() { echo "cluster.sh: $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- what it needs -----------------------------------------------------------
for tool in redis-server haproxy wrk psql curl python3; do
  command -v "$tool" >/dev/null || { log "$tool is missing (scripts/test.sh installs it)"; exit 1; }
done
[[ -f "$guests/theater.wasm" ]] || bash scripts/build-guests.sh
# scripts/test.sh passes the binary `cargo test --workspace` just built:
# `cargo build -p shallot` alone unifies dependency features differently
# and would compile wasmtime again.
shallot="${SHALLOT_BIN:-}"
if [[ -z "$shallot" ]]; then
  cargo build --quiet -p shallot
  shallot="$root/target/debug/shallot"
fi

pids=()
own_postgres=
wrk_pid=
cleanup() {
  for pid in "${pids[@]}" $wrk_pid; do kill -9 "$pid" 2>/dev/null || true; done
  [[ -f "$state/haproxy.pid" ]] && kill "$(cat "$state/haproxy.pid")" 2>/dev/null || true
  for i in 1 2 3; do
    [[ -f "$state/host$i.pid" ]] && kill -9 "$(cat "$state/host$i.pid")" 2>/dev/null || true
  done
  if [[ -n "$own_postgres" ]]; then bash scripts/postgres.sh stop; fi
}
trap cleanup EXIT

# --- Redis and PostgreSQL ----------------------------------------------------
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
  >"$state/redis.log" 2>&1 &
pids+=($!)
disown
pg="${SHALLOT_TEST_POSTGRES:-}"
if [[ -z "$pg" ]]; then
  # Stopped at the end only if this script started it.
  running=
  if [[ -f target/postgres/port ]] &&
     psql -qtA "postgres://shallot@127.0.0.1:$(cat target/postgres/port)/postgres" -c 'SELECT 1' >/dev/null 2>&1; then
    running=1
  fi
  pg="$(bash scripts/postgres.sh start)"
  [[ -n "$running" ]] || own_postgres=1
fi
db=theater_cluster
psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
pg_ro="${pg/shallot@/shallot_ro@}"

# --- three hosts -------------------------------------------------------------
# Each host's config is the theater's, with PostgreSQL for the database,
# a rate limit on Redis in front, the load balancer trusted for
# X-Forwarded-*, a health check, and a version stamped into two places
# the rolling swap checks: the `site` name in every page (a context
# processor) and X-Frame-Options (a middleware).
write_config() {  # host index, version (v1 or v2)
  local i=$1 version=$2 xfo=DENY
  [[ "$version" == v2 ]] && xfo=SAMEORIGIN
  python3 - "$app/shallot.toml" "$state/host$i.toml" <<EOF
import sys
text = open(sys.argv[1]).read()
def swap(old, new):
    global text
    assert old in text, old
    text = text.replace(old, new)
swap('listen = "127.0.0.1:8443"', '''listen = "127.0.0.1:${host_port[$i]}"
admin = "127.0.0.1:${admin_port[$i]}"
health_path = "/-/health"
drain_secs = 2
trusted_proxies = ["127.0.0.1"]''')
swap('''[server.tls]
cert = "../../target/movie-theater/cert.pem"
key = "../../target/movie-theater/key.pem"
''', '')
swap('''url = "sqlite:../../target/movie-theater/theater.db"
migrations = "migrations"''', '''url = "$pg/$db"
read_url = "$pg_ro/$db"
migrations = "$app/migrations-postgres"''')
swap('../../target/guests/wasm32-wasip2/release', '$guests')
swap('dirs = ["templates"]', 'dirs = ["$app/templates"]')
swap('dirs = ["static"]', 'dirs = ["$app/static"]')
swap('config = { site = "Shallot Cinema" }', 'config = { site = "Shallot Cinema $version" }')
swap('x_frame_options.wasm"', 'x_frame_options.wasm"\nconfig = { x_frame_options = "$xfo" }')
swap('# Django\'s MIDDLEWARE, in Django\'s order.', '''[key_value]
path = "$state/kv$i.redb"

[key_value.ratelimit]
url = "redis://127.0.0.1:$redis_port"
timeout_ms = 2000

[[middleware]]
name = "rate-limit"
component = "$guests/rate_limit.wasm"
key_value_stores = ["ratelimit"]
config = { limit = 10, window_secs = 60 }''')
open(sys.argv[2] + ".tmp", "w").write(text)
EOF
  # A rename, so the watcher never reads half a file.
  mv "$state/host$i.toml.tmp" "$state/host$i.toml"
}

declare -A host_port admin_port
for i in 1 2 3; do
  host_port[$i]=$(free_port)
  admin_port[$i]=$(free_port)
  write_config "$i" v1
done
"$shallot" migrate "$state/host1.toml" >"$state/migrate.log" 2>&1
SHALLOT_SESSION_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export SHALLOT_SESSION_SECRET

start_host() {
  "$shallot" serve "$state/host$1.toml" >>"$state/host$1.log" 2>&1 &
  echo $! >"$state/host$1.pid"
  disown  # killed on purpose: no "Killed" line from the shell
}
wait_ready() {  # host index
  for _ in $(seq 600); do
    curl -fs "http://127.0.0.1:${host_port[$1]}/-/health" >/dev/null && return
    sleep 0.1
  done
  log "host $1 did not become ready:"; tail -20 "$state/host$1.log" >&2; exit 1
}
for i in 1 2 3; do start_host "$i"; done
for i in 1 2 3; do wait_ready "$i"; done

# --- HAProxy -----------------------------------------------------------------
lb_port=$(free_port)
stats_port=$(free_port)
"$shallot" dev-cert --out "$state" localhost 127.0.0.1 >/dev/null 2>&1
cat "$state/cert.pem" "$state/key.pem" >"$state/haproxy.pem"
cat >"$state/haproxy.cfg" <<EOF
global
    maxconn 2048
    pidfile $state/haproxy.pid
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # A request that failed on one host before any answer (refused,
    # reset, empty) goes to another.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
frontend stats
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats
frontend theater
    bind 127.0.0.1:$lb_port ssl crt $state/haproxy.pem alpn h2,http/1.1
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    default_backend hosts
backend hosts
    balance roundrobin
    option httpchk GET /-/health
    http-check expect status 200
    default-server inter 300ms fall 2 rise 2
    server host1 127.0.0.1:${host_port[1]} check
    server host2 127.0.0.1:${host_port[2]} check
    server host3 127.0.0.1:${host_port[3]} check
EOF
haproxy -c -q -f "$state/haproxy.cfg"
haproxy -D -f "$state/haproxy.cfg"
lb="https://127.0.0.1:$lb_port"
for n in $(seq 101); do
  curl -ksf "$lb/-/health" >/dev/null && break
  ((n < 101)) || { log "HAProxy did not answer on $lb"; exit 1; }
  sleep 0.1
done
log "HAProxy on $lb in front of hosts on ports ${host_port[1]}, ${host_port[2]}, ${host_port[3]}"

results="$state/results.md"
echo "# Several hosts: one run of scripts/cluster.sh ($(date -u +%FT%TZ))" >"$results"
fail() { log "FAILED: $*"; echo "FAILED: $*" >>"$results"; exit 1; }
host() { echo "http://127.0.0.1:${host_port[$1]}"; }
# Each request as a different client, so the rate limit (10 a minute per
# client) only counts where a check means it to.
client() { echo "X-Forwarded-For: 10.$((RANDOM % 250)).$((RANDOM % 250)).$((RANDOM % 250))"; }
status() { curl -ks -o /dev/null -w '%{http_code}' "$@"; }

# --- 1. a session made through the load balancer, valid on every host -------
login() {  # user: logs in through HAProxy, prints "sessionid=...; csrftoken=..."
  local jar="$state/$1.jar" page token
  page=$(curl -ks -c "$jar" -H "$(client)" "$lb/accounts/login/")
  token=$(grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' <<<"$page" | sed 's/.*value="//; s/"$//')
  [[ -n "$token" ]] || fail "no CSRF token on the login page"
  local code
  code=$(curl -ks -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' -H "$(client)" \
    -H "Referer: $lb/accounts/login/" \
    --data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "username=$1" \
    --data-urlencode "password=$1-secret" "$lb/accounts/login/")
  [[ "$code" == 302 ]] || fail "login of $1 answered $code"
  awk '$6 == "sessionid" || $6 == "csrftoken" { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$jar"
}
bob=$(login bob)
alice=$(login alice)
for i in 1 2 3; do
  page=$(curl -s -H "$(client)" -H "Cookie: $bob" "$(host "$i")/bookings/mine/")
  grep -q 'id="user">bob<' <<<"$page" || fail "host $i does not know bob's session"
done
echo "- Session: bob logged in through HAProxy; /bookings/mine/ on host 1, 2 and 3 directly: bob on each." >>"$results"
log "1. a session is valid on every host"

# --- 2. a rate limit counted across the hosts --------------------------------
codes=()
for i in 1 1 1 1 2 2 2 3 3 3 1; do
  codes+=("$(status -H "X-Forwarded-For: 10.250.0.1" "$(host "$i")/")")
done
[[ "${codes[*]:0:10}" == "200 200 200 200 200 200 200 200 200 200" ]] || fail "rate limit: ${codes[*]}"
[[ "${codes[10]}" == 429 ]] || fail "the 11th hit answered ${codes[10]}: ${codes[*]}"
echo "- Rate limit (10 a minute per client, counted in Redis): hits 1-10 spread 4/3/3 over the hosts: 200; hit 11, on host 1: 429." >>"$results"
log "2. a rate limit counts across hosts"

# --- 3. one seat booked from every host at once ------------------------------
book() {  # cookie, host index: posts seat 5 of showtime 3, prints the Location
  local token
  token=$(curl -s -H "$(client)" -H "Cookie: $1" "$(host "$2")/movies/2/" |
    grep -o 'name="csrfmiddlewaretoken" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
  curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' -H "$(client)" -H "Cookie: $1" \
    --data "csrfmiddlewaretoken=$token&seat=5" "$(host "$2")/bookings/showtimes/3/book/"
}
: >"$state/bookings.txt"
booking=()
for n in $(seq 12); do
  who=$bob; ((n % 2)) && who=$alice
  book "$who" $((n % 3 + 1)) >>"$state/bookings.txt" &
  booking+=($!)
done
wait "${booking[@]}"
booked=$(grep -c '^302 .*/bookings/mine/$' "$state/bookings.txt" || true)
taken=$(grep -c '^302 .*/movies/2/$' "$state/bookings.txt" || true)
rows=$(psql -tA "$pg/$db" -c "SELECT count(*) FROM bookings_booking WHERE showtime_id = 3 AND seat = 5")
[[ "$booked" == 1 && "$taken" == 11 && "$rows" == 1 ]] ||
  fail "bookings: $booked booked, $taken taken, $rows rows: $(tr '\n' ' ' <"$state/bookings.txt")"
echo "- Booking conflict: 12 concurrent bookings of seat 5 (alice and bob, 4 on each host): 1 booked, 11 told the seat is taken, 1 row in PostgreSQL." >>"$results"
log "3. one seat is booked once across hosts"

# --- load: wrk through HAProxy, every response checked -----------------------
# Each request comes from a different client address (the rate limit is
# per client); each response must carry one version whole: the page's
# site name and X-Frame-Options from the same config.
cat >"$state/check.lua" <<'EOF'
-- Globals, so that done() can read each thread's with thread:get().
v1, v2, mixed, bad = 0, 0, 0, 0
request = function()
  local xff = string.format("10.%d.%d.%d", math.random(0, 249), math.random(0, 249), math.random(0, 249))
  return wrk.format("GET", "/", {["X-Forwarded-For"] = xff})
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1; return end
  local xfo = headers["X-Frame-Options"] or headers["x-frame-options"]
  local page1 = body:find("Shallot Cinema v1", 1, true) ~= nil
  local page2 = body:find("Shallot Cinema v2", 1, true) ~= nil
  if page1 and xfo == "DENY" then v1 = v1 + 1
  elseif page2 and xfo == "SAMEORIGIN" then v2 = v2 + 1
  else mixed = mixed + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function() math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16)) end
done = function(summary, latency, requests)
  local t = {v1 = 0, v2 = 0, mixed = 0, bad = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d v1=%d v2=%d mixed=%d non200=%d connect=%d read=%d write=%d timeout=%d p99ms=%.1f\n",
    summary.requests, t.v1, t.v2, t.mixed, t.bad, e.connect, e.read, e.write, e.timeout, latency:percentile(99) / 1000))
end
EOF
load() {  # runs wrk for load_secs in the background, its output in $1
  # A generous timeout: on a loaded CI machine a slow answer is not a
  # lost one.
  wrk -t2 -c16 -d"${load_secs}s" --timeout 10s -s "$state/check.lua" "$lb/" >"$1" 2>&1 &
  wrk_pid=$!
}
result() { grep '^RESULT' "$1" | sed 's/^RESULT //'; }
field() { grep -o "$2=[0-9.]*" <<<"$1" | cut -d= -f2; }

# --- 4. a host killed under load --------------------------------------------
load "$state/kill.txt"
sleep $((load_secs / 3))
kill -9 "$(cat "$state/host2.pid")"
log "4. host 2 killed (SIGKILL) under load"
sleep $((load_secs / 3))
start_host 2
wait_ready 2
wait "$wrk_pid"
r=$(result "$state/kill.txt")
[[ -n "$r" ]] || fail "wrk gave no result: $(cat "$state/kill.txt")"
failed=$(( $(field "$r" non200) + $(field "$r" connect) + $(field "$r" read) + $(field "$r" write) + $(field "$r" timeout) ))
echo "- Host 2 killed with SIGKILL a third into ${load_secs} s of load (wrk -t2 -c16 over HTTPS through HAProxy, GET / through the whole stack), started again a third later: $(field "$r" requests) requests, $failed failed (non-200 $(field "$r" non200), socket errors $(( failed - $(field "$r" non200) ))), p99 $(field "$r" p99ms) ms." >>"$results"
[[ "$failed" == 0 ]] || fail "requests failed while a host was killed: $r"

# --- 5. a config change rolled host by host under load ------------------------
for _ in $(seq 50); do  # HAProxy sees host 2 up again
  [[ "$(status "$(host 2)/-/health")" == 200 ]] && break
  sleep 0.1
done
sleep 1
load "$state/roll.txt"
sleep 1
roll_gap=$(( (load_secs - 2) / 3 ))
for i in 1 2 3; do
  write_config "$i" v2
  for _ in $(seq 300); do
    xfo=$(curl -s -D - -o /dev/null -H "$(client)" "$(host "$i")/" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-frame-options" {print $2}')
    [[ "$xfo" == SAMEORIGIN ]] && break
    sleep 0.1
  done
  [[ "$xfo" == SAMEORIGIN ]] || fail "host $i did not swap to v2: $(tail -5 "$state/host$i.log")"
  log "5. host $i swapped to v2"
  sleep "$roll_gap"
done
wait "$wrk_pid"
r=$(result "$state/roll.txt")
[[ -n "$r" ]] || fail "wrk gave no result: $(cat "$state/roll.txt")"
failed=$(( $(field "$r" non200) + $(field "$r" connect) + $(field "$r" read) + $(field "$r" write) + $(field "$r" timeout) ))
echo "- Rolling swap: host 1, 2, 3 rewritten to v2 one after another (each hot-swaps on its file watch) during ${load_secs} s of the same load: $(field "$r" requests) requests, $(field "$r" v1) whole v1, $(field "$r" v2) whole v2, $(field "$r" mixed) mixed, $failed failed, p99 $(field "$r" p99ms) ms." >>"$results"
[[ "$(field "$r" mixed)" == 0 && "$failed" == 0 ]] || fail "rolling swap: $r"
[[ "$(field "$r" v1)" -gt 0 && "$(field "$r" v2)" -gt 0 ]] || fail "rolling swap saw one version only: $r"

# Requests each host answered over the whole run, from HAProxy's counters.
stats=$(curl -s "http://127.0.0.1:$stats_port/stats;csv")
served=$(awk -F, '$1 == "hosts" && $2 ~ /^host/ { printf "%s%s %s", sep, $2, $8; sep=", " }' <<<"$stats")
retried=$(awk -F, '$1 == "hosts" && $2 == "BACKEND" { printf "%s connection errors, %s response errors, %s retries, %s redispatched", $14, $15, $16, $17 }' <<<"$stats")
echo "- Requests each host answered over the run (HAProxy's counters): $served; between HAProxy and the hosts: $retried (the client saw none of them)." >>"$results"
cat "$results"
log "all checks passed"
