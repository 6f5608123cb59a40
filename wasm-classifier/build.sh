#!/usr/bin/env bash
# Build the in-browser fallback engine: wasm-classifier for wasm32, then wasm-bindgen's JS glue.
#   wasm-classifier/build.sh
# Outputs (git-ignored): target/wasm/node/ (CommonJS, for the Node tests) and target/wasm/web/ (ES module,
# copied into the extension by its build). Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at
# exactly the version of the wasm-bindgen crate in Cargo.lock, installed by setup.sh into .cache/wasm-bindgen.
# No wasm-opt: Debian's binaryen corrupts wasm-bindgen output (../shared/ENVIRONMENT.md), and the size budget
# is met without it; set WASM_OPT to a binaryen ≥ 116 wasm-opt (e.g. npm binaryen) to shrink the code further.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
bindgen=.cache/wasm-bindgen/bin/wasm-bindgen
if [ ! -x "$bindgen" ] || [ "$("$bindgen" --version | awk '{print $2}')" != "$want" ]; then
  echo "wasm-bindgen $want not found at $bindgen; install it with:" >&2
  echo "  cargo install wasm-bindgen-cli --version $want --root .cache/wasm-bindgen" >&2
  exit 1
fi
# profile.wasm (root Cargo.toml): release with opt-level "z" (size), LTO, no debug info, panic = abort.
cargo build --profile wasm --locked -p feedwarden-wasm --target wasm32-unknown-unknown >&2
wasm=target/wasm32-unknown-unknown/wasm/feedwarden_wasm.wasm
for t in node web; do
  flag=$([ "$t" = node ] && echo nodejs || echo web)
  rm -rf "target/wasm/$t"
  "$bindgen" --target "$flag" --no-typescript --remove-name-section --remove-producers-section --out-dir "target/wasm/$t" "$wasm"
  if [ -n "${WASM_OPT:-}" ]; then
    "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "target/wasm/$t/feedwarden_wasm_bg.wasm" \
      -o "target/wasm/$t/feedwarden_wasm_bg.wasm"
  fi
done
ls -l target/wasm/web/feedwarden_wasm_bg.wasm >&2
