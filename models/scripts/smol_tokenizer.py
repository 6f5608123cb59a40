"""SmolLM2's tokenizer rebuilt from a GGUF file's metadata (shared by convert_smollm2.py and make_tiny_smolvlm.py).

The GGUF (llama.cpp `gpt2` tokenizer model, pre-type `smollm`) stores the byte-level BPE vocabulary, the merges and
a type per token (3 = control). The HF `tokenizers` equivalent, as in SmolLM2's own tokenizer.json:
  * pre-tokenizer: digits split one by one, then GPT-2's byte-level regex (no prefix space);
  * BPE model without byte fallback, unknown token `<|endoftext|>`;
  * the 17 control tokens (`<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, `<repo_name>` … `<empty_output>`) as
    special added tokens;
  * no BOS/EOS added on encode (`add_bos_token` is false in the GGUF); byte-level decoder.
SmolVLM-256M's tokenizer is this vocabulary plus 128 added tokens (ids 49152..49279): `SMOLVLM_ADDED_TOKENS`.
"""

from pathlib import Path

import numpy as np
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

SMOLLM2_VOCAB = 49152
CONTROL_TOKEN_TYPE = 3

# SmolVLM-256M-Instruct's added tokens, at the ids its tokenizer assigns them: `<global-img>` 49152, the 36
# image-grid tokens `<row_R_col_C>` 49153..49188, `<fake_token_around_image>` 49189, `<image>` 49190, 88 reserved
# tokens 49191..49278 and `<end_of_utterance>` 49279 (vocabulary 49280).
SMOLVLM_ADDED_TOKENS = (
    ["<global-img>"]
    + [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    + ["<fake_token_around_image>", "<image>"]
    + [f"<|reserved_special_token_{i}|>" for i in range(88)]
    + ["<end_of_utterance>"]
)
assert len(SMOLVLM_ADDED_TOKENS) == 128


# The token groups of a yes/no judgement: P(yes) is the yes group's share of a softmax over these 8 logits.
YES = ["yes", " yes", "Yes", " Yes"]
NO = ["no", " no", "No", " No"]


def yes_no_ids(tok: Tokenizer):
    """(yes ids, no ids); each word must be a single token."""
    groups = []
    for words in (YES, NO):
        ids = [tok.encode(w, add_special_tokens=False).ids for w in words]
        if any(len(i) != 1 for i in ids):
            raise SystemExit(f"yes/no words are not single tokens: {dict(zip(words, ids))}")
        groups.append([i[0] for i in ids])
    return groups[0], groups[1]


def p_yes(logits, yes_ids, no_ids) -> float:
    """Softmax over the yes and no token groups only; P(yes) = the yes group's share."""
    z = logits[list(yes_ids) + list(no_ids)].astype(np.float64)
    e = np.exp(z - z.max())
    return float(e[: len(yes_ids)].sum() / e.sum())


def read_gguf_vocab(gguf_path: Path):
    """(tokens, token_types, merges) from a GGUF file's tokenizer metadata."""
    import gguf

    reader = gguf.GGUFReader(str(gguf_path))
    fields = reader.fields
    model = fields["tokenizer.ggml.model"].contents()
    pre = fields["tokenizer.ggml.pre"].contents()
    if model != "gpt2" or pre != "smollm":
        raise SystemExit(f"{gguf_path}: tokenizer model {model!r}/pre {pre!r}, expected gpt2/smollm")
    tokens = fields["tokenizer.ggml.tokens"].contents()
    types = fields["tokenizer.ggml.token_type"].contents()
    merges = fields["tokenizer.ggml.merges"].contents()
    return tokens, types, merges


def build_tokenizer(tokens, types, merges, extra_special=()) -> Tokenizer:
    """The byte-level BPE tokenizer; `extra_special` tokens get the ids right after the vocabulary."""
    vocab = {t: i for i, t in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise SystemExit("duplicate tokens in the GGUF vocabulary")
    pairs = [tuple(m.split(" ")) for m in merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, unk_token="<|endoftext|>", fuse_unk=False, byte_fallback=False))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    control = [tokens[i] for i, t in enumerate(types) if t == CONTROL_TOKEN_TYPE]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in control])
    if extra_special:
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in extra_special])
    for t in control:
        assert tok.token_to_id(t) == vocab[t], t
    for i, t in enumerate(extra_special):
        assert tok.token_to_id(t) == len(tokens) + i, (t, tok.token_to_id(t))
    check_round_trips(tok)
    return tok


ROUND_TRIP_SAMPLES = [
    "Hello world!",
    "What is the capital of France?",
    "Digits 12345 and 3.14159, year 2026.",
    "Emoji 🕷️🔥 and accents: café, naïve, Ærøskøbing — “quotes”",
    "double  spaces,\ttabs\nand\n\nnewlines  ",
    "<|im_start|>user\nHi<|im_end|>\n",
    "日本語のテキスト",
]


def check_round_trips(tok: Tokenizer) -> None:
    for text in ROUND_TRIP_SAMPLES:
        ids = tok.encode(text, add_special_tokens=False).ids
        back = tok.decode(ids, skip_special_tokens=False)
        if back != text:
            raise SystemExit(f"tokenizer round trip failed: {text!r} -> {ids} -> {back!r}")
    digits = tok.encode("12345", add_special_tokens=False).tokens
    if digits != ["1", "2", "3", "4", "5"]:
        raise SystemExit(f"digits are not split one by one: {digits}")
    if tok.encode("<|im_start|>", add_special_tokens=False).ids != [1]:
        raise SystemExit("<|im_start|> is not the single token 1")


def save_tokenizer(tok: Tokenizer, path: Path) -> None:
    """Save deterministically (tokenizers writes the vocabulary in id order)."""
    tok.save(str(path), pretty=False)
