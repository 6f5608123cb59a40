#!/usr/bin/env python3
"""Benchmark `feedwarden batch` (posts/s with 1 and 2 threads, peak RSS) against the plain Python pipeline
(`tokenizers` + `onnxruntime`, same model, same texts) in the same run. See docs/benchmarks.md,
section "Batch mode (researchers)". Writes target/bench/batch.json.

Inputs: 10,000 real texts: every post of the captured feeds in ../shared/data/feeds (as `feedwarden batch
--with-text` reads them), then TweetEval training tweets in file order until there are 10,000.
"""
import os

# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default; this must be set before it loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
import argparse, json, os, subprocess, sys, tempfile, time, glob, resource
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_avg():
    return os.getloadavg()


def run_timed(cmd, env):
    """Run a command; return (wall seconds, peak RSS MiB) using /usr/bin/time when present."""
    timer = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    t0 = time.perf_counter()
    p = subprocess.run(timer + cmd, env=env, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 3):
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    rss = int(p.stderr.strip().splitlines()[-1]) / 1024 if timer else float("nan")
    return wall, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--bin", default=str(ROOT / "target/release/feedwarden"))
    ap.add_argument("--models-dir", default=os.environ.get("FEEDWARDEN_MODELS_DIR", str(ROOT / "models/build")))
    ap.add_argument("--out", default=str(ROOT / "target/bench/batch.json"))
    ap.add_argument("--no-python", action="store_true")
    a = ap.parse_args()
    shared = Path(os.environ.get("FEEDWARDEN_SHARED_DATA", ROOT.parent / "shared/data"))
    env = dict(os.environ, FEEDWARDEN_MODELS_DIR=a.models_dir)
    work = Path(tempfile.mkdtemp(prefix="fw-bench-batch-"))

    # 1. The texts: captured feeds through feedwarden's own readers, then TweetEval.
    feeds = sorted(glob.glob(str(shared / "feeds" / "*" / "*.json")))
    feeds = [f for f in feeds if "/x-html/" not in f]
    texts = []
    if feeds:
        out = work / "feeds.jsonl"
        subprocess.run([a.bin, "batch", "-q", "--with-text", "-o", str(out), *feeds], env=env, check=False)
        texts += [json.loads(l)["text"] for l in out.read_text().splitlines()]
    n_feeds = len(texts)
    for f in sorted(glob.glob(str(shared / "train" / "tweeteval" / "*" / "train_text.txt"))):
        texts += [l.strip() for l in open(f, encoding="utf-8") if l.strip()]
    if len(texts) < a.n:
        sys.exit(f"bench: only {len(texts)} texts found under {shared}; set FEEDWARDEN_SHARED_DATA")
    texts = texts[: a.n]
    posts = work / "posts.jsonl"
    with open(posts, "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"b{i}", "text": t}) + "\n")
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"inputs: {len(texts)} texts ({n_feeds} from captured feeds), mean {mean_chars:.0f} chars", flush=True)

    res = {"n": len(texts), "from_feeds": n_feeds, "mean_chars": mean_chars, "cpus": os.cpu_count(), "runs": {}}
    # 2. feedwarden batch, 1 and 2 threads (full pipeline: read, judge, heads, decide, write JSONL, fsync).
    for threads in (1, 2):
        la = load_avg()
        wall, rss = run_timed([a.bin, "batch", "-q", "--fresh", str(posts), "-o", str(work / f"t{threads}.jsonl"),
                               "--threads", str(threads)], env)
        r = {"seconds": wall, "posts_per_s": len(texts) / wall, "peak_rss_mib": rss, "load_before": la, "load_after": load_avg()}
        res["runs"][f"feedwarden_{threads}t"] = r
        print(f"feedwarden batch --threads {threads}: {r['posts_per_s']:.0f} posts/s ({wall:.1f} s), "
              f"peak RSS {rss:.0f} MiB, load {la[0]:.2f} -> {r['load_after'][0]:.2f}", flush=True)
    same = (work / "t1.jsonl").read_bytes() == (work / "t2.jsonl").read_bytes()
    res["threads_1_2_identical_output"] = same
    print(f"1-thread and 2-thread outputs byte-identical: {same}")

    # 3. Python: tokenizers + onnxruntime on the same model and texts, batches of 64 with dynamic padding.
    if not a.no_python:
        import numpy as np, onnxruntime as ort
        from tokenizers import Tokenizer
        mdir = Path(a.models_dir) / "feedwarden-judge"
        tok = Tokenizer.from_file(str(mdir / "tokenizer.json"))
        tok.enable_padding()
        tok.enable_truncation(128)
        sess = ort.InferenceSession(str(mdir / "task.int8.onnx"), providers=["CPUExecutionProvider"])
        # like for like: the same session without the optimiser the host leaves out (ENCODER_DISABLED_OPTIMIZERS in
        # native-host/models/src/embedder.rs); reported beside the ratio, which is against Python's defaults
        so = ort.SessionOptions()
        so.add_session_config_entry("optimization.disable_specified_optimizers", "SkipLayerNormFusion")
        host_opts = ort.InferenceSession(str(mdir / "task.int8.onnx"), so, providers=["CPUExecutionProvider"])
        by_length = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for name, order, sess in (("python_input_order", list(range(len(texts))), sess),
                                  ("python_length_sorted", by_length, sess),
                                  ("python_length_sorted_host_options", by_length, host_opts)):
            la = load_avg()
            t0 = time.perf_counter()
            for s in range(0, len(order), 64):
                enc = tok.encode_batch([texts[i] for i in order[s:s + 64]])
                ids = np.array([e.ids for e in enc], dtype=np.int64)
                mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
                sess.run(["task_embedding"], {"input_ids": ids, "attention_mask": mask,
                                                  "token_type_ids": np.zeros_like(ids)})
            wall = time.perf_counter() - t0
            r = {"seconds": wall, "posts_per_s": len(texts) / wall, "load_before": la, "load_after": load_avg(),
                 "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
            res["runs"][name] = r
            print(f"{name}: {r['posts_per_s']:.0f} posts/s ({wall:.1f} s), load {la[0]:.2f} -> {r['load_after'][0]:.2f}",
                  flush=True)
        best_py = max(res["runs"][k]["posts_per_s"] for k in ("python_input_order", "python_length_sorted"))
        ratio = res["runs"]["feedwarden_2t"]["posts_per_s"] / best_py
        res["ratio_vs_best_python"] = ratio
        print(f"feedwarden (2 threads) / best Python: {ratio:.2f}x (target >= 1.5x)")
        same_opts = res["runs"]["feedwarden_2t"]["posts_per_s"] / res["runs"]["python_length_sorted_host_options"][
            "posts_per_s"]
        res["ratio_vs_python_host_options"] = same_opts
        print(f"feedwarden (2 threads) / Python sorted with the host's session options: {same_opts:.2f}x "
              "(informational)")
    fw2 = res["runs"]["feedwarden_2t"]["posts_per_s"]
    print(f"target >= 300 posts/s on 2 cores: {'PASS' if fw2 >= 300 else 'MISS'} ({fw2:.0f})")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
