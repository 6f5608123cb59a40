#!/usr/bin/env python3
"""Train Feedwarden's tiny in-browser fallback model (static token embeddings + the same heads as core).

    .cache/venv/bin/python models/scripts/train_tiny.py            # writes models/tiny/ and the golden values
    .cache/venv/bin/python models/scripts/train_tiny.py --explore  # compare sizes/targets, write nothing

The token-embedding table comes from PyPI `wordllama==0.4.0.post1` (MIT): `l2_supercat_256.safetensors`, fp16
[32000, 256], with the Llama-2 vocabulary in `l2_supercat_tokenizer_config.json`. Fetch the wheel once into
.cache/downloads (command in models/cards/tiny.md; sha256-pinned below); it is read with numpy alone (no install).
Also needs the judge graph (models/build/feedwarden-judge, built by setup) and its heads (models/heads): the
teacher.

The model, exactly as core/src/tiny computes it (the Rust side must give the same numbers):
  tokens    = for each whitespace-separated word w (Rust char::is_whitespace; control and zero-width
              characters dropped): greedy longest match of "▁" + w against the shipped vocabulary,
              at most MAX_TOKEN_CHARS characters per token; a character no token starts with is skipped;
              at most MAX_TOKENS tokens per post.
  pooled    = mean of the dequantised rows (int8 * per-row scale) of those tokens (zero vector if none)
  embedding = normalize(pooled - mean_vector)     (centring makes unrelated posts' cosine ≈ 0, as with MiniLM)
              (zero vector when no token matched); user-defined categories compare this (core::fewshot)
  features  = embedding followed by the 8 surface features (SURFACE: length, punctuation, URL, newline, leading
              digit) and (v8) the mean of the hashed token-bigram rows of its first BIGRAM_TOKENS tokens
              (bigram_ids; zeros when no token matched)
  p         = sigmoid(a * (dot(weights, features) + bias) + b)  -- core::heads::Head::probability
The vocabulary is pruned to the tokens most used by the training texts, and the embedding to its first DIM
dimensions (the wordllama tables are Matryoshka-trained, so a prefix is itself an embedding); the rows are then
re-fitted so that mean pooling reproduces MiniLM's sentence embeddings (the judge graph's `sentence_embedding`,
which is the stock one), keeping for each category the direction that predicts the judge's logit.

v3 (issue 13) distils the fine-tuned judge: every head and sub-label the judge ships is fitted on the judge's
training rows (models/scripts/judge_data.py, the same splits) plus the transfer pool, to a mix of the true label
(where the text has one for that task) and the judge's calibrated probability (TARGET_MIX; the judge's
probability alone where the text has no label for the task), and Platt-calibrated on the calibration rows against
the same kind of mix (CAL_MIX). The captured feeds (../shared/data/feeds) are never trained on: they are the test
set for the verdict agreement with the judge, estimated here and measured by tests/wasm/.

v8 adds the bigram table (train_bigrams, JAX; the heads are then fitted as before on the longer features) and
trains on the generated feed-like posts (GENERATED = "fit+cal"). Needs jax and optax in the venv:
    .cache/venv/bin/pip install jax==0.10.2 optax==0.2.8

Writes (committed): models/tiny/feedwarden-tiny.bin, models/tiny/heads/<id>.json, models/tiny/golden.json,
and prints the validation table for models/cards/tiny.md.
"""
from __future__ import annotations
import os

# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default; this must be set before it loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import hashlib
import json
import re
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

SCRIPT_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPT_DIR))
import train_heads as th  # noqa: E402
from export_minilm import dump_json  # noqa: E402

ROOT = SCRIPT_DIR.parent.parent
TINY_DIR = ROOT / "models" / "tiny"
WHEEL = "wordllama-0.4.0.post1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
WHEEL_SHA256 = "42c2c88907ace0b0681ac6f9092d6a300a6409a5d2d61071a3fb5e7159370c97"
WHEEL_TABLE = "wordllama/weights/l2_supercat_256.safetensors"
WHEEL_TOKENIZER = "wordllama/tokenizers/l2_supercat_tokenizer_config.json"
MODEL_ID = "feedwarden-tiny-v8"
MAGIC = b"FWTINY03"  # the file format: v8 added the hashed token-bigram table
MAGIC_NO_BIGRAMS = b"FWTINY02"  # v2…v7's format, still written (and read by core) when there is no bigram table

N_TOKENS = 7000
DIM = 192
MAX_TOKENS = 256
MAX_TOKEN_CHARS = 16
TARGET_MIX = 0.5  # fitting target = (1 - mix) * label + mix * native probability
CAL_MIX = 0.5  # Platt target on the calibration split, likewise (see the card: agreement vs calibration)
# Distillation on real captured posts: the non-held-out half of ../shared/data/feeds, scored by the native judge,
# is added FEED_COPIES times to the fitting set (teacher probabilities as targets), and each head's Platt
# calibration is fitted to the teacher on those posts; 0 = no feed distillation.
FEED_COPIES = 0  # measured with 10/50/200 copies: no gain on the held-out half (models/cards/tiny.md)
# Distillation on the other heads' training texts too: each head also fits the native judge's probability on
# the fit splits of the other two data sets (tweets, headlines, news sentences: ~4x more and more varied text
# than its own set), pure teacher targets. Raises the verdict agreement on the (never trained on) captured
# feeds from 86.3 % to 89.1 % at a small cost in validation ROC-AUC (models/cards/tiny.md).
DISTIL_OTHER_SETS = True
# Re-fit of the token table to MiniLM (refit_table): ridge penalties tried, the one with the best R² on the
# validation texts is kept. Measured 2026-11-23 (models/cards/tiny.md): with case folding and the re-fit, the
# verdict agreement on the never-trained-on captured feeds rose from 89.1 % to about 90.8 %.
REFIT_LAMBDAS = (0.1, 0.3, 1.0)
SEED = th.SEED
# Feed-like posts written by SmolLM2-135M (models/scripts/generate_feed_pool.py; committed, no labels): split by
# the sha256 of the text into fitting (70 %), calibration (10 %) and a check part (20 %) that is never fitted and
# stands in for a feed when comparing variants. GENERATED says which parts are used: "none" (v7), "fit" (teacher
# targets in the fitting set of the heads and of the bigram table) or "fit+cal" (also in each head's Platt
# calibration, teacher targets; v8). The token table is never fitted on them, so the embedding that user-defined
# categories compare is v7's. Measured (models/cards/tiny.md): without bigrams they bring the bag of tokens closer
# to showing every post, never past it; with the bigram table they help it past (v8).
GENERATED_POSTS = TINY_DIR / "generated-posts.txt"
GENERATED = "fit+cal"
# Hashed token bigrams (v8): each adjacent pair of tokens among a post's first BIGRAM_TOKENS (the first pair is
# (start, first token)) picks one of BIGRAM_BUCKETS rows of a BIGRAM_DIM-wide table (bigram_ids); the mean of the
# rows follows the surface features. The table is learnt by distillation (train_bigrams: JAX, BIGRAM_EPOCHS epochs
# on the judge's category probabilities, beside the frozen embedding and the surface features) and stored as
# signed BIGRAM_BITS-bit integers with one scale. Word order is what the bag of tokens missed (models/cards/tiny.md,
# "v8"); a few adds per token keep it inside issue 4's 0.2 ms, and 64 KB inside its 2 MB. 0 buckets: v7's format.
# Teacher-labelled variants (--augment N): N fitting texts, drawn with the seed, each with one social-media ending
# appended (AUG_ENDINGS, in turn); the judge's probabilities are their targets. The tiny heads learnt from the
# labelled data that "!" means "a tweet, not a headline", so "Doctors HATE him! See why 👉" scored 0.01 clickbait
# where the judge labels it; the variants show the student how the judge reads such endings. Measured with 6,000
# (2026-12-05, models/cards/tiny.md "v8"): check posts 90.2 % instead of 90.4 %, so v8 ships without them.
AUGMENT = 0
AUG_ENDINGS = ["!", "!!!", " 👉", " 😱", "… 👇", "?!", " 🔥", "!! 😳"]
BIGRAM_BUCKETS = 16384
BIGRAM_DIM = 8
BIGRAM_BITS = 4
BIGRAM_TOKENS = 128
BIGRAM_EPOCHS = 8
BIGRAM_BATCH = 256
BIGRAM_LR = 2e-3

# Rust's char::is_whitespace (Unicode White_Space); Python's str.split() also splits on \x1c-\x1f.
WHITESPACE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                 "\u200a\u2028\u2029\u202f\u205f\u3000")
ZERO_WIDTH = set("\u200b\u200c\u200d\u2060\ufeff")


def log(msg: str) -> None:
    print(f"[train_tiny] {msg}", file=sys.stderr, flush=True)


def is_control(c: str) -> bool:  # Rust char::is_control = general category Cc
    o = ord(c)
    return o < 0x20 or 0x7F <= o < 0xA0


def words(text: str) -> list[str]:
    out, cur = [], []
    for c in text:
        if c in WHITESPACE:
            if cur:
                out.append("".join(cur))
                cur = []
        elif c in ZERO_WIDTH or is_control(c):
            continue
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


class Vocab(dict):
    """token → id, with a memo of tokenised words (posts repeat words a lot; pure-Python matching is slow)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.memo: dict[str, list[int]] = {}


def tokenize_word(w: str, vocab: Vocab) -> list[int]:
    memo = vocab.memo
    hit = memo.get(w)
    if hit is not None:
        return hit
    ids: list[int] = []
    s = "\u2581" + w
    i = 0
    while i < len(s):
        for j in range(min(len(s), i + MAX_TOKEN_CHARS), i, -1):
            t = vocab.get(s[i:j])
            if t is not None:
                ids.append(t)
                i = j
                break
        else:
            i += 1  # no token starts with this character: skip it
    memo[w] = ids
    return ids


def fold_case(word: str) -> str:
    """Per-character lowercase (Rust: char::to_lowercase, no context rules). The teacher (MiniLM) is uncased;
    a cased student learned "Title Case = clickbait" from the headline data and missed sentence-case titles."""
    return "".join(c.lower() for c in word)


def tokenize(text: str, vocab: Vocab) -> list[int]:
    ids: list[int] = []
    for w in words(text):
        ids += tokenize_word(fold_case(w), vocab)
        if len(ids) >= MAX_TOKENS:
            return ids[:MAX_TOKENS]
    return ids


# ---------------------------------------------------------------------------------------------
def load_wordllama() -> tuple[list[str], np.ndarray]:
    whl = ROOT / ".cache" / "downloads" / WHEEL
    if not whl.is_file():
        th.die(f"{whl} missing; fetch it with: .cache/venv/bin/python -m pip download --no-deps --only-binary=:all: "
               f"--python-version 3.11 --platform manylinux2014_x86_64 wordllama==0.4.0.post1 -d .cache/downloads")
    sha = hashlib.sha256(whl.read_bytes()).hexdigest()
    if sha != WHEEL_SHA256:
        th.die(f"{whl.name} sha256 {sha} differs from the pin {WHEEL_SHA256}")
    with zipfile.ZipFile(whl) as z:
        raw = z.read(WHEEL_TABLE)
        tok = json.loads(z.read(WHEEL_TOKENIZER))
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header["embedding.weight"]
    assert meta["dtype"] == "F16", meta
    a, b = meta["data_offsets"]
    table = np.frombuffer(raw[8 + hlen + a:8 + hlen + b], dtype="<f2").reshape(meta["shape"]).astype(np.float32)
    vocab = [""] * len(tok["model"]["vocab"])
    for t, i in tok["model"]["vocab"].items():
        vocab[i] = t
    return vocab, table


SURFACE = ["ln(1+tokens)", "ln(1+tokens)^2", "ln(1+chars)", "has ?", "has !", "has http", "has newline",
           "starts with an ASCII digit"]


def surface(text: str, n_tokens: int) -> list[float]:
    """Surface features the heads see beside the embedding (mean pooling forgets length and punctuation,
    which the native judge does notice: on the captured feeds it labels short titles as clickbait far more
    often than long posts). Computed on the normalised text; f32 on the Rust side. No case feature: the
    teacher is uncased, and an uppercase share taught the student that Title Case headlines are clickbait."""
    lt = float(np.float32(np.log1p(np.float32(n_tokens))))
    return [lt, lt * lt, float(np.log1p(np.float32(len(text)))), float("?" in text), float("!" in text),
            float("http" in text), float("\n" in text), float(bool(text) and text[0] in "0123456789")]


def bigram_ids(tok: list[int], buckets: int) -> list[int]:
    """Row of each adjacent token pair among the first BIGRAM_TOKENS tokens, the first pair being (start, first
    token): the top log2(buckets) bits of (((a + 1) << 16) + b + 1) · 0x9E3779B97F4A7C15 (64-bit, wrapping),
    a = 0 for the start. core/src/tiny/model.rs computes the same."""
    shift = 64 - (buckets.bit_length() - 1)
    prev, out = 0, []
    for b in tok[:BIGRAM_TOKENS]:
        key = ((prev << 16) + b + 1) & 0xFFFFFFFFFFFFFFFF
        out.append(((key * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> shift)
        prev = b + 1
    return out


def train_bigrams(base: np.ndarray, bigrams: list[list[int]], targets: np.ndarray, buckets: int, dim: int,
                  epochs: int) -> np.ndarray:
    """The bigram table, distilled: logits = [base features, mean of the text's bigram rows] @ W + c, trained
    with Adam on binary cross-entropy against `targets` (the judge's category probabilities), seeded. Needs jax
    and optax (../shared/ENVIRONMENT.md, "Fine-tuning"). Returns the float table [buckets, dim]."""
    import jax
    import jax.numpy as jnp
    import optax

    L = BIGRAM_TOKENS
    ids = np.zeros((len(bigrams), L), np.int32)
    mask = np.zeros((len(bigrams), L), np.float32)
    for k, b in enumerate(bigrams):
        ids[k, :len(b)] = b
        mask[k, :len(b)] = 1
    base = base.astype(np.float32)
    targets = targets.astype(np.float32)
    k1, k2 = jax.random.split(jax.random.PRNGKey(SEED))
    params = {"bigram": jax.random.normal(k1, (buckets, dim)) * 0.1,
              "out": jax.random.normal(k2, (base.shape[1] + dim, targets.shape[1])) * 0.01,
              "out_b": jnp.zeros(targets.shape[1])}

    def loss(p, base, ids, mask, y):
        pooled = (p["bigram"][ids] * mask[..., None]).sum(1) / jnp.maximum(mask.sum(1, keepdims=True), 1.0)
        z = jnp.concatenate([base, pooled], 1) @ p["out"] + p["out_b"]
        return jnp.mean(jnp.logaddexp(0.0, z) - y * z)

    opt = optax.adam(BIGRAM_LR)
    state = opt.init(params)

    @jax.jit
    def step(p, s, base, ids, mask, y):
        lv, g = jax.value_and_grad(loss)(p, base, ids, mask, y)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, lv

    rng = np.random.default_rng(SEED)
    for ep in range(epochs):
        order, total, t0 = rng.permutation(len(base)), 0.0, time.time()
        for i in range(0, len(order) - BIGRAM_BATCH + 1, BIGRAM_BATCH):
            b = order[i:i + BIGRAM_BATCH]
            params, state, lv = step(params, state, base[b], ids[b], mask[b], targets[b])
            total += float(lv)
        log(f"bigram table, epoch {ep + 1}/{epochs}: loss {total / (len(order) // BIGRAM_BATCH):.4f} "
            f"({time.time() - t0:.0f} s)")
    return np.asarray(params["bigram"], np.float32)


class TinyBuilder:
    def __init__(self, vocab: list[str], table: np.ndarray, corpus: list[str], n_tokens: int, dim: int):
        # usable tokens: not special, not byte-fallback, no whitespace/control characters (never produced)
        full = Vocab({t: i for i, t in enumerate(vocab)
                if t and not (t.startswith("<") and t.endswith(">")) and not any(c in WHITESPACE or is_control(c)
                                                                              for c in t)})
        counts = np.zeros(len(vocab), dtype=np.int64)
        for text in corpus:
            for i in tokenize(text, full):
                counts[i] += 1
        # keep the most used tokens (ties by id), plus every single character used at all, so no text that
        # the full vocabulary could cover loses a character
        order = sorted((i for i in range(len(vocab)) if counts[i] > 0), key=lambda i: (-counts[i], i))
        singles = [i for i in order if len(vocab[i]) == 1]
        keep = list(dict.fromkeys(singles + order))
        keep = sorted(keep[:max(n_tokens, len(singles))], key=lambda i: (-counts[i], i))
        self.tokens = [vocab[i] for i in keep]
        self.vocab = Vocab({t: k for k, t in enumerate(self.tokens)})
        self.dim = dim
        self.set_rows(table[keep, :dim])
        self.mean = np.zeros(dim, dtype=np.float32)
        self.coverage = float(counts[keep].sum() / max(counts.sum(), 1))
        self.bigram_q = np.zeros((0, 0), np.int8)  # set_bigrams; none: the FWTINY02 features
        self.bigram_scale = np.float32(1.0)
        self.bigram_rows = np.zeros((0, 0), np.float32)

    def set_bigrams(self, table: np.ndarray) -> None:
        """Signed BIGRAM_BITS-bit integers with one f32 scale for the table: q = round(v / scale),
        scale = max|v| / (2^(bits-1) - 1)."""
        top = 2 ** (BIGRAM_BITS - 1) - 1
        self.bigram_scale = np.float32(max(float(np.abs(table).max()), 1e-12) / top)
        self.bigram_q = np.clip(np.round(table / self.bigram_scale), -top, top).astype(np.int8)
        self.bigram_rows = self.bigram_q.astype(np.float32) * self.bigram_scale

    def bigram_features(self, texts: list[str]) -> np.ndarray:
        """Mean of the dequantised bigram rows of each (normalised) text; zeros when it has no token."""
        n, d = self.bigram_rows.shape
        out = np.zeros((len(texts), d), np.float32)
        for k, t in enumerate(texts):
            b = bigram_ids(tokenize(t, self.vocab), n) if n else []
            if b:
                out[k] = self.bigram_rows[b].sum(0, dtype=np.float32) / np.float32(len(b))
        return out

    def set_rows(self, rows: np.ndarray) -> None:
        """int8 per row: q = round(row / scale), scale = max|row| / 127."""
        self.scales = (np.abs(rows).max(1) / 127.0).astype(np.float32)
        self.scales[self.scales == 0] = 1.0
        self.q = np.clip(np.round(rows / self.scales[:, None]), -127, 127).astype(np.int8)
        self.rows = self.q.astype(np.float32) * self.scales[:, None]

    def pooling(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mean-pooling matrix A (row = text, column = token, entry = count / tokens of the text) as
        (row, column, value) triples, for the same tokenizer and normalisation as inference."""
        ri, ci, vi = [], [], []
        for k, t in enumerate(texts):
            ids = tokenize(normalize(t), self.vocab)
            if ids:
                u, c = np.unique(ids, return_counts=True)
                ri.append(np.full(len(u), k))
                ci.append(u)
                vi.append(c / len(ids))
        return np.concatenate(ri), np.concatenate(ci), np.concatenate(vi)

    def pooled(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        has = np.zeros(len(texts), dtype=bool)
        for k, t in enumerate(texts):
            ids = tokenize(t, self.vocab)
            if ids:
                out[k] = self.rows[ids].sum(0, dtype=np.float32) / np.float32(len(ids))
                has[k] = True
        return out, has

    def set_mean(self, texts: list[str]) -> None:
        pooled, has = self.pooled(texts)
        self.mean = np.array([th.r6(v) for v in pooled[has].mean(0)], dtype=np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        pooled, has = self.pooled(texts)
        x = np.where(has[:, None], pooled - self.mean, 0)  # no token: the zero vector
        n = np.linalg.norm(x, axis=1, keepdims=True)
        return np.where(n > 0, x / np.where(n > 0, n, 1), 0).astype(np.float32)

    def features(self, texts: list[str]) -> np.ndarray:
        """What the heads read: the embedding of the normalised text, its surface features and (v8) the mean of
        its bigram rows."""
        texts = [normalize(t) for t in texts]
        sf = np.array([surface(t, len(tokenize(t, self.vocab))) for t in texts], dtype=np.float32)
        return np.hstack([self.embed(texts), sf, self.bigram_features(texts)]).astype(np.float32)

    def to_bytes(self) -> bytes:
        vocab = "\n".join(self.tokens).encode("utf-8")
        head = [MAGIC, struct.pack("<4I", len(self.tokens), self.dim, MAX_TOKENS, MAX_TOKEN_CHARS),
                self.mean.astype("<f4").tobytes(), self.scales.astype("<f4").tobytes(),
                self.q.tobytes(), struct.pack("<I", len(vocab)), vocab]
        if self.bigram_q.size == 0:
            return b"".join([MAGIC_NO_BIGRAMS] + head[1:])
        # FWTINY03: u32 buckets, dim, tokens read, bits; f32 scale; the values row by row, two per byte for 4 bits
        # (the first in the low nibble), two's complement
        n, d = self.bigram_q.shape
        flat = self.bigram_q.reshape(-1).astype(np.uint8)
        if BIGRAM_BITS == 4:
            flat = (flat[0::2] & 0x0F) | ((flat[1::2] & 0x0F) << 4)
        return b"".join(head + [struct.pack("<4If", n, d, BIGRAM_TOKENS, BIGRAM_BITS, self.bigram_scale),
                                flat.astype(np.uint8).tobytes()])


# ---------------------------------------------------------------------------------------------
def refit_table(tb: TinyBuilder, texts: list[str], val_texts: list[str], minilm: dict[str, np.ndarray],
                directions: np.ndarray) -> float:
    """Re-fit the token table so that mean pooling reproduces MiniLM's sentence embeddings (closed form).

    With A the mean-pooling matrix of `texts` and Y a fixed 192-d linear projection of their centred MiniLM
    embeddings (the first columns = the orthonormalised `directions` [384, k]: for each category, the direction
    of the MiniLM embedding that best predicts the judge's logit; the rest = the top principal components of
    what remains), the table E solves
        min ‖A E − Y‖² + λ Σ_j d_j ‖E_j − E⁰_j‖²,   d = diag(AᵀA),
    where E⁰ = the wordllama rows mapped into Y's space by least squares (rarely seen tokens stay near their
    wordllama meaning). λ from REFIT_LAMBDAS by R² on `val_texts`. Same size and format afterwards."""
    t0 = time.time()
    Y = np.stack([minilm[t] for t in texts]).astype(np.float64)
    y_mean = Y.mean(0)
    Yc = Y - y_mean
    dirs, _ = np.linalg.qr(directions)
    rest = Yc - Yc @ dirs @ dirs.T
    _, _, vt = np.linalg.svd(rest[::4], full_matrices=False)
    basis = np.hstack([dirs, vt[:tb.dim - dirs.shape[1]].T])  # 384 × dim
    Yp = Yc @ basis
    n, V = len(texts), len(tb.tokens)
    ri, ci, vi = tb.pooling(texts)
    gram = np.zeros((V, V))
    bounds = np.flatnonzero(np.diff(ri)) + 1
    pi, pj, pv = [], [], []
    for c, v in zip(np.split(ci, bounds), np.split(vi, bounds)):
        pi.append(np.repeat(c, len(c)))
        pj.append(np.tile(c, len(c)))
        pv.append(np.outer(v, v).ravel())
    np.add.at(gram, (np.concatenate(pi), np.concatenate(pj)), np.concatenate(pv))
    aty = np.zeros((V, tb.dim))
    np.add.at(aty, ci, vi[:, None] * Yp[ri])
    w0 = tb.rows.astype(np.float64)
    aw0 = np.zeros((n, tb.dim))
    np.add.at(aw0, ri, vi[:, None] * w0[ci])
    e0 = w0 @ np.linalg.lstsq(aw0, Yp, rcond=None)[0]
    d = np.diag(gram).copy()
    vr, vc, vv = tb.pooling(val_texts)
    Yv = (np.stack([minilm[t] for t in val_texts]).astype(np.float64) - y_mean) @ basis
    best = None
    for lam in REFIT_LAMBDAS:
        E = np.linalg.solve(gram + lam * np.diag(d) + 1e-6 * np.eye(V), aty + lam * d[:, None] * e0)
        pred = np.zeros_like(Yv)
        np.add.at(pred, vr, vv[:, None] * E[vc])
        r2 = 1 - float(((pred - Yv) ** 2).sum() / ((Yv - Yv.mean(0)) ** 2).sum())
        log(f"re-fit λ={lam}: R² on {len(val_texts)} validation texts {r2:.3f} ({time.time() - t0:.0f} s)")
        if best is None or r2 > best[0]:
            best = (r2, lam, E)
    tb.set_rows(best[2])
    log(f"re-fitted the token table to MiniLM with λ={best[1]} (R² {best[0]:.3f})")
    return best[1]


def transfer_pool(rows) -> list[str]:
    """Extra distillation texts (no labels; the judge's probabilities are the targets): the TweetEval tweets of
    the fitting split with their Twitter markup removed (@user, URLs, '#'), so that they read like posts on
    other sites. Only fitting texts are used, never a validation text or a captured post."""
    known = {r.text for r in rows}
    out = []
    for r in rows:
        if r.split != "fit" or not any(s.startswith("tweeteval/") for s in r.sources):
            continue
        c = re.sub(r"@user\b", "", r.text)
        c = re.sub(r"https?://\S+", "", c).replace("#", "")
        c = re.sub(r"\s+", " ", c).strip(" .,:")
        if len(c) >= 8 and c not in known:
            out.append(c)
    return sorted(set(out))


def generated_pool(known: set[str]) -> tuple[list[str], list[str], list[str]]:
    """The generated posts (models/tiny/generated-posts.txt) not already among the training texts, split by the
    sha256 of the text into fitting, calibration and check parts (70/10/20 %)."""
    if not GENERATED_POSTS.is_file():
        th.die(f"{GENERATED_POSTS} missing (it is committed; models/scripts/generate_feed_pool.py writes it)")
    parts: tuple[list[str], list[str], list[str]] = ([], [], [])
    for t in dict.fromkeys(GENERATED_POSTS.read_text(encoding="utf-8").splitlines()):
        if t and t not in known:
            b = hashlib.sha256(t.encode("utf-8")).digest()[0] % 10
            parts[0 if b < 7 else 1 if b < 8 else 2].append(t)
    return parts


def augmented(texts: list[str], n: int, known: set[str]) -> list[str]:
    """n seeded variants of distinct `texts`, each with one of AUG_ENDINGS appended (in turn), none in `known`."""
    pool = sorted(set(texts))
    rng = np.random.default_rng(SEED)
    out: list[str] = []
    for k, i in enumerate(rng.permutation(len(pool))[:n]):
        t = pool[i].rstrip(" .!?") + AUG_ENDINGS[k % len(AUG_ENDINGS)]
        if t not in known:
            out.append(t)
    return list(dict.fromkeys(out))


def train_head(Xf, tf, Xc, yc, tc, Xv, yv, split: str, platt_on=None):
    """Logistic regression on soft targets (label/teacher mix), standardised features, penalty picked by
    cross-entropy against the soft calibration targets tc; then Platt scaling on tc."""
    mu, sd = Xf.mean(0), Xf.std(0) + 1e-6
    Zf, Zc = (Xf - mu) / sd, (Xc - mu) / sd
    hard = (tf >= 0.5).astype(float)
    pos_w = len(tf) / (2.0 * max(hard.sum(), 1))
    neg_w = len(tf) / (2.0 * max(len(tf) - hard.sum(), 1))
    sw = np.where(hard == 1, pos_w, neg_w)
    Zb = np.hstack([Zf, np.ones((len(Zf), 1))])
    best, wb = None, None
    for lam in sorted(th.LAMBDAS, reverse=True):
        wb = th.fit_logreg(Zb, tf, lam * len(tf) / 1000.0, sw, wb)
        w, b = wb[:-1], wb[-1]
        a_, b_ = th.fit_platt(Zc @ w + b, tc)
        p = np.clip(th.sigmoid(a_ * (Zc @ w + b) + b_), 1e-7, 1 - 1e-7)
        ll = float(-(tc * np.log(p) + (1 - tc) * np.log(1 - p)).mean())
        if best is None or ll < best[0] - 1e-9:
            best = (ll, lam, w, b)
    _, lam, w, b = best
    weights = [th.r6(v) for v in w / sd]
    bias = th.r6(b - float((w / sd) @ mu))
    wr = np.array(weights)
    Xp, tp = platt_on if platt_on is not None else (Xc, tc)
    a, bb = th.fit_platt(Xp @ wr + bias, tp)
    a, bb = th.r6(a), th.r6(bb)
    pv = th.sigmoid(a * (Xv @ wr + bias) + bb)
    return {"weights": weights, "bias": bias, "calibration": {"a": a, "b": bb}}, th.metrics(yv, pv, split), lam


def native_heads() -> dict[str, dict]:
    import judge_data as jd
    return {h: json.loads((ROOT / "models" / "heads" / f"{h}.json").read_text()) for h in jd.CATEGORIES}


def defaults_rules() -> list[tuple[str, str, float]]:
    """(category, action, threshold) of the shipped defaults (policies/defaults.toml), in file order."""
    import tomllib
    pol = tomllib.loads((ROOT / "policies" / "defaults.toml").read_text(encoding="utf-8"))
    return [(r["category"], r["action"], float(r["threshold"])) for r in pol["rule"] if r.get("category")]


def defaults_action(p: dict[str, float]) -> str:
    """feedwarden:defaults' action for these scores: the strongest action among the rules at or above their
    threshold (only used for the agreement estimate printed here; the tests run the real engines)."""
    rank = {"show": 0, "label": 1, "blur": 2, "hide": 3}
    best = "show"
    for cat, action, thr in defaults_rules():
        if cat in p and p[cat] >= thr and rank[action] > rank[best]:
            best = action
    return best


def defaults_actions(p: dict[str, np.ndarray]) -> list[str]:
    """defaults_action for each text, given each category's probabilities over the same texts."""
    n = len(next(iter(p.values())))
    return [defaults_action({h: p[h][i] for h in p}) for i in range(n)]


def action_counts(actions: list[str]) -> str:
    return ", ".join(f"{a}={actions.count(a)}" for a in ("show", "label", "blur"))


def feed_texts() -> tuple[list[str], list[bool]]:
    """Post texts of the captured feeds, and for each whether it is held out (never used for training): a
    fixed half by the sha256 of (site, id). The other half is the distillation set."""
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "wasm" / "feed_posts.py"),
                          str(th.data_root().parent / "feeds")], capture_output=True, text=True, check=True).stdout
    texts, held = [], []
    for line in out.splitlines():
        p = json.loads(line)
        texts.append(p["text"])  # judged_text without a quote: the extractor gives none
        held.append(hashlib.sha256(f"{p['site']}\0{p['id']}".encode()).digest()[0] % 2 == 0)
    return texts, held


def normalize(text: str) -> str:
    """core::text::normalize (whitespace runs → one space, newlines kept as one, control/zero-width dropped)."""
    out: list[str] = []
    pend_space = pend_nl = False
    for c in text:
        if c in ZERO_WIDTH:
            continue
        if c in "\n\r":
            pend_nl = True
        elif c in WHITESPACE:
            pend_space = True
        elif is_control(c):
            continue
        else:
            if out:
                if pend_nl:
                    out.append("\n")
                elif pend_space:
                    out.append(" ")
            pend_space = pend_nl = False
            out.append(c)
    return "".join(out)


class JudgeEmbedder:
    """The shipped judge graph (models/build/feedwarden-judge/model.int8.onnx): per text, the stock MiniLM
    sentence embedding (the token table is re-fitted to it) and the task embedding (the teacher's input).
    Texts sorted by length, batches of th.BATCH; cached under .cache/tiny by the graph's sha256 and the texts."""

    def __init__(self) -> None:
        import calibrate_judge
        from export_minilm import sha256_file
        self.model = calibrate_judge.MODEL_DIR / "model.int8.onnx"
        if not self.model.is_file():
            th.die(f"{self.model} missing: run models/scripts/setup_models.sh first")
        self.model_sha = sha256_file(self.model)
        self.graph = calibrate_judge.Graph()
        self.tok = self.graph.tok

    def _run(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.graph.run(texts)

    def embed_all(self, texts: list[str], name: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        uniq = sorted(set(texts))
        h = hashlib.sha256(f"{self.model_sha}\nbatch={th.BATCH}\n".encode())
        for t in uniq:
            h.update(t.encode("utf-8") + b"\0")
        path = ROOT / ".cache" / "tiny" / f"judge-{name}-{h.hexdigest()[:24]}.npz"
        if path.is_file():
            z = np.load(path)
            log(f"{name}: {len(uniq)} texts from cache")
            return dict(zip(uniq, z["emb"])), dict(zip(uniq, z["task"]))
        lens = [len(e.ids) for e in self.tok.encode_batch(uniq)]
        order = sorted(range(len(uniq)), key=lambda i: (lens[i], uniq[i]))
        emb = np.zeros((len(uniq), 384), np.float32)
        task = np.zeros((len(uniq), 384), np.float32)
        t0 = time.time()
        for k in range(0, len(order), th.BATCH):
            idx = order[k:k + th.BATCH]
            emb[idx], task[idx] = self._run([uniq[i] for i in idx])
            if (k // th.BATCH) % 500 == 0:
                log(f"{name}: {k}/{len(uniq)} ({time.time() - t0:.0f} s)")
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"judge-{name}-*"):
            old.unlink()
        np.savez(path, emb=emb, task=task)
        return dict(zip(uniq, emb)), dict(zip(uniq, task))

    def embed_single(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        out = [self._run([t]) for t in texts]
        return np.stack([e[0] for e, _ in out]), np.stack([t[0] for _, t in out])


def main() -> None:
    import judge_data as jd
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=N_TOKENS)
    ap.add_argument("--dim", type=int, default=DIM)
    ap.add_argument("--mix", type=float, default=TARGET_MIX)
    ap.add_argument("--cal-mix", type=float, default=CAL_MIX)
    ap.add_argument("--generated", choices=("none", "fit", "fit+cal"), default=GENERATED,
                    help="which parts of the generated posts to train on (see GENERATED)")
    ap.add_argument("--bigrams", type=int, default=BIGRAM_BUCKETS,
                    help="hashed token-bigram buckets, a power of two (0: v7's format, no bigram table)")
    ap.add_argument("--bigram-epochs", type=int, default=BIGRAM_EPOCHS)
    ap.add_argument("--augment", type=int, default=AUGMENT, help="teacher-labelled variants (see AUGMENT)")
    ap.add_argument("--explore", action="store_true", help="train and report, write nothing")
    ap.add_argument("--every", type=int, default=1, help="keep every N-th text only (a quick check; implies --explore)")
    args = ap.parse_args()
    if args.bigrams and args.bigrams & (args.bigrams - 1):
        ap.error(f"--bigrams {args.bigrams}: must be a power of two (or 0)")
    args.explore = args.explore or args.every > 1
    t0 = time.time()
    rows = jd.build(th.data_root())[::args.every]
    y_all, m_all = jd.label_matrix(rows)
    col = {t: i for i, t in enumerate(jd.TASKS)}
    by_split = {s: [i for i, r in enumerate(rows) if r.split == s] for s in ("fit", "cal", "val")}
    pool = transfer_pool(rows)[::args.every]
    gen_fit, gen_cal, gen_check = generated_pool({r.text for r in rows} | set(pool))
    log(f"{len(rows)} labelled texts, transfer pool {len(pool)} cleaned fit-split tweets, generated posts "
        f"{len(gen_fit)}/{len(gen_cal)}/{len(gen_check)} (fit/cal/check; used: {args.generated})")

    # teacher: the judge's calibrated heads on its task embedding; the MiniLM embedding for the token table
    je = JudgeEmbedder()
    # a quick --every check keeps its own cache file: each name keeps one, and the full run's takes 20 min to redo
    sub = "" if args.every == 1 else f"-every{args.every}"
    emb, task = je.embed_all([r.text for r in rows] + pool, "train" + sub)
    gemb, gtask = je.embed_all(gen_fit + gen_cal + gen_check, "generated" + sub)
    emb.update(gemb)
    task.update(gtask)
    aug = augmented([rows[i].text for i in by_split["fit"]] + pool + gen_fit, args.augment,
                    {r.text for r in rows} | set(pool) | set(gen_fit + gen_cal + gen_check)) if args.augment else []
    if aug:
        aemb, atask = je.embed_all(aug, "augmented" + sub)
        emb.update(aemb)
        task.update(atask)
        log(f"{len(aug)} teacher-labelled variants with social-media endings")
    if args.generated == "none":
        gen_fit, gen_cal = [], []
    elif args.generated == "fit":
        gen_cal = []
    table_pool = pool  # the token table is fitted without the generated posts: user-defined categories (which
    # compare the embedding) then stay as v7 left them; the bigram table and the heads fit on them
    pool = pool + gen_fit + aug
    nheads = native_heads()

    def teacher_head(h: dict, texts: list[str]) -> np.ndarray:
        return th.prob(h, np.stack([task[t] for t in texts]).astype(np.float64))

    vocab, wl = load_wordllama()
    fts, held = feed_texts()
    fts = [normalize(t) for t in fts]
    held = np.array(held)
    fe, ft = je.embed_single(fts)  # one post at a time, as the CLI judges a short feed
    native_feed = {h: th.prob(nheads[h], ft.astype(np.float64)) for h in nheads}
    native_actions = defaults_actions(native_feed)
    log(f"native on {len(fts)} feed posts: {action_counts(native_actions)}")

    train_texts = [rows[i].text for i in by_split["fit"] + by_split["cal"]]
    val_texts = [rows[i].text for i in by_split["val"]]
    fit_texts = [rows[i].text for i in by_split["fit"]] + pool
    # per category, the direction of the MiniLM embedding that best predicts the judge's logit (least squares)
    sample = list(dict.fromkeys(train_texts + table_pool))[::3]
    E = np.stack([emb[t] for t in sample]).astype(np.float64)
    Ec = E - E.mean(0)
    dirs = []
    for h in jd.CATEGORIES:
        p = np.clip(teacher_head(nheads[h], sample), 1e-6, 1 - 1e-6)
        dirs.append(np.linalg.lstsq(Ec, np.log(p / (1 - p)) - np.log(p / (1 - p)).mean(), rcond=None)[0])
    tb = TinyBuilder(vocab, wl, train_texts, args.tokens, args.dim)
    refit_lambda = refit_table(tb, list(dict.fromkeys(train_texts + table_pool)), val_texts, emb, np.stack(dirs, 1))
    tb.set_mean(train_texts)
    cache: dict[str, np.ndarray] = {}
    if args.bigrams:
        base = tb.features(fit_texts)  # embedding + surface features: what the bigram table is trained beside
        tb.set_bigrams(train_bigrams(
            base, [bigram_ids(tokenize(normalize(t), tb.vocab), args.bigrams) for t in fit_texts],
            np.stack([teacher_head(nheads[h], fit_texts) for h in jd.CATEGORIES], 1), args.bigrams, BIGRAM_DIM,
            args.bigram_epochs))
        # the heads' features of the fitting texts: those rows and their bigram features (tb.features's values,
        # without embedding the ~100k texts a second time)
        cache.update(zip(fit_texts, np.hstack([base, tb.bigram_features([normalize(t) for t in fit_texts])])))
    n_features = args.dim + len(SURFACE) + tb.bigram_rows.shape[1]

    def X(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            for t, e in zip(missing, tb.features(missing)):
                cache[t] = e
        return np.stack([cache[t] for t in texts]).astype(np.float64)

    size = len(tb.to_bytes())
    log(f"tokens={len(tb.tokens)} dim={args.dim}: {size / 1e6:.2f} MB, coverage {tb.coverage:.4f}")
    mix, cal_mix = args.mix, args.cal_mix

    def soft_targets(task_id: str, head: dict, idx: list[int], extra: list[str], m: float) -> np.ndarray:
        """(1 - m) * label + m * teacher where the text has a label for the task; the teacher alone otherwise."""
        texts = [rows[i].text for i in idx]
        tt = teacher_head(head, texts + extra)
        j = col[task_id]
        lab = m_all[idx, j] > 0
        out = tt.copy()
        out[:len(idx)][lab] = (1 - m) * y_all[idx, j][lab] + m * tt[:len(idx)][lab]
        return out

    report, heads = [], {}
    Xf, Xc = X(fit_texts), X([rows[i].text for i in by_split["cal"]] + gen_cal)
    for hid in jd.CATEGORIES:
        subs_spec = [(hid, nheads[hid])] + [(f"{hid}/{s['id']}", s) for s in nheads[hid]["sub_labels"]]
        built = []
        for task_id, head in subs_spec:
            j = col[task_id]
            tf = soft_targets(task_id, head, by_split["fit"], pool, mix)
            tc = soft_targets(task_id, head, by_split["cal"], gen_cal, cal_mix)
            vi = [i for i in by_split["val"] if m_all[i, j] > 0]
            yv = y_all[vi, j]
            params, val, lam = train_head(Xf, tf, Xc, None, tc, X([rows[i].text for i in vi]), yv,
                                          "validation rows of models/scripts/judge_data.py")
            nv = head["validation"]
            report.append((task_id, val, nv))
            built.append((task_id, head, params, val))
        _, _, params, val = built[0]
        subs = [{"id": h["id"], "name": h["name"], **p, "validation": v} for _, h, p, v in built[1:]]
        heads[hid] = {
            "id": hid, "name": nheads[hid]["name"], "description": nheads[hid]["description"],
            "embedding_model": MODEL_ID, "dim": n_features, **params, "sub_labels": subs,
            "validation": val,
            "training": {"data": "models/scripts/judge_data.py (the judge's rows) + the transfer pool" +
                                 ("" if args.generated == "none" else
                                  f" + generated posts ({args.generated}; models/tiny/generated-posts.txt)"),
                         "n_train": len(fit_texts), "n_calibration": len(by_split["cal"]) + len(gen_cal),
                         "seed": SEED,
                         "inputs": f"{args.dim}-d tiny embedding followed by the surface features {SURFACE}" +
                                   (f" and the mean of the {BIGRAM_DIM}-d hashed token-bigram rows ({args.bigrams} "
                                    "buckets)" if args.bigrams else ""),
                         "target": f"{1 - mix:g} * label + {mix:g} * judge probability where the text is labelled "
                                   "for the task, the judge probability alone elsewhere",
                         "calibration_target": f"{1 - cal_mix:g} * label + {cal_mix:g} * judge probability",
                         "teacher": nheads[hid]["embedding_model"], "script": "models/scripts/train_tiny.py"},
        }
    tfe = X(fts)
    tiny_feed = {h: th.prob(heads[h], tfe) for h in heads}
    tiny_actions = defaults_actions(tiny_feed)
    agree = float(np.mean([a == b for a, b in zip(tiny_actions, native_actions)]))
    agree_held = float(np.mean([a == b for a, b, h in zip(tiny_actions, native_actions, held) if h]))
    log(f"agreement with the judge on the captured feeds (defaults): {agree:.4f} (held-out half {agree_held:.4f}); "
        f"tiny actions {action_counts(tiny_actions)}")
    judge_check = defaults_actions({h: teacher_head(nheads[h], gen_check) for h in nheads})
    gx = X(gen_check)
    tiny_check = defaults_actions({h: th.prob(heads[h], gx) for h in heads})
    log(f"agreement on the {len(gen_check)} generated check posts: "
        f"{np.mean([a == b for a, b in zip(tiny_check, judge_check)]):.4f} (showing all: "
        f"{judge_check.count('show') / max(len(judge_check), 1):.4f}); judge {action_counts(judge_check)}; "
        f"tiny {action_counts(tiny_check)}")
    import own_posts  # issue 13's examples (never trained on): the judge's and the student's verdicts
    examples = own_posts.ISSUE_EXAMPLES[:3] + ["\n".join(own_posts.ISSUE_EXAMPLES[3:5])] + own_posts.ISSUE_EXAMPLES[5:]
    ex_judge = je.embed_single(examples)[1].astype(np.float64)
    ex_tiny = X(examples)
    for i, t in enumerate(examples):
        pj = {h: float(th.prob(nheads[h], ex_judge[i:i + 1])[0]) for h in nheads}
        pt = {h: float(th.prob(heads[h], ex_tiny[i:i + 1])[0]) for h in heads}
        log(f"issue 13 example {t!r}: judge {defaults_action(pj)} ("
            + ", ".join(f"{h} {pj[h]:.2f}" for h in jd.CATEGORIES) + f"), tiny {defaults_action(pt)} ("
            + ", ".join(f"{h} {pt[h]:.2f}" for h in jd.CATEGORIES) + ")")
    for name, v, _ in report:
        log(f"  {name}: auc {v['roc_auc']:.3f} f1 {v['f1_at_0_5']:.3f} brier {v['brier']:.3f}")
    if args.explore:
        return

    TINY_DIR.mkdir(parents=True, exist_ok=True)
    (TINY_DIR / "heads").mkdir(exist_ok=True)
    for old in (TINY_DIR / "heads").glob("*.json"):
        old.unlink()
    (TINY_DIR / "feedwarden-tiny.bin").write_bytes(tb.to_bytes())
    for hid, h in heads.items():
        (TINY_DIR / "heads" / f"{hid}.json").write_text(dump_json(h), encoding="utf-8")
    golden = {"description": "Expected tiny-model embeddings (first 8 dims) and head probabilities for the Rust "
                             "tests, computed by models/scripts/train_tiny.py from the shipped files.",
              "tolerance_abs": 1e-4, "model_id": MODEL_ID, "sentences": []}
    gts = th.GOLDEN_SENTENCES + ["", "🙂🙂 ok", "Ünïcödé — test\u200b\tTABS\n\nand  spaces",
                                  "WHAT Do You THINK? ΣΟΦΙΑΣ İstanbul ǅemal", "Comment YES if you agree! Tag a friend 👇"]
    ge = tb.features(gts).astype(np.float64)
    for i, t in enumerate(gts):
        row = {"text": t, "token_ids": tokenize(normalize(t), tb.vocab),
               "embedding_head": [th.r6(v) for v in ge[i][:8]],
               "surface": [th.r6(v) for v in ge[i][args.dim:args.dim + len(SURFACE)]],
               "bigram": [th.r6(v) for v in ge[i][args.dim + len(SURFACE):]], "probabilities": {}}
        for hid, h in heads.items():
            row["probabilities"][hid] = th.r6(th.prob(h, ge[i]))
            for s2 in h["sub_labels"]:
                row["probabilities"][f"{hid}/{s2['id']}"] = th.r6(th.prob(s2, ge[i]))
        golden["sentences"].append(row)
    (TINY_DIR / "golden.json").write_text(dump_json(golden), encoding="utf-8")
    import calibrate_judge  # the teacher's id
    manifest = {"model_id": MODEL_ID, "file": "feedwarden-tiny.bin", "bytes": size,
                "sha256": hashlib.sha256(tb.to_bytes()).hexdigest(), "tokens": len(tb.tokens), "dim": args.dim,
                "surface_features": SURFACE, "max_tokens": MAX_TOKENS, "max_token_chars": MAX_TOKEN_CHARS,
                "bigrams": {"buckets": args.bigrams, "dim": BIGRAM_DIM, "bits": BIGRAM_BITS,
                            "tokens_read": BIGRAM_TOKENS, "epochs": args.bigram_epochs, "batch": BIGRAM_BATCH,
                            "learning_rate": BIGRAM_LR, "seed": SEED} if args.bigrams else None,
                "source": {"package": "PyPI wordllama==0.4.0.post1 (MIT)", "wheel": WHEEL,
                           "wheel_sha256": WHEEL_SHA256, "table": WHEEL_TABLE, "tokenizer": WHEEL_TOKENIZER},
                "case_folding": "per-character lowercase before tokenizing",
                "token_table": f"wordllama rows re-fitted to all-MiniLM-L6-v2 sentence embeddings (ridge, "
                               f"λ={refit_lambda}) on {len(train_texts)} training texts + {len(table_pool)} transfer "
                               "pool texts (no generated post)",
                "teacher": f"{calibrate_judge.MODEL_ID} (models/cards/judge.md)",
                "training_token_coverage": round(tb.coverage, 6),
                "feeds_agreement_defaults_python": round(agree, 4),
                "feeds_agreement_held_out_half_python": round(agree_held, 4)}
    (TINY_DIR / "manifest.json").write_text(dump_json(manifest), encoding="utf-8")
    log(f"wrote models/tiny/ ({size} bytes model)")
    print("| head | n | positives | ROC-AUC | F1@0.5 | precision | recall | Brier | judge ROC-AUC |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, v, nv in report:
        print(f"| {name} | {v['n']} | {v['positives']} | {v['roc_auc']:.3f} | {v['f1_at_0_5']:.3f} | "
              f"{v['precision_at_0_5']:.3f} | {v['recall_at_0_5']:.3f} | {v['brier']:.3f} | {nv['roc_auc']:.3f} |")
    log(f"done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
