#!/usr/bin/env bash
# Run a fuzz target with libFuzzer without cargo-fuzz: the same instrumentation flags cargo-fuzz passes,
# on the nightly toolchain. Targets: decode_image, image_ref, policy (the policy parser and resolver, seeded
# with the shipped policies) and frames (the host's whole request path, with the model from
# FEEDWARDEN_MODELS_DIR or the checkout's models/build when present).
#   native-host/fuzz/run.sh decode_image 120      # target, seconds
#   native-host/fuzz/run.sh policy 600            # see policies/README.md
#   native-host/fuzz/run.sh frames 3600           # the long run of tests/host/frames_fuzz.rs
# Seeds: a few valid images the host's tests write, and for frames a few valid request frames written here,
# in native-host/fuzz/corpus/<target>/. Crashes and hangs land in native-host/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
target="${1:-decode_image}"
seconds="${2:-60}"
features=()
rss_mb=1024
if [ "$target" = frames ]; then
  features=(--features host)
  rss_mb=4096 # the text model and 8 MiB frames
  export ORT_DISABLE_TELEMETRY=1
  export FEEDWARDEN_MODELS_DIR="${FEEDWARDEN_MODELS_DIR:-$(cd ../.. && pwd)/models/build}"
fi
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo +nightly build --release --bin "$target" "${features[@]}" --target x86_64-unknown-linux-gnu
mkdir -p "corpus/$target" artifacts
if [ "$target" = policy ]; then
  cp ../../policies/*.toml ../../policies/examples/*.toml "corpus/$target/"
fi
if [ "$target" = frames ] && [ -z "$(ls -A corpus/frames)" ]; then
  # One file per request type: a 4-byte little-endian length, then the JSON body.
  frame() { local n=${#1}; printf "\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8 & 255)))\\x00\\x00%s" "$1"; }
  frame '{"type":"hello","request_id":1,"protocols":[1],"client":"fuzz"}' > corpus/frames/hello
  frame '{"type":"classify","request_id":2,"posts":[{"id":"a","text":"These idiots want to destroy everything!","site":"x.com"}],"image_budget_ms":0}' > corpus/frames/classify
  frame '{"type":"policy.validate","request_id":3,"source":"[policy]\nname = \"x\"\n"}' > corpus/frames/validate
  frame '{"type":"feedback","request_id":4,"post":{"id":"a","text":"t"},"rule":"rage-bait","kind":"was_fine","idempotency_key":"k"}' > corpus/frames/feedback
  { frame '{"type":"stats"}'; frame '{"type":"policy.get"}'; } > corpus/frames/two
fi
exec "target/x86_64-unknown-linux-gnu/release/$target" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" \
  -timeout=10 -artifact_prefix=artifacts/ "corpus/$target"
