#!/usr/bin/env python3
"""Where the judge's encoder spends its time, per ONNX operator type, with ONNX Runtime's default graph optimisers
and with the host's (`SkipLayerNormFusion` left out: ENCODER_DISABLED_OPTIMIZERS in
native-host/models/src/embedder.rs). See docs/benchmarks.md, "Without SkipLayerNormFusion".

    .cache/venv/bin/python tests/bench/encoder_ops.py [--n 2000] [--reps 3]

Runs feedwarden-judge/task.int8.onnx (the graph the host runs under the shipped defaults) on one thread, texts
sorted by length in chunks of 4 as the host's encoder pool does: ms per post for both session settings
(interleaved, `--reps` rounds), the largest and mean difference of their task embeddings, and each setting's
share of kernel time per operator type (ONNX Runtime's profiler, one more round). Inputs: TweetEval training
tweets from ../shared/data (FEEDWARDEN_SHARED_DATA), in file order.
"""
import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # before onnxruntime loads
import argparse
import collections
import glob
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
HOST_DISABLED = "SkipLayerNormFusion"


def session(model: Path, disabled: str, profile_dir: str | None = None) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    if disabled:
        so.add_session_config_entry("optimization.disable_specified_optimizers", disabled)
    if profile_dir:
        so.enable_profiling = True
        so.profile_file_prefix = os.path.join(profile_dir, "ops")
    return ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])


def op_shares(sess: ort.InferenceSession, batches: list[dict]) -> list[tuple[str, float]]:
    for b in batches:
        sess.run(["task_embedding"], b)
    events = json.load(open(sess.end_profiling()))
    total: collections.Counter = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            total[e["args"]["op_name"]] += e["dur"]
    s = sum(total.values()) or 1
    return [(op, 100.0 * t / s) for op, t in total.most_common(8)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--models-dir", type=Path,
                    default=Path(os.environ.get("FEEDWARDEN_MODELS_DIR", ROOT / "models" / "build")))
    a = ap.parse_args()
    mdir = a.models_dir / "feedwarden-judge"
    model = mdir / "task.int8.onnx"
    if not model.is_file():
        sys.exit(f"{model} missing: run models/scripts/setup_models.sh")
    shared = Path(os.environ.get("FEEDWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    texts: list[str] = []
    for f in sorted(glob.glob(str(shared / "train" / "tweeteval" / "*" / "train_text.txt"))):
        texts += [line.strip() for line in open(f, encoding="utf-8") if line.strip()]
    if len(texts) < a.n:
        sys.exit(f"only {len(texts)} texts under {shared}; set FEEDWARDEN_SHARED_DATA")
    texts = texts[: a.n]
    tok = Tokenizer.from_file(str(mdir / "tokenizer.json"))
    tok.enable_padding()
    tok.enable_truncation(128)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = []
    for k in range(0, len(order), 4):
        enc = tok.encode_batch([texts[i] for i in order[k:k + 4]])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        batches.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
    settings = {"ONNX Runtime defaults": "", f"host (without {HOST_DISABLED})": HOST_DISABLED}
    sessions = {name: session(model, d) for name, d in settings.items()}
    times: dict[str, list[float]] = {name: [] for name in settings}
    outs: dict[str, np.ndarray] = {}
    for _ in range(a.reps):
        for name, s in sessions.items():
            t0 = time.perf_counter()
            outs[name] = np.concatenate([s.run(["task_embedding"], b)[0] for b in batches])
            times[name].append((time.perf_counter() - t0) * 1000.0 / len(texts))
    print(f"{len(texts)} tweets, 1 thread, chunks of 4 sorted by length, onnxruntime {ort.__version__}")
    for name, t in times.items():
        print(f"  {name}: {' / '.join(f'{x:.2f}' for x in t)} ms per post")
    a_out, b_out = outs.values()
    d = np.abs(a_out - b_out)
    print(f"  task_embedding difference: max {d.max():.4f}, mean {d.mean():.5f}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, disabled in settings.items():
            shares = op_shares(session(model, disabled, tmp), batches)
            print(f"  kernel time by operator, {name}: " + ", ".join(f"{op} {p:.1f} %" for op, p in shares))


if __name__ == "__main__":
    main()
