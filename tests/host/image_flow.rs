//! The image flow of `classify` through the real `feedwarden-host` and the real models: images judged beside
//! the text, the per-post image budget (`image_budget_ms`, `FEEDWARDEN_IMAGE_BUDGET_MS`), text-only verdicts
//! marked `images_pending`, the later `verdict.update`s (each image stage's findings as soon as it is done,
//! then the final verdict), caching of the final verdict, the order of replies
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

/// An update sent while some of the post's image stages still ran (`images_pending: true`): it carries what
/// the faster stages found — each image has the NSFW score or the OCR text, never yet both.
fn is_partial_update(frame: &Value) -> bool {
    if frame["type"] != "verdict.update" || frame["verdict"]["images_pending"] != true {
        return false;
    }
    for image in frame["verdict"]["images"].as_array().expect("what the images said so far") {
        let (read, scored) = (!image["text"].as_str().unwrap_or("").is_empty(), !image["nsfw"].is_null());
        assert!(!(read && scored), "a partial update before every stage is done: {frame}");
    }
    true
}

/// The next frame that is not a partial update (those are checked on the way).
fn read_past_partial_updates(host: &mut common::HostProc) -> Value {
    loop {
        let frame = host.read();
        if !is_partial_update(&frame) {
            return frame;
        }
    }
}

/// The frames left after the host exits, partial updates checked and dropped.
fn final_frames(rest: &[u8]) -> Vec<Value> {
    frames(rest).into_iter().filter(|f| !is_partial_update(f)).collect()
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

    // OCR and NSFW each send their findings when done: the faster one's come first, as an update that
    // announces more (a slow stage never holds a fast one's findings back), then the final verdict.
    let first = host.read();
    assert!(is_partial_update(&first), "one stage's findings first: {first}");
    assert_eq!((&first["request_id"], &first["verdict"]["id"]), (&json!("r1"), &json!("meme")), "{first}");
    let update = host.read();
    assert_is_update_of(&update, &json!("r1"), "meme");
    assert!(!update["verdict"]["images"][0]["nsfw"].is_null(), "both stages in the final verdict: {update}");
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
    assert_is_update_of(&read_past_partial_updates(&mut host), &json!(1), "meme");
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
        {"id": "b", "text": "Lunch", "images": [render::text_image_data_url(&["Soup and bread today"]),
                                                render::text_image_data_url(&["Apple pie for dessert"])]},
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
        let frame = read_past_partial_updates(&mut host);
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
        let id = u["verdict"]["id"].as_str().unwrap().to_string();
        assert!(by_post.insert(id, u).is_none(), "one final update per post");
    }
    assert_is_update_of(by_post["a"], &json!("c"), "a");
    assert_is_update_of(by_post["b"], &json!("c"), "b");
    assert_eq!(by_post["a"]["verdict"]["action"], "blur");
    assert_eq!(by_post["b"]["verdict"]["action"], "show", "the update is sent even when the action stays");
    let texts: Vec<&str> =
        by_post["b"]["verdict"]["images"].as_array().unwrap().iter().map(|i| i["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2, "both of the post's images: {texts:?}");
    assert!(texts[0].contains("Soup") && texts[1].contains("pie"), "{texts:?}");
    let (status, rest) = host.finish();
    assert!(status.success());
    assert!(final_frames(&rest).is_empty(), "exactly one final update per pending post: {:?}", frames(&rest));
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
    let rest = final_frames(&rest);
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
    let rest = final_frames(&rest);
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

/// A policy whose rules fire on a diluted score, so a post with one bad line among neutral ones is filtered.
const LOW_THRESHOLD_POLICY: &str = r#"[policy]
name = "quote test"

[[rule]]
id = "angry"
description = "Rage-bait"
category = "rage-bait"
action = "blur"
threshold = 0.3

[[rule]]
id = "spiders"
description = "Photos or talk of spiders, tarantulas and other creepy crawly arachnids"
action = "hide"
threshold = 0.3
should_match = ["A huge hairy spider was sitting in my bathtub this morning", "Look at this tarantula"]
should_not_match = ["The bus was late again", "Our cat loves the garden"]
"#;

#[test]
fn why_quotes_the_line_that_triggered_the_rule() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut host = common::HostProc::spawn(home.path(), &models);
    let set = host.request(json!({"type": "policy.set", "source": LOW_THRESHOLD_POLICY}));
    assert_eq!(set["applied"], true, "{set}");
    let rage = "WAKE UP! These traitors are destroying our country and you do NOTHING!";
    let notice = render::text_image_data_url(&[
        "Community notice",
        "Library hours: 9 to 5.",
        rage,
        "Parking is free on Sundays.",
    ]);
    let spider = "There is a huge hairy spider on my ceiling.";
    let flyer = render::text_image_data_url(&["Meeting moved to 3:30 PM.", spider, "Bring snacks for everyone."]);
    let r = host.request(classify(
        json!(1),
        json!([{"id": "notice", "text": "seen downtown", "images": [notice]},
               {"id": "flyer", "text": "", "images": [flyer]}]),
        Some(HUGE_BUDGET_MS),
    ));
    let (notice, flyer) = (&r["verdicts"][0], &r["verdicts"][1]);
    eprintln!("notice: {} | {}", notice["action"], notice["reason"]);
    eprintln!("flyer: {} | {}", flyer["action"], flyer["reason"]);
    assert_eq!(notice["rule"], "angry", "{notice}");
    let reason = notice["reason"].as_str().unwrap();
    // "WAKE UP!" is a sentence of its own; the one that carries the rage-bait is quoted.
    let quoted = "text in the image: \"These traitors are destroying our country and you do NOTHING!\" (rage-bait 0.";
    assert!(reason.contains(quoted), "the rage-bait line is quoted with its own score: {reason}");
    for neutral in ["Community notice", "Library hours", "Parking", "seen downtown"] {
        assert!(!reason.contains(neutral), "a neutral line is not quoted: {reason}");
    }
    // A user-defined category: the line is scored against the rule's description and examples.
    assert_eq!(flyer["rule"], "spiders", "{flyer}");
    let reason = flyer["reason"].as_str().unwrap();
    // Its own score, whatever it rounds to (a clear spider sentence scores 1.00).
    assert!(reason.contains(&format!("text in the image: \"{spider}\" (spiders ")), "{reason}");
    assert!(reason.contains(" on its own)"), "{reason}");
    assert!(!reason.contains("Meeting") && !reason.contains("snacks"), "{reason}");

    // A long post without images: its sentences are scored one by one too.
    let wake_up = "Wake up, people: they laugh at you while they sell out everything our parents built, and you keep \
                   voting for them like sheep!";
    let long = format!(
        "The street fair is on Saturday. {rage} {wake_up} Share this before it gets deleted. Children can paint in \
         the garden."
    );
    let r = host.request(classify(json!(2), json!([{"id": "long", "text": long}]), None));
    let v = &r["verdicts"][0];
    eprintln!("long: {} | {}", v["action"], v["reason"]);
    assert_eq!(v["rule"], "angry", "{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains("; the words: \""), "{reason}");
    assert!(reason.contains(&rage[9..]) || reason.contains(wake_up), "a rage-bait sentence is quoted: {reason}");
    assert!(!reason.contains("street fair") && !reason.contains("paint"), "{reason}");
}

/// Not a test: the figures for docs/benchmarks.md ("Images arriving with the text"). Time from writing a
/// one-post `classify` (distinct text, one distinct image) to reading its `verdicts` reply, with the default
/// budget and with budget 0, and to the image-informed verdict (the reply, or the `verdict.update` when the
/// reply said `images_pending`). Images: the saved x.com images over 8 KB, downscaled to 512 px and encoded
/// as JPEG quality 80 as the extension sends them; one pixel differs per request so no image is a cache hit.
/// No assertion on time. Run:
/// `FEEDWARDEN_XHTML_DIR=/abs/path/feeds/x-html cargo test --release --test image_flow -- --ignored --nocapture time_to_first_reply`
#[test]
#[ignore = "a benchmark: needs the saved x.com pages (FEEDWARDEN_XHTML_DIR=…/feeds/x-html)"]
fn time_to_first_reply_with_and_without_waiting_for_images() {
    use std::time::Instant;
    let Some(models) = render::image_models() else { return };
    let dir = std::path::PathBuf::from(std::env::var("FEEDWARDEN_XHTML_DIR").expect("set FEEDWARDEN_XHTML_DIR"));
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .flat_map(|d| std::fs::read_dir(d).unwrap().filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
            (ext == "jpg" || ext == "png") && std::fs::metadata(p).map(|m| m.len() > 8 * 1024).unwrap_or(false)
        })
        .collect();
    files.sort();
    let images: Vec<image::RgbImage> = files
        .iter()
        .filter_map(|f| image::open(f).ok())
        .map(|img| img.resize(512, 512, image::imageops::FilterType::Triangle).to_rgb8())
        .collect();
    assert!(!images.is_empty(), "no images in {}", dir.display());
    let data_url = |n: usize| {
        let mut img = images[n % images.len()].clone();
        img.put_pixel(0, 0, image::Rgb([(n % 256) as u8, (n / 256 % 256) as u8, 7]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80).encode_image(&img).unwrap();
        use base64::Engine;
        format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg))
    };
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_string();
    let pct = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 - 1.0) * q).round() as usize]
    };
    const WARM_UP: usize = 3;
    let rounds = 3 * images.len();
    eprintln!(
        "{} images, {rounds} requests per budget (+{WARM_UP} warm-up); load average before: {}",
        images.len(),
        load()
    );
    for budget in [None, Some(0u64)] {
        let home = tempfile::tempdir().unwrap();
        let mut host = common::HostProc::spawn(home.path(), &models);
        let (mut first, mut full, mut pending) = (Vec::new(), Vec::new(), 0);
        for n in 0..WARM_UP + rounds {
            let post = json!([{"id": format!("p{n}"), "text": format!("Post number {n} from the timeline"),
                               "images": [data_url(n + if budget.is_some() { 100_000 } else { 0 })]}]);
            let request = serde_json::to_vec(&classify(json!(n), post, budget)).unwrap();
            let t0 = Instant::now();
            host.send_raw(&request);
            let reply = host.read();
            let t_reply = t0.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(reply["type"], "verdicts", "{reply}");
            let was_pending = reply["verdicts"][0]["images_pending"] == true;
            if was_pending {
                assert_eq!(host.read()["type"], "verdict.update");
            }
            let t_full = t0.elapsed().as_secs_f64() * 1000.0;
            if n >= WARM_UP {
                first.push(t_reply);
                full.push(t_full);
                pending += was_pending as usize;
            }
        }
        let label = budget.map_or("default budget (150 ms)".to_string(), |b| format!("budget {b} ms"));
        eprintln!(
            "{label}: first reply p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; image-informed verdict p50 {:.1} ms, \
             p95 {:.1} ms; {pending}/{rounds} replies had images_pending",
            pct(&mut first, 0.5),
            pct(&mut first, 0.95),
            pct(&mut first, 1.0),
            pct(&mut full, 0.5),
            pct(&mut full, 0.95),
        );
    }
    eprintln!("load average after: {}", load());
}

#[test]
fn an_images_text_is_judged_apart_and_never_dilutes_the_posts_own_words() {
    let Some(models) = render::image_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut host = common::HostProc::spawn(home.path(), &models);
    let bait = "You Won't Believe What This Dog Did Next";
    let screenshot = render::text_image_data_url(&[
        "Opening hours this week:",
        "Monday to Friday 9:00 to 17:30,",
        "Saturday 10:00 to 14:00.",
        "Closed on public holidays.",
    ]);
    let r = host.request(classify(
        json!(1),
        json!([{"id": "alone", "text": bait},
               {"id": "with-image", "text": bait, "images": [screenshot]}]),
        Some(HUGE_BUDGET_MS),
    ));
    let (alone, with_image) = (&r["verdicts"][0], &r["verdicts"][1]);
    eprintln!("alone: {} | {}", alone["scores"], alone["reason"]);
    eprintln!("with image: {} | {}", with_image["scores"], with_image["reason"]);
    let read = with_image["images"][0]["text"].as_str().unwrap_or_default();
    assert!(read.contains("Saturday"), "the screenshot's text was read: {with_image}");
    let score = |v: &Value| v["scores"]["clickbait"].as_f64().expect("a clickbait score");
    assert!(score(alone) > 0.8, "the headline alone is clickbait: {alone}");
    // Appended to the post's text, the opening hours pulled this headline's clickbait score from 0.93 to 0.12
    // (and the post was shown). The same text in another batch may differ by a few hundredths: the int8 model
    // quantises its activations per batch.
    assert!(score(with_image) > score(alone) - 0.1, "the screenshot diluted the post's own words: {with_image}");
    assert_eq!(with_image["action"], alone["action"], "{with_image}");
}
