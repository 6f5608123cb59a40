#!/usr/bin/env python3
"""Latency / throughput / memory benchmark of `feedwarden-host` through its real native-messaging framing,
compared with the plain Python pipeline (tokenizers + onnxruntime) on the same model and the same inputs.

Run it with the project's venv (`.cache/venv/bin/python`, created by models/scripts/setup_models.sh), or
simply `tests/bench/run.sh`, which builds the release binaries first. Uses only the standard library, numpy,
onnxruntime and tokenizers.

Measures (see docs/benchmarks.md):
  1. spawn -> first verdict (fresh process + fresh FEEDWARDEN_HOME each run): median, max
  2. uncached per-post latency, one ~280-char post per request: p50/p95/p99
  3. uncached batches of 16 posts per request: p50/p95 per request and per post
  4. cache-hit latency, already-judged posts re-sent one per request: p50/p95
  5. uncached batch throughput (posts/s), requests of --batch posts
  6. peak RSS of the host process (VmHWM), read right before closing it
  7. the same model + inputs through tokenizers + onnxruntime in Python: single-post p50/p95, throughput,
     and host/Python ratios

Targets are informational (PASS/MISS): a miss never fails the script. The script exits non-zero only on a
real failure: the host replies with an error, says it is not ready, returns the wrong verdicts, or dies.
"""
from __future__ import annotations

import os

# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default; this must be set before it loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import datetime as _dt
import glob
import json
import platform
import random
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POST_CHARS = 280
READ_TIMEOUT_S = 300.0  # one reply; a slow loaded machine is fine, a hung host is not

TARGETS = {
    "first_verdict_ms": ("<=", 1000.0, "first verdict <= 1 s"),
    "uncached_p95_ms": ("<=", 15.0, "p95 <= 15 ms per uncached post"),
    "cache_hit_p95_ms": ("<=", 1.0, "cache hit <= 1 ms"),
    "throughput_posts_s": (">=", 300.0, ">= 300 posts/s in batch"),
    "peak_rss_mb": ("<=", 250.0, "RSS <= 250 MiB"),
}


class HostFailure(Exception):
    """The host answered with an error, returned wrong verdicts, or died: a real failure (exit 1)."""


# --------------------------------------------------------------------------------------------- inputs

FALLBACK_WORDS = """
the a this that my your our their some every no each one two three new old big small good bad great awful
people friends family neighbours players fans voters students teachers doctors drivers kids parents workers
city team game match season election policy vote price market coffee weather train bus flight phone app
movie album show book story news report thread photo video post comment reply account timeline feed
love hate like want need think know see watch read say said tell told make made take took give gave find
found keep kept start started stop stopped try tried win won lose lost pay paid build built break broke
today yesterday tomorrow tonight morning evening weekend again already still never always maybe really
very quite too so just only even also actually honestly seriously literally basically probably clearly
happy sad angry tired excited worried proud bored calm funny weird strange loud quiet fast slow late early
because but and or if when while after before although unless since until though whereas
""".split()


def fallback_posts(n: int, rng: random.Random) -> list[str]:
    """Varied ~280-char texts from a word list (used when the TweetEval files are absent)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        parts: list[str] = []
        length = 0
        while length < POST_CHARS:
            words = rng.choices(FALLBACK_WORDS, k=rng.randint(6, 16))
            sentence = " ".join(words).capitalize() + rng.choice([".", "!", "?", "..."])
            parts.append(sentence)
            length += len(sentence) + 1
        text = cut(" ".join(parts))
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def cut(text: str) -> str:
    """At most POST_CHARS characters, cut at a word boundary."""
    if len(text) <= POST_CHARS:
        return text
    head = text[:POST_CHARS]
    space = head.rfind(" ")
    return head[:space] if space > POST_CHARS * 0.8 else head


def load_tweets(shared: Path) -> list[str]:
    tweets: list[str] = []
    for f in sorted(glob.glob(str(shared / "train" / "tweeteval" / "*" / "train_text.txt"))):
        with open(f, encoding="utf-8", errors="replace") as fh:
            tweets.extend(" ".join(line.split()) for line in fh if line.strip())
    return tweets


def build_posts(n: int, seed: int) -> tuple[list[str], str]:
    """`n` distinct ~280-char texts: TweetEval tweets concatenated, or word-list sentences."""
    rng = random.Random(seed)
    shared = Path(os.environ.get("FEEDWARDEN_SHARED_DATA") or (REPO.parent / "shared" / "data"))
    tweets = load_tweets(shared)
    if len(tweets) < 50:
        return fallback_posts(n, rng), "generated sentences (word list; TweetEval not found under %s)" % shared
    out: list[str] = []
    seen: set[str] = set()
    rounds = 0
    while len(out) < n:
        order = tweets[:]
        rng.shuffle(order)
        rounds += 1
        i = 0
        while i < len(order) and len(out) < n:
            parts: list[str] = []
            length = 0
            while length < POST_CHARS and i < len(order):
                parts.append(order[i])
                length += len(order[i]) + 1
                i += 1
            text = cut(" ".join(parts))
            if len(text) >= POST_CHARS * 0.8 and text not in seen:
                seen.add(text)
                out.append(text)
        if rounds > 20:
            out.extend(fallback_posts(n - len(out), rng))
    src = "TweetEval train_text.txt (%d tweets from %s), concatenated to ~%d chars" % (len(tweets), shared, POST_CHARS)
    return out, src


# --------------------------------------------------------------------------------------------- host client


class HostProcess:
    """One `feedwarden-host` process spoken to through native-messaging frames."""

    def __init__(self, binary: Path, models_dir: Path | None):
        self.home = Path(tempfile.mkdtemp(prefix="fw-bench-home-"))
        self.stderr_path = self.home / "host.stderr"
        env = dict(os.environ)
        env["FEEDWARDEN_HOME"] = str(self.home)
        if models_dir is not None:
            env["FEEDWARDEN_MODELS_DIR"] = str(models_dir)
        self._stderr = open(self.stderr_path, "wb")
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env, bufsize=0
        )
        self.fd_out = self.proc.stdout.fileno()
        self.next_id = 1

    # framing ---------------------------------------------------------------------------------
    def send(self, msg: dict) -> None:
        body = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            self.proc.stdin.write(struct.pack("=I", len(body)) + body)  # native byte order, like the browser
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise HostFailure("host closed its stdin (died?)" + self._died_detail()) from None

    def _read_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            ready, _, _ = select.select([self.fd_out], [], [], READ_TIMEOUT_S)
            if not ready:
                raise HostFailure("no reply within %.0f s (host hung?)" % READ_TIMEOUT_S)
            chunk = os.read(self.fd_out, n - len(buf))
            if not chunk:
                raise HostFailure("host closed stdout" + self._died_detail())
            buf.extend(chunk)
        return bytes(buf)

    def recv(self) -> dict:
        (length,) = struct.unpack("=I", self._read_exact(4))
        reply = json.loads(self._read_exact(length).decode("utf-8"))
        if reply.get("type") == "error":
            raise HostFailure("host replied with an error: %s" % json.dumps(reply))
        return reply

    def _died_detail(self) -> str:
        try:
            rc = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            rc = None
        return " (exit status %s); stderr tail:\n%s" % (rc, self.stderr_tail())

    def stderr_tail(self, n: int = 2000) -> str:
        try:
            return self.stderr_path.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    # requests --------------------------------------------------------------------------------
    def rid(self) -> int:
        self.next_id += 1
        return self.next_id

    def hello(self) -> dict:
        rid = self.rid()
        self.send({"type": "hello", "request_id": rid, "client": "feedwarden-bench"})
        return check_hello(self.recv(), rid)

    def classify(self, texts: list[str], expect_cached: bool | None) -> tuple[float, dict]:
        """One classify request; returns (round-trip seconds, reply). Checks the verdicts."""
        rid = self.rid()
        posts = [{"id": "p%d" % k, "text": t, "site": "x.com"} for k, t in enumerate(texts)]
        t0 = time.perf_counter()
        self.send({"type": "classify", "request_id": rid, "posts": posts})
        reply = self.recv()
        dt = time.perf_counter() - t0
        check_verdicts(reply, rid, posts, expect_cached)
        return dt, reply

    def cpu_seconds(self) -> float:
        """utime + stime of the host process so far (all its threads)."""
        with open("/proc/%d/stat" % self.proc.pid) as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status_memory(self) -> dict:
        mem = {}
        with open("/proc/%d/status" % self.proc.pid) as fh:
            for line in fh:
                key, _, val = line.partition(":")
                if key in ("VmHWM", "VmRSS", "VmPeak"):
                    mem[key] = int(val.split()[0]) / 1024.0  # kB -> MiB
        return mem

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
            self._stderr.close()
            if rc not in (0, None):
                raise HostFailure("host exited with status %s after stdin closed; stderr tail:\n%s" % (rc, self.stderr_tail()))
        else:
            self._stderr.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)


def check_hello(reply: dict, rid: int) -> dict:
    if reply.get("type") != "hello" or reply.get("request_id") != rid:
        raise HostFailure("unexpected reply to hello: %s" % json.dumps(reply)[:500])
    if not reply.get("ready"):
        raise HostFailure("host is not ready: %s" % reply.get("error"))
    return reply


def check_verdicts(reply: dict, rid: int, posts: list[dict], expect_cached: bool | None) -> None:
    if reply.get("type") != "verdicts" or reply.get("request_id") != rid:
        raise HostFailure("unexpected reply to classify: %s" % json.dumps(reply)[:500])
    verdicts = reply.get("verdicts") or []
    if [v.get("id") for v in verdicts] != [p["id"] for p in posts]:
        raise HostFailure("verdict ids do not match the posts sent (request %s)" % rid)
    for v in verdicts:
        if v.get("action") not in ("show", "label", "blur", "hide", "allow"):
            raise HostFailure("verdict with an unknown action: %s" % json.dumps(v)[:300])
        if expect_cached is not None and bool(v.get("cached")) != expect_cached:
            raise HostFailure(
                "verdict %s has cached=%s, expected %s (bench inputs not distinct, or cache broken)"
                % (v.get("id"), v.get("cached"), expect_cached)
            )


# --------------------------------------------------------------------------------------------- stats


def pct(values: list[float], q: float) -> float:
    """Percentile with linear interpolation (numpy's default)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(seconds: list[float]) -> list[float]:
    return [x * 1000.0 for x in seconds]


def summary(values_ms: list[float]) -> dict:
    return {
        "n": len(values_ms),
        "p50_ms": pct(values_ms, 50),
        "p95_ms": pct(values_ms, 95),
        "p99_ms": pct(values_ms, 99),
        "mean_ms": statistics.fmean(values_ms) if values_ms else float("nan"),
        "max_ms": max(values_ms) if values_ms else float("nan"),
    }


def loadavg() -> list[float]:
    try:
        return [float(x) for x in open("/proc/loadavg").read().split()[:3]]
    except OSError:
        return []


def machine() -> dict:
    info = {"cpu_model": platform.processor() or "unknown", "logical_cpus": os.cpu_count(), "kernel": platform.release()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            key, _, val = line.partition(":")
            key, val = key.strip(), val.strip()
            if key == "Model name":
                info["cpu_model"] = val
            elif key == "CPU(s)":
                info["lscpu_cpus"] = val
            elif key == "Thread(s) per core":
                info["threads_per_core"] = val
            elif key == "Core(s) per socket":
                info["cores_per_socket"] = val
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        info["affinity_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "core", "native-host"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "") if rev else "unknown"
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------------------------- benches


def bench_first_verdict(binary: Path, models_dir: Path | None, runs: int, posts: list[str]) -> dict:
    """Spawn -> hello + classify(1 post) written at once -> classify reply read. Fresh process and home each run."""
    totals, hellos = [], []
    for r in range(runs):
        h = HostProcess(binary, models_dir)
        try:
            h.send({"type": "hello", "request_id": 1})
            post = {"id": "first", "text": posts[r], "site": "x.com"}
            h.send({"type": "classify", "request_id": 2, "posts": [post]})
            check_hello(h.recv(), 1)
            t_hello = time.perf_counter()
            reply = h.recv()
            t_verdict = time.perf_counter()
            check_verdicts(reply, 2, [post], expect_cached=False)
            hellos.append(t_hello - h.t_spawn)
            totals.append(t_verdict - h.t_spawn)
            h.close()
        except BaseException:
            h.kill()
            raise
    return {
        "runs": runs,
        "median_ms": statistics.median(ms(totals)),
        "max_ms": max(ms(totals)),
        "all_ms": ms(totals),
        "hello_median_ms": statistics.median(ms(hellos)),
    }


def bench_host(binary: Path, models_dir: Path | None, cfg: dict, pool: "Pool") -> dict:
    res: dict = {}
    h = HostProcess(binary, models_dir)
    try:
        hello = h.hello()
        res["hello"] = {k: hello.get(k) for k in ("version", "protocol", "provider", "models", "policy")}
        for t in pool.take(cfg["warmup"]):  # warm-up: distinct, uncached, not measured
            h.classify([t], expect_cached=False)

        # 2. uncached, one post per request
        single_texts = pool.take(cfg["single"])
        rtt, internal = [], []
        for t in single_texts:
            dt, reply = h.classify([t], expect_cached=False)
            rtt.append(dt)
            internal.append(float(reply.get("elapsed_ms", float("nan"))))
        res["uncached_single"] = summary(ms(rtt))
        res["uncached_single"]["host_internal_p50_ms"] = pct(internal, 50)
        res["uncached_single"]["host_internal_p95_ms"] = pct(internal, 95)

        # 3. uncached, 16 posts per request
        b16 = cfg["batch16_size"]
        rtt16 = []
        for _ in range(cfg["batch16_requests"]):
            dt, _ = h.classify(pool.take(b16), expect_cached=False)
            rtt16.append(dt)
        per_req = summary(ms(rtt16))
        res["uncached_batch16"] = {
            "posts_per_request": b16,
            "requests": len(rtt16),
            "per_request": per_req,
            "per_post_p50_ms": per_req["p50_ms"] / b16,
            "per_post_p95_ms": per_req["p95_ms"] / b16,
        }

        # 4. cache hits: re-send already-judged texts one per request (with new ids)
        hit_texts = single_texts[: cfg["cache_hits"]]
        rtt_hit, internal_hit = [], []
        for t in hit_texts:
            dt, reply = h.classify([t], expect_cached=True)
            rtt_hit.append(dt)
            internal_hit.append(float(reply.get("elapsed_ms", float("nan"))))
        res["cache_hit_single"] = summary(ms(rtt_hit))
        res["cache_hit_single"]["host_internal_p50_ms"] = pct(internal_hit, 50)

        # 5. uncached batch throughput
        bs = cfg["batch"]
        tp_texts = pool.take(cfg["throughput_posts"])
        cpu0 = h.cpu_seconds()
        t0 = time.perf_counter()
        for i in range(0, len(tp_texts), bs):
            h.classify(tp_texts[i : i + bs], expect_cached=False)
        elapsed = time.perf_counter() - t0
        cpu = h.cpu_seconds() - cpu0
        res["throughput"] = {
            "posts": len(tp_texts),
            "posts_per_request": bs,
            "seconds": elapsed,
            "posts_per_s": len(tp_texts) / elapsed,
            "cpu_seconds": cpu,
            "cpu_ms_per_post": cpu * 1000.0 / len(tp_texts),
        }
        res["_throughput_texts"] = tp_texts
        res["_single_texts"] = single_texts

        # 6. peak RSS, right before closing
        mem = h.status_memory()
        res["memory"] = {"peak_rss_mb": mem.get("VmHWM"), "rss_at_end_mb": mem.get("VmRSS")}
        if h.proc.poll() is not None:
            raise HostFailure("host died" + h._died_detail())
        h.close()
    except BaseException:
        h.kill()
        raise
    return res


def bench_python(models_dir: Path, single_texts: list[str], tp_texts: list[str], batch: int, warmup: list[str]) -> dict:
    """The pipeline a researcher would write: tokenizers + onnxruntime, default session options, CPU."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    mdir = models_dir / "feedwarden-judge"
    t_load = time.perf_counter()
    tok = Tokenizer.from_file(str(mdir / "tokenizer.json"))
    tok.enable_padding()  # batch longest (also what tokenizer.json says)
    tok.enable_truncation(max_length=128)
    sess = ort.InferenceSession(str(mdir / "task.int8.onnx"), providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t_load

    def embed(texts: list[str]):
        encs = tok.encode_batch(texts)
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        types = np.zeros_like(ids)
        (out,) = sess.run(["task_embedding"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        return out

    for t in warmup:
        embed([t])
    lat = []
    for t in single_texts:
        t0 = time.perf_counter()
        embed([t])
        lat.append(time.perf_counter() - t0)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(0, len(tp_texts), batch):
        out = embed(tp_texts[i : i + batch])
        assert out.shape[1] == 384
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    tok.no_padding()
    ntok = [len(e.ids) for e in tok.encode_batch(single_texts[:200])]
    return {
        "onnxruntime": ort.__version__,
        "load_ms": load_s * 1000.0,
        "single": summary(ms(lat)),
        "throughput": {"posts": len(tp_texts), "posts_per_request": batch, "seconds": elapsed, "posts_per_s": len(tp_texts) / elapsed,
                       "cpu_seconds": cpu, "cpu_ms_per_post": cpu * 1000.0 / len(tp_texts)},
        "tokens_per_post_mean": statistics.fmean(ntok) if ntok else None,
        "tokens_per_post_max": max(ntok) if ntok else None,
    }


class Pool:
    """Hands out distinct texts, never the same one twice."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.i = 0

    def take(self, n: int) -> list[str]:
        if self.i + n > len(self.texts):
            raise RuntimeError("text pool exhausted")
        out = self.texts[self.i : self.i + n]
        self.i += n
        return out


# --------------------------------------------------------------------------------------------- report


def verdict(name: str, value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    op, limit, _ = TARGETS[name]
    ok = value <= limit if op == "<=" else value >= limit
    return "PASS" if ok else "MISS"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer iterations (smoke run, well under a minute)")
    ap.add_argument("--host", type=Path, default=REPO / "target" / "release" / "feedwarden-host", help="host binary")
    ap.add_argument("--models-dir", type=Path, default=None, help="models folder (default: $FEEDWARDEN_MODELS_DIR or models/build)")
    ap.add_argument("--out", type=Path, default=REPO / "target" / "bench" / "host.json", help="JSON result file")
    ap.add_argument("--batch", type=int, default=64, help="posts per request in the throughput runs (max 256)")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--no-python", action="store_true", help="skip the Python comparison")
    args = ap.parse_args()

    if args.quick:
        cfg = dict(first_runs=2, warmup=5, single=40, batch16_size=16, batch16_requests=8, cache_hits=40, throughput_posts=256)
    else:
        cfg = dict(first_runs=5, warmup=20, single=300, batch16_size=16, batch16_requests=40, cache_hits=300, throughput_posts=2000)
    cfg["batch"] = max(1, min(256, args.batch))
    cfg["cache_hits"] = min(cfg["cache_hits"], cfg["single"])

    models_dir = args.models_dir or Path(os.environ.get("FEEDWARDEN_MODELS_DIR") or (REPO / "models" / "build"))
    models_dir = models_dir.resolve()
    if not args.host.is_file():
        print("bench: %s not found; build it with `cargo build --release` (or run tests/bench/run.sh)" % args.host, file=sys.stderr)
        return 2
    if not (models_dir / "feedwarden-judge" / "model.int8.onnx").is_file():
        print("bench: no model under %s; run models/scripts/setup_models.sh" % models_dir, file=sys.stderr)
        return 2

    need = cfg["first_runs"] + cfg["warmup"] + cfg["single"] + cfg["batch16_size"] * cfg["batch16_requests"] + cfg["throughput_posts"]
    texts, source = build_posts(need, args.seed)
    lengths = [len(t) for t in texts]
    pool = Pool(texts[cfg["first_runs"] :])

    started = _dt.datetime.now(_dt.timezone.utc)
    load_before = loadavg()
    print("feedwarden-host bench%s: %s" % (" (quick)" if args.quick else "", started.strftime("%Y-%m-%d %H:%M UTC")))
    info = machine()
    print("machine: %s, %s logical CPUs; load average before: %s" % (info.get("cpu_model"), info.get("logical_cpus"), " ".join("%.2f" % x for x in load_before)))
    print("inputs: %d distinct posts, %d-%d chars (mean %.0f); %s" % (len(texts), min(lengths), max(lengths), statistics.fmean(lengths), source))
    print("host: %s (git %s); models: %s" % (args.host, git_rev(), models_dir))
    sys.stdout.flush()

    try:
        print("[1/3] spawn -> first verdict, %d fresh processes ..." % cfg["first_runs"], flush=True)
        first = bench_first_verdict(args.host, models_dir, cfg["first_runs"], texts[: cfg["first_runs"]])
        print("[2/3] host: per-post, batch-16, cache-hit, throughput, RSS ...", flush=True)
        host = bench_host(args.host, models_dir, cfg, pool)
    except HostFailure as e:
        print("\nbench: FAILURE: %s" % e, file=sys.stderr)
        return 1
    single_texts = host.pop("_single_texts")
    tp_texts = host.pop("_throughput_texts")
    load_mid = loadavg()

    py = None
    if not args.no_python:
        print("[3/3] Python pipeline (tokenizers + onnxruntime), same model and inputs ...", flush=True)
        py = bench_python(models_dir, single_texts, tp_texts, cfg["batch"], texts[: cfg["first_runs"]] + single_texts[: cfg["warmup"]])
    load_after = loadavg()

    figures = {
        "first_verdict_ms": first["max_ms"],
        "uncached_p95_ms": host["uncached_single"]["p95_ms"],
        "cache_hit_p95_ms": host["cache_hit_single"]["p95_ms"],
        "throughput_posts_s": host["throughput"]["posts_per_s"],
        "peak_rss_mb": host["memory"]["peak_rss_mb"],
    }
    targets = {k: {"target": TARGETS[k][2], "value": v, "result": verdict(k, v)} for k, v in figures.items()}
    ratios = None
    if py:
        ratios = {
            "throughput_host_over_python": host["throughput"]["posts_per_s"] / py["throughput"]["posts_per_s"],
            "latency_p50_host_over_python": host["uncached_single"]["p50_ms"] / py["single"]["p50_ms"],
            "latency_p95_host_over_python": host["uncached_single"]["p95_ms"] / py["single"]["p95_ms"],
            "cpu_per_post_host_over_python": host["throughput"]["cpu_ms_per_post"] / py["throughput"]["cpu_ms_per_post"],
        }

    # ---- table
    us, b16, hit, tp = host["uncached_single"], host["uncached_batch16"], host["cache_hit_single"], host["throughput"]
    rows = [
        ("spawn -> first verdict, median (n=%d)" % first["runs"], "%.0f ms" % first["median_ms"], "", ""),
        ("spawn -> first verdict, max", "%.0f ms" % first["max_ms"], TARGETS["first_verdict_ms"][2], targets["first_verdict_ms"]["result"]),
        ("  (of which spawn -> hello reply, median)", "%.0f ms" % first["hello_median_ms"], "", ""),
        ("uncached 1 post/request, p50 (n=%d)" % us["n"], "%.2f ms" % us["p50_ms"], "", ""),
        ("uncached 1 post/request, p95", "%.2f ms" % us["p95_ms"], TARGETS["uncached_p95_ms"][2], targets["uncached_p95_ms"]["result"]),
        ("uncached 1 post/request, p99", "%.2f ms" % us["p99_ms"], "", ""),
        ("  (host-internal elapsed_ms p50 / p95)", "%.2f / %.2f ms" % (us["host_internal_p50_ms"], us["host_internal_p95_ms"]), "", ""),
        ("uncached 16 posts/request, p50 per request (n=%d)" % b16["requests"], "%.1f ms" % b16["per_request"]["p50_ms"], "", ""),
        ("uncached 16 posts/request, p95 per request", "%.1f ms" % b16["per_request"]["p95_ms"], "", ""),
        ("uncached 16 posts/request, p50 / p95 per post", "%.2f / %.2f ms" % (b16["per_post_p50_ms"], b16["per_post_p95_ms"]), "", ""),
        ("cache hit 1 post/request, p50 (n=%d)" % hit["n"], "%.3f ms" % hit["p50_ms"], "", ""),
        ("cache hit 1 post/request, p95", "%.3f ms" % hit["p95_ms"], TARGETS["cache_hit_p95_ms"][2], targets["cache_hit_p95_ms"]["result"]),
        ("throughput, %d posts in requests of %d" % (tp["posts"], tp["posts_per_request"]), "%.0f posts/s" % tp["posts_per_s"], TARGETS["throughput_posts_s"][2], targets["throughput_posts_s"]["result"]),
        ("  (host CPU time per post in that run, all threads)", "%.2f ms" % tp["cpu_ms_per_post"], "", ""),
        ("peak RSS of the host (VmHWM)", "%.0f MiB" % host["memory"]["peak_rss_mb"], TARGETS["peak_rss_mb"][2], targets["peak_rss_mb"]["result"]),
    ]
    if py:
        rows += [
            ("Python tokenizers+onnxruntime, 1 post p50", "%.2f ms" % py["single"]["p50_ms"], "", ""),
            ("Python tokenizers+onnxruntime, 1 post p95", "%.2f ms" % py["single"]["p95_ms"], "", ""),
            ("Python throughput, requests of %d" % py["throughput"]["posts_per_request"], "%.0f posts/s" % py["throughput"]["posts_per_s"], "", ""),
            ("  (Python CPU time per post in that run, all threads)", "%.2f ms" % py["throughput"]["cpu_ms_per_post"], "", ""),
            ("host/Python throughput ratio (>1: host faster)", "%.2fx" % ratios["throughput_host_over_python"], "", ""),
            ("host/Python latency ratio p50 / p95 (<1: host faster)", "%.2fx / %.2fx" % (ratios["latency_p50_host_over_python"], ratios["latency_p95_host_over_python"]), "", ""),
            ("host/Python CPU time per post in batch (<1: host cheaper)", "%.2fx" % ratios["cpu_per_post_host_over_python"], "", ""),
        ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    print()
    print("%-*s  %*s  %-*s  %s" % (w0, "measure", w1, "value", w2, "target", "result"))
    print("-" * (w0 + w1 + w2 + 14))
    for r in rows:
        print("%-*s  %*s  %-*s  %s" % (w0, r[0], w1, r[1], w2, r[2], r[3]))
    print()
    if py:
        print("note: host figures are end-to-end through stdin/stdout framing and include JSON (de)serialisation, the")
        print("      SQLite cache lookup + write, the classification heads and the policy; the Python figures are the bare")
        print("      tokenizer + ONNX Runtime call. The host does more work per post. Mean tokens per post: %.1f (max %d)."
              % (py["tokens_per_post_mean"], py["tokens_per_post_max"]))
    print("load average before / after host runs / at end: %s | %s | %s  (%s logical CPUs)"
          % (" ".join("%.2f" % x for x in load_before), " ".join("%.2f" % x for x in load_mid), " ".join("%.2f" % x for x in load_after), info.get("logical_cpus")))
    if load_before and info.get("logical_cpus") and max(load_before[0], load_after[0] if load_after else 0) > 0.5 * info["logical_cpus"]:
        print("warning: the machine was busy (load average above half the CPU count): figures are preliminary.")
    misses = [k for k, t in targets.items() if t["result"] == "MISS"]
    print("targets: %d/%d PASS%s (informational; misses never fail this script)"
          % (len(targets) - len(misses), len(targets), (", MISS: " + ", ".join(misses)) if misses else ""))

    result = {
        "date_utc": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "config": cfg,
        "machine": info,
        "load_average": {"before": load_before, "after_host": load_mid, "after_python": load_after},
        "git": git_rev(),
        "host_binary": str(args.host),
        "models_dir": str(models_dir),
        "inputs": {"source": source, "posts": len(texts), "chars_min": min(lengths), "chars_max": max(lengths), "chars_mean": statistics.fmean(lengths)},
        "first_verdict": first,
        "host": host,
        "python": py,
        "ratios": ratios,
        "targets": targets,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
