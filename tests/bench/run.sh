#!/usr/bin/env bash
# Build the release binaries and benchmark feedwarden-host (latency, throughput, cache hits, RSS) against the
# plain Python pipeline. Usage: tests/bench/run.sh [--quick] [bench_host.py options...]
# Results: a table on stdout and target/bench/host.json. See docs/benchmarks.md.
# Set FEEDWARDEN_BENCH_NO_BUILD=1 to skip `cargo build --release` (benchmarks the binary already built).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ ! -f models/build/feedwarden-judge/model.int8.onnx && -z "${FEEDWARDEN_MODELS_DIR:-}" ]]; then
  echo "bench: models/build is missing; run models/scripts/setup_models.sh first" >&2
  exit 2
fi

bench_build

exec "$PY" "$ROOT/tests/bench/bench_host.py" "$@"
