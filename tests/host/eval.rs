//! Black-box tests of `feedwarden eval`: labelled CSV and TweetEval folders through the real binary and
//! model; the text report, the JSON figures and the SVG plot.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn feedwarden(args: &[&str], models: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden"));
    cmd.args(args)
        .current_dir(common::repo_root())
        .env("FEEDWARDEN_MODELS_DIR", models)
        .env_remove("FEEDWARDEN_ORT_LIB");
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn eval_on_a_labelled_csv_prints_metrics_and_writes_plot_and_json() {
    let Some(models) = common::models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("labelled.csv");
    let mut rows = String::from("tweet,is_bait\n");
    let bait = [
        "You won't BELIEVE what this senator said about YOUR taxes!!! Share before they delete it",
        "They are laughing at you. Every single one of them. Wake up!",
        "This is an OUTRAGE and the media wants you to stay quiet about it",
        "Disgusting. These people hate everything you stand for",
    ];
    let calm = [
        "Lovely walk by the river this morning, the herons were out.",
        "Minutes of the council meeting are now online.",
        "Our paper on soil microbes is out in the journal today.",
        "Trains on the northern line run every ten minutes on Sunday.",
    ];
    for t in bait {
        rows.push_str(&format!("\"{t}\",1\n"));
    }
    for t in calm {
        rows.push_str(&format!("\"{t}\",0\n"));
    }
    rows.push_str("\"no label here\",\n");
    std::fs::write(&csv, rows).unwrap();
    let (plot, json) = (dir.path().join("p.svg"), dir.path().join("r.json"));
    let o = feedwarden(
        &[
            "eval",
            csv.to_str().unwrap(),
            "--category",
            "rage-bait",
            "--map",
            "text=tweet,label=is_bait",
            "--plot",
            plot.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "-q",
        ],
        &models,
    );
    assert_eq!(o.status.code(), Some(3), "one row without a label: {}", text(&o.stderr));
    assert!(text(&o.stderr).contains("line 10: skipped: no label"), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for needle in
        ["8 examples, 4 positive", "precision", "recall", "F1", "ROC-AUC", "calibration", "threshold sweep", "best F1"]
    {
        assert!(out.contains(needle), "{needle} missing in:\n{out}");
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("ROC rage-bait"));
    let r: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(r["n"], 8);
    assert_eq!(r["sweep"].as_array().unwrap().len(), 19);
    assert!(r["roc_auc"].as_f64().unwrap() > 0.75, "obvious rage-bait ranks above calm posts: {}", r["roc_auc"]);
}

#[test]
fn eval_names_the_categories_a_policy_has() {
    let Some(models) = common::models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("l.jsonl");
    std::fs::write(&p, "{\"text\":\"hi\",\"label\":1}\n").unwrap();
    let o = feedwarden(&["eval", p.to_str().unwrap(), "--category", "nope", "-q"], &models);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("it has: "), "{}", text(&o.stderr));
}

/// TweetEval's offensive validation split from ../shared/data (skipped when absent).
#[test]
fn eval_reads_the_tweeteval_layout() {
    let Some(models) = common::models_dir() else { return };
    let data = std::env::var_os("FEEDWARDEN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join("../shared/data"));
    let dir = data.join("train/tweeteval/offensive");
    if !dir.is_dir() {
        eprintln!("SKIPPED: {} not found; set FEEDWARDEN_SHARED_DATA to run this test", dir.display());
        return;
    }
    let o = feedwarden(
        &["eval", dir.to_str().unwrap(), "--category", "rage-bait", "--positive", "offensive", "--limit", "400", "-q"],
        &models,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("400 examples"), "{out}");
    let auc: f64 = out.split("ROC-AUC ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    assert!(auc > 0.65, "rage-bait scores should rank offensive tweets higher: AUC {auc}");
}
