#!/usr/bin/env bash
# Benchmark `feedwarden batch` (1 vs 2 threads, RSS) against Python tokenizers + onnxruntime on 10,000 real
# texts. Usage: tests/bench/run_batch.sh [bench_batch.py options...]. Results: stdout and
# target/bench/batch.json. FEEDWARDEN_BENCH_NO_BUILD=1 skips the build. See docs/benchmarks.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="${FEEDWARDEN_BENCH_PYTHON:-$ROOT/.cache/venv/bin/python}"
if [[ ! -x "$PY" ]]; then
  echo "bench: $PY not found; run models/scripts/setup_models.sh first (it creates .cache/venv)" >&2
  exit 2
fi
if [[ "${FEEDWARDEN_BENCH_NO_BUILD:-0}" != "1" ]]; then
  cargo build --release -p feedwarden-host >&2
fi
exec "$PY" "$ROOT/tests/bench/bench_batch.py" "$@"
