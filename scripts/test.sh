#!/usr/bin/env bash
# The test command (README, CI): formatting, lints, every test with the real models, and the wasm32 build
# of the shared engine. Run ./setup.sh once first.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
log() { printf '[test] %s\n' "$*" >&2; }

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy (all targets, warnings are errors)"
cargo clippy --release --workspace --all-targets --locked -- -D warnings
log "cargo test (real models required)"
FEEDWARDEN_REQUIRE_MODELS=1 cargo test --release --workspace --locked
log "core + wasm-classifier build for wasm32-unknown-unknown"
cargo build --release --locked -p feedwarden-core -p feedwarden-wasm --target wasm32-unknown-unknown
log "in-browser engine: WASM build, then the same policy vectors and the captured feeds under Node"
wasm-classifier/build.sh
node --test tests/wasm/engines.test.mjs tests/wasm/feedback.test.mjs
log "extension: type check and build"
(cd extension && npm run --silent check && npm run --silent build)
log "end-to-end: the extension and the real host in headless Chromium and Firefox, pages served from 127.0.0.1"
(cd tests/e2e && FEEDWARDEN_REQUIRE_MODELS=1 npm test --silent)
log "end-to-end: no host installed, the in-browser WASM engine filters; the host takes over when installed"
FEEDWARDEN_REQUIRE_MODELS=1 node --test --test-timeout=180000 tests/wasm/chromium-fallback.test.mjs
FEEDWARDEN_REQUIRE_MODELS=1 node --test --test-timeout=180000 tests/wasm/firefox-fallback.test.mjs
log "all green"
