#!/usr/bin/env bash
# Set up everything on a fresh machine, then run the main job on the bundled example feed.
#   ./setup.sh
# Installs what is missing (strace for the privacy test, the wasm32 Rust target), fetches and builds the
# models (models/scripts/setup_models.sh: ONNX Runtime + all-MiniLM-L6-v2 int8, sha256-verified, cached
# in .cache/ and models/build/), builds the workspace in release mode, and classifies examples/feed.jsonl.
set -Eeuo pipefail
cd "$(dirname "$0")"
log() { printf '[setup] %s\n' "$*" >&2; }
START=$SECONDS

if ! command -v strace >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing strace (used by the test that proves the host opens no network connections)"
    (apt-get install -y -qq strace >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq strace >/dev/null; })
  else
    log "strace is missing; install it (e.g. sudo apt-get install strace) to run the privacy test"
  fi
fi

if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown Rust target (core also builds for the browser; takes a few minutes)"
  rustup target add wasm32-unknown-unknown >&2
fi

log "models and ONNX Runtime"
models/scripts/setup_models.sh

log "building the workspace (release)"
cargo build --release --workspace --locked >&2

# The in-browser fallback engine (wasm-classifier → target/wasm/{web,node}), before the extension that ships it.
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly; no --locked (its lockfile names a
# crate version the registry lacks). No wasm-opt (Debian's corrupts wasm-bindgen output).
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$(.cache/wasm-bindgen/bin/wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  log "installing wasm-bindgen-cli $WBG_VERSION into .cache/wasm-bindgen (about 3 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --root .cache/wasm-bindgen >&2
fi
log "building the in-browser fallback engine (WebAssembly)"
wasm-classifier/build.sh


# The browser extension (extension/dist/{chromium,firefox}) and the browsers its end-to-end tests drive.
if ! command -v chromium >/dev/null 2>&1 || ! { command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium and firefox-esr (headless end-to-end tests)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium firefox-esr >/dev/null
  else
    log "chromium / firefox-esr missing: install them (sudo apt-get install chromium firefox-esr) to run tests/e2e"
  fi
fi
if command -v npm >/dev/null 2>&1; then
  log "building the browser extension (extension/dist/) and installing the e2e test tools"
  (cd extension && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) >&2
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error) >&2
  log "load extension/dist/chromium (or dist/firefox) in your browser, then run: ./target/release/feedwarden install"
else
  log "npm is missing: install Node.js 20+ to build the extension"
fi

# The main job, last so its output is what the reader sees.
log "ready in $((SECONDS - START)) s; classifying examples/feed.jsonl with the shipped default policy"
./target/release/feedwarden classify examples/feed.jsonl --format table -o target/example-verdicts.jsonl
log "JSONL verdicts written to target/example-verdicts.jsonl"
