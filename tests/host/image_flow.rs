//! The image flow of `classify` through the real `feedwarden-host` and the real models: images judged beside
//! the text, the per-post image budget (`image_budget_ms`, `FEEDWARDEN_IMAGE_BUDGET_MS`), text-only verdicts
//! marked `images_pending`, the later `verdict.update`, caching of the final verdict, the order of replies
//! and updates, and a clean exit when stdin closes with images still being judged. Budgets are 0 (never
//! wait) or very large (always wait), so no assertion depends on timing.

mod common;
#[path = "common/render.rs"]
mod render;

use std::collections::HashMap;
use std::process::Command;

use serde_json::{json, Value};

/// Rage-bait only in the image: typed out, these lines get the starter policy's rage-bait rule (`blur`).
const RAGE_LINES: [&str; 3] =
    ["They want you ANGRY.", "Share if you're sick of these", "traitors destroying our country!"];
const NEUTRAL_TEXT: &str = "seen downtown";
/// Never runs out while a test waits (ten minutes).
const HUGE_BUDGET_MS: u64 = 600_000;

fn rage_image() -> String {
    render::text_image_data_url(&RAGE_LINES)
}

fn classify(request_id: Value, posts: Value, budget_ms: Option<u64>) -> Value {
    let mut r = json!({"type": "classify", "request_id": request_id, "posts": posts});
    if let Some(ms) = budget_ms {
        r["image_budget_ms"] = json!(ms);
    }
    r
}

/// Split the frames left on stdout after the host exited.
fn frames(mut rest: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = common::read_frame(&mut rest) {
        out.push(v);
    }
    out
}

fn assert_is_update_of(update: &Value, request_id: &Value, post_id: &str) {
    assert_eq!(update["type"], "verdict.update", "{update}");
    assert_eq!(&update["request_id"], request_id, "{update}");
    assert_eq!(update["verdict"]["id"], post_id, "{update}");
    assert_eq!(update["verdict"]["images_pending"], false, "{update}");
    assert_eq!(update["verdict"]["cached"], false, "{update}");
}

fn image_text(verdict: &Value) -> String {
    verdict["images"].as_array().expect("an images array").iter().map(|i| i["text"].as_str().unwrap()).collect()
}

#[test]
fn budget_zero_answers_on_the_text_and_updates_with_the_images() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut host = common::HostProc::spawn(home.path(), &models);
    let posts = json!([
        {"id": "meme", "text": NEUTRAL_TEXT, "site": "x.com", "images": [rage_image()]},
        {"id": "plain", "text": "The library opens at nine on Saturdays.", "site": "x.com"},
    ]);
    let r = host.request(classify(json!("r1"), posts.clone(), Some(0)));
    assert_eq!(r["type"], "verdicts", "{r}");
    assert_eq!(r["request_id"], "r1");
    let (meme, plain) = (&r["verdicts"][0], &r["verdicts"][1]);
    assert_eq!(meme["id"], "meme");
    assert_eq!(meme["images_pending"], true, "{meme}");
    assert_eq!(meme["action"], "show", "the neutral text alone is shown: {meme}");
    assert!(meme.get("images").is_none(), "no image results yet: {meme}");
    assert!(plain.get("images_pending").is_none(), "a post without images is final: {plain}");

    let update = host.read();
    assert_is_update_of(&update, &json!("r1"), "meme");
    let v = &update["verdict"];
    let text = image_text(v);
    assert!(text.contains("ANGRY") && text.contains("traitors"), "OCR text in the update: {text:?}");
    assert_eq!(v["action"], "blur", "the image's words decide: {v}");
    assert_eq!(v["rule"], "rage-bait", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("text in the image"), "{v}");
    assert!(v["scores"]["rage-bait"].as_f64().unwrap() > meme["scores"]["rage-bait"].as_f64().unwrap());

    // Each post is counted once, with its final verdict (not the text-only `show` of the meme).
    let stats = host.request(json!({"type": "stats", "request_id": "s"}));
    assert_eq!(stats["type"], "stats", "{stats}");
    assert_eq!(stats["today"]["judged_today"], 2, "{stats}");
    let filtered = stats["today"]["filtered_today"].as_array().unwrap();
    assert_eq!(filtered.len(), 1, "{stats}");
    assert_eq!((filtered[0]["action"].as_str(), filtered[0]["count"].as_i64()), (Some("blur"), Some(1)), "{stats}");

    // The final verdict was cached: the same request is answered at once, with nothing pending or to follow.
    let again = host.request(classify(json!("r2"), posts, Some(0)));
    let meme = &again["verdicts"][0];
    assert_eq!(meme["cached"], true, "{again}");
    assert_eq!(meme["action"], "blur", "{again}");
    assert!(meme.get("images_pending").is_none(), "{again}");
    let hello = host.request(json!({"type": "hello", "request_id": "h"}));
    assert_eq!(hello["type"], "hello", "no update follows a cache hit: {hello}");
    let (status, rest) = host.finish();
    assert!(status.success());
    assert!(rest.is_empty(), "nothing after the last reply: {:?}", frames(&rest));
}

#[test]
fn a_large_budget_gives_the_full_verdict_in_the_reply() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut host = common::HostProc::spawn(home.path(), &models);
    let posts = json!([{"id": "meme", "text": NEUTRAL_TEXT, "images": [rage_image()]}]);
    let r = host.request(classify(json!(7), posts, Some(HUGE_BUDGET_MS)));
    let v = &r["verdicts"][0];
    assert_ne!(v["images_pending"], true, "{v}");
    assert_eq!(v["action"], "blur", "{v}");
    assert!(image_text(v).contains("ANGRY"), "{v}");
    let hello = host.request(json!({"type": "hello", "request_id": "h"}));
    assert_eq!(hello["type"], "hello", "no update after a complete verdict: {hello}");
    let (status, rest) = host.finish();
    assert!(status.success());
    assert!(rest.is_empty(), "{:?}", frames(&rest));
}

#[test]
fn the_default_budget_comes_from_the_environment() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden-host"));
    cmd.env("FEEDWARDEN_IMAGE_BUDGET_MS", "0");
    let mut host = common::HostProc::spawn_with(cmd, home.path(), &models);
    let posts = json!([{"id": "meme", "text": NEUTRAL_TEXT, "images": [rage_image()]}]);
    let r = host.request(classify(json!(1), posts.clone(), None));
    assert_eq!(r["verdicts"][0]["images_pending"], true, "{r}");
    assert_is_update_of(&host.read(), &json!(1), "meme");
    // A request's own budget wins over the environment's.
    let posts = json!([{"id": "meme2", "text": "Found this in the group chat", "images": [rage_image()]}]);
    let r = host.request(classify(json!(2), posts, Some(HUGE_BUDGET_MS)));
    assert_ne!(r["verdicts"][0]["images_pending"], true, "{r}");
    assert_eq!(r["verdicts"][0]["action"], "blur", "{r}");
    // A budget must be a whole number of milliseconds.
    let r = host.request(json!({"type": "classify", "request_id": 3, "posts": [], "image_budget_ms": -1}));
    assert_eq!((r["type"].as_str(), r["code"].as_str()), (Some("error"), Some("bad-request")), "{r}");
}

#[test]
fn replies_stay_in_order_and_updates_follow_their_verdicts() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut host = common::HostProc::spawn(home.path(), &models);
    let posts = json!([
        {"id": "a", "text": NEUTRAL_TEXT, "images": [rage_image()]},
        {"id": "b", "text": "Lunch", "images": [render::text_image_data_url(&["Soup and bread today"])]},
    ]);
    // Everything at once, without waiting for any reply: the image work is still going on behind them.
    host.send_raw(&serde_json::to_vec(&classify(json!("c"), posts, Some(0))).unwrap());
    host.send_raw(br#"{"type": "hello", "request_id": "h"}"#);
    host.send_raw(b"{not json");
    host.send_raw(br#"{"type": "stats", "request_id": "s"}"#);
    host.send_raw(&[0xff, 0xfe]);
    host.send_raw(br#"{"type": "policy.get", "request_id": "p"}"#);
    let want_replies = ["verdicts", "hello", "error", "stats", "error", "policy"];
    let (mut replies, mut updates) = (Vec::new(), Vec::new());
    while replies.len() < want_replies.len() || updates.len() < 2 {
        let frame = host.read();
        if frame["type"] == "verdict.update" {
            assert!(!replies.is_empty(), "an update before the verdicts that announced it: {frame}");
            updates.push(frame);
        } else {
            replies.push(frame);
        }
    }
    let kinds: Vec<&str> = replies.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, want_replies, "one reply per request, in order");
    assert_eq!(replies[2]["code"], "bad-json");
    assert_eq!(replies[4]["code"], "bad-utf8");
    assert_eq!(replies[1]["request_id"], "h");
    let pending: Vec<&Value> = replies[0]["verdicts"].as_array().unwrap().iter().collect();
    assert!(pending.iter().all(|v| v["images_pending"] == true), "{pending:?}");
    let mut by_post: HashMap<String, &Value> = HashMap::new();
    for u in &updates {
        assert_eq!(u["request_id"], "c", "{u}");
        assert!(by_post.insert(u["verdict"]["id"].as_str().unwrap().to_string(), u).is_none(), "one update per post");
    }
    assert_is_update_of(by_post["a"], &json!("c"), "a");
    assert_is_update_of(by_post["b"], &json!("c"), "b");
    assert_eq!(by_post["a"]["verdict"]["action"], "blur");
    assert_eq!(by_post["b"]["verdict"]["action"], "show", "the update is sent even when the action stays");
    let (status, rest) = host.finish();
    assert!(status.success());
    assert!(rest.is_empty(), "exactly one update per pending post: {:?}", frames(&rest));
}

#[test]
fn closing_stdin_with_images_pending_finishes_them_and_exits_cleanly() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let posts = json!([{"id": "meme", "text": NEUTRAL_TEXT, "images": [rage_image()]}]);
    let mut host = common::HostProc::spawn(home.path(), &models);
    let r = host.request(classify(json!(1), posts.clone(), Some(0)));
    assert_eq!(r["verdicts"][0]["images_pending"], true, "{r}");
    let (status, rest) = host.finish();
    assert!(status.success(), "{status}");
    let rest = frames(&rest);
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_is_update_of(&rest[0], &json!(1), "meme");
    assert_eq!(rest[0]["verdict"]["action"], "blur");

    // The finished verdict was cached before the host left: a new host answers from the cache.
    let mut host = common::HostProc::spawn(home.path(), &models);
    let r = host.request(classify(json!(2), posts, Some(0)));
    assert_eq!(r["verdicts"][0]["cached"], true, "{r}");
    assert_eq!(r["verdicts"][0]["action"], "blur", "{r}");
    let (status, rest) = host.finish();
    assert!(status.success());
    assert!(rest.is_empty(), "{:?}", frames(&rest));
}

#[test]
fn a_frame_cut_short_with_images_pending_still_exits_cleanly() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut host = common::HostProc::spawn(home.path(), &models);
    let posts = json!([{"id": "meme", "text": NEUTRAL_TEXT, "images": [rage_image()]}]);
    host.send_raw(&serde_json::to_vec(&classify(json!(1), posts, Some(0))).unwrap());
    // A header announcing 100 bytes, then only 3 of them, then the pipe closes.
    use std::io::Write;
    let stdin = host.stdin.as_mut().unwrap();
    stdin.write_all(&100u32.to_ne_bytes()).unwrap();
    stdin.write_all(b"{\"t").unwrap();
    let (status, rest) = host.finish();
    assert!(status.success(), "{status}");
    let rest = frames(&rest);
    let kinds: Vec<&str> = rest.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["verdicts", "verdict.update"], "{rest:?}");
}

/// docs/protocol.md describes the flow with the names and the default the code uses.
#[test]
fn protocol_doc_describes_the_image_budget_and_updates() {
    use feedwarden_host::protocol::{DEFAULT_IMAGE_BUDGET_MS, IMAGE_BUDGET_ENV, VERDICT_UPDATE_TYPE};
    let doc = std::fs::read_to_string(common::repo_root().join("docs/protocol.md")).unwrap();
    for needle in [
        format!("\"type\": \"{VERDICT_UPDATE_TYPE}\""),
        "`image_budget_ms`".to_string(),
        "\"images_pending\": true".to_string(),
        format!("`{IMAGE_BUDGET_ENV}`"),
        format!("**{DEFAULT_IMAGE_BUDGET_MS} ms**"),
    ] {
        assert!(doc.contains(&needle), "docs/protocol.md lacks {needle}");
    }
}
