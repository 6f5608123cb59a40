//! Black-box tests of `feedwarden batch`: every reader format through the real binary and model, CSV and
//! Parquet outputs, the manifest, shards whose union is the single run, and a run killed with SIGKILL and
//! resumed that yields exactly the rows of an uninterrupted run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn feedwarden(args: &[&str], models: &Path) -> Output {
    command(args, models).output().unwrap()
}

fn command(args: &[&str], models: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden"));
    cmd.args(args)
        .current_dir(common::repo_root())
        .env("FEEDWARDEN_MODELS_DIR", models)
        .env_remove("FEEDWARDEN_ORT_LIB");
    cmd
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fixture(name: &str) -> String {
    common::repo_root().join("tests/fixtures/feeds").join(name).display().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `n` varied posts as JSONL, with a malformed line every 97 lines.
fn synthetic_feed(path: &Path, n: usize) {
    const WORDS: [&str; 24] = [
        "they", "lied", "again", "river", "council", "outrage", "shocking", "cat", "recipe", "vote", "never",
        "believe", "garden", "furious", "truth", "hidden", "weekend", "train", "delayed", "amazing", "senator",
        "share", "before", "deleted",
    ];
    let mut out = String::new();
    let mut x: u64 = 12345;
    for i in 0..n {
        if i % 97 == 50 {
            out.push_str("{\"id\": \"broken\n");
            continue;
        }
        let len = 6 + (i % 30);
        let words: Vec<&str> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                WORDS[(x >> 33) as usize % WORDS.len()]
            })
            .collect();
        out.push_str(&serde_json::json!({"id": format!("s{i}"), "text": words.join(" ")}).to_string());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn manifest(out: &Path) -> Value {
    let mut p = out.as_os_str().to_owned();
    p.push(".manifest.json");
    serde_json::from_slice(&std::fs::read(PathBuf::from(p)).unwrap()).unwrap()
}

#[test]
fn batch_reads_every_fixture_format_and_reports_malformed_records_with_positions() {
    let Some(models) = common::models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.jsonl");
    let names = [
        "x-graphql-timeline.json",
        "tweets.js",
        "bluesky-timeline.json",
        "reddit-cassette.json",
        "mastodon-statuses.json",
        "posts.jsonl",
        "posts.csv",
    ];
    let mut args = vec!["batch".to_string(), "-q".into(), "-o".into(), out.display().to_string()];
    args.extend(names.iter().map(|n| fixture(n)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = feedwarden(&args, &models);
    assert_eq!(o.status.code(), Some(3), "malformed records give exit status 3: {}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("posts.jsonl:line 5: skipped malformed record: not valid JSON"), "{err}");
    assert!(err.contains("posts.csv:line 5:"), "{err}");
    assert!(err.contains("tweet unavailable (tombstone)"), "{err}");
    let rows: Vec<Value> = lines(&out).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    // 3 + 2 + 3 + 3 + 2 + 5 + 3 good records.
    assert_eq!(rows.len(), 21);
    let seqs: Vec<u64> = rows.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "rows in input order: {seqs:?}");
    for r in &rows {
        assert_eq!(r["scores"].as_object().unwrap().len(), 4, "{r}");
        assert!(r["action"].is_string() && r["reason"].is_string() && r.get("rule").is_some());
    }
    let m = manifest(&out);
    assert_eq!(m["counts"]["posts"], 21);
    assert_eq!(m["counts"]["malformed"], 9);
    assert_eq!(m["malformed"].as_array().unwrap().len(), 9);
    assert_eq!(m["inputs"].as_array().unwrap().len(), 7);
    assert_eq!(m["inputs"][0]["format"], "x-graphql");
    assert_eq!(m["inputs"][1]["format"], "x-archive");
    assert_eq!(m["model"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(m["output"]["rows"], 21);
    assert!(m["policy"]["hash"].is_string() && m["run"]["seconds"].is_number());
}

#[test]
fn csv_and_parquet_hold_the_same_rows_as_jsonl() {
    let Some(models) = common::models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("bluesky-timeline.json");
    let mut rows = Vec::new();
    for ext in ["jsonl", "csv", "parquet"] {
        let out = dir.path().join(format!("o.{ext}"));
        let o = feedwarden(&["batch", "-q", &input, "-o", s(&out)], &models);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert_eq!(manifest(&out)["output"]["format"], ext);
        rows.push(manifest(&out)["output"]["rows"].as_u64().unwrap());
        let bytes = std::fs::read(&out).unwrap();
        match ext {
            "csv" => {
                let t = String::from_utf8(bytes).unwrap();
                let header = t.lines().next().unwrap();
                assert!(
                    header.starts_with("seq,source,id,site,author,created_at,url,action,rule,reason,score_"),
                    "{header}"
                );
                assert!(header.contains("sub_manipulation_loaded-language"), "{header}");
                assert_eq!(t.lines().count(), 4, "header + 3 rows");
            }
            "parquet" => {
                assert_eq!(&bytes[..4], b"PAR1");
                assert_eq!(&bytes[bytes.len() - 4..], b"PAR1");
                assert!(!dir.path().join("o.parquet.spool.jsonl").exists(), "the spool is removed");
            }
            _ => assert_eq!(lines(&out).len(), 3),
        }
        assert!(!dir.path().join(format!("o.{ext}.progress.json")).exists(), "the checkpoint is removed at the end");
    }
    assert_eq!(rows, vec![3, 3, 3]);
}

#[test]
fn shard_outputs_merged_by_seq_equal_the_single_run() {
    let Some(models) = common::models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("feed.jsonl");
    synthetic_feed(&input, 900);
    let single = dir.path().join("single.jsonl");
    let o = feedwarden(&["batch", "-q", s(&input), "-o", s(&single), "--threads", "2"], &models);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    // Three shard processes at once, one thread each.
    let children: Vec<_> = (0..3)
        .map(|k| {
            let out = dir.path().join(format!("shard-{k}.jsonl"));
            let shard = format!("{k}/3");
            let child =
                command(&["batch", "-q", s(&input), "-o", s(&out), "--shard", &shard, "--threads", "1"], &models)
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
            (child, out)
        })
        .collect();
    let mut merged: Vec<(u64, String)> = Vec::new();
    for (mut child, out) in children {
        assert_eq!(child.wait().unwrap().code(), Some(3));
        for l in lines(&out) {
            let seq = serde_json::from_str::<Value>(&l).unwrap()["seq"].as_u64().unwrap();
            merged.push((seq, l));
        }
    }
    merged.sort();
    let merged: Vec<String> = merged.into_iter().map(|(_, l)| l).collect();
    let single = lines(&single);
    assert_eq!(merged.len(), single.len());
    assert!(merged == single, "merged shards differ from the single run");
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_exactly_the_uninterrupted_rows() {
    let Some(models) = common::models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("feed.jsonl");
    synthetic_feed(&input, 2000);
    for ext in ["jsonl", "csv"] {
        let whole = dir.path().join(format!("whole.{ext}"));
        let o = feedwarden(&["batch", "-q", s(&input), "-o", s(&whole)], &models);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));

        let out = dir.path().join(format!("killed.{ext}"));
        let progress = dir.path().join(format!("killed.{ext}.progress.json"));
        let mut child = command(&["batch", "-q", s(&input), "-o", s(&out)], &models).spawn().unwrap();
        // Kill once at least one block is durable, but before the end.
        let t0 = Instant::now();
        loop {
            let rows = std::fs::read(&progress)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v["rows"].as_u64())
                .unwrap_or(0);
            if rows >= 256 || t0.elapsed() > Duration::from_secs(120) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success(), "the run was interrupted before the end");
        let partial = std::fs::read(&out).unwrap().len();
        assert!(partial < std::fs::read(&whole).unwrap().len());

        let o = feedwarden(&["batch", s(&input), "-o", s(&out)], &models);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("resuming:"), "{}", text(&o.stderr));
        assert!(std::fs::read(&out).unwrap() == std::fs::read(&whole).unwrap(), "{ext}: resumed output differs");
        let m = manifest(&out);
        assert!(m["run"]["resumed_from_rows"].as_u64().unwrap() >= 256);
        assert_eq!(m["output"]["sha256"], manifest(&whole)["output"]["sha256"]);
    }
}

#[test]
fn a_finished_output_is_not_redone_and_another_run_needs_fresh() {
    let Some(models) = common::models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.jsonl");
    let input = fixture("posts.jsonl");
    let o = feedwarden(&["batch", "-q", &input, "-o", s(&out)], &models);
    assert_eq!(o.status.code(), Some(3));
    let o = feedwarden(&["batch", &input, "-o", s(&out)], &models);
    assert!(text(&o.stderr).contains("already complete"), "{}", text(&o.stderr));
    let o = feedwarden(&["batch", &input, "-o", s(&out), "--with-text"], &models);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--fresh"), "{}", text(&o.stderr));
    let o = feedwarden(&["batch", "-q", &input, "-o", s(&out), "--with-text", "--fresh"], &models);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(lines(&out)[0].contains("\"text\":"));
}

#[test]
fn bad_arguments_say_what_to_do() {
    let Some(models) = common::models_dir() else { return };
    let o = feedwarden(&["batch", &fixture("posts.jsonl"), "--shard", "3/3"], &models);
    assert!(text(&o.stderr).contains("numbered 0 to N-1"), "{}", text(&o.stderr));
    let o = feedwarden(&["batch", &fixture("posts.csv"), "--map", "text=body"], &models);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no such column"), "{}", text(&o.stderr));
}

/// The real captured feeds in ../shared/data (skipped when absent).
#[test]
fn batch_reads_the_shared_captured_feeds() {
    let Some(models) = common::models_dir() else { return };
    let Some(feeds) = common::shared_feeds() else { return };
    let mut inputs: Vec<String> = Vec::new();
    for sub in ["x-graphql", "bluesky", "reddit", "mastodon"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(feeds.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        inputs.extend(files.iter().map(|p| p.display().to_string()));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared.jsonl");
    let mut args = vec!["batch", "-q", "-o", s(&out)];
    args.extend(inputs.iter().map(String::as_str));
    let o = feedwarden(&args, &models);
    assert!(o.status.success(), "the captured feeds read without malformed records: {}", text(&o.stderr));
    let m = manifest(&out);
    for input in m["inputs"].as_array().unwrap() {
        assert!(input["posts"].as_u64().unwrap() > 0, "{input}");
    }
    assert!(m["counts"]["posts"].as_u64().unwrap() >= 800, "{}", m["counts"]);
}
