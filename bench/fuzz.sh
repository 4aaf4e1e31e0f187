#!/usr/bin/env bash
# Fuzzes the host with cargo-fuzz (libFuzzer + AddressSanitizer, debug
# assertions on): the targets in fuzz/ over the harnesses in
# tests/src/fuzz.rs, one at a time, then a table per target of runs,
# seconds, new corpus entries and crashes. Not part of the test suite.
#
#   bash bench/fuzz.sh [SECONDS_PER_TARGET]          # default 300 s each
#   FUZZ_TARGETS="routes handle" bash bench/fuzz.sh 600
#   FUZZ_ARGS="-rss_limit_mb=4096" bash bench/fuzz.sh   # more libFuzzer flags
#   FUZZ_TOOLCHAIN=nightly bash bench/fuzz.sh        # see "Toolchain"
#
# Toolchain: the fuzz build needs sanitizer and -Z flags. By default it runs
# on the stable toolchain with RUSTC_BOOTSTRAP=1, which cargo-fuzz supports.
# tests/build.rs strips that and the sanitizer flags from its nested build
# of the guests (wasm32-wasip2), so those are the same stable builds the
# test suite uses, in the same target/guests: nothing is built twice and no
# nightly wasm32-wasip2 target is needed. FUZZ_TOOLCHAIN=nightly installs
# nightly with the wasm32-wasip2 target and builds everything with it.
#
# Seeds: fuzz/corpus/<target>, committed and only read here. What the
# fuzzer finds goes to fuzz/generated/<target> (kept between runs, ignored
# by git), crashes to fuzz/artifacts/<target>, logs to fuzz/generated/logs.
# For a crash: `cargo fuzz tmin <target> <artifact>` minimises it; once the
# bug is fixed, add the input to fuzz/corpus/<target> so that
# `cargo test -p shallot-tests --test all fuzz_corpus` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
targets="${FUZZ_TARGETS:-config routes handle host_calls}"
toolchain="${FUZZ_TOOLCHAIN:-stable}"
extra_args="${FUZZ_ARGS:-}"

if [[ "$toolchain" == stable ]]; then
  export RUSTC_BOOTSTRAP=1
fi
if ! rustup toolchain list | grep -q "^$toolchain"; then
  rustup toolchain install "$toolchain" --profile minimal
fi
if ! rustup +"$toolchain" target list --installed | grep -qx wasm32-wasip2; then
  rustup +"$toolchain" target add wasm32-wasip2
fi
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
bash scripts/guest-toolchains.sh

echo "fuzz: building the targets ($toolchain)" >&2
nice cargo +"$toolchain" fuzz build
# Run the binaries built above (what `cargo fuzz run` does after building
# again), so every target runs the same build of the host.
triple="$(rustc +"$toolchain" -vV | sed -n 's/^host: //p')"
bin_dir="fuzz/target/$triple/release"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"

tmp="fuzz/target/tmp"   # the harnesses' key-value databases, per target
mkdir -p fuzz/generated/logs
results=()
for target in $targets; do
  mkdir -p "fuzz/generated/$target" "fuzz/artifacts/$target"
  crashes_before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  rm -rf "$tmp" && mkdir -p "$tmp"
  log="fuzz/generated/logs/$target.log"
  echo "fuzz: $target for ${seconds}s (log: $log)" >&2
  start=$(date +%s)
  status=0
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  TMPDIR="$PWD/$tmp" "$bin_dir/$target" -artifact_prefix="fuzz/artifacts/$target/" \
    -max_total_time="$seconds" -timeout=60 -print_final_stats=1 $extra_args \
    "fuzz/generated/$target" "fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  # libFuzzer's own figures ("Done N runs in S second(s)").
  done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
  [[ -n "$done_line" ]] && elapsed=$(echo "$done_line" | awk '{print $5}')
  stat() { grep -o "stat::$1: *[0-9]*" "$log" | tail -1 | grep -o '[0-9]*$' || echo "?"; }
  runs=$(stat number_of_executed_units)
  if [[ "$runs" == "?" ]]; then  # stopped by a crash: the last status line
    runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    runs="${runs:-?}"
  fi
  new=$(stat new_units_added)
  crashes=$(( $(find "fuzz/artifacts/$target" -type f | wc -l) - crashes_before ))
  if [[ "$status" != 0 && "$crashes" == 0 ]]; then
    crashes="? (exit $status, see $log)"
  elif [[ "$crashes" != 0 ]]; then
    grep -m1 -E "^(==[0-9]+==ERROR|thread '.*' panicked)" "$log" >&2 || true
    grep "Test unit written to" "$log" >&2 || true
  fi
  results+=("$(printf '%-12s %12s %8s %8s  %s' "$target" "$runs" "$elapsed" "$new" "$crashes")")
  rm -rf "$tmp"
done

printf '%-12s %12s %8s %8s  %s\n' target runs seconds new crashes
printf '%s\n' "${results[@]}"
