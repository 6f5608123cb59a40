"""The multi-task training data of Feedwarden's judge (models/scripts/finetune_judge.py): every labelled set in
../shared/data/train mapped onto the judge's tasks, with fit / calibration / validation splits.

A row is one unique text with the labels it has (task -> 0/1; a task it says nothing about is absent) and the
split it belongs to. Splits: each source's own validation files where it has them (TweetEval val_*, UsVsThem
valid, TRAC-1 dev, SemEval-2021 dev), otherwise a seeded split (by article for PTC, by template for the
project's own written posts); calibration is a seeded share of each source's training pool that the fine-tuning
never sees. A text that lands in validation or calibration anywhere is removed from fitting everywhere.
models/cards/judge.md explains how each category is composed and why.
"""
from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import own_posts
import train_heads as th

SEED = 20261204
CAL_SHARE = 0.12  # of each source's training pool, held back from fine-tuning for Platt calibration
DAVIDSON_MAX = 8000  # Davidson is 77 % "offensive"; a seeded subsample keeps it from swamping rage-bait
# The project's own written posts are few (~850) beside ~90,000 third-party texts: each weighs this much in the
# fine-tuning loss, and each comes in a few surface variants (all caps, lines broken as OCR reads a meme, no emoji)
# so that the model learns the bait rather than one template's casing and punctuation.
OWN_WEIGHT = 3.0

# The shipped categories (one head each) and the sub-labels of `manipulation` (one head each).
CATEGORIES = ["rage-bait", "manipulation", "clickbait", "engagement-bait"]
TECHNIQUES = [  # (id, name)
    ("loaded-language", "Loaded language"),
    ("name-calling", "Name calling / labeling"),
    ("fear-appeal", "Appeal to fear / prejudice"),
    ("flag-waving", "Flag-waving"),
    ("doubt", "Doubt"),
    ("exaggeration", "Exaggeration / minimisation"),
    ("whataboutism", "Whataboutism / straw man / red herring"),
    ("causal-oversimplification", "Causal oversimplification"),
    ("slogans", "Slogans"),
    ("false-urgency", "False urgency / scarcity"),
    ("us-vs-them", "Us versus them"),
]
# Auxiliary heads: one per source notion folded into rage-bait, trained beside it so the encoder learns each
# without one source's labelling overruling another's; reported, not shipped.
AUX = ["offensive", "anger", "group-anger", "aggression"]
TASKS = CATEGORIES + [f"manipulation/{t}" for t, _ in TECHNIQUES] + [f"aux/{a}" for a in AUX]

PTC_MAP = {"Loaded_Language": "loaded-language", "Name_Calling,Labeling": "name-calling",
           "Appeal_to_fear-prejudice": "fear-appeal", "Flag-Waving": "flag-waving", "Doubt": "doubt",
           "Exaggeration,Minimisation": "exaggeration", "Whataboutism,Straw_Men,Red_Herring": "whataboutism",
           "Causal_Oversimplification": "causal-oversimplification", "Slogans": "slogans"}
MEME_MAP = {"Loaded Language": "loaded-language", "Name calling/Labeling": "name-calling",
            "Appeal to fear/prejudice": "fear-appeal", "Flag-waving": "flag-waving", "Doubt": "doubt",
            "Exaggeration/Minimisation": "exaggeration", "Whataboutism": "whataboutism", "Straw Man": "whataboutism",
            "Red Herring": "whataboutism", "Causal Oversimplification": "causal-oversimplification",
            "Slogans": "slogans"}
NEWS_MAP = {"Loaded_Language": "loaded-language", "Name_Calling-Labeling": "name-calling",
            "Appeal_to_Fear-Prejudice": "fear-appeal", "Flag_Waving": "flag-waving", "Doubt": "doubt",
            "Exaggeration-Minimisation": "exaggeration", "Whataboutism": "whataboutism", "Straw_Man": "whataboutism",
            "Red_Herring": "whataboutism", "Causal_Oversimplification": "causal-oversimplification",
            "Slogans": "slogans"}


@dataclass
class Row:
    text: str
    split: str  # fit | cal | val
    labels: dict[str, int] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    weight: float = 1.0  # in the fine-tuning loss


class Builder:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}
        self.rng = random.Random(SEED)

    def add(self, text: str, split: str, source: str, labels: dict[str, int], weight: float = 1.0) -> None:
        """One labelled text (task id -> 0/1, ids as in TASKS); a text seen again gains the labels and sources."""
        text = text.strip()
        if len(text) < 2:
            return
        row = self.rows.setdefault((text, split), Row(text, split))
        row.sources.add(source)
        row.weight = max(row.weight, weight)
        for task, v in labels.items():
            row.labels[task] = max(row.labels.get(task, 0), int(v))

    def train_pool(self, items: list, source: str, fn) -> None:
        """Seeded CAL_SHARE of `items` to calibration, the rest to fitting; fn(item) -> (text, labels)."""
        idx = list(range(len(items)))
        random.Random(f"{SEED}/{source}").shuffle(idx)
        n_cal = int(round(CAL_SHARE * len(items)))
        for k, i in enumerate(idx):
            text, labels = fn(items[i])
            self.add(text, "cal" if k < n_cal else "fit", source, labels)

    def held_out(self, items: list, source: str, fn) -> None:
        """Every item to validation; fn(item) -> (text, labels)."""
        for item in items:
            text, labels = fn(item)
            self.add(text, "val", source, labels)

    def finish(self) -> list[Row]:
        held = {t for (t, s) in self.rows if s != "fit"}
        out = []
        for (t, s), row in sorted(self.rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if s == "fit" and t in held:
                continue
            if s == "cal" and (t, "val") in self.rows:
                continue
            out.append(row)
        return out


def _lines(p: Path) -> list[str]:
    return th.read_lines(p)


def build(d: Path) -> list[Row]:
    b = Builder()
    tw = d / "tweeteval"

    def tweeteval(task: str, split: str) -> list[tuple[str, int]]:
        return list(zip((t.strip() for t in _lines(tw / task / f"{split}_text.txt")),
                        (int(x) for x in _lines(tw / task / f"{split}_labels.txt"))))

    # TweetEval: offensive / hate / anger feed rage-bait; every tweet is a negative for clickbait and
    # engagement bait (ordinary posts), as the headline-only clickbait data otherwise teaches "informal = bait".
    for split, target in (("train", None), ("val", "val")):
        for task, lab in (("offensive", "offensive"), ("hate", None), ("emotion", "anger"), ("irony", None)):
            items = tweeteval(task, split)

            def labels(it, task=task, lab=lab):
                text, y = it
                out = {"clickbait": 0, "engagement-bait": 0}
                if task == "emotion":
                    y = int(y == 0)  # 0 anger; joy, optimism, sadness are negatives on purpose
                if task != "irony":
                    out["rage-bait"] = y
                if lab:
                    out[f"aux/{lab}"] = y
                return text, out
            if target:
                b.held_out(items, f"tweeteval/{task}", labels)
            else:
                b.train_pool(items, f"tweeteval/{task}", labels)

    # UsVsThem: anger or contempt at a social group (rage-bait, group-anger); the us-vs-them scale (>= 0.5)
    uvt = d / "usvsthem"
    for fname, split in (("UsVsThem_train_public.csv", None), ("UsVsThem_valid_public.csv", "val")):
        with open(uvt / fname, encoding="utf-8", newline="") as f:
            items = list(csv.DictReader(f))

        def labels(r):
            ac = int(r["Anger"] == "True" or r["Contempt"] == "True")
            return r["body"], {"rage-bait": ac, "aux/group-anger": ac,
                               "manipulation/us-vs-them": int(float(r["usVSthem_scale"]) >= 0.5)}
        if split:
            b.held_out(items, "usvsthem", labels)
        else:
            b.train_pool(items, "usvsthem", labels)

    # TRAC-1: covert and overt aggression (rage-bait, aggression)
    for fname, split in (("agr_en_train.csv", None), ("agr_en_dev.csv", "val")):
        with open(d / "trac1" / fname, encoding="utf-8", newline="") as f:
            items = [r for r in csv.reader(f) if len(r) >= 3]

        def labels(r):
            y = int(r[2].strip() in ("CAG", "OAG"))
            return r[1], {"rage-bait": y, "aux/aggression": y}
        if split:
            b.held_out(items, "trac1", labels)
        else:
            b.train_pool(items, "trac1", labels)

    # Davidson: hate or offensive vs neither (rage-bait); seeded subsample, seeded 10 % validation
    with open(d / "davidson-hate-offensive" / "labeled_data.csv", encoding="utf-8", newline="") as f:
        items = [(r["tweet"], int(r["class"] != "2")) for r in csv.DictReader(f)]
    random.Random(f"{SEED}/davidson").shuffle(items)
    items = items[:DAVIDSON_MAX]
    n_val = len(items) // 10
    davidson = lambda it: (it[0], {"rage-bait": it[1], "aux/offensive": it[1]})  # noqa: E731
    b.held_out(items[:n_val], "davidson", davidson)
    b.train_pool(items[n_val:], "davidson", davidson)

    # Clickbait headlines (the same seeded 80/10/10 split as the frozen heads, so figures compare)
    cb = th.clickbait_data(d, np.random.default_rng(th.SEED))
    for name, split in (("fit", "fit"), ("cal", "cal"), ("val", "val")):
        texts, ys = cb[name]
        for t, y in zip(texts, ys):
            b.add(t, split, "clickbait", {"clickbait": int(y), "engagement-bait": 0})

    # PTC sentences: manipulation + technique sub-labels (split by article, as the frozen heads)
    ptc = th.ptc_data(d, np.random.default_rng(th.SEED))
    for name in ("fit", "cal", "val"):
        texts, ys = ptc[name]
        for i, (t, y) in enumerate(zip(texts, ys)):
            lb = {"manipulation": int(y)}
            for lab, tid in PTC_MAP.items():
                lb[f"manipulation/{tid}"] = int(ptc["techniques"][lab][name][i])
            b.add(t, name, "ptc", lb)

    # SemEval-2021 meme texts: any technique -> manipulation; techniques mapped (dev file = validation)
    memes = d / "persuasion-memes-semeval2021"
    for fname, split in (("training_set_task1.txt", None), ("dev_set_task1.txt", "val")):
        items = json.loads((memes / fname).read_text(encoding="utf-8"))

        def labels(m):
            lb = {"manipulation": int(bool(m["labels"]))}
            for tid in set(MEME_MAP.values()):
                lb[f"manipulation/{tid}"] = int(any(MEME_MAP.get(x) == tid for x in m["labels"]))
            return m["text"], lb
        if split:
            b.held_out(items, "memes", labels)
        else:
            b.train_pool(items, "memes", labels)

    # SemEval-2023 news paragraphs: `label` -> manipulation, columns -> techniques (seeded 10 % validation)
    with open(d / "persuasion-news-semeval2023" / "preprocessed.csv", encoding="utf-8", newline="") as f:
        items = list(csv.DictReader(f))
    random.Random(f"{SEED}/news2023").shuffle(items)

    def news_labels(r):
        lb = {"manipulation": int(r["label"] in ("True", "1"))}
        for tid in set(NEWS_MAP.values()):
            lb[f"manipulation/{tid}"] = int(any(r.get(c) == "1" for c, t in NEWS_MAP.items()
                                                                   if t == tid))
        return r["text"], lb
    n_val = len(items) // 10
    b.held_out(items[:n_val], "news2023", news_labels)
    b.train_pool(items[n_val:], "news2023", news_labels)

    # Dark patterns (shop banners): urgency and scarcity -> false-urgency; every pattern -> manipulation
    with open(d / "dark-patterns" / "dark-patterns.csv", encoding="utf-8", newline="") as f:
        items = [(r["Pattern String"], r["Pattern Category"]) for r in csv.DictReader(f) if r["Pattern String"]]
    random.Random(f"{SEED}/dark").shuffle(items)
    n_val = len(items) // 10

    def dark_labels(it):
        return it[0], {"manipulation": 1, "engagement-bait": 0,
                       "manipulation/false-urgency": int(it[1] in ("Urgency", "Scarcity"))}
    b.held_out(items[:n_val], "dark-patterns", dark_labels)
    b.train_pool(items[n_val:], "dark-patterns", dark_labels)

    # The project's own written posts, split by template (70 / 15 / 15, seeded)
    rows = own_posts.own_examples()
    groups = sorted({g for *_, g in rows})
    random.Random(f"{SEED}/own").shuffle(groups)
    n = len(groups)
    gsplit = {g: ("val" if k < int(0.15 * n) else "cal" if k < int(0.30 * n) else "fit") for k, g in enumerate(groups)}
    for text, kind, y, g in rows:
        if kind == "engagement-bait":
            lb = {"engagement-bait": 1, "clickbait": 1}
            if g.split("/")[1] not in ("before-delete", "ignore-guilt"):  # ordinary openers: not angry at anyone
                lb["rage-bait"] = 0
        elif kind == "social-clickbait":  # "Doctors HATE him" is bait, not anger
            lb = {"clickbait": 1, "engagement-bait": 0, "rage-bait": 0}
        elif kind == "provocation":
            lb = {"rage-bait": 1, "engagement-bait": 0}
        elif kind == "question-howto":  # a genuine question is neither clickbait nor bait for engagement
            lb = {"clickbait": 0, "engagement-bait": 0, "rage-bait": 0}
        elif kind == "question-discussion":
            lb = {"clickbait": 0, "rage-bait": 0}
        elif kind == "provocation-bait":
            lb = {"rage-bait": 1, "engagement-bait": 1, "clickbait": 1}
        elif kind == "false-urgency":
            lb = {"manipulation": 1, "manipulation/false-urgency": 1, "engagement-bait": 0}
        else:
            lb = {"engagement-bait": 0, "clickbait": 0, "rage-bait": 0, "manipulation": 0,
                  "manipulation/false-urgency": 0}
        for variant in surface_variants(text):
            b.add(variant, gsplit[g], f"own/{kind}", lb, weight=OWN_WEIGHT)
    return b.finish()


def ordinary_post_kind(row: Row) -> str | None:
    """Which kind of ordinary post a judge_data row is, if any: a TweetEval emotion tweet that is not anger, or a
    news headline of the clickbait set (not clickbait, and not one of the tweets that set also uses). Never
    labelled for manipulation, they are the negatives refit_heads.py adds to it."""
    if "tweeteval/emotion" in row.sources and row.labels.get("rage-bait") == 0:
        return "tweets of joy, optimism or sadness"
    if row.sources == {"clickbait"} and row.labels.get("clickbait") == 0:
        return "news headlines"
    return None


def surface_variants(text: str) -> list[str]:
    """The text, and the same words as feeds and memes also show them: all caps, sentence ends broken into
    lines (OCR of a meme), without the trailing emoji. Deterministic."""
    import re
    out = [text, text.upper()]
    broken = re.sub(r"([.!?…])\s+", r"\1\n", text)
    if broken != text:
        out.append(broken.upper())
    bare = re.sub(r"[\s\U0001F000-\U0001FAFF\u2190-\u21FF\u2600-\u27BF\u203C\u2049\uFE0F]+$", "", text)
    if bare and bare != text:
        out.append(bare)
    return list(dict.fromkeys(out))


def weights(rows: list[Row]) -> np.ndarray:
    return np.array([r.weight for r in rows], dtype=np.float32)


def label_matrix(rows: list[Row]) -> tuple[np.ndarray, np.ndarray]:
    """(labels [n, tasks] float32, mask [n, tasks] float32) in TASKS order."""
    y = np.zeros((len(rows), len(TASKS)), dtype=np.float32)
    m = np.zeros_like(y)
    col = {t: i for i, t in enumerate(TASKS)}
    for r, row in enumerate(rows):
        for task, v in row.labels.items():
            if task not in col:
                raise KeyError(f"unknown task {task!r} from {sorted(row.sources)}")
            y[r, col[task]] = v
            m[r, col[task]] = 1.0
    return y, m


if __name__ == "__main__":
    from collections import Counter
    rows = build(th.data_root())
    print(Counter(r.split for r in rows))
    y, m = label_matrix(rows)
    for s in ("fit", "cal", "val"):
        idx = [i for i, r in enumerate(rows) if r.split == s]
        print(s, {t: (int(m[idx, i].sum()), int(y[idx, i].sum())) for i, t in enumerate(TASKS)})
