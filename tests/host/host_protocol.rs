//! Black-box tests of `feedwarden-host`: spawn the real binary with the real model, speak the real
//! native-messaging framing, and check replies, error handling, persistence and privacy.

mod common;

use common::{models_dir, HostProc};
use serde_json::{json, Value};

const RAGE: &str = "These idiots want to destroy everything you love. Share if you are sick of them!";
const CALM: &str = "Had a lovely walk by the river this morning, the trees are turning gold.";

const SPIDER_POLICY: &str = r#"[policy]
name = "Spiders"

[[rule]]
id = "spiders"
description = "Photos and stories about spiders"
action = "blur"
threshold = 0.5
should_match = [
    "a huge hairy spider crawled across my bed last night",
]
"#;

fn host() -> Option<(tempfile::TempDir, HostProc)> {
    let models = models_dir()?;
    let home = tempfile::tempdir().unwrap();
    let h = HostProc::spawn(home.path(), &models);
    Some((home, h))
}

fn classify(h: &mut HostProc, posts: Value) -> Vec<Value> {
    let r = h.request(json!({"type": "classify", "request_id": "c", "posts": posts}));
    assert_eq!(r["type"], "verdicts", "{r}");
    assert_eq!(r["request_id"], "c");
    r["verdicts"].as_array().unwrap().clone()
}

#[test]
fn hello_reports_protocol_model_and_provider() {
    let Some((_home, mut h)) = host() else { return };
    let r = h.request(json!({"type": "hello", "request_id": 7, "protocols": [1]}));
    assert_eq!(r["type"], "hello");
    assert_eq!(r["request_id"], 7);
    assert_eq!(r["protocol"], 1);
    assert_eq!(r["ready"], true, "{r}");
    assert_eq!(r["provider"], "CPU");
    assert_eq!(r["models"][0]["id"], "feedwarden-judge-v3-int8");
    assert_eq!(r["heads"].as_array().unwrap().len(), 4);
    // What to send: the limits, and images only when an image model will look at them (OCR is set up here).
    let a = &r["accepts"];
    assert_eq!((a["posts_per_request"].as_u64(), a["image_max_bytes"].as_u64()), (Some(256), Some(8 << 20)), "{a}");
    assert_eq!((a["image_max_dimension"].as_u64(), a["text_max_chars"].as_u64()), (Some(8192), Some(4096)), "{a}");
    assert_eq!(a["image_formats"], json!(["jpeg", "png", "webp", "gif"]));
    let ocr_loaded = r["models"].as_array().unwrap().iter().any(|m| m["kind"] == "ocr" && m["provider"].is_string());
    assert_eq!(a["images"], ocr_loaded, "{r}");
    let (status, rest) = h.finish();
    assert!(status.success());
    assert!(rest.is_empty(), "stdout must carry only frames");
}

#[test]
fn classify_returns_a_verdict_per_post_and_caches() {
    let Some((_home, mut h)) = host() else { return };
    let posts = json!([
        {"id": "a", "text": RAGE, "site": "x.com", "author": "@someone"},
        {"id": "b", "text": CALM, "site": "x.com"},
    ]);
    let first = classify(&mut h, posts.clone());
    assert_eq!(first.len(), 2);
    for v in &first {
        assert_eq!(v["cached"], false);
        let scores = v["scores"].as_object().unwrap();
        for cat in ["rage-bait", "manipulation", "clickbait", "engagement-bait"] {
            let p = scores[cat].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p), "{cat} = {p}");
        }
        assert!(!v["reason"].as_str().unwrap().is_empty());
        assert!(["show", "label", "blur", "hide", "allow"].contains(&v["action"].as_str().unwrap()));
    }
    assert_eq!(first[0]["id"], "a");
    assert!(
        first[0]["scores"]["rage-bait"].as_f64() > first[1]["scores"]["rage-bait"].as_f64(),
        "rage-bait text should score higher than a calm one: {first:?}"
    );
    // Same content under new ids: served from the cache, same verdicts.
    let again = classify(&mut h, json!([{"id": "a2", "text": RAGE, "site": "x.com", "author": "@someone"}]));
    assert_eq!(again[0]["cached"], true);
    assert_eq!(again[0]["id"], "a2");
    assert_eq!(again[0]["action"], first[0]["action"]);
    assert_eq!(again[0]["scores"], first[0]["scores"]);
}

#[test]
fn malformed_input_gets_error_replies_and_the_host_keeps_serving() {
    let Some((_home, mut h)) = host() else { return };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{not json".to_vec(), "bad-json"),
        (vec![0xff, 0xfe, 0x22], "bad-utf8"),
        (b"[1,2,3]".to_vec(), "not-an-object"),
        (br#"{"request_id": 1}"#.to_vec(), "missing-type"),
        (br#"{"type": "launch-missiles", "request_id": 2}"#.to_vec(), "unknown-type"),
        (br#"{"type": "classify", "request_id": 3}"#.to_vec(), "bad-request"),
        (br#"{"type": "classify", "posts": [{"id": 5, "text": []}]}"#.to_vec(), "bad-request"),
        (br#"{"type": "feedback", "post": {"id": "x", "text": "t"}, "kind": "meh"}"#.to_vec(), "bad-request"),
        (br#"{"type": "hello", "surprise": true}"#.to_vec(), "bad-request"),
    ];
    for (body, code) in cases {
        h.send_raw(&body);
        let r = h.read();
        assert_eq!(r["type"], "error", "{}", String::from_utf8_lossy(&body));
        assert_eq!(r["code"], code, "{r}");
        assert!(!r["message"].as_str().unwrap().is_empty());
    }
    // The request id is echoed when it could be read.
    h.send_raw(br#"{"type": "nope", "request_id": "r9"}"#);
    assert_eq!(h.read()["request_id"], "r9");
    // Too many posts.
    let many: Vec<Value> = (0..300).map(|i| json!({"id": i.to_string(), "text": "hi"})).collect();
    let r = h.request(json!({"type": "classify", "posts": many}));
    assert_eq!(r["code"], "too-many-posts");
    // An oversize frame (9 MiB > 8 MiB limit) is drained and refused, and the stream stays in step.
    let big = format!("{{\"type\":\"hello\",\"pad\":\"{}\"}}", "x".repeat(9 * 1024 * 1024));
    h.send_raw(big.as_bytes());
    assert_eq!(h.read()["code"], "frame-too-large");
    let r = h.request(json!({"type": "hello"}));
    assert_eq!(r["type"], "hello");
    // A frame cut short by the browser closing the pipe: the host exits cleanly, writing nothing more.
    let stdin = h.stdin.as_mut().unwrap();
    std::io::Write::write_all(stdin, &100u32.to_ne_bytes()).unwrap();
    std::io::Write::write_all(stdin, b"{\"type\":").unwrap();
    let (status, rest) = h.finish();
    assert!(status.success(), "{status:?}");
    assert!(rest.is_empty());
}

#[test]
fn policy_get_set_validate_with_line_diagnostics() {
    let Some((home, mut h)) = host() else { return };
    let r = h.request(json!({"type": "policy.get"}));
    assert_eq!(r["type"], "policy");
    assert!(r["source"].as_str().unwrap().contains("feedwarden:defaults"));
    let default_hash = r["hash"].clone();

    // validate: reports the bad line, applies nothing.
    let broken = SPIDER_POLICY.replace("action = \"blur\"", "action = \"blurr\"");
    let r = h.request(json!({"type": "policy.validate", "source": broken}));
    assert_eq!(r["type"], "policy.validation");
    let d = &r["diagnostics"][0];
    assert_eq!((d["line"].as_u64(), d["code"].as_str()), (Some(7), Some("bad-value")), "{r}");
    assert_eq!(h.request(json!({"type": "policy.get"}))["hash"], default_hash);

    // set: a good policy is applied and saved.
    let r = h.request(json!({"type": "policy.set", "source": SPIDER_POLICY}));
    assert_eq!(r["applied"], true, "{r}");
    assert_eq!(r["rules"][0]["id"], "spiders");
    let saved = std::fs::read_to_string(home.path().join("policy.toml")).unwrap();
    assert_eq!(saved, SPIDER_POLICY);

    // set: a text that cannot load at all (no [policy]) is refused; the last good policy stays.
    let r = h.request(json!({"type": "policy.set", "source": "[[rule]]\nid = \"x\"\n"}));
    assert_eq!(r["applied"], false);
    assert!(r["diagnostics"].as_array().unwrap().iter().any(|d| d["line"] == 1));
    let r = h.request(json!({"type": "policy.get"}));
    assert_eq!(r["rules"][0]["id"], "spiders");
    assert_eq!(std::fs::read_to_string(home.path().join("policy.toml")).unwrap(), SPIDER_POLICY);

    // set: one broken rule next to a good one: the good one loads, the broken one keeps its last good version.
    let two = format!(
        "{}\n[[rule]]\nid = \"cats\"\ndescription = \"Cats\"\naction = \"label\"\n",
        SPIDER_POLICY.replace("threshold = 0.5", "threshold = 5")
    );
    let r = h.request(json!({"type": "policy.set", "source": two}));
    assert_eq!(r["applied"], true);
    let ids: Vec<&str> = r["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["spiders", "cats"]);
    assert_eq!(r["rules"][0]["threshold"], 0.5);
    let codes: Vec<&str> = r["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"bad-value") && codes.contains(&"kept-last-good"), "{codes:?}");
}

#[test]
fn editing_the_policy_invalidates_cached_verdicts() {
    let Some((_home, mut h)) = host() else { return };
    let post = json!([{"id": "s", "text": "There is a giant spider living behind my bookshelf and it is HUGE"}]);
    h.request(json!({"type": "policy.set", "source": SPIDER_POLICY}));
    let v = classify(&mut h, post.clone());
    assert_eq!(v[0]["action"], "blur", "{v:?}");
    assert_eq!(classify(&mut h, post.clone())[0]["cached"], true);
    let label = SPIDER_POLICY.replace("action = \"blur\"", "action = \"label\"");
    h.request(json!({"type": "policy.set", "source": label}));
    let v = classify(&mut h, post);
    assert_eq!(v[0]["cached"], false);
    assert_eq!(v[0]["action"], "label");
}

#[test]
fn feedback_changes_later_verdicts_and_survives_kill_9() {
    let Some(models) = models_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::spawn(home.path(), &models);
    h.request(json!({"type": "policy.set", "source": SPIDER_POLICY}));
    let post =
        json!({"id": "s1", "text": "Found a big spider in the bathtub this morning, it was enormous", "site": "x.com"});
    let before = classify(&mut h, json!([post.clone()]));
    assert_eq!(before[0]["action"], "blur", "{before:?}");

    let r =
        h.request(json!({"type": "feedback", "request_id": "f", "post": post, "rule": "spiders", "kind": "was_fine"}));
    assert_eq!(r["stored"], true, "{r}");
    let after = classify(&mut h, json!([post.clone()]));
    assert_eq!(after[0]["action"], "show", "{after:?}");
    assert!(after[0]["cached"] == false);
    // A near-paraphrase is affected too; an unrelated spider post is not.
    let para = classify(
        &mut h,
        json!([{"id": "s2", "text": "Found a huge spider in the bathtub this morning, it was enormous!"}]),
    );
    assert_eq!(para[0]["action"], "show", "{para:?}");
    let other = classify(
        &mut h,
        json!([{"id": "s3", "text": "Spiders in the garden: a photo guide to orb weavers and their webs"}]),
    );
    assert_eq!(other[0]["action"], "blur", "{other:?}");

    // Feedback for an unknown rule is refused.
    let r = h.request(json!({"type": "feedback", "post": post, "rule": "nope", "kind": "was_fine"}));
    assert_eq!(r["code"], "bad-request");

    // kill -9 right after the reply: the correction and the policy are on disk.
    let r = h.request(
        json!({"type": "feedback", "post": {"id": "z", "text": "a second correction"}, "kind": "more_like_this"}),
    );
    assert_eq!(r["stored"], true);
    h.child.kill().unwrap(); // SIGKILL
    h.child.wait().unwrap();
    let db = rusqlite::Connection::open(home.path().join("feedwarden.sqlite3")).unwrap();
    let n: i64 = db.query_row("SELECT COUNT(*) FROM feedback", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
    drop(db);
    let mut h = HostProc::spawn(home.path(), &models);
    let v = classify(&mut h, json!([post]));
    assert_eq!(v[0]["action"], "show", "feedback must outlive the process: {v:?}");
    let r = h.request(json!({"type": "stats"}));
    assert_eq!(r["today"]["feedback_total"], 2);
}

#[test]
fn hand_edited_broken_policy_file_keeps_the_last_good_policy() {
    let Some(models) = models_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::spawn(home.path(), &models);
    h.request(json!({"type": "policy.set", "source": SPIDER_POLICY}));
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(home.path().join("policy.toml"), "this is [not toml").unwrap();
    let r = h.request(json!({"type": "policy.get"}));
    assert_eq!(r["rules"][0]["id"], "spiders", "{r}");
    assert!(r["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "syntax"), "{r}");
    drop(h);
    // A fresh host with a broken file starts on the shipped defaults and says why.
    let mut h = HostProc::spawn(home.path(), &models);
    let r = h.request(json!({"type": "policy.get"}));
    assert!(r["rules"].as_array().unwrap().iter().any(|r| r["id"] == "rage-bait"));
    assert!(r["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "syntax"));
}

#[test]
fn stats_count_what_was_filtered() {
    let Some((_home, mut h)) = host() else { return };
    h.request(json!({"type": "policy.set", "source": SPIDER_POLICY}));
    classify(
        &mut h,
        json!([
            {"id": "1", "text": "A massive spider just dropped onto my desk from the ceiling", "site": "x.com"},
            {"id": "2", "text": "Quarterly earnings were flat compared with last year", "site": "x.com"},
        ]),
    );
    let r = h.request(json!({"type": "stats", "request_id": 1}));
    assert_eq!(r["type"], "stats");
    assert_eq!(r["today"]["judged_today"], 2);
    let filtered = r["today"]["filtered_today"].as_array().unwrap();
    assert_eq!(filtered.len(), 1, "{r}");
    assert_eq!((filtered[0]["site"].as_str(), filtered[0]["category"].as_str()), (Some("x.com"), Some("spiders")));
}

#[test]
fn missing_model_is_reported_not_fatal() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let mut h = HostProc::spawn(home.path(), empty.path());
    let r = h.request(json!({"type": "hello"}));
    assert_eq!(r["ready"], false);
    assert_eq!(r["accepts"]["images"], false, "no model: send no images");
    let err = r["error"].as_str().unwrap();
    assert!(err.contains("ONNX Runtime not found") && err.contains("setup"), "{err}");
    let r = h.request(json!({"type": "classify", "posts": [{"id": "1", "text": "hi"}]}));
    assert_eq!(r["code"], "model-unavailable");
    assert_eq!(h.request(json!({"type": "policy.get"}))["type"], "policy");
}
