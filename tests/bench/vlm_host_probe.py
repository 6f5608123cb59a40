#!/usr/bin/env python3
"""Time the host's VLM stage end to end: a fresh `feedwarden-host` per run, one post carrying IMAGE and an
image rule ("a spider"), no CLIP; prints when the reply came, when the VLM's `verdict.update` came (model
load on the first job, image encoding, one yes/no question and a 24-token description included) and the
`hello` VLM entry (provider, memory the host grew by).

    python3 tests/bench/vlm_host_probe.py [--model tiny|smolvlm-256m] [--image PNG] [--runs 5]
"""
import argparse
import base64
import json
import os
import statistics
import struct
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICY = """[policy]
name = "Spider pictures"

[[rule]]
id = "spider-pictures"
description = "Photos of spiders"
image_description = "a spider"
action = "blur"
threshold = 0.5
content = ["images"]
"""


def run_once(model, image_url, host, models_dir):
    home = tempfile.mkdtemp()
    with open(os.path.join(home, "policy.toml"), "w") as f:
        f.write(POLICY)
    env = dict(os.environ, FEEDWARDEN_HOME=home, FEEDWARDEN_VLM_MODEL=model, FEEDWARDEN_CLIP_MODEL="off",
               FEEDWARDEN_MODELS_DIR=models_dir)
    p = subprocess.Popen([host], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def send(m):
        b = json.dumps(m).encode()
        p.stdin.write(struct.pack("<I", len(b)) + b)
        p.stdin.flush()

    def read():
        n = struct.unpack("<I", p.stdout.read(4))[0]
        return json.loads(p.stdout.read(n))

    send({"type": "hello", "request_id": 0, "protocols": [1]})
    read()
    t0 = time.perf_counter()
    send({"type": "classify", "request_id": 1, "image_budget_ms": 60000,
          "posts": [{"id": "a", "text": "Light rain today.", "images": [image_url]}]})
    reply = read()
    t_reply = (time.perf_counter() - t0) * 1000
    update = read()
    t_update = (time.perf_counter() - t0) * 1000
    send({"type": "hello", "request_id": 2, "protocols": [1]})
    vlm = next(m for m in read()["models"] if m["kind"] == "vlm")
    p.stdin.close()
    p.wait()
    return reply["verdicts"][0].get("images_pending"), t_reply, t_update, update["verdict"]["reason"], vlm


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--image", default=os.path.join(ROOT, "models/build/smolvlm-tiny/test.png"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--host", default=os.path.join(ROOT, "target/release/feedwarden-host"))
    ap.add_argument("--models-dir", default=os.environ.get("FEEDWARDEN_MODELS_DIR", os.path.join(ROOT, "models/build")))
    a = ap.parse_args()
    with open(a.image, "rb") as f:
        url = "data:image/png;base64," + base64.b64encode(f.read()).decode()
    updates = []
    for _ in range(a.runs):
        pending, t_reply, t_update, reason, vlm = run_once(a.model, url, a.host, a.models_dir)
        updates.append(t_update)
        print(f"reply {t_reply:7.1f} ms (images_pending={pending})  VLM update {t_update:7.1f} ms  {vlm.get('note')}")
    print(f"VLM update after the request: median {statistics.median(updates):.0f} ms, "
          f"min {min(updates):.0f}, max {max(updates):.0f} (n={len(updates)}); last reason: {reason[:120]}")


if __name__ == "__main__":
    main()
