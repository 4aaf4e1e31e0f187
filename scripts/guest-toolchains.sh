#!/usr/bin/env bash
# Installs the pinned toolchains for guests in other languages into
# target/guest-tools (Python: componentize-py, and zig for C guests, from
# PyPI) and
# guest-sdk/js/node_modules (JavaScript: componentize-js from npm, versions
# from package-lock.json).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {  # command, what installs it
  command -v "$1" >/dev/null && return 0
  if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    echo "guest-toolchains: installing $2 (apt)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $2 >/dev/null
  fi
  command -v "$1" >/dev/null || { echo "guest-toolchains: $1 is missing; install $2" >&2; exit 1; }
}

need python3 "python3 python3-venv"
venv=target/guest-tools/py
for req in guest-sdk/python/requirements.txt guest-sdk/c/requirements.txt; do
  want="$(grep -v '^#' "$req" | tr -d '[:space:]')"
  if ! [[ -x "$venv/bin/pip" ]] || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "$want"; then
    echo "guest-toolchains: $want into $venv" >&2
    [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$req"
  fi
done

need node nodejs
need npm npm
if ! (cd guest-sdk/js && node --input-type=module -e "await import('@bytecodealliance/componentize-js')" 2>/dev/null); then
  echo "guest-toolchains: npm install (package-lock.json) in guest-sdk/js" >&2
  # Not `npm ci`: npm 10 leaves other platforms' optional packages out of
  # the lock file and then refuses it. --no-save keeps the lock untouched.
  (cd guest-sdk/js && npm install --no-save --no-audit --no-fund --loglevel=error)
fi
