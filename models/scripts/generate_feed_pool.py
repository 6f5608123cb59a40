"""Generates feed-like posts with SmolLM2-135M for distilling the tiny model (no labels; the judge scores them).

    .cache/venv/bin/python models/scripts/generate_feed_pool.py    # 8,000 posts, 35 min on 2 cores

Why: an earlier study blamed the tiny model's gap to the judge on feed posts on its distillation texts (tweets,
headlines, news sentences), and no set here holds Reddit titles or short everyday posts. What they changed is
measured in `models/cards/tiny.md` ("Tried for v8").
This script asks the real SmolLM2-135M decoder that `setup_models.sh` builds (`models/build/smollm2-135m`, fp32
graph: the int8 one writes noticeably worse text) to continue numbered lists of short posts. The examples in each
prompt are drawn from the project's own written lines below (`SEEDS_*`, written by the project for this purpose,
never copied from a captured feed), so the output imitates their register, not any real account. Sampling:
temperature 0.8, top-p 0.95, numpy's PCG64 seeded per batch; each sequence runs `STEPS` tokens and every
complete numbered line it writes after the prompt is kept. Lines are cleaned (list numbers, quotes), kept at
8–280 characters, deduplicated, and lines equal to a seed are dropped.

ONNX Runtime's float32 kernels differ slightly between CPUs, so a rerun elsewhere can sample different text:
the output is committed (`models/tiny/generated-posts.txt`, one post per line) and is what `train_tiny.py`
reads; this script is its provenance. It writes as it goes, so an interrupted run keeps the lines it wrote.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_smollm2 import SHAPE  # noqa: E402

MODEL_DIR = ROOT / "models" / "build" / "smollm2-135m"
OUT = ROOT / "models" / "tiny" / "generated-posts.txt"
SEED = 20261205
BATCH = 32
EXAMPLES = 7
STEPS = 96
TEMPERATURE = 0.8
TOP_P = 0.95

# The project's own lines (written 2026-12-05 for this script): the registers of the captured feeds' sites
# (Reddit titles, short posts on X, Bluesky and Mastodon) with the mix a feed has: mostly ordinary, some
# questions, some news, a little anger, bait and hype.
SEEDS_TITLES = [
    "What's a skill everyone should learn before they turn 30?",
    "My grandma turned 90 today and baked her own cake",
    "TIL octopuses have three hearts and blue blood",
    "I painted my dog as a Renaissance nobleman [OC]",
    "Finally finished restoring this 1978 bicycle",
    "What's the worst advice you've ever been given?",
    "My neighbour has been parking in my spot for three weeks. How do I deal with this politely?",
    "This tree in my backyard looks like it's waving",
    "Is it just me or has every app become a subscription now?",
    "Just got my first job offer after 8 months of searching!",
    "The city finally fixed the pothole I reported in 2019",
    "Made sourdough for the first time, be honest",
    "Anyone else's cat do this weird thing with their paws?",
    "Local library now lends out tools and sewing machines",
    "What movie do you rewatch every single year?",
    "Snow day! The kids built a snowman taller than me",
    "Our team lost 3-0 again. At least the hot dogs were good",
    "PSA: check the batteries in your smoke detectors this weekend",
    "I quit my corporate job to become a carpenter. AMA",
    "Sunset over the lake after the storm",
    "Why do printers still not work in 2026?",
    "My son's drawing of our family. I'm the one with the coffee",
    "Parliament votes to delay the budget until spring",
    "Just finished my first 10k run, slow but I did it",
    "Can someone explain why my sourdough is always flat?",
    "Found this old photo of my parents from 1985",
    "Honest question: how do you all afford groceries right now?",
    "What's something that was normal 20 years ago but weird now?",
    "My roommate keeps eating my food and denies it",
    "Three years sober today",
    "Rate my desk setup, working from home edition",
    "Politicians voted themselves a raise while schools close. Unbelievable.",
    "Look at this absolute unit of a pumpkin from my garden",
    "I built a tiny library box for my street",
    "The referee ruined that match and everyone knows it",
    "What's the most useless thing you own but refuse to throw away?",
    "Me and the boys after fixing the sink ourselves",
    "This bird visits my window every morning",
    "Landlord raised rent by 30% and won't fix the heating",
    "You won't believe what I found inside this old couch",
]
SEEDS_POSTS = [
    "Coffee first, emails later ☕",
    "Can't believe it's already December. Where did this year go?",
    "New blog post: what I learned from a year of growing tomatoes on a balcony",
    "The train was 40 minutes late again and nobody told us anything. Every single day.",
    "Our paper on coral reef recovery is finally out! Link in bio 🪸",
    "Happy birthday to my best friend, love you loads 🎂",
    "Anyone know a good plumber in Leeds? Asking for a friend (the friend is my kitchen)",
    "These people in government have no idea how normal families live. Shameful.",
    "Reminder that you don't have to be productive every day",
    "Big announcement tomorrow 👀🔥",
    "Just watched the season finale and I need to talk to someone about it NOW",
    "If you're in the area, the farmers market has amazing apples this week 🍎",
    "Stop what you're doing and look at this puppy 😭",
    "Thread: 10 things I wish I had known before starting a PhD 🧵",
    "Voting closes at 8pm, go vote!",
    "The new update deleted all my saved playlists. Thanks a lot.",
    "Beautiful morning for a run along the river 🌅",
    "Unpopular opinion: meetings should be emails",
    "They don't want you to know this, but the prices are rigged",
    "Like and share if you remember these sweets from the 90s!",
    "Proud of my students today, every single one passed 💪",
    "Working on a new painting, here's a sneak peek",
    "Why is nobody talking about the water bill increase?",
    "Finally home after a 14 hour shift. Bed.",
    "Our cat has decided the laptop is her bed now",
    "Breaking: storm warning for the whole coast tonight, stay safe everyone",
    "Honestly the best pizza I've had in years",
    "Some people really think they're above the rules, huh",
    "Tickets for the spring tour are on sale now 🎸",
    "Grateful for the small things today 🙏",
    "Can we talk about how good this album is?",
    "Day 47 of learning Japanese. Still can't read the menu 😅",
    "Absolutely disgusting behaviour from the club's owners. Fans deserve better.",
    "Drop your favourite book recommendation below 👇",
    "The sky tonight 🌌",
    "Got my booster today, arm is sore but all good",
    "Nobody: Me at 3am: let's reorganise the whole kitchen",
    "Small business Saturday! Come say hi at the market",
    "This is the most Monday Monday that ever Mondayed",
    "Road closed on Main Street until Friday, plan your route",
]
HEADERS = {"titles": "Posts on the front page today:\n", "posts": "Posts on my timeline today:\n"}
LIST_LINE = re.compile(r"^\s*(\d{1,3})\.\s*(.*)$")


def clean(line: str) -> str | None:
    """A generated list line → the post's text, or None when it is not a usable post."""
    m = LIST_LINE.match(line)
    if not m:
        return None
    text = m.group(2).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    text = re.sub(r"\s+", " ", text)
    if not 8 <= len(text) <= 280 or "\ufffd" in text or text.lower().startswith(("posts on", "post ")):
        return None
    return text


class Sampler:
    """SmolLM2-135M through ONNX Runtime (embed_tokens + the fp32 decoder with its KV cache), batched with left
    padding; samples with temperature and top-p."""

    def __init__(self, threads: int):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        for f in ("tokenizer.json", "embed_tokens.onnx", "decoder_model_merged.onnx"):
            if not (MODEL_DIR / f).exists():
                sys.exit(f"generate_feed_pool: {MODEL_DIR / f} is missing; run models/scripts/setup_models.sh first")
        self.tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        cpu = ["CPUExecutionProvider"]
        self.embed = ort.InferenceSession(str(MODEL_DIR / "embed_tokens.onnx"), opts, providers=cpu)
        self.dec = ort.InferenceSession(str(MODEL_DIR / "decoder_model_merged.onnx"), opts, providers=cpu)
        self.past = [i.name for i in self.dec.get_inputs() if i.name.startswith("past_key_values.")]
        self.outs = [o.name for o in self.dec.get_outputs()]
        self.stop = {self.tok.token_to_id("<|im_end|>"), self.tok.token_to_id("<|endoftext|>")}

    def continue_texts(self, prompts: list[str], steps: int, rng: np.random.Generator) -> list[str]:
        ids = [self.tok.encode(p, add_special_tokens=False).ids for p in prompts]
        b, width = len(ids), max(map(len, ids))
        x = np.zeros((b, width), np.int64)
        mask = np.zeros((b, width), np.int64)
        for i, s in enumerate(ids):
            x[i, width - len(s):] = s
            mask[i, width - len(s):] = 1
        pos = np.clip(np.cumsum(mask, 1) - 1, 0, None)
        cache = {n: np.zeros((b, SHAPE.kv_heads, 0, SHAPE.head_dim), np.float32) for n in self.past}
        out: list[list[int]] = [[] for _ in range(b)]
        done = np.zeros(b, bool)
        for _ in range(steps):
            e = self.embed.run(None, {"input_ids": x})[0]
            r = self.dec.run(None, {"inputs_embeds": e, "attention_mask": mask, "position_ids": pos, **cache})
            cache = {n.replace("present.", "past_key_values."): a for n, a in zip(self.outs[1:], r[1:])}
            logits = r[0][:, -1].astype(np.float64) / TEMPERATURE
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            nxt = np.zeros(b, np.int64)
            for i in range(b):
                order = np.argsort(-p[i], kind="stable")
                k = int(np.searchsorted(np.cumsum(p[i][order]), TOP_P)) + 1
                q = p[i][order[:k]]
                nxt[i] = order[rng.choice(k, p=q / q.sum())]
                if not done[i]:
                    if nxt[i] in self.stop:
                        done[i] = True
                    else:
                        out[i].append(int(nxt[i]))
            if done.all():
                break
            x = nxt[:, None]
            mask = np.concatenate([mask, np.ones((b, 1), np.int64)], 1)
            pos = pos[:, -1:] + 1
        return [self.tok.decode(o) for o in out]


def prompt_for(rng: np.random.Generator, kind: str) -> str:
    seeds = SEEDS_TITLES if kind == "titles" else SEEDS_POSTS
    pick = rng.choice(len(seeds), EXAMPLES, replace=False)
    return HEADERS[kind] + "".join(f"{j + 1}. {seeds[k]}\n" for j, k in enumerate(pick)) + f"{EXAMPLES + 1}."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=8000, help="stop once this many distinct posts are written")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    seeds = set(SEEDS_TITLES) | set(SEEDS_POSTS)
    kept: list[str] = []
    seen = set(seeds)
    sampler = Sampler(args.threads)
    t0, batch_no = time.time(), 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        while len(kept) < args.n:
            rng = np.random.default_rng([SEED, batch_no])
            kinds = ["titles" if i % 2 == 0 else "posts" for i in range(BATCH)]
            prompts = [prompt_for(rng, k) for k in kinds]
            texts = sampler.continue_texts(prompts, STEPS, rng)
            new = 0
            for t in texts:
                lines = (f"{EXAMPLES + 1}." + t).split("\n")
                if not t.endswith("\n"):
                    lines = lines[:-1]  # the last line was cut off by the step limit
                for line in lines:
                    c = clean(line)
                    if c and c not in seen and len(kept) < args.n:
                        seen.add(c)
                        kept.append(c)
                        f.write(c + "\n")
                        new += 1
            f.flush()
            batch_no += 1
            el = time.time() - t0
            print(f"[generate_feed_pool] batch {batch_no}: +{new}, {len(kept)}/{args.n} posts, {el:.0f} s "
                  f"({len(kept) / max(el, 1e-9):.1f}/s)", flush=True)
    print(f"[generate_feed_pool] wrote {len(kept)} posts to {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
