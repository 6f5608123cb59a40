"""Writes llama-architecture decoders as ONNX graphs with SmolVLM's `decoder_model_merged` interface.

Shared by make_tiny_smolvlm.py (random low-rank weights) and convert_smollm2.py (SmolLM2-135M's real weights):
the graph around the weights — RMSNorm, rotate-half RoPE from `position_ids`, grouped-query attention over a
growing KV cache with a causal + padding mask, SiLU MLP — is written once here; the callers supply the
projections. Interface:

  inputs_embeds f32 [b,s,H], attention_mask int64 [b,past+s], position_ids int64 [b,s],
  past_key_values.{i}.key/value [b,KV,past,D]  ->  logits f32 [b,s,V], present.{i}.key/value [b,KV,past+s,D]

The cache is float32 or float16 (`kv_dtype`); everything else is float32.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


@dataclass(frozen=True)
class LlamaShape:
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    layers: int
    rope_theta: float
    rms_eps: float


class Graph:
    """Collects nodes and initialisers for one ONNX graph, naming intermediates automatically."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, n_out=1, **attrs):
        self.n += 1
        outs = [f"{op_type.lower()}_{self.n}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def named(self, op_type, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attrs))
        return output


def save(g: Graph, name, inputs, outputs, path: Path) -> None:
    """Checks and writes the model (single file: every graph here stays under protobuf's 2 GB)."""
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="feedwarden")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def rms_norm(g: Graph, x, w, eps):
    var = g.op("ReduceMean", [g.op("Mul", [x, x])], axes=[-1], keepdims=1)
    inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [var, g.const(f"eps_{g.n}", np.array(eps, np.float32))])])])
    return g.op("Mul", [g.op("Mul", [x, inv]), w])


def rotate_half(g: Graph, x):
    """Concat(-x[..., D/2:], x[..., :D/2])."""
    first, second = g.op("Split", [x], n_out=2, axis=-1)
    return g.op("Concat", [g.op("Neg", [second]), first], axis=-1)


@dataclass
class LayerWeights:
    """How one layer's weights enter the graph; each callback adds its nodes when the graph reaches it.

    input_norm/post_norm return an initialiser name; attn_input(g, h) returns what the q/k/v projections read
    (h itself for a plain llama layer); project(g, a, which) with which in "q", "k", "v" returns [b,s,heads·D];
    out(g, ctx) and mlp(g, h) return [b,s,H].
    """
    input_norm: Callable
    attn_input: Callable
    project: Callable
    out: Callable
    post_norm: Callable
    mlp: Callable


def decoder_graph(shape: LlamaShape, kv_dtype, layer: Callable[[Graph, int], LayerWeights],
                  final_norm: Callable[[Graph], str], lm_head: Callable[[Graph, str], str], name: str, path: Path) -> None:
    """Writes the decoder; layer(g, i) gives layer i's weights, lm_head(g, h) must produce the output `logits`."""
    g = Graph()
    hd, nh, nkv = shape.head_dim, shape.heads, shape.kv_heads
    past_len = g.op("Slice", [g.op("Shape", ["past_key_values.0.key"]), g.const("i2", np.array([2], np.int64)),
                              g.const("i3", np.array([3], np.int64))])
    seq_len = g.op("Slice", [g.op("Shape", ["inputs_embeds"]), g.const("i1", np.array([1], np.int64)), "i2"])
    total = g.op("Add", [past_len, seq_len])
    one = g.const("one", np.array(1, np.int64))
    zero = g.const("zero", np.array(0, np.int64))
    scalar = g.const("scalar_shape", np.array([], np.int64))
    q_pos = g.op("Range", [g.op("Reshape", [past_len, scalar]), g.op("Reshape", [total, scalar]), one])  # [s]
    k_pos = g.op("Range", [zero, g.op("Reshape", [total, scalar]), one])  # [T]
    causal = g.op("LessOrEqual", [g.op("Unsqueeze", [k_pos, g.const("ax0", np.array([0], np.int64))]),
                                  g.op("Unsqueeze", [q_pos, g.const("ax1", np.array([1], np.int64))])])  # [s,T]
    padding = g.op("Equal", ["attention_mask", one])  # [b,T]
    padding = g.op("Unsqueeze", [padding, g.const("ax123", np.array([1, 2, 3], np.int64))])  # [b,1,1,1,T]
    allowed = g.op("And", [causal, padding])  # [b,1,1,s,T]
    neg = g.const("neg_large", np.array(-1e9, np.float32))
    inv_freq = 1.0 / (shape.rope_theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    pos_f = g.op("Cast", [g.op("Unsqueeze", ["position_ids", g.const("ax2", np.array([2], np.int64))])], to=TensorProto.FLOAT)
    freqs = g.op("Mul", [pos_f, g.const("inv_freq", inv_freq.astype(np.float32))])  # [b,s,D/2]
    emb = g.op("Concat", [freqs, freqs], axis=-1)  # [b,s,D]
    cos = g.op("Unsqueeze", [g.op("Cos", [emb]), "ax1"])  # [b,1,s,D]
    sin = g.op("Unsqueeze", [g.op("Sin", [emb]), "ax1"])
    scale = g.const("attn_scale", np.array(1.0 / np.sqrt(hd), np.float32))
    heads_shape = g.const("heads_shape", np.array([0, 0, nh, hd], np.int64))
    kv_shape = g.const("kv_shape", np.array([0, 0, nkv, hd], np.int64))
    group_shape = g.const("group_shape", np.array([0, nkv, nh // nkv, -1, hd], np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, nh * hd], np.int64))

    def rope(x):  # x [b,h,s,D]
        return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rotate_half(g, x), sin])])

    def heads(x, shape_name):  # [b,s,h·D] -> [b,h,s,D]
        return g.op("Transpose", [g.op("Reshape", [x, shape_name])], perm=[0, 2, 1, 3])

    inputs = [
        helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch_size", "sequence_length", shape.hidden]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
    ]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "sequence_length", shape.vocab])]
    x = "inputs_embeds"
    for i in range(shape.layers):
        w = layer(g, i)
        h = rms_norm(g, x, w.input_norm(), shape.rms_eps)
        a = w.attn_input(g, h)
        q = heads(w.project(g, a, "q"), heads_shape)
        k = heads(w.project(g, a, "k"), kv_shape)
        v = heads(w.project(g, a, "v"), kv_shape)
        q, k = rope(q), rope(k)
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        for n in (past_k, past_v):
            inputs.append(helper.make_tensor_value_info(n, kv_dtype, ["batch_size", nkv, "past_sequence_length", hd]))
        for n in (f"present.{i}.key", f"present.{i}.value"):
            outputs.append(helper.make_tensor_value_info(n, kv_dtype, ["batch_size", nkv, "total_sequence_length", hd]))
        if kv_dtype == TensorProto.FLOAT16:
            k16, v16 = g.op("Cast", [k], to=kv_dtype), g.op("Cast", [v], to=kv_dtype)
            g.named("Concat", [past_k, k16], f"present.{i}.key", axis=2)
            g.named("Concat", [past_v, v16], f"present.{i}.value", axis=2)
            all_k = g.op("Cast", [f"present.{i}.key"], to=TensorProto.FLOAT)
            all_v = g.op("Cast", [f"present.{i}.value"], to=TensorProto.FLOAT)
        else:
            all_k = g.named("Concat", [past_k, k], f"present.{i}.key", axis=2)
            all_v = g.named("Concat", [past_v, v], f"present.{i}.value", axis=2)
        qg = g.op("Reshape", [q, group_shape])  # [b,KV,H/KV,s,D]: query head h uses KV head h // (H/KV)
        kg = g.op("Unsqueeze", [all_k, "ax2"])  # [b,KV,1,T,D]
        vg = g.op("Unsqueeze", [all_v, "ax2"])
        scores = g.op("Mul", [g.op("MatMul", [qg, g.op("Transpose", [kg], perm=[0, 1, 2, 4, 3])]), scale])
        probs = g.op("Softmax", [g.op("Where", [allowed, scores, neg])], axis=-1)
        ctx = g.op("Reshape", [g.op("MatMul", [probs, vg]), g.const(f"layers.{i}.ctx_shape", np.array([0, nh, -1, hd], np.int64))])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])  # [b,s,H·D]
        x = g.op("Add", [x, w.out(g, ctx)])
        h = rms_norm(g, x, w.post_norm(), shape.rms_eps)
        x = g.op("Add", [x, w.mlp(g, h)])
    h = rms_norm(g, x, final_norm(g), shape.rms_eps)
    lm_head(g, h)
    save(g, name, inputs, outputs, path)
