#!/usr/bin/env python3
"""Probe: a tiny student that sees word order (a convolution over the token table, or with --bigrams a hashed
token-bigram table beside it), distilled with the generated feed-like posts. Measures; writes nothing
(models/cards/tiny.md, "v8" and "Tried first for v8").

    .cache/venv/bin/pip install jax==0.10.2 optax==0.2.8         # once (../shared/ENVIRONMENT.md, "Fine-tuning")
    .cache/venv/bin/python models/scripts/probe_tiny_conv.py     # ~6 min on 2 cores after train_tiny.py's caches
    .cache/venv/bin/python models/scripts/probe_tiny_conv.py --channels 16 | --tune-table | --no-generated
    .cache/venv/bin/python models/scripts/probe_tiny_conv.py --channels 0 --bigrams 16384 --bigram-dim 8 \
        --bigram-bits 4 --epochs 8                              # hashed token bigrams instead (v8's choice)

Why: the bag-of-tokens tiny model agrees with the judge less than showing every post would, and an earlier study
(the card, 2026-12-04) blamed the lack of feed-like distillation text; generate_feed_pool.py now writes such text.

The student, exactly as a Rust engine would compute it (measured once through a temporary Rust + WASM build):
  x_l      = the dequantised row of token l of the shipped table (train_tiny's tokens; the zero vector outside the
             text); --tune-table: a fine-tuned copy of the table (the embedding keeps the shipped one)
  h_l      = relu(conv_b + Σ_{k=0..2} x_{l+k-1} · conv[k])   for the first CONV_TOKENS tokens (--channels values)
  features = embedding (192, unchanged: user-defined categories and feedback use it) ++ the 8 surface features
             ++ mean_l h_l ++ max_l h_l                         (zeros for a text without tokens)
  p        = sigmoid(a · (dot(weights, features) + bias) + b)   (core::heads::Head::probability's form)

The convolution and one output layer per category are trained with Adam for EPOCHS epochs on binary cross-entropy
against the judge's calibrated probabilities (pure distillation) on the judge's fitting rows, the transfer pool and
(unless --no-generated) the generated fitting part. The category heads are that output layer with Platt scaling on
the calibration rows and the generated calibration part (judge probabilities as targets); sub-labels are fitted
as train_tiny.py fits them, on the new features (their validation figures are printed). Reported: decisions under
feedwarden:defaults against the judge's on the generated check part (never fitted; the figure variants are
compared on) and on the captured feeds (for the record), and validation ROC-AUC. Seeded; CPU.
"""
from __future__ import annotations
import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge_data as jd  # noqa: E402
import train_heads as th  # noqa: E402
import train_tiny as tt  # noqa: E402

CHANNELS = 128
WIDTH = 3
EPOCHS = 3
BATCH = 256
LR = 2e-3
TRAIN_TOKENS = 64
CONV_TOKENS = 64  # the convolution reads the first 64 tokens (as in training), the embedding all of them
SEED = 20261205


def log(msg: str) -> None:
    print(f"[probe_tiny_conv] {msg}", file=sys.stderr, flush=True)


class Table:
    """train_tiny's shipped token table (models/tiny/feedwarden-tiny.bin)."""

    def __init__(self, blob: bytes):
        if blob[:8] not in (tt.MAGIC, tt.MAGIC_NO_BIGRAMS):
            th.die("models/tiny/feedwarden-tiny.bin is not a tiny model file")
        n, dim, self.max_tokens, _ = struct.unpack_from("<4I", blob, 8)
        o = 24
        self.mean = np.frombuffer(blob, "<f4", dim, o)
        o += 4 * dim
        scales = np.frombuffer(blob, "<f4", n, o)
        o += 4 * n
        self.rows = np.frombuffer(blob, np.int8, n * dim, o).reshape(n, dim).astype(np.float32) * scales[:, None]
        o += n * dim
        (ln,) = struct.unpack_from("<I", blob, o)
        o += 4 + ln
        self.vocab = tt.Vocab({t: i for i, t in enumerate(blob[o - ln:o].decode("utf-8").split("\n"))})
        self.dim = dim

    def tokens(self, text: str) -> list[int]:
        return tt.tokenize(text, self.vocab)

    def embed(self, ids: list[int]) -> np.ndarray:
        """train_tiny.TinyBuilder.embed for one text's tokens."""
        if not ids:
            return np.zeros(self.dim, np.float32)
        x = self.rows[ids].sum(0, dtype=np.float32) / np.float32(len(ids)) - self.mean
        n = np.linalg.norm(x)
        return (x / n if n > 0 else x).astype(np.float32)


def conv_features(rows: np.ndarray, conv: np.ndarray, conv_b: np.ndarray) -> np.ndarray:
    """mean ++ max over positions of relu(conv_b + Σ_k x_{l+k-1} · conv[k]) for one text's rows [n, d] (f32)."""
    if len(rows) == 0:
        return np.zeros(2 * conv.shape[2], np.float32)
    xp = np.vstack([np.zeros((1, rows.shape[1]), np.float32), rows, np.zeros((1, rows.shape[1]), np.float32)])
    h = conv_b + sum(xp[k:k + len(rows)] @ conv[k] for k in range(WIDTH))
    h = np.maximum(h, 0, dtype=np.float32)
    return np.concatenate([h.mean(0), h.max(0)]).astype(np.float32)


BIGRAM_TOKENS = tt.BIGRAM_TOKENS
TRIGRAMS = False  # --trigrams: token triples hashed into the same table as the pairs


def bigram_ids(tok: list[int], buckets: int) -> list[int]:
    """The hashed pairs as train_tiny (v8) and core compute them; with --trigrams also each triple (a, b, c)
    among the same tokens: the top bits of (((a+1) << 32) + ((b+1) << 16) + c + 1) · 0xC2B2AE3D27D4EB4F."""
    out = tt.bigram_ids(tok, buckets)
    if TRIGRAMS:
        shift = 64 - (buckets.bit_length() - 1)
        t = [x + 1 for x in tok[:BIGRAM_TOKENS]]
        for a, b, c in zip(t, t[1:], t[2:]):
            key = ((a << 32) + (b << 16) + c) & 0xFFFFFFFFFFFFFFFF
            out.append(((key * 0xC2B2AE3D27D4EB4F) & 0xFFFFFFFFFFFFFFFF) >> shift)
    return out


def quantize_table(m: np.ndarray, bits: int) -> np.ndarray:
    """Signed integers of `bits` bits with one f32 scale for the whole table; returned dequantised."""
    top = 2 ** (bits - 1) - 1
    scale = max(float(np.abs(m).max()), 1e-12) / top
    return (np.round(m / scale).clip(-top, top) * scale).astype(np.float32)


def main() -> None:
    import jax
    import jax.numpy as jnp
    import optax

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--channels", type=int, default=CHANNELS)
    ap.add_argument("--tune-table", action="store_true", help="fine-tune a copy of the table for the convolution")
    ap.add_argument("--no-generated", action="store_true", help="leave the generated posts out of the fitting")
    ap.add_argument("--bigrams", type=int, default=0, metavar="BUCKETS",
                    help="add a hashed token-bigram table of BUCKETS rows (a power of two; 0: none)")
    ap.add_argument("--bigram-dim", type=int, default=16)
    ap.add_argument("--bigram-bits", type=int, default=8, choices=(4, 8))
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--trigrams", action="store_true", help="also hash token triples into the bigram table")
    args = ap.parse_args()
    global TRIGRAMS
    TRIGRAMS = args.trigrams
    channels = args.channels
    nb, bd = args.bigrams, (args.bigram_dim if args.bigrams else 0)
    t0 = time.time()
    rows = jd.build(th.data_root())
    col = {t: i for i, t in enumerate(jd.TASKS)}
    y_all, m_all = jd.label_matrix(rows)
    by_split = {s: [i for i, r in enumerate(rows) if r.split == s] for s in ("fit", "cal", "val")}
    pool = tt.transfer_pool(rows)
    gen_fit, gen_cal, gen_check = tt.generated_pool({r.text for r in rows} | set(pool))
    je = tt.JudgeEmbedder()
    _, task = je.embed_all([r.text for r in rows] + pool, "train")  # train_tiny's caches
    _, gtask = je.embed_all(gen_fit + gen_cal + gen_check, "generated")
    task.update(gtask)
    if args.no_generated:  # after embedding them all: the judge's int8 batches (and its check labels) stay the same
        gen_fit, gen_cal = [], []
    nheads = tt.native_heads()
    cats = list(jd.CATEGORIES)

    def teacher(head: dict, texts: list[str]) -> np.ndarray:
        return th.prob(head, np.stack([task[t] for t in texts]).astype(np.float64))

    blob = (tt.TINY_DIR / "feedwarden-tiny.bin").read_bytes()
    table = Table(blob)
    fit_texts = [rows[i].text for i in by_split["fit"]] + pool + gen_fit
    cal_texts = [rows[i].text for i in by_split["cal"]] + gen_cal

    # ---- the convolution, distilled (JAX) ----
    ids = np.zeros((len(fit_texts), TRAIN_TOKENS), np.int32)
    mask = np.zeros((len(fit_texts), TRAIN_TOKENS), np.float32)
    bids = np.zeros((len(fit_texts), 2 * BIGRAM_TOKENS), np.int32)
    bmask = np.zeros((len(fit_texts), 2 * BIGRAM_TOKENS), np.float32)
    emb = np.zeros((len(fit_texts), table.dim if nb else 0), np.float32)  # with bigrams the heads read it too
    sf = np.zeros((len(fit_texts), len(tt.SURFACE)), np.float32)
    for k, t in enumerate(fit_texts):
        t = tt.normalize(t)
        tok = table.tokens(t)
        sf[k] = tt.surface(t, len(tok))
        if nb:
            emb[k] = table.embed(tok)
            b = bigram_ids(tok, nb)
            bids[k, :len(b)] = b
            bmask[k, :len(b)] = 1
        tok = tok[:TRAIN_TOKENS]
        ids[k, :len(tok)] = tok
        mask[k, :len(tok)] = 1
    y = np.stack([teacher(nheads[h], fit_texts) for h in cats], 1).astype(np.float32)
    log(f"{len(fit_texts)} fitting texts ({len(gen_fit)} generated), {len(cal_texts)} calibration, "
        f"{len(gen_check)} generated check posts ({time.time() - t0:.0f} s)")
    frozen = jnp.asarray(table.rows)
    d = table.dim
    n_out = 2 * channels + len(tt.SURFACE) + bd + emb.shape[1]
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(SEED), 3)
    params = {"conv": jax.random.normal(k1, (WIDTH, d, channels)) * (1.0 / np.sqrt(WIDTH * d)),
              "conv_b": jnp.zeros(channels), "out": jax.random.normal(k2, (n_out, len(cats))) * 0.01,
              "out_b": jnp.zeros(len(cats))}
    if nb:
        params["bigram"] = jax.random.normal(k3, (nb, bd)) * 0.1
    if args.tune_table:
        params["table"] = frozen

    def logits(p, ids, mask, sf, bids, bmask, emb):
        x = p.get("table", frozen)[ids] * mask[..., None]  # the zero vector outside the text, as in conv_features
        xp = jnp.pad(x, ((0, 0), (1, 1), (0, 0)))
        h = sum(jnp.einsum("bld,dc->blc", xp[:, k:k + ids.shape[1]], p["conv"][k]) for k in range(WIDTH))
        h = jax.nn.relu(h + p["conv_b"]) * mask[..., None]
        n = jnp.maximum(mask.sum(1, keepdims=True), 1.0)
        parts = [h.sum(1) / n, h.max(1), sf]
        if nb:
            parts.append((p["bigram"][bids] * bmask[..., None]).sum(1) / jnp.maximum(bmask.sum(1, keepdims=True), 1.0))
            parts.append(emb)
        return jnp.concatenate(parts, 1) @ p["out"] + p["out_b"]

    def loss(p, ids, mask, sf, bids, bmask, emb, y):
        z = logits(p, ids, mask, sf, bids, bmask, emb)
        return jnp.mean(jnp.logaddexp(0.0, z) - y * z)

    opt = optax.adam(LR)
    state = opt.init(params)

    @jax.jit
    def step(p, s, ids, mask, sf, bids, bmask, emb, y):
        lv, g = jax.value_and_grad(loss)(p, ids, mask, sf, bids, bmask, emb, y)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, lv

    rng = np.random.default_rng(SEED)
    for ep in range(args.epochs):
        order, tl, te = rng.permutation(len(fit_texts)), 0.0, time.time()
        for i in range(0, len(order) - BATCH + 1, BATCH):
            b = order[i:i + BATCH]
            params, state, lv = step(params, state, ids[b], mask[b], sf[b], bids[b], bmask[b], emb[b], y[b])
            tl += float(lv)
        log(f"epoch {ep + 1}: loss {tl / (len(order) // BATCH):.4f} ({time.time() - te:.0f} s)")
    conv = np.asarray(params["conv"], np.float32)
    conv_b = np.asarray(params["conv_b"], np.float32)
    out = np.asarray(params["out"], np.float64)
    out_b = np.asarray(params["out_b"], np.float64)
    conv_rows = np.asarray(params["table"], np.float32) if args.tune_table else table.rows
    bigram = quantize_table(np.asarray(params["bigram"], np.float32), args.bigram_bits) if nb else None
    if nb:
        log(f"bigram table {nb} x {bd}: {nb * bd * args.bigram_bits // 8} bytes as int{args.bigram_bits}")

    # ---- features as the Rust side computes them (full length, f32) ----
    cache: dict[str, np.ndarray] = {}

    def X(texts: list[str]) -> np.ndarray:
        for t in dict.fromkeys(texts):
            if t not in cache:
                n = tt.normalize(t)
                tok = table.tokens(n)
                parts = [table.embed(tok), np.array(tt.surface(n, len(tok)), np.float32),
                         conv_features(conv_rows[tok[:CONV_TOKENS]], conv, conv_b)]
                if nb:
                    b = bigram_ids(tok, nb)
                    parts.append(bigram[b].mean(0, dtype=np.float32) if b else np.zeros(bd, np.float32))
                cache[t] = np.concatenate(parts)
        return np.stack([cache[t] for t in texts]).astype(np.float64)

    base = d + len(tt.SURFACE)
    heads: dict[str, dict] = {}
    report = []
    Xc = X(cal_texts)
    Xf = X(fit_texts)
    for j, hid in enumerate(cats):
        # the category head: the trained output layer, read on (embedding, surface, mean, max) features
        w = np.zeros(base + 2 * channels + bd)
        w[d:base] = out[2 * channels:2 * channels + len(tt.SURFACE), j]
        w[base:base + 2 * channels] = out[:2 * channels, j]
        o = 2 * channels + len(tt.SURFACE)
        w[base + 2 * channels:] = out[o:o + bd, j]
        if nb:
            w[:d] = out[o + bd:, j]
        weights = [th.r6(v) for v in w]
        bias = th.r6(out_b[j])
        wr = np.array(weights)
        tc = teacher(nheads[hid], cal_texts)
        a, bb = th.fit_platt(Xc @ wr + bias, tc)
        params_h = {"weights": weights, "bias": bias, "calibration": {"a": th.r6(a), "b": th.r6(bb)}}
        vi = [i for i in by_split["val"] if m_all[i, col[hid]] > 0]
        val = th.metrics(y_all[vi, col[hid]], th.prob(params_h, X([rows[i].text for i in vi])),
                         "validation rows of models/scripts/judge_data.py")
        report.append((hid, val, nheads[hid]["validation"]))
        for s in nheads[hid]["sub_labels"]:
            task_id = f"{hid}/{s['id']}"
            k = col[task_id]

            def soft(idx: list[int], extra: list[str], m: float) -> np.ndarray:
                texts = [rows[i].text for i in idx]
                tgt = teacher(s, texts + extra)
                lab = m_all[idx, k] > 0
                tgt[:len(idx)][lab] = (1 - m) * y_all[idx, k][lab] + m * tgt[:len(idx)][lab]
                return tgt

            tf = soft(by_split["fit"], pool + gen_fit, tt.TARGET_MIX)
            tcs = soft(by_split["cal"], gen_cal, tt.CAL_MIX)
            vi = [i for i in by_split["val"] if m_all[i, k] > 0]
            _, v_s, _ = tt.train_head(Xf, tf, Xc, None, tcs, X([rows[i].text for i in vi]), y_all[vi, k],
                                        "validation rows of models/scripts/judge_data.py")
            report.append((task_id, v_s, s["validation"]))
        heads[hid] = params_h

    # ---- agreement: generated check posts (never fitted) and, for the record, the captured feeds ----
    jc = tt.defaults_actions({h: teacher(nheads[h], gen_check) for h in cats})
    xc = X(gen_check)
    tc_ = tt.defaults_actions({h: th.prob(heads[h], xc) for h in cats})
    fts, held = tt.feed_texts()
    fts = [tt.normalize(t) for t in fts]
    _, ft = je.embed_single(fts)
    jf = tt.defaults_actions({h: th.prob(nheads[h], ft.astype(np.float64)) for h in cats})
    xf = X(fts)
    tf_ = tt.defaults_actions({h: th.prob(heads[h], xf) for h in cats})
    agree_c = float(np.mean([a == b for a, b in zip(tc_, jc)]))
    agree_f = float(np.mean([a == b for a, b in zip(tf_, jf)]))
    agree_h = float(np.mean([a == b for a, b, h in zip(tf_, jf, held) if h]))
    log(f"agreement on the {len(gen_check)} generated check posts {agree_c:.4f} (showing all "
        f"{jc.count('show') / len(jc):.4f}); captured feeds {agree_f:.4f} (showing all {jf.count('show') / len(jf):.4f}"
        f"; held-out half {agree_h:.4f}); tiny on the captured feeds {tt.action_counts(tf_)}")
    for name, v, nv in report:
        log(f"  {name}: auc {v['roc_auc']:.3f} f1 {v['f1_at_0_5']:.3f} (judge {nv['roc_auc']:.3f})")
    log(f"done in {time.time() - t0:.0f} s")

if __name__ == "__main__":
    main()
