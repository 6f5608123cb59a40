#!/usr/bin/env python3
"""Refit two of the judge's heads on its frozen task embedding, with examples the fine-tuning data lacked.

    .cache/venv/bin/python models/scripts/refit_heads.py      # ~1 min with train_tiny's cache, ~25 min without

The fine-tuned judge (models/judge/judge-delta.safetensors, finetune_judge.py) has faults that need no new
encoder, only its heads taught better (re-running the 40-minute fine-tuning would also re-draw every other figure):

  * clickbait let a common social-media form through, "<Profession> HATE him! See why 👉" (issue 13's "Doctors
    HATE him" was shown at 0.69): its training rows hold only a handful of such lines. Added:
    own_posts.hate_him_examples() over HATE_HIM_FIT_PROFESSIONS, label 1, weight judge_data.OWN_WEIGHT (as every
    own written row). v2.2: also own_posts.ordinary_titles() (ordinary community-post titles, "My sister made a
    quilt"), label 0, weight TITLE_WEIGHT: the headline data taught that a short informal title is clickbait.
  * rage-bait (v2.2) blurred the same form for its "HATE" ("Lawyers HATE him! See why" 0.82): the hate-him lines
    are added as its negatives, weight RAGE_HATE_HIM_WEIGHT, under a strong pull towards the trained head
    (ANCHOR_L2 below), because refitting the rage-bait head at all moves its third-party figures.
  * manipulation was trained on news sentences, memes and shop banners only, so it labelled everyday posts: 19 %
    of the TweetEval tweets that express joy, optimism or sadness (validation) scored >= 0.8. Added as negatives:
    the fitting rows' ordinary posts (judge_data.ordinary_post_kind(): those tweets and the clickbait set's news
    headlines) and (v2.2) the ordinary titles, label 0, weight ORDINARY_WEIGHT. Irony tweets are kept out, to
    check the change on posts it never saw.

Each refit head is fitted by weighted logistic regression on the judge's task embedding of the fine-tuning's own
fitting rows (judge_data.py: same texts, labels and weights) plus those rows, with an L2 penalty that pulls the
weights towards the trained head (ANCHOR_L2, per head), so it moves only as far as the new rows require. Every
other head is copied unchanged. Writes models/judge/heads-refit.safetensors (the delta's tensors and task order,
plus the delta's sha256); calibrate_judge.py then calibrates and writes the shipped head files from it, and reports
on validation rows how often ordinary posts are flagged. Prints validation ROC-AUC before -> after for each refit
head (validation rows only; the held-out professions' lines and the probe templates' titles are scored, never
fitted). Deterministic (L-BFGS from the trained head). Rerun it after every fine-tuning: calibrate_judge refuses a
refit made for another delta.
"""
from __future__ import annotations
import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import json
import sys
import time

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate_judge as cj  # noqa: E402
import judge_data as jd  # noqa: E402
import own_posts  # noqa: E402
import train_heads as th  # noqa: E402
import train_tiny as tt  # noqa: E402
from export_minilm import sha256_file  # noqa: E402
from finetune_judge import save_safetensors  # noqa: E402

# Not refit: engagement-bait separated its calibration rows perfectly and Platt scaling diverged (tried 2026-12-05).
REFIT_TASKS = ["clickbait", "manipulation", "rage-bait"]
ORDINARY_WEIGHT = 0.3  # an ordinary post is a weak negative: a tweet may still use a propaganda technique
# an ordinary title is not clickbait: the largest weight that kept headline accuracy on the calibration split at
# v2.1's (3 lowered it; models/cards/judge.md). Kept for v3, where the same rule would allow 3 (same accuracy);
# the card measures what that would change (two captured posts)
TITLE_WEIGHT = 1.0
RAGE_HATE_HIM_WEIGHT = 10.0  # under ANCHOR_L2["rage-bait"]; chosen on the calibration rows' per-source ROC-AUC
N_FIT_LINES, N_PROBE_LINES, N_FIT_TITLES, N_PROBE_TITLES = 300, 60, 400, 100
# penalty on |w - w_trained|^2, per unit of (weighted mean) log-loss. Rage-bait's is 100x the others': with 0.01
# the refit alone (without new rows) cost 0.003 validation ROC-AUC on offensive tweets; with 1.0 and the new rows,
# 0.0002.
ANCHOR_L2 = {"clickbait": 0.01, "manipulation": 0.01, "rage-bait": 1.0}


def log(msg: str) -> None:
    print(f"[refit_heads] {msg}", file=sys.stderr, flush=True)


def anchored_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray, w0: np.ndarray, b0: float,
                      anchor: float) -> tuple[np.ndarray, float]:
    """argmin over (v, c) of mean_w log-loss(y, X v + c) + anchor |v - w0|^2, from (w0, b0)."""
    ws = w / w.sum()

    def f(p: np.ndarray):
        z = X @ p[:-1] + p[-1]
        g = ws * (1.0 / (1.0 + np.exp(-z)) - y)
        d = p[:-1] - w0
        loss = float((ws * (np.logaddexp(0.0, z) - y * z)).sum() + anchor * (d @ d))
        return loss, np.append(X.T @ g + 2 * anchor * d, g.sum())

    r = minimize(f, np.append(w0, b0), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    if not r.success:
        th.die(f"refit did not converge: {r.message}")
    return r.x[:-1], float(r.x[-1])


def main() -> None:
    t0 = time.time()
    tasks, W, B, meta = cj.load_trained_heads()
    if tasks != jd.TASKS:
        th.die(f"the delta's tasks {tasks} are not judge_data.TASKS: rerun finetune_judge.py")
    rows = jd.build(th.data_root())
    y_all, m_all = jd.label_matrix(rows)
    w_all = jd.weights(rows)
    je = tt.JudgeEmbedder()  # the shipped graph; shares train_tiny's cache of the same texts
    _, task = je.embed_all([r.text for r in rows] + tt.transfer_pool(rows), "train")
    X_all = np.stack([task[r.text] for r in rows]).astype(np.float64)
    split = np.array([r.split for r in rows])

    fit_lines = own_posts.hate_him_examples(own_posts.HATE_HIM_FIT_PROFESSIONS, N_FIT_LINES, "fit")
    probe_lines = own_posts.hate_him_examples(own_posts.HATE_HIM_PROBE_PROFESSIONS, N_PROBE_LINES, "probe")
    fit_titles = own_posts.ordinary_titles(N_FIT_TITLES, "fit")
    probe_titles = own_posts.ordinary_titles(N_PROBE_TITLES, "probe")
    known = {r.text for r in rows}
    if any(t in known for t in fit_lines + probe_lines + fit_titles + probe_titles):
        th.die("a generated line is already a judge_data row")
    X_new, X_probe, X_titles, X_probe_titles = (je.embed_single(lines)[1].astype(np.float64) for lines in (
        fit_lines, probe_lines, fit_titles, probe_titles))

    ordinary = (split == "fit") & np.array([jd.ordinary_post_kind(r) is not None for r in rows])
    # per refit head: the extra rows [(embeddings, label, weight)], and the lines that probe it (scored, never fitted)
    extra = {"clickbait": [(X_new, 1.0, jd.OWN_WEIGHT), (X_titles, 0.0, TITLE_WEIGHT)],
             "manipulation": [(X_all[ordinary], 0.0, ORDINARY_WEIGHT), (X_titles, 0.0, ORDINARY_WEIGHT)],
             "rage-bait": [(X_new, 0.0, RAGE_HATE_HIM_WEIGHT)]}
    probes = {"clickbait": {"hate_him_held_out_professions": X_probe, "ordinary_titles_probe": X_probe_titles},
              "manipulation": {"ordinary_titles_probe": X_probe_titles},
              "rage-bait": {"hate_him_held_out_professions": X_probe}}
    log(f"+ {len(X_new)} hate-him lines (clickbait, rage-bait), {len(X_titles)} ordinary titles (clickbait, "
        f"manipulation), {int(ordinary.sum())} ordinary posts (manipulation)")

    W2, B2 = W.copy(), B.copy()
    report = {}
    for name in REFIT_TASKS:
        k = tasks.index(name)
        fit = (split == "fit") & (m_all[:, k] > 0)
        X = np.concatenate([X_all[fit]] + [e[0] for e in extra[name]])
        y = np.concatenate([y_all[fit, k]] + [np.full(len(e[0]), e[1]) for e in extra[name]]).astype(np.float64)
        w = np.concatenate([w_all[fit]] + [np.full(len(e[0]), e[2]) for e in extra[name]]).astype(np.float64)
        W2[k], B2[k] = anchored_logistic(X, y, w, W[k], B[k], ANCHOR_L2[name])
        val = (split == "val") & (m_all[:, k] > 0)

        aucs = [round(float(th.roc_auc(y_all[val, k], X_all[val] @ wv + bv)), 4) for wv, bv in ((W[k], B[k]),
                                                                                          (W2[k], B2[k]))]
        report[name] = {"val_roc_auc": aucs, "fit_rows": int(fit.sum()),
                        "moved_l2": round(float(np.linalg.norm(W2[k] - W[k])), 4)}
        for probe, Xp in probes[name].items():  # raw (uncalibrated) probabilities, before -> after
            report[name][f"{probe}_mean_raw_p"] = [round(float(th.sigmoid(Xp @ wv + bv).mean()), 3)
                                                   for wv, bv in ((W[k], B[k]), (W2[k], B2[k]))]
        probe_txt = "".join(f"; {p}, mean raw p {report[name][p + '_mean_raw_p'][0]} -> "
                            f"{report[name][p + '_mean_raw_p'][1]}" for p in probes[name])
        log(f"{name}: validation ROC-AUC {aucs[0]} -> {aucs[1]}{probe_txt}; |w - w_trained| "
            f"{report[name]['moved_l2']}")

    save_safetensors(cj.REFIT, {"heads.weight": W2.astype(np.float32), "heads.bias": B2.astype(np.float32)}, {
        "tasks": json.dumps(tasks), "refit_tasks": json.dumps(REFIT_TASKS),
        "anchor_l2": json.dumps(ANCHOR_L2, sort_keys=True), "delta_sha256": sha256_file(cj.DELTA),
        "hate_him_fit_lines": str(len(fit_lines)), "ordinary_titles": str(len(fit_titles)),
        "title_weight": str(TITLE_WEIGHT), "rage_hate_him_weight": str(RAGE_HATE_HIM_WEIGHT),
        "ordinary_posts": str(int(ordinary.sum())), "ordinary_weight": str(ORDINARY_WEIGHT),
        "report": json.dumps(report, sort_keys=True), "script": "models/scripts/refit_heads.py"})
    log(f"wrote {cj.REFIT.relative_to(cj.ROOT)} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
