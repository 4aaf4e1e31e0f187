#!/usr/bin/env bash
# Builds a C middleware or view into a Shallot component.
#
# Run with: bash guest-sdk/c/build.sh app.c -o app.wasm
#
# The hooks are the exports app.c defines (exports_shallot_http_<hook>_...
# functions, or exports_shallot_http_view_handle for a view). Steps:
# shallot-c writes the C bindings for a world exporting exactly those, zig's
# clang (pinned in requirements.txt) compiles for wasm32-wasi, and shallot-c
# turns the core module into a component. Toolchains: scripts/guest-toolchains.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[[ $# == 3 && "$2" == -o ]] || { echo "usage: build.sh APP.c -o OUT.wasm" >&2; exit 2; }
app="$(realpath "$1")"; out="$(realpath -m "$3")"
python="${PYTHON:-$root/target/guest-tools/py/bin/python}"
"$python" -c 'import ziglang' 2>/dev/null || {
  echo "error: zig is not installed: run bash scripts/guest-toolchains.sh (pip install $(grep -v '^#' "$here/requirements.txt"))" >&2
  exit 1
}
tool="$root/target/guest-tools/c/release/shallot-c"
cargo build -q --release -p shallot-c --manifest-path "$root/Cargo.toml" --target-dir "$root/target/guest-tools/c"

hooks=()
for hook in process_request process_view process_exception process_template_response process_response; do
  grep -q "exports_shallot_http_${hook}_${hook}\s*(" "$app" && hooks+=("${hook//_/-}")
done
grep -q "exports_shallot_http_view_handle\s*(" "$app" && hooks+=(view)
(( ${#hooks[@]} )) || { echo "error: $app defines no hook (exports_shallot_http_<hook>_<hook>) and no view" >&2; exit 1; }

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$tool" bindings -o "$tmp" "${hooks[@]}" >/dev/null
cp "$here/shallot.h" "$tmp/"
"$python" -m ziglang cc --target=wasm32-wasi -mexec-model=reactor -O2 -I"$tmp" \
  "$app" "$tmp/guest.c" "$tmp/guest_component_type.o" -o "$tmp/core.wasm"
"$tool" component "$tmp/core.wasm" -o "$out" >/dev/null
echo "$out: $(basename "$app") (${hooks[*]})"
