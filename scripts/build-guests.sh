#!/usr/bin/env bash
# Builds every Rust guest in guests/ for wasm32-wasip2 into target/guests,
# where the examples and the tests find them. Installs the pinned toolchain
# (rust-toolchain.toml) if needed. With --all, also the Python, JavaScript and C guests
# (guests/python, guests/js, guests/c) into target/guests/<lang>, installing
# their pinned toolchains first (scripts/guest-toolchains.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain rust-toolchain.toml pins, with its components and the
# guests' target (a no-op once installed).
rustup toolchain install >/dev/null
packages=()
for dir in guests/*/; do
  [[ -f "$dir/Cargo.toml" ]] && packages+=(-p "$(basename "$dir")")
done
cargo build --release --target wasm32-wasip2 --target-dir target/guests "${packages[@]}"

[[ "${1:-}" == --all ]] || exit 0
bash scripts/guest-toolchains.sh
mkdir -p target/guests/python target/guests/js target/guests/c
for f in guests/python/*.py; do
  target/guest-tools/py/bin/python guest-sdk/python/shallot_build.py "$f" \
    -o "target/guests/python/$(basename "${f%.py}").wasm"
done
for f in guests/js/*.js; do
  node guest-sdk/js/shallot-build.mjs "$f" -o "target/guests/js/$(basename "${f%.js}").wasm"
done
for f in guests/c/*.c; do
  bash guest-sdk/c/build.sh "$f" -o "target/guests/c/$(basename "${f%.c}").wasm"
done
