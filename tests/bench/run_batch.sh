#!/usr/bin/env bash
# Benchmark `feedwarden batch` (1 vs 2 threads, RSS) against Python tokenizers + onnxruntime on 10,000 real
# texts. Usage: tests/bench/run_batch.sh [bench_batch.py options...]. Results: stdout and
# target/bench/batch.json. FEEDWARDEN_BENCH_NO_BUILD=1 skips the build. See docs/benchmarks.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build -p feedwarden-host
exec "$PY" "$ROOT/tests/bench/bench_batch.py" "$@"
