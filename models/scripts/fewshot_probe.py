#!/usr/bin/env python3
"""How well user-defined categories could be learnt from 10 + 10 examples on the judge graph's two outputs,
and whether a scorer that ranks better also flags sensibly on a real feed.

    .cache/venv/bin/python models/scripts/fewshot_probe.py          # needs models/build/feedwarden-judge (setup)
    .cache/venv/bin/python models/scripts/fewshot_probe.py --heads  # part 3 alone

A measurement, not a shipped change: the host scores user-defined categories with `core::fewshot`'s centroid
maths on `sentence_embedding` (the stock MiniLM vector). Part 1 compares ranking, on the validation splits of
TweetEval (../shared/data/train/tweeteval/*/val_*.txt; never the test splits) and judge_data.py's validation
rows, for concepts the judge was NOT trained on (irony; joy, optimism, sadness vs the other emotions), a
topical one from the captured Reddit listings in ../shared/data/feeds/reddit (titles from gaming subreddits
vs all others: nothing is trained here, the feeds are only read) and, marked as such, concepts the judge was
trained on:
  cent/sent    core::fewshot on sentence_embedding (what ships)
  cent/task    the same maths on the fine-tuned task_embedding (L2-normalised)
  cent/concat  the same maths on [sentence, task] / sqrt(2) (cosine = mean of the two cosines)
  cent/concat-c  the same with the task vector centred first (minus its mean over TweetEval training
               tweets, then normalised), so unrelated posts' task cosines sit near 0 as MiniLM's do
  diff/sent, diff/concat   difference of the positive and negative example means, dot product
  logit/concat a logistic scorer fitted on the 20 examples (L2-regularised, 300 gradient steps)
  chosen       per rule, cent/concat-c when its leave-one-out ROC-AUC over the rule's own 20 examples beats
               cent/sent's by more than 0.05, else cent/sent (a scorer that needs nothing but the examples)
  contrast     the difference of the cosines to the positive and negative example centroids, on the sentence
               vector and on the centred task vector, mixed with task weight 0, 0.5 or 1 chosen by the
               examples' own leave-one-out ROC-AUC (a weight must beat the one before by > 0.05)
  +desc        the same with the rule's description (DESCRIPTIONS, one sentence per set) as one more positive
               on the sentence side, as a real rule has
Each figure is the mean ROC-AUC over 20 seeded draws of 10 positive + 10 negative examples, scored on the
rest of the split. ROC-AUC only: the score scale (and so a rule's threshold) changes with any of these.

Part 3 (`--heads`, run alone) asks whether the judge's shipped heads help as features instead: a logistic
scorer on the logits of the 14 shipped heads (4 categories + 10 technique sub-labels, as models/heads/*.json
apply them; standardised with their mean and spread over the same 2,000 ordinary training tweets as part 1's
centring), L2 1.0, fitted on the 10 + 10 examples, against cent/sent on the same draws.

Part 2 is about that scale: for two rules a reader might write (the shipped policies/examples/mock-looks.toml
and CONDESCENDING below, 6 + 6 examples each), how many of the 493 captured Reddit posts reach 0.7 and how
many of the rule's own positive examples do when each is left out, under the centroid maths and under the
contrast scorer with two scales: "midpoint" (0.5 halfway between the left-out scores of the positives and of
the negatives, the positives' mean at 0.88) and "background" (0.5 at the 95th percentile of 1,000 ordinary
TweetEval training tweets, the positives' mean at 0.88 when above it).
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


def logistic(E, p_idx, n_idx, rest, l2=0.01, steps=300, rate=1.0):
    """A logistic scorer fitted on the examples by gradient descent (L2 `l2`), applied to `rest`."""
    X = np.concatenate([E[p_idx], E[n_idx]])
    t = np.r_[np.ones(len(p_idx)), np.zeros(len(n_idx))]
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        w -= rate * (X.T @ (p - t) / len(t) + l2 * w)
        b -= rate * (p - t).mean()
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
    _, task = graph.embed(background_tweets())
    return (task / np.linalg.norm(task, axis=1, keepdims=True)).mean(0)


TASK_WEIGHTS = (0.0, 0.5, 1.0)
CHOICE_MARGIN = 0.05


def contrast_fit(sent, centred, p_idx, n_idx, description=None):
    """The contrast scorer fitted to examples p_idx / n_idx (rows of sent and centred): (score function of
    (sentence rows, centred task rows), chosen task weight, left-out scores of the positives, of the
    negatives). `description`: the rule's description's sentence vector, one more positive (sentence side)."""
    def unit_mean(E, idx, extra=None):
        c = E[idx].sum(0) + (extra if extra is not None else 0)
        return c / np.linalg.norm(c)

    def protos(p, n):
        return (unit_mean(sent, p, description), unit_mean(sent, n), unit_mean(centred, p), unit_mean(centred, n))

    def contrasts(pr, S, T):
        return S @ pr[0] - S @ pr[1], T @ pr[2] - T @ pr[3]
    loo = [contrasts(protos(p_idx[p_idx != i], n_idx), sent[i], centred[i]) for i in p_idx] + \
          [contrasts(protos(p_idx, n_idx[n_idx != i]), sent[i], centred[i]) for i in n_idx]
    ds, dt = np.array([c[0] for c in loo]), np.array([c[1] for c in loo])
    y = np.r_[np.ones(len(p_idx)), np.zeros(len(n_idx))]
    weight, best = TASK_WEIGHTS[0], th.roc_auc(y, ds)
    for w in TASK_WEIGHTS[1:]:
        auc = th.roc_auc(y, (1 - w) * ds + w * dt)
        if auc > best + CHOICE_MARGIN:
            weight, best = w, auc
    pr = protos(p_idx, n_idx)

    def score(S, T):
        a, b = contrasts(pr, S, T)
        return (1 - weight) * a + weight * b
    mixed = (1 - weight) * ds + weight * dt
    return score, weight, mixed[:len(p_idx)], mixed[len(p_idx):]


def contrast(sent, centred, p_idx, n_idx, rest, description=None):
    score, *_ = contrast_fit(sent, centred, p_idx, n_idx, description)
    return score(sent[rest], centred[rest])


CONDESCENDING = {
    "description": "Posts that talk down to people, mock their intelligence or lecture them with contempt",
    "should_match": [
        "Wow, imagine not knowing how interest rates work. Maybe read a book sometime, sweetie.",
        "I'm not going to explain basic biology to someone who clearly never passed school.",
        "Cute that you think your little opinion about football matters. Adults are talking.",
        "Oh honey, no. That's not how any of this works. Try thinking before you type.",
        "Let me use small words so even you can follow: the recipe says bake, not fry.",
        "Another genius who learned climate science from a meme. Embarrassing.",
    ],
    "should_not_match": [
        "Interest rates went up again this month; here is what that means for mortgages.",
        "Good question about the biology exam, the answer is in chapter four.",
        "Great match tonight, both teams played really well in the second half.",
        "I think there might be a mix-up in the instructions, happy to walk through it together.",
        "Tried the recipe again and baked it this time, much better result.",
        "Interesting thread on climate science, I learned a lot from the replies.",
    ],
}


def feed_calibration(graph, mean: np.ndarray) -> None:
    """Part 2 (see the module's docstring)."""
    import tomllib
    def centre(T):
        T = T / np.linalg.norm(T, axis=1, keepdims=True) - mean
        return T / np.linalg.norm(T, axis=1, keepdims=True)
    feed, _ = reddit_topic()
    fs, ft = graph.embed(feed)
    ft = centre(ft)
    bs, bt = graph.embed(background_tweets(1000, SEED + 1))
    bt = centre(bt)
    shipped = tomllib.loads((SCRIPT_DIR.parent.parent / "policies/examples/mock-looks.toml").read_text())["rule"][0]
    print(f"\n| rule | scorer | task weight | Reddit posts >= 0.7 (of {len(feed)}) | left-out positives >= 0.7 |")
    print("|---|---|---|---|---|")
    for name, rule in (("mock-looks (shipped example)", shipped), ("condescending (written here)", CONDESCENDING)):
        ex = [rule["description"]] + rule["should_match"] + rule["should_not_match"]
        es, et = graph.embed(ex)
        et = centre(et)
        k = len(rule["should_match"])
        p_idx, n_idx = np.arange(1, 1 + k), np.arange(1 + k, len(ex))
        # centroid maths (ships): the description is one more positive anchor
        anchors = np.r_[0, p_idx]
        cent_p = centroid(np.vstack([es, fs]), anchors, n_idx, np.arange(len(es), len(es) + len(fs)))
        loo_c = [centroid(es, anchors[anchors != i], n_idx, np.array([i]))[0] for i in p_idx]
        print(f"| {name} | centroid maths (ships) | – | {int((cent_p >= 0.7).sum())} | "
              f"{int((np.array(loo_c) >= 0.7).sum())} of {k} |")
        score, w, lp, ln = contrast_fit(es, et, p_idx, n_idx, es[0])
        mp, mn = lp.mean(), ln.mean()
        fsc, bsc = score(fs, ft), score(bs, bt)
        for scale in ("midpoint", "background"):
            if scale == "midpoint":
                m, g = (mp + mn) / 2, 4 / max(mp - mn, 0.02)
            else:
                m = max((mp + mn) / 2, float(np.percentile(bsc, 95)))
                g = 2 / (mp - m) if mp > m + 0.01 else 4 / max(mp - mn, 0.02)
            print(f"| {name} | contrast, {scale} scale | {w} | {int((th.sigmoid(g * (fsc - m)) >= 0.7).sum())} | "
                  f"{int((th.sigmoid(g * (lp - m)) >= 0.7).sum())} of {k} |", flush=True)


def leave_one_out(E, p_idx, n_idx) -> float:
    """ROC-AUC of the centroid maths over the rule's own examples, each scored without itself."""
    idx = np.concatenate([p_idx, n_idx])
    y = np.r_[np.ones(len(p_idx)), np.zeros(len(n_idx))]
    scores = [centroid(E, p_idx[p_idx != i], n_idx[n_idx != i], np.array([i]))[0] for i in idx]
    return th.roc_auc(y, np.array(scores))


def background_tweets(n: int = 2000, seed: int = SEED) -> list[str]:
    """n TweetEval training tweets (emotion, irony; drawn with `seed`): ordinary posts, never validation rows."""
    texts = []
    for task in ("emotion", "irony"):
        texts += [line.strip() for line in open(TWEETEVAL / task / "train_text.txt", encoding="utf-8")]
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.choice(len(texts), n, replace=False)]


def shipped_head_logits(task: np.ndarray) -> np.ndarray:
    """[n, 14] logits of the shipped heads (categories, then each category's sub-labels) on task vectors."""
    import json
    import judge_data as jd
    heads = [json.loads((cj.HEADS_DIR / f"{c}.json").read_text()) for c in jd.CATEGORIES]
    rows = [h for head in heads for h in [head] + head.get("sub_labels", [])]
    Wm = np.array([h["weights"] for h in rows])
    return task.astype(np.float64) @ Wm.T + np.array([h["bias"] for h in rows])


def heads_part(sets: dict, graph) -> None:
    """Part 3: the shipped heads' logits as few-shot features (see the module's docstring)."""
    _, bg = graph.embed(background_tweets())
    bl = shipped_head_logits(bg)
    mu, sd = bl.mean(0), bl.std(0) + 1e-6
    print(f"\n| set (validation split) | n | cent/sent | heads ({bl.shape[1]} logits) |\n|---|---|---|---|")
    for name, (texts, y) in sets.items():
        sent, task = graph.embed(texts)
        L = (shipped_head_logits(task) - mu) / sd
        rng = np.random.default_rng(SEED)
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        cent, head = [], []
        for _ in range(DRAWS):
            p_idx, n_idx = rng.choice(pos, 10, replace=False), rng.choice(neg, 10, replace=False)
            rest = np.setdiff1d(np.arange(len(y)), np.concatenate([p_idx, n_idx]))
            cent.append(th.roc_auc(y[rest], centroid(sent, p_idx, n_idx, rest)))
            head.append(th.roc_auc(y[rest], logistic(L, p_idx, n_idx, rest, l2=1.0, steps=500, rate=0.5)))
        print(f"| {name} | {len(y)} | {np.mean(cent):.3f} | {np.mean(head):.3f} |", flush=True)


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
    if "--heads" in sys.argv[1:]:
        heads_part(sets, graph)
        return
    mean = task_mean(graph)
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
    feed_calibration(graph, mean)


if __name__ == "__main__":
    main()
