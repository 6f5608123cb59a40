#!/usr/bin/env bash
# Benchmark the generative tier: `feedwarden vlm bench` on the real SmolLM2-135M decoder (fp32, int8, 4-bit),
# each in a fresh process, beside the same graphs through Python onnxruntime, and the tiny SmolVLM describe
# path. Usage: tests/bench/run_vlm.sh [bench_vlm.py options...]. Results: stdout and target/bench/vlm.json.
# FEEDWARDEN_BENCH_NO_BUILD=1 skips the build. See docs/benchmarks.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build -p feedwarden-host --bin feedwarden
exec "$PY" "$ROOT/tests/bench/bench_vlm.py" "$@"
