//! Black-box tests of the host's trust boundary with the browser (issue 11): bounded replies whatever the
//! request, verdict updates that always arrive, posts checked field by field, idempotent and scoped feedback,
//! a host that keeps judging when its database cannot be used, and text capped before tokenising.

mod common;

use std::io::Read;
use std::process::Command;

use common::{models_dir, HostProc};
use serde_json::{json, Value};

/// Chrome's limit on one host → browser message.
const MAX_REPLY_BYTES: usize = 1024 * 1024;

fn host() -> Option<(tempfile::TempDir, HostProc)> {
    let models = models_dir()?;
    let home = tempfile::tempdir().unwrap();
    let h = HostProc::spawn(home.path(), &models);
    Some((home, h))
}

/// Read one frame and return it with its size on the wire.
fn read_sized(h: &mut HostProc) -> (Value, usize) {
    let mut len = [0u8; 4];
    h.stdout.read_exact(&mut len).expect("a frame header");
    let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
    h.stdout.read_exact(&mut body).expect("a whole frame");
    (serde_json::from_slice(&body).expect("JSON"), body.len())
}

fn classify(h: &mut HostProc, posts: Value) -> Vec<Value> {
    let r = h.request(json!({"type": "classify", "request_id": "c", "posts": posts}));
    assert_eq!(r["type"], "verdicts", "{r}");
    r["verdicts"].as_array().unwrap().clone()
}

#[test]
fn error_frames_stay_small_whatever_the_request() {
    let Some((_home, mut h)) = host() else { return };
    let huge_id = "i".repeat(2 * 1024 * 1024);
    // A 2 MB request id is refused up front and not echoed (it used to come back in a 2 MB error frame).
    for request in [
        json!({"type": "hello", "request_id": huge_id}),
        json!({"type": "no-such-type", "request_id": huge_id}),
        json!({"type": "classify", "request_id": [huge_id], "posts": []}),
    ] {
        h.send_raw(&serde_json::to_vec(&request).unwrap());
        let (r, size) = read_sized(&mut h);
        assert!(size < 4096, "a {size}-byte reply: {}", &r.to_string()[..200]);
        assert_eq!((r["type"].as_str(), r["code"].as_str()), (Some("error"), Some("bad-request")), "{r}");
        assert!(r.get("request_id").is_none());
        assert!(r["detail"].as_str().unwrap().contains("request_id"), "{r}");
    }
    // A 2 MB type name or unknown field name is not echoed whole either.
    let huge = "t".repeat(2 * 1024 * 1024);
    for request in [json!({"type": huge, "request_id": 1}), json!({"type": "hello", huge.as_str(): 1})] {
        h.send_raw(&serde_json::to_vec(&request).unwrap());
        let (r, size) = read_sized(&mut h);
        assert!(size < 4096, "a {size}-byte reply");
        assert_eq!(r["type"], "error");
    }
    // A small request id is still echoed.
    assert_eq!(h.request(json!({"type": "hello", "request_id": {"tab": 3, "n": 7}}))["request_id"]["n"], 7);
}

#[test]
fn a_verdict_update_over_1_mb_is_trimmed_not_lost() {
    let Some((_home, mut h)) = host() else { return };
    // 10,000 images (each a tiny undecodable data: URL) give a verdict with 10,000 image entries: ~2 MB.
    let images: Vec<String> = (0..10_000).map(|_| "data:image/png;base64,AAAA".to_string()).collect();
    let post = json!({"id": "big", "text": "These idiots want to destroy everything you love!", "images": images});
    h.send_raw(
        &serde_json::to_vec(&json!({"type": "classify", "request_id": 9, "posts": [post],
                                             "image_budget_ms": 0}))
        .unwrap(),
    );
    let (reply, _) = read_sized(&mut h);
    assert_eq!(reply["type"], "verdicts", "{reply}");
    assert_eq!(reply["verdicts"][0]["images_pending"], true);
    let (update, size) = read_sized(&mut h);
    assert!(size <= MAX_REPLY_BYTES, "{size} bytes");
    assert_eq!(update["type"], "verdict.update", "{}", &update.to_string()[..update.to_string().len().min(300)]);
    assert_eq!(update["request_id"], 9);
    let v = &update["verdict"];
    assert_eq!(v["id"], "big");
    assert_eq!(v["trimmed"], true);
    assert_eq!(v["action"], reply["verdicts"][0]["action"], "same text, same verdict");
    let kept = v["images"].as_array().map_or(0, Vec::len);
    assert_eq!(kept + v["images_omitted"].as_u64().unwrap() as usize, 10_000, "{v}");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()));
}

#[test]
fn posts_are_checked_field_by_field() {
    let Some((_home, mut h)) = host() else { return };
    let cases = [
        (json!({"type": "classify", "posts": [{"id": "a", "text": "hi", "txet": "typo"}]}), "txet"),
        (json!({"type": "classify", "posts": [{"text": "no id"}]}), "id"),
        (json!({"type": "classify", "posts": [{"id": "a"}]}), "text"),
        (json!({"type": "feedback", "post": {"id": "a", "txt": "t"}, "rule": "rage-bait", "kind": "was_fine"}), "txt"),
    ];
    for (request, field) in cases {
        let r = h.request(request.clone());
        assert_eq!((r["type"].as_str(), r["code"].as_str()), (Some("error"), Some("bad-request")), "{request}: {r}");
        assert!(r["detail"].as_str().unwrap().contains(field), "{request}: {r}");
    }
    // A `type` of the wrong kind is not a missing one.
    let r = h.request(json!({"type": 5, "request_id": "t"}));
    assert_eq!((r["code"].as_str(), r["request_id"].as_str()), (Some("bad-request"), Some("t")), "{r}");
    assert!(r["detail"].as_str().unwrap().contains("must be a string"), "{r}");
}

fn feedback_count(home: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open(home.join("feedwarden.sqlite3")).unwrap();
    db.query_row("SELECT COUNT(*) FROM feedback", [], |r| r.get(0)).unwrap()
}

#[test]
fn feedback_sent_again_after_a_crash_is_stored_once() {
    let Some(models) = models_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut h = HostProc::spawn(home.path(), &models);
    let request = json!({"type": "feedback", "request_id": 4, "post": {"id": "p", "text": "Share if you are sick of them!",
                         "site": "x.com"}, "rule": "rage-bait", "kind": "was_fine",
                         "idempotency_key": "6f1c2a9e-0b7d-4c55-9a43-2e8f0c1d5b77"});
    let first = h.request(request.clone());
    assert_eq!((first["stored"].as_bool(), first["duplicate"].as_bool()), (Some(true), Some(false)), "{first}");
    // The host dies right after committing; the extension re-sends the request to the new host.
    h.child.kill().unwrap();
    h.child.wait().unwrap();
    let mut h = HostProc::spawn(home.path(), &models);
    let again = h.request(request);
    assert_eq!((again["stored"].as_bool(), again["duplicate"].as_bool()), (Some(true), Some(true)), "{again}");
    assert_eq!(again["feedback_id"], first["feedback_id"]);
    assert_eq!(feedback_count(home.path()), 1);
    assert_eq!(h.request(json!({"type": "stats"}))["today"]["feedback_total"], 1);
    // An empty or oversized key is refused.
    for key in [String::new(), "k".repeat(129)] {
        let r = h.request(json!({"type": "feedback", "post": {"id": "p", "text": "t"}, "rule": "rage-bait",
                                 "kind": "was_fine", "idempotency_key": key}));
        assert_eq!(r["code"], "bad-request", "{r}");
    }
}

/// Posts the shipped defaults blur as rage-bait, none a paraphrase of another.
const RAGE_POSTS: [&str; 6] = [
    "These idiots want to destroy everything you love. Share if you are sick of them!",
    "You won't believe how disgusting these people are. Absolutely vile, every single one of them.",
    "Every single one of these clowns should be ashamed. Retweet if you're furious!",
    "They are laughing at you while they ruin this country. Wake up and get angry!",
    "How dare they?! These pathetic losers think you're too stupid to notice. Share this everywhere!",
    "I am DONE with these morons. They lie to your face and you just take it?!",
];

#[test]
fn feedback_reaches_its_rule_its_site_and_near_duplicates_only() {
    let Some((_home, mut h)) = host() else { return };
    let on = |site: &str| -> Value {
        Value::Array(
            RAGE_POSTS.iter().enumerate().map(|(i, t)| json!({"id": i.to_string(), "text": t, "site": site})).collect(),
        )
    };
    // A page on x.com clicks "This was fine" twice, on two generic rage posts it wrote itself.
    let fakes = [
        "I can't stand these people anymore, they make me furious!",
        "Outrageous. Everyone should be angry about this.",
    ];
    let own = |h: &mut HostProc, site: &str| {
        classify(
            h,
            json!([{"id": "o", "text": fakes[0], "site": site},
                   {"id": "p", "text": "I can't stand these people any more, they make me so furious!", "site": site}]),
        )
    };
    let own_before = own(&mut h, "x.com");
    let own_before_reddit = own(&mut h, "reddit.com");
    let before_x = classify(&mut h, on("x.com"));
    let before_reddit = classify(&mut h, on("reddit.com"));
    let blurred = before_x.iter().filter(|v| v["action"] == "blur").count();
    assert!(blurred >= 4, "the defaults blur most of these: {before_x:?}");
    for (i, text) in fakes.iter().enumerate() {
        let r = h
            .request(json!({"type": "feedback", "post": {"id": format!("fake{i}"), "text": text, "site": "x.com"},
                                 "rule": "rage-bait", "kind": "was_fine"}));
        assert_eq!(r["stored"], true, "{r}");
    }
    // Other sites are untouched; on x.com, posts that are not near-duplicates of the two keep their verdicts.
    let after_reddit = classify(&mut h, on("reddit.com"));
    let after_x = classify(&mut h, on("x.com"));
    // Not even the page's own posts, when they show up on another site.
    let own_after_reddit = own(&mut h, "reddit.com");
    for (b, a) in before_reddit.iter().zip(&after_reddit).chain(own_before_reddit.iter().zip(&own_after_reddit)) {
        assert_eq!((&b["action"], &b["scores"]), (&a["action"], &a["scores"]), "reddit.com changed: {a}");
    }
    let flipped: Vec<&Value> =
        before_x.iter().zip(&after_x).filter(|(b, a)| b["action"] != a["action"]).map(|(_, a)| a).collect();
    assert!(flipped.is_empty(), "two corrections un-blurred other posts: {flipped:?}");
    // The corrected post itself, and a paraphrase of it, are no longer filtered as rage-bait on x.com.
    let own_after = own(&mut h, "x.com");
    for (b, a) in own_before.iter().zip(&own_after) {
        assert_eq!(b["rule"], "rage-bait", "the page's own post was filtered as rage-bait: {b}");
        assert_ne!(a["rule"], "rage-bait", "{a}");
    }
    // "This was fine" must name the rule it is about.
    let r = h
        .request(json!({"type": "feedback", "post": {"id": "q", "text": "fine", "site": "x.com"}, "kind": "was_fine"}));
    assert_eq!(r["code"], "bad-request", "{r}");
}

fn hello_storage(h: &mut HostProc) -> Value {
    let r = h.request(json!({"type": "hello"}));
    assert_eq!(r["type"], "hello", "{r}");
    r["storage"].clone()
}

/// What still works without a database: judging and the policy; feedback and stats say why they cannot.
fn serves_without_storage(h: &mut HostProc) {
    let v = classify(h, json!([{"id": "1", "text": "Had a lovely walk by the river this morning."}]));
    assert_eq!(v.len(), 1);
    assert_eq!(h.request(json!({"type": "policy.get"}))["type"], "policy");
    for request in [
        json!({"type": "feedback", "post": {"id": "1", "text": "a post"}, "rule": "rage-bait", "kind": "was_fine"}),
        json!({"type": "stats"}),
    ] {
        let r = h.request(request);
        assert_eq!(r["code"], "storage-error", "{r}");
    }
}

fn doctor_sqlite_line(home: &std::path::Path, models: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(["doctor", "--no-start"])
        .env("FEEDWARDEN_HOME", home)
        .env("FEEDWARDEN_MODELS_DIR", models)
        .env("HOME", home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    stdout.lines().find(|l| l.contains("SQLite")).unwrap_or_else(|| panic!("no SQLite line:\n{stdout}")).to_string()
}

#[test]
fn a_corrupt_database_is_reported_and_judging_goes_on() {
    let Some(models) = models_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("feedwarden.sqlite3"), vec![0x5a; 16 * 1024]).unwrap();
    let mut h = HostProc::spawn(home.path(), &models);
    let storage = hello_storage(&mut h);
    assert_eq!(storage["ok"], false, "{storage}");
    assert!(storage["error"].as_str().unwrap().contains("feedwarden.sqlite3"), "{storage}");
    serves_without_storage(&mut h);
    drop(h);
    let line = doctor_sqlite_line(home.path(), &models);
    assert!(line.contains("FAIL") && line.contains("corrupt") && line.contains("move it aside"), "{line}");
}

#[test]
fn a_locked_database_is_reported_and_judging_goes_on() {
    let Some(models) = models_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    // A database the host made, then another program holding its write lock.
    let mut h = HostProc::spawn(home.path(), &models);
    assert_eq!(hello_storage(&mut h)["ok"], true);
    drop(h);
    let other = rusqlite::Connection::open(home.path().join("feedwarden.sqlite3")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO stats VALUES ('d', 's', 'c', 'a', 1);").unwrap();
    let line = doctor_sqlite_line(home.path(), &models);
    assert!(line.contains("FAIL") && line.contains("locked"), "{line}");
    let mut h = HostProc::spawn(home.path(), &models);
    let storage = hello_storage(&mut h);
    assert_eq!(storage["ok"], false, "{storage}");
    assert!(storage["error"].as_str().unwrap().contains("locked"), "{storage}");
    serves_without_storage(&mut h);
    drop(other);
}

/// Peak resident memory of a process (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

#[test]
fn a_huge_post_text_is_cut_before_tokenising() {
    let Some((_home, mut h)) = host() else { return };
    let opening = "These idiots want to destroy everything you love. Share if you are sick of them! ";
    let short = classify(&mut h, json!([{"id": "s", "text": opening}]));
    let before = peak_rss_mib(h.child.id());
    // 7 MB of words (the frame limit is 8 MiB): tokenised whole this took ~75 MB per MB of text.
    let text = format!("{opening}{}", "outrage words again and again ".repeat(7 * 1024 * 1024 / 30));
    let long = classify(&mut h, json!([{"id": "l", "text": text}]));
    let grown = peak_rss_mib(h.child.id()).saturating_sub(before);
    assert!(grown < 200, "judging a 7 MB text raised the peak memory by {grown} MiB");
    assert_eq!(long[0]["id"], "l");
    // The model sees the same opening either way: only its first 128 tokens ever counted.
    assert_eq!(long[0]["action"], short[0]["action"], "{long:?}");
}
