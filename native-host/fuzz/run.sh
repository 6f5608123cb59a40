#!/usr/bin/env bash
# Run a fuzz target with libFuzzer without cargo-fuzz: the same instrumentation flags cargo-fuzz passes,
# on the nightly toolchain. Seeds: a few valid images the host's tests write, in native-host/fuzz/corpus/;
# for `policy`, the shipped policies.
#   native-host/fuzz/run.sh decode_image 120      # target, seconds
#   native-host/fuzz/run.sh policy 600            # the policy parser and resolver (see policies/README.md)
set -euo pipefail
cd "$(dirname "$0")"
target="${1:-decode_image}"
seconds="${2:-60}"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo +nightly build --release --bin "$target" --target x86_64-unknown-linux-gnu
mkdir -p "corpus/$target" artifacts
if [ "$target" = policy ]; then
  cp ../../policies/*.toml ../../policies/examples/*.toml "corpus/$target/"
fi
exec "target/x86_64-unknown-linux-gnu/release/$target" -max_total_time="$seconds" -rss_limit_mb=1024 \
  -timeout=10 -artifact_prefix=artifacts/ "corpus/$target"
