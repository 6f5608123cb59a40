#!/usr/bin/env python3
"""How well user-defined categories are learnt from 10 + 10 examples on the judge graph's two outputs.

    .cache/venv/bin/python models/scripts/fewshot_probe.py      # needs models/build/feedwarden-judge (setup)
    .cache/venv/bin/python models/scripts/fewshot_probe.py --write-centre   # also (re)writes
                                                                 # models/judge/task-centre.json (committed)

The host scores a user-defined rule with fewer than 5 + 5 examples with `core::fewshot`'s centroid maths on
`sentence_embedding` (the stock MiniLM vector), and a rule with more with the trained scorer
`core::fewshot::contrast` ("contrast", which ships). This compares, on the validation splits of TweetEval
(../shared/data/train/tweeteval/*/val_*.txt; never the test splits), for concepts the judge was NOT trained on
(irony; joy, optimism, sadness vs the other emotions), a topical one from the captured Reddit listings in
../shared/data/feeds/reddit (titles from gaming subreddits vs all others: nothing is trained here, the feeds
are only read) and, marked as such, concepts the judge was trained on:
  cent/sent    core::fewshot on sentence_embedding (what ships)
  cent/task    the same maths on the fine-tuned task_embedding (L2-normalised)
  cent/concat  the same maths on [sentence, task] / sqrt(2) (cosine = mean of the two cosines)
  cent/concat-c  the same with the task vector centred first (minus its mean over TweetEval training
               tweets, then normalised), so unrelated posts' task cosines sit near 0 as MiniLM's do
  diff/sent, diff/concat   difference of the positive and negative example means, dot product
  logit/concat a logistic scorer fitted on the 20 examples (L2-regularised, 300 gradient steps)
  chosen       per rule, cent/concat-c when its leave-one-out ROC-AUC over the rule's own 20 examples beats
               cent/sent's by more than 0.05, else cent/sent (a scorer that needs nothing but the examples)
  +desc        the same with the rule's description (DESCRIPTIONS, one sentence per set) as one more
               positive, as a real rule has: "cent/sent+desc" is what such a rule got before, "contrast+desc"
               what it gets now
  contrast     what ships for rules with >= 5 + 5 examples (core::fewshot::contrast): the difference of the
               cosines to the positive and negative example centroids, on the sentence vector and on the
               centred task vector, mixed with task weight 0, 0.5 or 1 chosen by the examples' own
               leave-one-out ROC-AUC (a weight must beat the one before by > 0.05); its scale (a sigmoid of the
               leave-one-out means) does not change ROC-AUC, so it is left out here
The centre of the task vectors (the mean unit task vector of 2,000 seeded TweetEval training tweets) is the
constant the host centres with: models/judge/task-centre.json.
Each figure is the mean ROC-AUC over 20 seeded draws of 10 positive + 10 negative examples, scored on the
rest of the split. ROC-AUC only: the score scale (and so a rule's threshold) would change with any of these.
"""
from __future__ import annotations

import os

# ONNX Runtime (>= 1.29, PyPI builds) sends telemetry by default; this must be set before it loads.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import sys
from pathlib import Path

import numpy as np

SCRIPT_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPT_DIR))
import calibrate_judge as cj  # noqa: E402
import train_heads as th  # noqa: E402

SHARED = Path(os.environ.get("FEEDWARDEN_SHARED_DATA", SCRIPT_DIR.parent.parent.parent / "shared" / "data"))
TWEETEVAL = SHARED / "train" / "tweeteval"
SEED = 20261204
DRAWS = 20


def load(task: str) -> tuple[list[str], np.ndarray]:
    texts = [line.rstrip("\n") for line in open(TWEETEVAL / task / "val_text.txt", encoding="utf-8")]
    labels = np.array([int(line) for line in open(TWEETEVAL / task / "val_labels.txt")])
    return texts, labels


def centroid(E, p_idx, n_idx, rest, description=None):
    """core::fewshot::user_category_probability: centroid of the positives (and the rule's description), pushed
    down near negatives."""
    proto = E[p_idx].sum(0) + (description if description is not None else 0)
    proto /= np.linalg.norm(proto)
    s_pos = E[rest] @ proto
    s_neg = (E[rest] @ E[n_idx].T).max(1)
    return 1 / (1 + np.exp(-12.0 * (s_pos - np.maximum(s_neg, 0.25))))


def difference(E, p_idx, n_idx, rest):
    return E[rest] @ (E[p_idx].mean(0) - E[n_idx].mean(0))


def logistic(E, p_idx, n_idx, rest):
    X = np.concatenate([E[p_idx], E[n_idx]])
    t = np.r_[np.ones(len(p_idx)), np.zeros(len(n_idx))]
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(300):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        w -= X.T @ (p - t) / len(t) + 0.01 * w
        b -= (p - t).mean()
    return E[rest] @ w + b


# What a reader might write as the rule's description for each set (written once, not tuned).
DESCRIPTIONS = {
    "irony (not trained)": "Ironic or sarcastic posts that say the opposite of what they mean",
    "joy vs other emotions (not trained)": "Posts expressing joy and happiness",
    "optimism vs other emotions (not trained)": "Hopeful, optimistic posts about the future",
    "sadness vs other emotions (not trained)": "Sad posts about loss, grief or disappointment",
    "anger vs other emotions (trained: aux/anger)": "Angry posts",
    "offensive (trained: aux/offensive)": "Offensive, insulting or abusive posts",
    "hate (trained: a rage-bait source)": "Hateful posts against immigrants or women",
    "video games, Reddit titles (topical, not trained)": "Posts about video games",
    "anger/contempt at a group, UsVsThem (trained: aux/group-anger)":
        "Comments expressing anger or contempt at a group of people",
    "aggression, TRAC-1 (trained: aux/aggression)": "Aggressive comments that attack or threaten someone",
    "clickbait headlines (trained: clickbait)": "Clickbait headlines that tease instead of telling the news",
}

GAMING = {"gaming", "leagueoflegends", "Games", "hearthstone", "starcraft", "GlobalOffensive", "pcgaming",
          "DotA2", "Overwatch", "Minecraft", "wow", "pokemon", "xboxone", "PS4", "nintendo"}


def reddit_topic() -> tuple[list[str], np.ndarray]:
    """Reddit post titles (+ text) of the captured listings, labelled 1 when from a gaming subreddit."""
    import json
    seen: dict[str, tuple[str, int]] = {}
    for f in sorted((SHARED / "feeds" / "reddit").glob("*.json")):
        for inter in json.loads(f.read_text(encoding="utf-8")).get("interactions", []):
            body = ((inter.get("response") or {}).get("body") or {}).get("string")
            try:
                listing = json.loads(body) if body else None
            except json.JSONDecodeError:
                continue
            stack = [listing]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    if node.get("kind") == "t3" and isinstance(node.get("data"), dict):
                        d = node["data"]
                        text = (d.get("title", "") + "\n" + (d.get("selftext") or "")).strip()
                        seen.setdefault(d.get("name") or d.get("id"), (text, int(d.get("subreddit") in GAMING)))
                    stack.extend(node.values())
                elif isinstance(node, list):
                    stack.extend(node)
    rows = [seen[k] for k in sorted(seen)]
    return [t for t, _ in rows], np.array([y for _, y in rows])


def judge_data_sets() -> dict[str, tuple[list[str], np.ndarray]]:
    """The validation rows calibrate_judge.py's few-shot figures use (judge_data.py's splits): UsVsThem
    anger/contempt at a group, TRAC-1 aggression, clickbait headlines vs news headlines."""
    import judge_data as jd
    rows = [r for r in jd.build(th.data_root()) if r.split == "val"]
    y, m = jd.label_matrix(rows)

    def primary(srcs: set[str]) -> str:
        other = sorted(x for x in srcs if x != "clickbait")
        return other[0] if other else "clickbait"
    out = {}
    for src, col, name in (("usvsthem", "aux/group-anger", "anger/contempt at a group, UsVsThem (trained: aux/group-anger)"),
                           ("trac1", "aux/aggression", "aggression, TRAC-1 (trained: aux/aggression)"),
                           ("clickbait", "clickbait", "clickbait headlines (trained: clickbait)")):
        j = jd.TASKS.index(col)
        idx = [i for i, r in enumerate(rows) if m[i, j] > 0 and primary(r.sources) == src]
        out[name] = ([rows[i].text for i in idx], y[idx, j].astype(int))
    return out


def task_mean(graph) -> np.ndarray:
    """The mean normalised task vector over 2,000 TweetEval training tweets (emotion, irony; seeded)."""
    texts = []
    for task in ("emotion", "irony"):
        texts += [line.strip() for line in open(TWEETEVAL / task / "train_text.txt", encoding="utf-8")]
    rng = np.random.default_rng(SEED)
    pick = [texts[i] for i in rng.choice(len(texts), 2000, replace=False)]
    _, task = graph.embed(pick)
    return (task / np.linalg.norm(task, axis=1, keepdims=True)).mean(0)


TASK_WEIGHTS = (0.0, 0.5, 1.0)
CHOICE_MARGIN = 0.05


def contrast(sent, centred, p_idx, n_idx, rest, description=None):
    """core::fewshot::contrast::ContrastScorer (its ranking; the sigmoid scale does not change ROC-AUC);
    `description`: the rule's description's sentence vector, one more positive on the sentence side."""
    def unit_mean(E, idx, extra=None):
        c = E[idx].sum(0) + (extra if extra is not None else 0)
        return c / np.linalg.norm(c)

    def contrasts(p, n, rows):
        return (sent[rows] @ unit_mean(sent, p, description) - sent[rows] @ unit_mean(sent, n),
                centred[rows] @ unit_mean(centred, p) - centred[rows] @ unit_mean(centred, n))
    loo = [contrasts(p_idx[p_idx != i], n_idx, np.array([i])) for i in p_idx] + \
          [contrasts(p_idx, n_idx[n_idx != i], np.array([i])) for i in n_idx]
    ds, dt = np.array([c[0][0] for c in loo]), np.array([c[1][0] for c in loo])
    y = np.r_[np.ones(len(p_idx)), np.zeros(len(n_idx))]
    weight, best = TASK_WEIGHTS[0], th.roc_auc(y, ds)
    for w in TASK_WEIGHTS[1:]:
        auc = th.roc_auc(y, (1 - w) * ds + w * dt)
        if auc > best + CHOICE_MARGIN:
            weight, best = w, auc
    s, t = contrasts(p_idx, n_idx, rest)
    return (1 - weight) * s + weight * t


def write_centre(mean: np.ndarray) -> None:
    import json
    path = SCRIPT_DIR.parent / "judge" / "task-centre.json"
    path.write_text(json.dumps({
        "model": cj.MODEL_ID,
        "description": "Mean of the unit task_embedding over 2,000 TweetEval training tweets (emotion + irony "
                       f"train_text.txt, seeded draw, seed {SEED}), through the shipped int8 graph in chunks of 4; "
                       "core::fewshot::contrast centres task vectors with it. Written by "
                       "models/scripts/fewshot_probe.py --write-centre.",
        "vector": [round(float(x), 6) for x in mean]}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


def leave_one_out(E, p_idx, n_idx) -> float:
    """ROC-AUC of the centroid maths over the rule's own examples, each scored without itself."""
    idx = np.concatenate([p_idx, n_idx])
    y = np.r_[np.ones(len(p_idx)), np.zeros(len(n_idx))]
    scores = [centroid(E, p_idx[p_idx != i], n_idx[n_idx != i], np.array([i]))[0] for i in idx]
    return th.roc_auc(y, np.array(scores))


def main() -> None:
    if not TWEETEVAL.is_dir():
        sys.exit(f"fewshot_probe: {TWEETEVAL} not found (set FEEDWARDEN_SHARED_DATA)")
    emotion, labels = load("emotion")  # 0 anger, 1 joy, 2 optimism, 3 sadness
    sets = {"irony (not trained)": load("irony")}
    for k, name in ((1, "joy"), (2, "optimism"), (3, "sadness")):
        sets[f"{name} vs other emotions (not trained)"] = (emotion, (labels == k).astype(int))
    sets["anger vs other emotions (trained: aux/anger)"] = (emotion, (labels == 0).astype(int))
    sets["offensive (trained: aux/offensive)"] = load("offensive")
    sets["hate (trained: a rage-bait source)"] = load("hate")
    sets["video games, Reddit titles (topical, not trained)"] = reddit_topic()
    sets.update(judge_data_sets())
    graph = cj.Graph()
    mean = task_mean(graph)
    if "--write-centre" in sys.argv[1:]:
        write_centre(mean)
    embedded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    scale = []
    methods = ["cent/sent", "cent/task", "cent/concat", "cent/concat-c", "diff/sent", "diff/concat", "logit/concat",
               "chosen", "contrast", "cent/sent+desc", "contrast+desc"]
    print(f"| set (validation split) | n | positives | {' | '.join(methods)} |")
    print("|---|---|---|" + "---|" * len(methods))
    for name, (texts, y) in sets.items():
        if id(texts) not in embedded:
            sent, task = graph.embed(texts)
            embedded[id(texts)] = (sent, task / np.linalg.norm(task, axis=1, keepdims=True))
        sent, task = embedded[id(texts)]
        concat = np.concatenate([sent, task], 1) / np.sqrt(2)
        centred = task - mean
        centred /= np.linalg.norm(centred, axis=1, keepdims=True)
        concat_c = np.concatenate([sent, centred], 1) / np.sqrt(2)
        runs = [(centroid, sent), (centroid, task), (centroid, concat), (centroid, concat_c), (difference, sent),
                (difference, concat), (logistic, concat)]
        aucs: list[list[float]] = [[] for _ in range(len(runs) + 4)]
        desc = graph.embed([DESCRIPTIONS[name]])[0][0]
        rng = np.random.default_rng(SEED)
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        for _ in range(DRAWS):
            p_idx, n_idx = rng.choice(pos, 10, replace=False), rng.choice(neg, 10, replace=False)
            rest = np.setdiff1d(np.arange(len(y)), np.concatenate([p_idx, n_idx]))
            for k, (f, E) in enumerate(runs):
                aucs[k].append(th.roc_auc(y[rest], f(E, p_idx, n_idx, rest)))
            combined = leave_one_out(concat_c, p_idx, n_idx) > leave_one_out(sent, p_idx, n_idx) + 0.05
            aucs[len(runs)].append(aucs[3][-1] if combined else aucs[0][-1])
            aucs[len(runs) + 1].append(th.roc_auc(y[rest], contrast(sent, centred, p_idx, n_idx, rest)))
            aucs[len(runs) + 2].append(th.roc_auc(y[rest], centroid(sent, p_idx, n_idx, rest, desc)))
            aucs[len(runs) + 3].append(th.roc_auc(y[rest], contrast(sent, centred, p_idx, n_idx, rest, desc)))
        cells = " | ".join(f"{np.mean(a):.3f}" for a in aucs)
        print(f"| {name} | {len(y)} | {int(y.sum())} | {cells} |", flush=True)
        scale.append((name, sent, centred, concat, concat_c))
    # The score scale: mean cosine between different texts of a set (unrelated posts should sit near 0, as the
    # centroid maths' floor of 0.25 assumes).
    print("\n| set | mean cosine, sentence | task, centred | concat | concat, centred |\n|---|---|---|---|---|")
    for name, *vectors in scale:
        cells = []
        for V in vectors:
            sims = V[:300] @ V[:300].T
            cells.append(f"{(sims.sum() - np.trace(sims)) / (len(sims) * (len(sims) - 1)):.3f}")
        print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
