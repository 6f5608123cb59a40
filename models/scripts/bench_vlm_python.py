"""Python onnxruntime timings of the VLM tier's graphs, the reference for the Rust runtime's benchmark.

For each SmolLM2-135M decoder variant (fp32, int8, q4; models/build/smollm2-135m/) in its own process (so peak
RSS is per variant), with 2 intra-op threads: session load time, prefill of a ~100-token chat prompt, greedy
decode speed over 32 new tokens with the KV cache (stop tokens ignored, so the work is fixed), one yes/no
judgement (prefill + P(yes) from the yes/no token groups) and peak RSS. Plus the tiny SmolVLM vision encoder
(models/build/smolvlm-tiny/, random weights: the cost of the 512×512 input path, not of the real SigLIP encoder).
Prints a table and writes target/bench/vlm_python.json.

    .cache/venv/bin/python models/scripts/bench_vlm_python.py [--repeats 3]
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime loads (docs/security.md)

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_smollm2 import OrtDecoder, chat_prompt  # noqa: E402
from smol_tokenizer import p_yes, yes_no_ids  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SMOLLM2 = ROOT / "models/build/smollm2-135m"
TINY_VLM = ROOT / "models/build/smolvlm-tiny"
VARIANTS = {"fp32": "decoder_model_merged.onnx", "int8": "decoder_model_merged.int8.onnx",
            "q4": "decoder_model_merged.q4.onnx"}
THREADS = 2
DECODE_TOKENS = 32
LONG_USER = ("Here is a post from my feed: \"Just got back from the farmers market with a basket of tomatoes, "
             "peaches and fresh basil. Going to make a big salad tonight and invite the neighbours over. Anyone "
             "have a good recipe for peach salsa? Last time mine was far too sweet.\" Summarise it in one sentence "
             "and say whether it is about food.")
YES_NO_USER = 'Is this post angry? "Worst airline ever, they lost my bag AGAIN." Answer yes or no.'


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_decoder(variant: str, repeats: int) -> dict:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(SMOLLM2 / "tokenizer.json"))
    t0 = time.perf_counter()
    dec = OrtDecoder(SMOLLM2, VARIANTS[variant], threads=THREADS)
    load_s = time.perf_counter() - t0
    ids = tok.encode(chat_prompt(LONG_USER), add_special_tokens=False).ids
    dec.step(ids, dec.empty_cache(), 0)  # warm-up
    prefill = []
    for _ in range(repeats):
        t = time.perf_counter()
        logits, cache = dec.step(ids, dec.empty_cache(), 0)
        prefill.append(time.perf_counter() - t)
    decode = []
    for _ in range(max(1, repeats - 1)):
        logits, cache = dec.step(ids, dec.empty_cache(), 0)
        nxt, n_past = int(np.argmax(logits[-1])), len(ids)
        t = time.perf_counter()
        for _ in range(DECODE_TOKENS):
            logits, cache = dec.step([nxt], cache, n_past)
            n_past += 1
            nxt = int(np.argmax(logits[-1]))
        decode.append(DECODE_TOKENS / (time.perf_counter() - t))
    yes_ids, no_ids = yes_no_ids(tok)
    yn_ids = tok.encode(chat_prompt(YES_NO_USER), add_special_tokens=False).ids
    judge = []
    for _ in range(repeats):
        t = time.perf_counter()
        logits, _ = dec.step(yn_ids, dec.empty_cache(), 0)
        p = p_yes(logits[-1], yes_ids, no_ids)
        judge.append(time.perf_counter() - t)
    return {"variant": variant, "file": VARIANTS[variant], "size_mb": round((SMOLLM2 / VARIANTS[variant]).stat().st_size / 1e6, 1),
            "load_s": round(load_s, 3), "prefill_tokens": len(ids), "prefill_ms": round(1000 * statistics.median(prefill), 1),
            "decode_tokens": DECODE_TOKENS, "decode_tok_per_s": round(statistics.median(decode), 2),
            "yes_no_prompt_tokens": len(yn_ids), "yes_no_ms": round(1000 * statistics.median(judge), 1), "p_yes": round(p, 4),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def bench_tiny_vision(repeats: int) -> dict:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS
    sess = ort.InferenceSession(str(TINY_VLM / "vision_encoder.onnx"), opts, providers=["CPUExecutionProvider"])
    pixels = np.random.default_rng(0).uniform(-1, 1, (1, 1, 3, 512, 512)).astype(np.float32)
    feed = {"pixel_values": pixels, "pixel_attention_mask": np.ones((1, 1, 512, 512), bool)}
    sess.run(None, feed)
    times = []
    for _ in range(repeats * 3):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t)
    return {"variant": "tiny-vision", "file": "smolvlm-tiny/vision_encoder.onnx", "encode_ms": round(1000 * statistics.median(times), 2),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", choices=[*VARIANTS, "tiny-vision"], help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=ROOT / "target/bench/vlm_python.json")
    args = ap.parse_args()
    if args.child:
        result = bench_tiny_vision(args.repeats) if args.child == "tiny-vision" else bench_decoder(args.child, args.repeats)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    missing = [p for p in [SMOLLM2 / f for f in VARIANTS.values()] + [TINY_VLM / "vision_encoder.onnx"] if not p.is_file()]
    if missing:
        raise SystemExit(f"missing {', '.join(map(str, missing))}: run models/scripts/setup_models.sh")
    import onnxruntime

    rows = []
    for child in [*VARIANTS, "tiny-vision"]:
        out = subprocess.run([sys.executable, __file__, "--child", child, "--repeats", str(args.repeats)],
                             check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    report = {"what": "Python onnxruntime, CPU, SmolLM2-135M in SmolVLM's decoder interface + tiny SmolVLM vision encoder",
              "onnxruntime": onnxruntime.__version__, "threads": THREADS, "repeats": args.repeats,
              "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
              "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    head = f"{'variant':<8} {'size MB':>8} {'load s':>7} {'prefill':>16} {'decode tok/s':>13} {'yes/no':>14} {'P(yes)':>7} {'peak RSS MB':>12}"
    lines = [head]
    for r in rows[:-1]:
        lines.append(f"{r['variant']:<8} {r['size_mb']:>8} {r['load_s']:>7} {r['prefill_ms']:>8} ms/{r['prefill_tokens']:>3} tok "
                     f"{r['decode_tok_per_s']:>13} {r['yes_no_ms']:>7} ms/{r['yes_no_prompt_tokens']:>2} tok {r['p_yes']:>7} {r['peak_rss_mb']:>12}")
    v = rows[-1]
    lines.append(f"tiny SmolVLM vision encoder (512x512, random weights): {v['encode_ms']} ms, peak RSS {v['peak_rss_mb']} MB")
    lines.append(f"wrote {args.out} (load average {report['load_average_at_end']})")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
