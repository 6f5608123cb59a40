//! The VLM stage through the real host and `feedwarden batch`: with the tiny random-weight SmolVLM (the exact
//! SmolVLM-256M interface; `FEEDWARDEN_VLM_MODEL=tiny`) an image rule is answered by the VLM when CLIP is
//! absent or unsure, the text verdict never waits for it, the VLM's P(yes) is the rule's image score (the
//! golden value of models/build/smolvlm-tiny/golden.json for its test image), a verdict decided by the image
//! quotes the generated description, and the final verdict is cached. The weights are noise: these tests pin
//! the plumbing, not the quality.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

/// The models folder with the tiny SmolVLM built, or `None` (skip) as the other model tests do.
fn vlm_models() -> Option<PathBuf> {
    let need = ["smolvlm-tiny/vision_encoder.onnx", "smolvlm-tiny/tokenizer.json", "smolvlm-tiny/golden.json"];
    common::models_with(&need, "the tiny SmolVLM test models")
}

fn golden(models: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(models.join("smolvlm-tiny/golden.json")).unwrap()).unwrap()
}

/// The tiny SmolVLM's test image as the extension would send it.
fn test_image(models: &Path) -> String {
    use base64::Engine;
    let bytes = std::fs::read(models.join("smolvlm-tiny/test.png")).unwrap();
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// An image-only rule whose description is the golden question's ("Does this image show a spider?").
const SPIDER_POLICY: &str = r#"[policy]
name = "Spider pictures"

[[rule]]
id = "spider-pictures"
description = "Photos of spiders"
image_description = "a spider"
action = "blur"
threshold = 0.5
content = ["images"]
"#;

fn spawn_host(home: &Path, models: &Path, clip: &str, vlm: Option<&str>) -> common::HostProc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden-host"));
    cmd.env("FEEDWARDEN_CLIP_MODEL", clip);
    match vlm {
        Some(v) => cmd.env("FEEDWARDEN_VLM_MODEL", v),
        None => cmd.env_remove("FEEDWARDEN_VLM_MODEL"),
    };
    cmd.env_remove("FEEDWARDEN_VLM_BUDGET_MS");
    common::HostProc::spawn_with(cmd, home, models)
}

fn vlm_entry(hello: &Value) -> Value {
    let models = hello["models"].as_array().unwrap();
    models.iter().find(|m| m["kind"] == "vlm").cloned().unwrap_or_else(|| panic!("hello lists no VLM: {hello}"))
}

const WEATHER: &str = "Light rain this afternoon, clearing by the evening.";

#[test]
fn without_clip_the_vlm_answers_the_image_rule_and_describes_the_image() {
    let Some(models) = vlm_models() else { return };
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.toml"), SPIDER_POLICY).unwrap();
    let mut h = spawn_host(home.path(), &models, "off", Some("tiny"));

    let hello = h.request(json!({"type": "hello", "request_id": 1, "protocols": [1]}));
    let vlm = vlm_entry(&hello);
    assert_eq!((vlm["id"].as_str(), vlm["loaded"].as_bool()), (Some("smolvlm-tiny"), Some(false)), "{vlm}");
    // No CLIP, but a VLM: the image rule is judged on images, so no "install CLIP" warning.
    let policy = h.request(json!({"type": "policy.get", "request_id": 2}));
    assert_eq!(policy["diagnostics"], json!([]), "{policy}");

    // The reply does not wait for the VLM, even with a generous image budget: OCR and NSFW are in it.
    let posts = json!([{"id": "s", "text": WEATHER, "images": [test_image(&models)]}]);
    let r = h.request(json!({"type": "classify", "request_id": "c1", "posts": posts, "image_budget_ms": 60000}));
    let v = &r["verdicts"][0];
    assert_eq!((v["images_pending"].as_bool(), v["action"].as_str()), (Some(true), Some("show")), "{v}");
    assert!(v.get("image_scores").is_none(), "no CLIP, no VLM yet, no image score: {v}");
    assert!(v["images"][0]["error"].is_null() && v["images"][0].get("vlm").is_none(), "{v}");

    let update = h.read();
    assert_eq!((update["type"].as_str(), &update["request_id"]), (Some("verdict.update"), &json!("c1")), "{update}");
    let u = &update["verdict"];
    assert_eq!(u["images_pending"], false, "{u}");
    let finding = &u["images"][0]["vlm"];
    assert_eq!(finding["model"], "smolvlm-tiny", "{u}");
    let p = finding["scores"]["spider-pictures"].as_f64().unwrap();
    let want = golden(&models)["p_yes"].as_f64().unwrap();
    assert!((p - want).abs() < 1e-3, "P(yes) {p} vs the golden {want}");
    let score = u["image_scores"]["spider-pictures"].as_f64().unwrap();
    assert!((score - p).abs() < 1e-4, "the VLM's answer ({p}) is the image score ({score}, 4 decimals)");
    let description = finding["description"].as_str().unwrap_or_else(|| panic!("no description: {u}"));
    assert!(!description.is_empty());
    assert_eq!((u["action"].as_str(), u["rule"].as_str()), (Some("blur"), Some("spider-pictures")), "{u}");
    let reason = u["reason"].as_str().unwrap();
    assert!(reason.contains("the image shows: \""), "the verdict says what the image shows: {reason}");

    // Loaded now, with the provider that runs it.
    let vlm = vlm_entry(&h.request(json!({"type": "hello", "request_id": 3, "protocols": [1]})));
    assert!(vlm["provider"] == "CPU" || vlm["provider"] == "CUDA", "{vlm}");
    assert!(vlm["note"].as_str().unwrap().contains("MiB of memory"), "what the VLM costs: {vlm}");
    // The final verdict was cached: the same post is answered at once, VLM findings included.
    let r = h.request(json!({"type": "classify", "request_id": "c2", "posts": posts, "image_budget_ms": 0}));
    let v = &r["verdicts"][0];
    assert_eq!((v["cached"].as_bool(), v["action"].as_str()), (Some(true), Some("blur")), "{v}");
    assert!(v.get("images_pending").is_none(), "{v}");
}

/// With a budget of zero the text verdict comes first, then the image stages' updates (still pending: the VLM
/// follows), then the VLM's: each a `verdict.update` for the same request.
#[test]
fn text_then_images_then_vlm_each_as_it_lands() {
    let Some(models) = vlm_models() else { return };
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.toml"), SPIDER_POLICY).unwrap();
    let mut h = spawn_host(home.path(), &models, "off", Some("tiny"));
    let posts = json!([{"id": "s", "text": WEATHER, "images": [test_image(&models)]}]);
    let r = h.request(json!({"type": "classify", "request_id": "z", "posts": posts, "image_budget_ms": 0}));
    assert_eq!(r["verdicts"][0]["images_pending"], true, "{r}");
    // The image stages' updates (each stage's findings as it finishes; still pending: the VLM follows)…
    let mut updates = Vec::new();
    let vlm = loop {
        let u = h.read();
        assert_eq!(u["type"], "verdict.update", "{u}");
        if u["verdict"]["images_pending"] == false {
            break u;
        }
        assert!(u["verdict"]["images"][0].get("vlm").is_none(), "the VLM has not answered yet: {u}");
        updates.push(u);
    };
    assert!(!updates.is_empty(), "the image stages' findings came before the VLM's");
    // …then the VLM's, final.
    assert!(vlm["verdict"]["images"][0].get("vlm").is_some(), "{vlm}");
    assert_eq!(vlm["verdict"]["rule"], "spider-pictures", "{vlm}");
    // Requests keep being answered while the VLM works (and after).
    let hello = h.request(json!({"type": "hello", "request_id": 9, "protocols": [1]}));
    assert_eq!(hello["type"], "hello", "{hello}");
}

/// When CLIP is sure (the image is the rule's example: score 1), the VLM is not asked: the verdict is final
/// in the reply. The VLM only takes the images CLIP leaves uncertain.
#[test]
fn the_vlm_is_not_asked_when_clip_is_sure() {
    let Some(models) = vlm_models() else { return };
    if !models.join("clip-tiny/vision_model.onnx").is_file() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("examples")).unwrap();
    std::fs::copy(models.join("smolvlm-tiny/test.png"), home.path().join("examples/spider.png")).unwrap();
    let policy = SPIDER_POLICY
        .replace("content = [\"images\"]", "image_examples = [\"examples/spider.png\"]\ncontent = [\"images\"]");
    std::fs::write(home.path().join("policy.toml"), policy).unwrap();
    let mut h = spawn_host(home.path(), &models, "tiny", Some("tiny"));
    let posts = json!([{"id": "s", "text": WEATHER, "images": [test_image(&models)]}]);
    let r = h.request(json!({"type": "classify", "request_id": "c", "posts": posts, "image_budget_ms": 60000}));
    let v = &r["verdicts"][0];
    assert!(v.get("images_pending").is_none(), "CLIP decided; nothing follows: {v}");
    assert!(v["image_scores"]["spider-pictures"].as_f64().unwrap() >= 0.95, "{v}");
    assert!(v["images"][0].get("vlm").is_none(), "{v}");
    let hello = h.request(json!({"type": "hello", "request_id": 2, "protocols": [1]}));
    assert_eq!(vlm_entry(&hello)["loaded"], false, "the VLM was never needed, so never loaded: {hello}");
}

/// Without the real SmolVLM installed, `hello` says what to fetch and nothing waits for a VLM.
#[test]
fn hello_says_how_to_get_the_vlm() {
    let Some(models) = common::models_dir() else { return };
    if models.join("smolvlm-256m/tokenizer.json").is_file() {
        eprintln!("SKIPPED: the real SmolVLM is installed in {}; this test needs it absent", models.display());
        return;
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.toml"), SPIDER_POLICY).unwrap();
    let mut h = spawn_host(home.path(), &models, "off", None);
    let vlm = vlm_entry(&h.request(json!({"type": "hello", "request_id": 1, "protocols": [1]})));
    assert_eq!((vlm["id"].as_str(), vlm["provider"].is_null()), (Some("smolvlm-256m"), true), "{vlm}");
    assert!(vlm["error"].as_str().unwrap().contains("feedwarden models fetch smolvlm-256m"), "{vlm}");
    let posts = json!([{"id": "s", "text": WEATHER, "images": [test_image(&common::models_dir().unwrap())]}]);
    if !models.join("smolvlm-tiny/test.png").is_file() {
        return;
    }
    let r = h.request(json!({"type": "classify", "request_id": "c", "posts": posts, "image_budget_ms": 60000}));
    assert!(r["verdicts"][0].get("images_pending").is_none(), "no VLM, nothing pending: {r}");
}

/// `feedwarden batch --images --vlm` describes every image and writes the VLM's answers as the image scores,
/// with the model named in the run manifest.
#[test]
fn batch_vlm_describes_every_image() {
    let Some(models) = vlm_models() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(models.join("smolvlm-tiny/test.png"), dir.path().join("spider.png")).unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::write(
        &feed,
        format!(
            "{}\n{}\n",
            json!({"id": "1", "text": WEATHER, "images": ["spider.png"]}),
            json!({"id": "2", "text": WEATHER})
        ),
    )
    .unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, SPIDER_POLICY).unwrap();
    let out = dir.path().join("out.jsonl");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(["batch", "-q", "--images", "--vlm", "--policy", &s(&policy), &s(&feed), "-o", &s(&out)])
        .env("FEEDWARDEN_MODELS_DIR", &models)
        .env("FEEDWARDEN_CLIP_MODEL", "off")
        .env("FEEDWARDEN_VLM_MODEL", "tiny")
        .env_remove("FEEDWARDEN_ORT_LIB")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let p = rows[0]["image_scores"]["spider-pictures"].as_f64().unwrap();
    assert!((p - golden(&models)["p_yes"].as_f64().unwrap()).abs() < 1e-3, "{}", rows[0]);
    let described = rows[0]["image_descriptions"].as_str().unwrap();
    assert!(described.starts_with("spider.png: ") && described.len() > "spider.png: ".len(), "{described}");
    assert_eq!(rows[0]["rule"], "spider-pictures", "{}", rows[0]);
    assert!(rows[1].get("image_descriptions").is_none(), "{}", rows[1]);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.jsonl.manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["images"]["vlm"], "smolvlm-tiny", "{manifest}");
    assert!(manifest["images"]["vlm_files"].as_array().unwrap().len() >= 3, "{manifest}");
    let cols = manifest["output"]["columns"].as_array().unwrap();
    assert_eq!(cols.last().unwrap(), "image_descriptions", "{manifest}");

    // Without a VLM installed, --vlm is refused with what to fetch.
    if models.join("smolvlm-256m/tokenizer.json").is_file() {
        return;
    }
    let o = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(["batch", "-q", "--images", "--vlm", "--policy", &s(&policy), &s(&feed), "-o", &s(&out), "--fresh"])
        .env("FEEDWARDEN_MODELS_DIR", &models)
        .env("FEEDWARDEN_CLIP_MODEL", "off")
        .env_remove("FEEDWARDEN_VLM_MODEL")
        .env_remove("FEEDWARDEN_ORT_LIB")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("run `feedwarden models fetch smolvlm-256m`"), "{err}");
}

/// A PNG data URL of a small gradient (a different image per `seed`).
fn gradient_url(seed: u8) -> String {
    use base64::Engine;
    let img = image::RgbImage::from_fn(96, 96, |x, y| image::Rgb([(x as u8).wrapping_mul(seed), y as u8, seed]));
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `cancel` (the page went away): the posts of that request still waiting for the VLM get no update, the
/// reply counts them, and the host goes on serving; every post is either updated before the cancel or counted.
#[test]
fn cancel_drops_what_the_vlm_has_not_done() {
    let Some(models) = vlm_models() else { return };
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.toml"), SPIDER_POLICY).unwrap();
    let mut h = spawn_host(home.path(), &models, "off", Some("tiny"));
    let posts: Vec<Value> =
        (1..=6u8).map(|i| json!({"id": format!("p{i}"), "text": WEATHER, "images": [gradient_url(i)]})).collect();
    let r = h.request(json!({"type": "classify", "request_id": "page", "posts": posts, "image_budget_ms": 60000}));
    let pending = r["verdicts"].as_array().unwrap().iter().filter(|v| v["images_pending"] == true).count();
    assert_eq!(pending, 6, "{r}");
    h.send_raw(json!({"type": "cancel", "request_id": "bye", "requests": ["page"]}).to_string().as_bytes());
    let mut updated = 0;
    let cancelled = loop {
        let m = h.read();
        match m["type"].as_str() {
            Some("verdict.update") => updated += 1,
            Some("cancelled") => break m,
            _ => panic!("unexpected {m}"),
        }
    };
    assert_eq!(cancelled["request_id"], "bye");
    let dropped = cancelled["posts"].as_u64().unwrap() as usize;
    assert_eq!(updated + dropped, 6, "each post is updated or dropped: {updated} + {dropped}");
    assert!(dropped >= 1, "the VLM cannot have answered six posts before the cancel arrived");
    // Nothing more comes for that request: the next frame answers the next request.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let hello = h.request(json!({"type": "hello", "request_id": 2, "protocols": [1]}));
    assert_eq!(hello["type"], "hello", "{hello}");
    // Unknown requests cancel nothing.
    let r = h.request(json!({"type": "cancel", "request_id": 3, "requests": ["never-sent", 17]}));
    assert_eq!((r["type"].as_str(), r["posts"].as_u64()), (Some("cancelled"), Some(0)), "{r}");
}

/// `hello.accepts.images` says whether to send images at all: true with only a VLM for an image rule (no
/// OCR, NSFW or CLIP), false with no image model for the policy.
#[test]
fn hello_accepts_images_when_the_vlm_can_judge_them() {
    let Some(models) = vlm_models() else { return };
    // A models folder with the text model and the tiny VLM only.
    let only = tempfile::tempdir().unwrap();
    for d in ["feedwarden-judge", "onnxruntime", "smolvlm-tiny"] {
        std::os::unix::fs::symlink(models.join(d), only.path().join(d)).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("policy.toml"), SPIDER_POLICY).unwrap();
    let mut h = spawn_host(home.path(), only.path(), "off", Some("tiny"));
    let hello = h.request(json!({"type": "hello", "request_id": 1, "protocols": [1]}));
    let loaded: Vec<&Value> =
        hello["models"].as_array().unwrap().iter().filter(|m| m["kind"] == "ocr" || m["kind"] == "nsfw").collect();
    assert!(loaded.iter().all(|m| m["provider"].is_null()), "no OCR or NSFW here: {hello}");
    assert_eq!(hello["accepts"]["images"], true, "the VLM judges the image rule: {hello}");
    // Without the image rule nothing would look at the images.
    let text_only = "[policy]\nname = \"t\"\n\n[[rule]]\nid = \"rb\"\ncategory = \"rage-bait\"\naction = \"blur\"\n";
    let r = h.request(json!({"type": "policy.set", "request_id": 2, "source": text_only}));
    assert_eq!(r["applied"], true, "{r}");
    let hello = h.request(json!({"type": "hello", "request_id": 3, "protocols": [1]}));
    assert_eq!(hello["accepts"]["images"], false, "{hello}");
}
