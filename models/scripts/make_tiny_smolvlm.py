"""Tiny random-weight models with exactly SmolVLM-256M-Instruct's ONNX interface, its tokenizer, and golden values.

The real SmolVLM-256M weights are only for users with internet (`feedwarden models fetch smolvlm-256m`); these
models exercise the whole generative plumbing offline: image preprocessing, image features placed at the
`<image>` token positions, prefill, a growing KV cache, greedy decoding, fp32 and fp16 caches. Their outputs mean
nothing. Interface (names, dtypes, shapes) as in HuggingFaceTB/SmolVLM-256M-Instruct `onnx/`:

  vision_encoder.onnx   pixel_values f32 [b,n,3,512,512], pixel_attention_mask bool [b,n,512,512]
                        -> image_features f32 [b*n,64,576]
  embed_tokens.onnx     input_ids int64 [b,s] -> inputs_embeds f32 [b,s,576]
  decoder_model_merged.onnx
                        inputs_embeds f32 [b,s,576], attention_mask int64 [b,past+s], position_ids int64 [b,s],
                        past_key_values.{i}.key/value f32 [b,3,past,64]  (i = 0..LAYERS-1)
                        -> logits f32 [b,s,49280], present.{i}.key/value f32 [b,3,past+s,64]
  decoder_model_merged_fp16kv.onnx
                        the same graph with past_key_values / present in float16 (like the fp16/q4f16 exports)

The tiny decoder is a real (if low-rank) llama block stack: RMSNorm, rotate-half RoPE from position_ids,
grouped-query attention with 9 query heads over 3 KV heads, causal + padding mask, SiLU MLP. It has LAYERS = 2
layers (the real model has 30): a runtime must read the layer count from the session's input names.

    python models/scripts/make_tiny_smolvlm.py --gguf …/SmolLM2-135M-Instruct.Q4_1.gguf --out models/build/smolvlm-tiny
"""

import argparse
import os
import struct
import sys
import zlib
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime loads (docs/security.md)

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llama_onnx import Graph, LayerWeights, LlamaShape, decoder_graph, save  # noqa: E402
from golden_json import compact_json  # noqa: E402
from smol_tokenizer import (  # noqa: E402
    NO, SMOLVLM_ADDED_TOKENS, YES, build_tokenizer, p_yes, read_gguf_vocab, save_tokenizer, yes_no_ids)

HIDDEN = 576
HEADS = 9
KV_HEADS = 3
HEAD_DIM = 64
VOCAB = 49280
LAYERS = 2
IMAGE_SIZE = 512
IMAGE_TOKENS = 64
RANK = 16  # inner width of the low-rank projections (keeps the files small)
LM_RANK = 8  # rank of the token-embedding table and the output head
ROPE_THETA = 100000.0
RMS_EPS = 1e-5

PROMPT_QUESTION = "Does this image show a spider? Answer yes or no."
GREEDY_TOKENS = 8


def image_prompt(question: str) -> str:
    """SmolVLM's chat template for one user turn with one unsplit 512×512 image before the text."""
    image = "<fake_token_around_image><global-img>" + "<image>" * IMAGE_TOKENS + "<fake_token_around_image>"
    return f"<|im_start|>User:{image}{question}<end_of_utterance>\nAssistant:"


def weight(rng, shape, scale):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def vision_encoder(rng, path: Path) -> None:
    """Masked pixels -> 8×8 grid of 64-pixel patches -> 32 conv features -> 576-d, plus a position embedding."""
    g = Graph()
    conv_w = g.const("patch_conv.weight", weight(rng, (32, 3, 8, 8), 0.2))
    proj = g.const("patch_proj.weight", weight(rng, (32, HIDDEN), 0.3))
    pos = g.const("patch_pos.weight", weight(rng, (IMAGE_TOKENS, HIDDEN), 0.1))
    images = g.op("Reshape", ["pixel_values", g.const("images_shape", np.array([-1, 3, IMAGE_SIZE, IMAGE_SIZE], np.int64))])
    mask = g.op("Cast", ["pixel_attention_mask"], to=TensorProto.FLOAT)
    mask = g.op("Reshape", [mask, g.const("mask_shape", np.array([-1, 1, IMAGE_SIZE, IMAGE_SIZE], np.int64))])
    masked = g.op("Mul", [images, mask])
    pooled = g.op("AveragePool", [masked], kernel_shape=[8, 8], strides=[8, 8])  # [B,3,64,64]
    feats = g.op("Conv", [pooled, conv_w], kernel_shape=[8, 8], strides=[8, 8])  # [B,32,8,8]
    feats = g.op("Reshape", [feats, g.const("feats_shape", np.array([0, 32, IMAGE_TOKENS], np.int64))])
    feats = g.op("Transpose", [feats], perm=[0, 2, 1])  # [B,64,32]
    out = g.op("Add", [g.op("MatMul", [feats, proj]), pos])
    g.named("Tanh", [out], "image_features")
    save(g, "tiny_smolvlm_vision",
         [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch_size", "num_images", 3, IMAGE_SIZE, IMAGE_SIZE]),
          helper.make_tensor_value_info("pixel_attention_mask", TensorProto.BOOL, ["batch_size", "num_images", IMAGE_SIZE, IMAGE_SIZE])],
         [helper.make_tensor_value_info("image_features", TensorProto.FLOAT, ["batch_num_images", IMAGE_TOKENS, HIDDEN])],
         path)


def embed_tokens(rng, path: Path) -> None:
    """A rank-8 token table (stored as float16) times a projection to 576."""
    g = Graph()
    table = g.const("embed_tokens.table", weight(rng, (VOCAB, LM_RANK), 1.0).astype(np.float16))
    proj = g.const("embed_tokens.proj", weight(rng, (LM_RANK, HIDDEN), 0.5))
    rows = g.op("Cast", [g.op("Gather", [table, "input_ids"], axis=0)], to=TensorProto.FLOAT)
    g.named("MatMul", [rows, proj], "inputs_embeds")
    save(g, "tiny_smolvlm_embed_tokens",
         [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
         [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["batch_size", "sequence_length", HIDDEN])],
         path)


def decoder(rng, path: Path, kv_dtype) -> None:
    """The shared llama graph with low-rank random projections (through a width of RANK)."""
    shape = LlamaShape(hidden=HIDDEN, heads=HEADS, kv_heads=KV_HEADS, head_dim=HEAD_DIM, vocab=VOCAB, layers=LAYERS,
                       rope_theta=ROPE_THETA, rms_eps=RMS_EPS)
    widths = {"q": HEADS * HEAD_DIM, "k": KV_HEADS * HEAD_DIM, "v": KV_HEADS * HEAD_DIM}

    def layer(g: Graph, i: int) -> LayerWeights:
        p = f"layers.{i}."
        w = lambda name, shape, s: g.const(p + name, weight(rng, shape, s))  # noqa: E731
        norm = lambda name: g.const(p + name, (1.0 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float32))  # noqa: E731

        def mlp(g, h):
            up = g.op("MatMul", [h, w("mlp_up", (HIDDEN, RANK), 1.0 / np.sqrt(HIDDEN))])
            act = g.op("Mul", [up, g.op("Sigmoid", [up])])
            return g.op("MatMul", [act, w("mlp_down", (RANK, HIDDEN), 0.5)])

        return LayerWeights(
            input_norm=lambda: norm("input_norm"),
            attn_input=lambda g, h: g.op("MatMul", [h, w("attn_down", (HIDDEN, RANK), 1.0 / np.sqrt(HIDDEN))]),
            project=lambda g, a, which: g.op("MatMul", [a, w(which, (RANK, widths[which]), 0.5)]),
            out=lambda g, ctx: g.op("MatMul", [g.op("MatMul", [ctx, w("o_down", (HIDDEN, RANK), 1.0 / np.sqrt(HIDDEN))]),
                                               w("o_up", (RANK, HIDDEN), 0.5)]),
            post_norm=lambda: norm("post_norm"),
            mlp=mlp)

    def lm_head(g: Graph, h):
        low = g.op("MatMul", [h, g.const("lm_head.down", weight(rng, (HIDDEN, LM_RANK), 1.0 / np.sqrt(HIDDEN)))])
        head = g.op("Cast", [g.const("lm_head.table", weight(rng, (LM_RANK, VOCAB), 3.0).astype(np.float16))], to=TensorProto.FLOAT)
        return g.named("MatMul", [low, head], "logits")

    decoder_graph(shape, kv_dtype, layer, lambda g: g.const("final_norm", np.ones(HIDDEN, np.float32)), lm_head,
                  "tiny_smolvlm_decoder", path)


def png_bytes(rgb: np.ndarray) -> bytes:
    """A PNG (8-bit RGB, no filter, zlib level 9) written byte-for-byte deterministically."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def test_image() -> np.ndarray:
    """512×512 RGB: diagonal gradients, a dark disc (a 'spider body') with eight legs, a bright square."""
    y, x = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64)
    img = np.stack([x / 511 * 200 + 30, y / 511 * 180 + 40, (x + y) / 1022 * 120 + 90], axis=-1)
    disc = (x - 300) ** 2 + (y - 260) ** 2 < 60 ** 2
    img[disc] = (25, 20, 15)
    for a in range(8):
        ang = np.pi * (a + 0.5) / 4
        t = np.linspace(0, 140, 400)
        lx, ly = (300 + t * np.cos(ang)).astype(int), (260 + t * np.sin(ang)).astype(int)
        ok = (lx >= 0) & (lx < IMAGE_SIZE - 2) & (ly >= 0) & (ly < IMAGE_SIZE - 2)
        for dx in range(3):
            for dy in range(3):
                img[ly[ok] + dy, lx[ok] + dx] = (30, 25, 20)
    img[40:120, 40:120] = (250, 240, 60)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def preprocess(rgb: np.ndarray):
    """SmolVLM's preprocessing for one 512×512 view: RGB/255, mean 0.5, std 0.5, CHW; mask all true."""
    pixels = ((rgb.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None, None]
    mask = np.ones((1, 1, IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
    return np.ascontiguousarray(pixels), mask


def golden(out: Path, tok) -> dict:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = {name: ort.InferenceSession(str(out / f"{name}.onnx"), opts, providers=["CPUExecutionProvider"])
            for name in ("vision_encoder", "embed_tokens", "decoder_model_merged", "decoder_model_merged_fp16kv")}
    rgb = test_image()
    (out / "test.png").write_bytes(png_bytes(rgb))
    pixels, mask = preprocess(rgb)
    features = sess["vision_encoder"].run(None, {"pixel_values": pixels, "pixel_attention_mask": mask})[0]
    assert features.shape == (1, IMAGE_TOKENS, HIDDEN), features.shape
    masked_out = sess["vision_encoder"].run(None, {"pixel_values": pixels, "pixel_attention_mask": ~mask})[0]
    assert np.abs(masked_out - features).max() > 0.1, "the vision encoder ignores its inputs"
    prompt = image_prompt(PROMPT_QUESTION)
    ids = tok.encode(prompt, add_special_tokens=False).ids
    image_id = tok.token_to_id("<image>")
    image_positions = [i for i, t in enumerate(ids) if t == image_id]
    assert len(image_positions) == IMAGE_TOKENS

    def prompt_embeds(token_ids, image_features):
        """Token embeddings with the image features written over the <image> positions."""
        e = sess["embed_tokens"].run(None, {"input_ids": np.array([token_ids], np.int64)})[0]
        e[0, image_positions] = image_features
        return e
    eou = tok.token_to_id("<end_of_utterance>")

    def run(variant, steps, image_features):
        dec = sess[variant]
        kv_type = np.float16 if "fp16" in variant else np.float32
        past = {i.name: np.zeros((1, KV_HEADS, 0, HEAD_DIM), kv_type) for i in dec.get_inputs() if i.name.startswith("past_key_values.")}
        out_names = [o.name for o in dec.get_outputs()]
        feed_embeds, n_past, generated, first_logits = prompt_embeds(ids, image_features), 0, [], None
        for _ in range(steps):
            s = feed_embeds.shape[1]
            res = dec.run(None, {"inputs_embeds": feed_embeds,
                                 "attention_mask": np.ones((1, n_past + s), np.int64),
                                 "position_ids": np.arange(n_past, n_past + s, dtype=np.int64)[None],
                                 **past})
            logits = res[0][0, -1]
            if first_logits is None:
                first_logits = logits
            nxt = int(np.argmax(logits))
            generated.append(nxt)
            past = {name.replace("present.", "past_key_values."): arr for name, arr in zip(out_names[1:], res[1:])}
            n_past += s
            feed_embeds = sess["embed_tokens"].run(None, {"input_ids": np.array([[nxt]], np.int64)})[0]
        # The cached decode must equal recomputing the whole sequence without a cache.
        full = ids + generated[:-1]
        full_embeds = prompt_embeds(full, image_features)
        empty = {k: np.zeros((1, KV_HEADS, 0, HEAD_DIM), kv_type) for k in past}
        res = dec.run(None, {"inputs_embeds": full_embeds, "attention_mask": np.ones((1, len(full)), np.int64),
                             "position_ids": np.arange(len(full), dtype=np.int64)[None], **empty})
        no_cache = [int(t) for t in np.argmax(res[0][0, len(ids) - 1:], axis=-1)]
        assert no_cache == generated, (variant, no_cache, generated)
        return first_logits, generated

    logits32, greedy32 = run("decoder_model_merged", GREEDY_TOKENS, features[0])
    other_image_logits, _ = run("decoder_model_merged", 1, masked_out[0])
    assert np.abs(other_image_logits - logits32).max() > 0.1, "the decoder's logits do not depend on the image"
    logits16, greedy16 = run("decoder_model_merged_fp16kv", GREEDY_TOKENS, features[0])
    yes_ids, no_ids = yes_no_ids(tok)
    top = np.argsort(-logits32, kind="stable")[:10]
    top16 = np.argsort(-logits16, kind="stable")[:10]
    return {
        "about": "Golden values for the tiny random-weight SmolVLM set (models/scripts/make_tiny_smolvlm.py). "
                 "Outputs mean nothing; they pin the plumbing: preprocessing, image features at the <image> "
                 "positions, prefill, KV cache growth, greedy decoding, fp16 cache handling.",
        "image": "test.png",
        "image_size": [IMAGE_SIZE, IMAGE_SIZE],
        "preprocessing": "RGB, no resize (already 512x512), x/255, (x-0.5)/0.5, layout [1,1,3,512,512] (batch, images, CHW); "
                         "pixel_attention_mask all true [1,1,512,512]",
        "chat_format": "<|im_start|>User:<fake_token_around_image><global-img>{<image> x 64}<fake_token_around_image>"
                       "{question}<end_of_utterance>\\nAssistant:",
        "question": PROMPT_QUESTION,
        "prompt": prompt,
        "prompt_ids": ids,
        "image_token_id": image_id,
        "image_token_positions": [image_positions[0], image_positions[-1]],
        "special_token_ids": {t: tok.token_to_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<global-img>",
                                                               "<fake_token_around_image>", "<image>", "<end_of_utterance>")},
        "image_features_sum": float(features.astype(np.float64).sum()),
        "image_features_first8": [float(v) for v in features[0, 0, :8]],
        "prefill_last_logits_top10": [[int(i), float(logits32[i])] for i in top],
        "prefill_last_logits_top10_fp16kv": [[int(i), float(logits16[i])] for i in top16],
        "greedy_new_tokens": GREEDY_TOKENS,
        "greedy_ids": greedy32,
        "greedy_ids_fp16kv": greedy16,
        "stop_token_ids": [eou],
        "yes_token_ids": dict(zip(YES, yes_ids)),
        "no_token_ids": dict(zip(NO, no_ids)),
        "p_yes": p_yes(logits32, yes_ids, no_ids),
        "p_yes_fp16kv": p_yes(logits16, yes_ids, no_ids),
        "p_yes_rule": "softmax over the 8 yes/no logits of the last prompt position after prefill; P(yes) = the yes group's share",
        "tolerance": {"logits_abs": 1e-3, "logits_abs_fp16kv": 2e-2, "image_features_sum_rel": 1e-4, "p_yes_abs": 1e-4,
                      "p_yes_abs_fp16kv": 5e-3,
                      "note": "greedy ids must match exactly (they are checked against an uncached full recompute)"},
        "layers": LAYERS,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True, type=Path, help="SmolLM2-135M-Instruct.Q4_1.gguf (its vocabulary)")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(*read_gguf_vocab(args.gguf), extra_special=SMOLVLM_ADDED_TOKENS)
    assert tok.get_vocab_size() == VOCAB and tok.token_to_id("<image>") == 49190
    save_tokenizer(tok, args.out / "tokenizer.json")
    rng = np.random.default_rng(args.seed)
    vision_encoder(rng, args.out / "vision_encoder.onnx")
    embed_tokens(rng, args.out / "embed_tokens.onnx")
    state = rng.bit_generator.state
    decoder(rng, args.out / "decoder_model_merged.onnx", TensorProto.FLOAT)
    rng.bit_generator.state = state  # same weights, float16 cache
    decoder(rng, args.out / "decoder_model_merged_fp16kv.onnx", TensorProto.FLOAT16)
    g = golden(args.out, tok)
    (args.out / "golden.json").write_text(compact_json(g) + "\n")
    print(f"wrote {args.out}: greedy {g['greedy_ids']} (fp16kv {g['greedy_ids_fp16kv']})")


if __name__ == "__main__":
    main()
