# Sourced by the bench scripts (run.sh, run_batch.sh): go to the repository root, find the venv's Python
# (FEEDWARDEN_BENCH_PYTHON overrides) and define bench_build, which builds the release binaries unless
# FEEDWARDEN_BENCH_NO_BUILD=1.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

PY="${FEEDWARDEN_BENCH_PYTHON:-$ROOT/.cache/venv/bin/python}"
if [[ ! -x "$PY" ]]; then
  echo "bench: $PY not found; run models/scripts/setup_models.sh first (it creates .cache/venv)" >&2
  exit 2
fi

bench_build() {
  if [[ "${FEEDWARDEN_BENCH_NO_BUILD:-0}" != "1" ]]; then
    echo "bench: cargo build --release $* ..." >&2
    cargo build --release "$@" >&2
  fi
}
