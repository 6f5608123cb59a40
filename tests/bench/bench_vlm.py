"""Benchmark the generative tier: `feedwarden vlm bench` on the real SmolLM2-135M decoder (fp32, int8, 4-bit),
each graph in a fresh process (peak RSS per graph), beside the same graphs through Python onnxruntime (also
one fresh process each), and the end-to-end describe path on the tiny SmolVLM set (image encoder overhead).

Usage: tests/bench/run_vlm.sh [--threads 2] [--decode-tokens 32] [--runs 5] [--models-dir DIR] [--no-python]
                              [--provider cpu|cuda]
On a GPU machine: `--provider cuda` with FEEDWARDEN_ORT_LIB pointing at the onnxruntime-gpu wheel's
libonnxruntime.so (its providers_cuda/shared libraries beside it, the CUDA runtime on LD_LIBRARY_PATH) and an
onnxruntime-gpu Python (FEEDWARDEN_BENCH_PYTHON): both sides then fail rather than fall back to the CPU.
Prints a table; writes target/bench/vlm.json. See docs/benchmarks.md ("Generative tier").
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The same user text as the Rust default (native-host/src/cli/vlm.rs BENCH_PROMPT), passed explicitly.
PROMPT = (
    "Here is a post from a social-media feed: \"I can't believe they cancelled the late bus again. Third time this "
    "month, and nobody from the council even bothered to explain why. If you rely on public transport to get to "
    "work, you're basically on your own now. Share this if you're as fed up as I am!\" Read it carefully. Is this "
    "post trying to make the reader angry in order to get shares? Answer yes or no."
)
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
GRAPHS = {"fp32": "decoder_model_merged.onnx", "int8": "decoder_model_merged.int8.onnx", "q4": "decoder_model_merged.q4.onnx"}


def python_worker(model_dir: Path, graph: str, threads: int, decode_tokens: int, runs: int, provider: str) -> dict:
    """The same prefill / decode / yes-no loop through Python onnxruntime + tokenizers (run in its own process)."""
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    t0 = time.perf_counter()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CUDAExecutionProvider"] if provider == "cuda" else ["CPUExecutionProvider"]
    embed = ort.InferenceSession(str(model_dir / "embed_tokens.onnx"), so, providers=providers)
    dec = ort.InferenceSession(str(model_dir / graph), so, providers=providers)
    if dec.get_providers()[0] != providers[0]:
        sys.exit(f"bench: onnxruntime runs {dec.get_providers()}, not {providers[0]}")
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    load_ms = (time.perf_counter() - t0) * 1000
    past = [i for i in dec.get_inputs() if i.name.startswith("past_key_values.")]
    out_names = [o.name for o in dec.get_outputs()]
    text = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{PROMPT}<|im_end|>\n<|im_start|>assistant\n"
    ids = tok.encode(text, add_special_tokens=False).ids
    yes = [tok.token_to_id(t) for t in ["yes", "Ġyes", "Yes", "ĠYes"]]
    no = [tok.token_to_id(t) for t in ["no", "Ġno", "No", "ĠNo"]]

    def forward(new_ids, cache, past_len):
        e = embed.run(["inputs_embeds"], {"input_ids": np.array([new_ids], dtype=np.int64)})[0]
        total = past_len + len(new_ids)
        feeds = {
            "inputs_embeds": e,
            "attention_mask": np.ones((1, total), dtype=np.int64),
            "position_ids": np.arange(past_len, total, dtype=np.int64)[None, :],
        }
        feeds.update(cache)
        outs = dict(zip(out_names, dec.run(None, feeds)))
        new_cache = {p.name: outs[p.name.replace("past_key_values", "present")] for p in past}
        return outs["logits"][0, -1], new_cache

    def empty():
        return {p.name: np.zeros((1, p.shape[1], 0, p.shape[3]), dtype=np.float32) for p in past}

    forward(ids, empty(), 0)  # warm-up, as the Rust bench
    prefill = []
    for _ in range(runs):
        t = time.perf_counter()
        logits, cache = forward(ids, empty(), 0)
        prefill.append((time.perf_counter() - t) * 1000)
    n = len(ids)
    t = time.perf_counter()
    for _ in range(decode_tokens):
        nxt = int(np.argmax(logits))
        logits, cache = forward([nxt], cache, n)
        n += 1
    decode_s = time.perf_counter() - t
    yes_no = []
    for _ in range(runs):
        t = time.perf_counter()
        logits, _ = forward(ids, empty(), 0)
        sel = logits[yes + no].astype(np.float64)
        p = np.exp(sel - sel.max())
        _ = p[: len(yes)].sum() / p.sum()
        yes_no.append((time.perf_counter() - t) * 1000)
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    return {
        "load_ms": load_ms,
        "prompt_tokens": len(ids),
        "prefill_ms_median": sorted(prefill)[len(prefill) // 2],
        "decode_tokens_per_s": decode_tokens / decode_s,
        "decode_ms_per_token": decode_s * 1000 / decode_tokens,
        "yes_no_ms_median": sorted(yes_no)[len(yes_no) // 2],
        "peak_rss_mib": hwm / 1024,
        "provider": dec.get_providers()[0],
    }


def run_json(cmd: list) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed:\n{r.stderr}")
    return json.loads(r.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--decode-tokens", type=int, default=32)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models-dir", type=Path, default=Path(os.environ.get("FEEDWARDEN_MODELS_DIR", ROOT / "models/build")))
    ap.add_argument("--no-python", action="store_true")
    ap.add_argument("--provider", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--out", type=Path, default=ROOT / "target/bench/vlm.json")
    ap.add_argument("--python-worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    smollm2 = a.models_dir / "smollm2-135m"
    if a.python_worker:
        print(json.dumps(python_worker(smollm2, a.python_worker, a.threads, a.decode_tokens, a.runs, a.provider)))
        return
    exe = ROOT / "target/release/feedwarden"
    common = ["--threads", str(a.threads), "--runs", str(a.runs), "--decode-tokens", str(a.decode_tokens)]
    os.environ.update({"FEEDWARDEN_MODELS_DIR": str(a.models_dir), "FEEDWARDEN_PROVIDER": a.provider})
    results = {"provider": a.provider, "threads": a.threads, "decode_tokens": a.decode_tokens, "runs": a.runs, "decoder": {}, "tiny_vlm": None}
    for variant, graph in GRAPHS.items():
        if not (smollm2 / graph).is_file():
            print(f"bench: {smollm2 / graph} missing, skipped", file=sys.stderr)
            continue
        rust = run_json([exe, "vlm", "bench", "--model-dir", smollm2, "--decoder", graph, "--prompt", PROMPT, *common])
        py = None
        if not a.no_python:
            py = run_json([sys.executable, __file__, "--python-worker", graph, "--models-dir", a.models_dir, *common[:2],
                           "--runs", str(a.runs), "--decode-tokens", str(a.decode_tokens), "--provider", a.provider])
        results["decoder"][variant] = {"graph": graph, "size_mb": (smollm2 / graph).stat().st_size / 1e6, "rust": rust, "python": py}
    tiny = a.models_dir / "smolvlm-tiny"
    if (tiny / "test.png").is_file():
        results["tiny_vlm"] = run_json([exe, "vlm", "bench", "--model-dir", tiny, "--image", tiny / "test.png", *common])
    print(f"{'graph':<6} {'MB':>6} | {'prefill ms':>10} {'tok/s':>7} {'yes/no ms':>9} {'RSS MiB':>8} | python: {'prefill':>8} {'tok/s':>7} {'yes/no':>7} {'RSS':>6}")
    for v, r in results["decoder"].items():
        x, p = r["rust"], r["python"] or {}
        print(f"{v:<6} {r['size_mb']:>6.0f} | {x['prefill_ms_median']:>10.1f} {x['decode_tokens_per_s']:>7.1f} "
              f"{x['yes_no_ms_median']:>9.1f} {x['peak_rss_mib']:>8.0f} | "
              f"{p.get('prefill_ms_median', float('nan')):>16.1f} {p.get('decode_tokens_per_s', float('nan')):>7.1f} "
              f"{p.get('yes_no_ms_median', float('nan')):>7.1f} {p.get('peak_rss_mib', float('nan')):>6.0f}")
        print(f"       prompt tokens: rust {x['prompt_tokens']}, python {p.get('prompt_tokens')}")
    if results["tiny_vlm"]:
        t = results["tiny_vlm"]
        print(f"tiny SmolVLM: image encode {t['image_encode_ms_median']:.1f} ms, describe (16 tokens) "
              f"{t['describe_e2e_ms_median']:.1f} ms vs {t['same_tokens_text_only_ms_median']:.1f} ms text-only "
              f"(overhead {t['image_overhead_ms']:.1f} ms), RSS {t['peak_rss_mib']:.0f} MiB")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, indent=1, default=str))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
