//! CLIP plumbing for user-described image categories, on the tiny random-weight models with CLIP
//! ViT-B/32's exact ONNX interface (models/scripts/make_clip_assets.py) and CLIP's real BPE vocabulary.
//! Checks tokenisation against CLIP's ids, embedding shapes and norms, the prompt ensemble and scoring —
//! not quality: the tiny models' embeddings mean nothing.

mod common;

use std::path::PathBuf;

use feedwarden_host::images::clip::{preprocess, Clip, ClipOptions, EMBED_DIM, TEMPLATES};
use image::{Rgb, RgbImage};

fn clip_models() -> Option<PathBuf> {
    common::models_with(
        &["clip-tiny/vision_model.onnx", "clip-tiny/text_model.onnx", "clip-tiny/tokenizer.json"],
        "the CLIP test assets",
    )
}

fn picture(seed: u8) -> RgbImage {
    RgbImage::from_fn(300, 200, |x, y| Rgb([(x as u8).wrapping_mul(seed), (y as u8).wrapping_add(seed), seed]))
}

#[test]
fn clip_tokenizer_matches_clips_ids() {
    let Some(models) = clip_models() else { return };
    let clip = Clip::try_new(&ClipOptions::tiny(models.join("onnxruntime/libonnxruntime.so"), &models)).unwrap();
    // Reference ids from OpenAI's simple_tokenizer for these strings.
    assert_eq!(clip.token_ids("a photo of a cat").unwrap(), [49406, 320, 1125, 539, 320, 2368, 49407]);
    assert_eq!(clip.token_ids("A  PHOTO of a Cat").unwrap(), [49406, 320, 1125, 539, 320, 2368, 49407]);
    let long = "spiders ".repeat(200);
    let ids = clip.token_ids(&long).unwrap();
    assert_eq!((ids.len(), ids[76]), (77, 49407));
}

#[test]
fn clip_embeds_and_scores_described_categories() {
    let Some(models) = clip_models() else { return };
    let mut clip = Clip::try_new(&ClipOptions::tiny(models.join("onnxruntime/libonnxruntime.so"), &models)).unwrap();
    assert!(clip.provider == "CPU" || clip.provider == "CUDA");
    let t = clip.embed_texts(&["spiders", "screenshots of tweets"]).unwrap();
    let i = clip.embed_image(&picture(3)).unwrap();
    for v in t.iter().chain([&i]) {
        assert_eq!(v.len(), EMBED_DIM);
        assert!((v.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-4);
    }
    assert_eq!(preprocess(&picture(3)).len(), 3 * 224 * 224);
    // Prompt ensemble: the category is the normalised mean of every template's embedding.
    let spiders = clip.describe("spiders", &[]).unwrap();
    let by_hand: Vec<Vec<f32>> =
        clip.embed_texts(&TEMPLATES.map(|t| t.replace("{}", "spiders")).each_ref().map(String::as_str)).unwrap();
    let mean: Vec<f32> = (0..EMBED_DIM).map(|k| by_hand.iter().map(|v| v[k]).sum::<f32>()).collect();
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
    for (a, b) in spiders.text.iter().zip(&mean) {
        assert!((a - b / norm).abs() < 1e-5);
    }
    let p = spiders.probability(&i);
    assert!((0.0..=1.0).contains(&p), "{p}");
    assert_eq!(p, spiders.probability(&i), "deterministic");
    // An example image makes that image (and near copies) score 1.
    let with_example = clip.describe("spiders", &[picture(3)]).unwrap();
    assert!((with_example.probability(&i) - 1.0).abs() < 1e-4);
}

/// A PNG of `picture(seed)` as the extension would send it (a data: URL).
fn png_data_url(seed: u8) -> (Vec<u8>, String) {
    use base64::Engine;
    let mut bytes = Vec::new();
    picture(seed).write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    let url = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes));
    (bytes, url)
}

/// An image-only rule: its text part cannot fire on a post about the weather, only its image part can.
const IMAGE_RULE_POLICY: &str = r#"[policy]
name = "Spider pictures"

[[rule]]
id = "spider-pictures"
description = "Photos of spiders"
image_description = "a spider"
image_examples = ["examples/spider.png"]
action = "blur"
threshold = 0.95
content = ["images"]
"#;

/// A data folder holding [`IMAGE_RULE_POLICY`] and its example image; returns it with that image as a
/// `data:` URL (so a post carrying it matches the example exactly).
fn home_with_image_rule() -> (tempfile::TempDir, String) {
    let home = tempfile::tempdir().unwrap();
    let (example_png, example_url) = png_data_url(3);
    std::fs::create_dir_all(home.path().join("examples")).unwrap();
    std::fs::write(home.path().join("examples/spider.png"), &example_png).unwrap();
    std::fs::write(home.path().join("policy.toml"), IMAGE_RULE_POLICY).unwrap();
    (home, example_url)
}

fn spawn_host(home: &std::path::Path, models: &std::path::Path, clip: Option<&str>) -> common::HostProc {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_feedwarden-host"));
    match clip {
        Some(c) => cmd.env("FEEDWARDEN_CLIP_MODEL", c),
        None => cmd.env_remove("FEEDWARDEN_CLIP_MODEL"),
    };
    common::HostProc::spawn_with(cmd, home, models)
}

/// Classify and wait for every image (a generous budget: no `verdict.update` to collect).
fn classify(h: &mut common::HostProc, posts: serde_json::Value) -> Vec<serde_json::Value> {
    let r =
        h.request(serde_json::json!({"type": "classify", "request_id": "c", "posts": posts, "image_budget_ms": 60000}));
    assert_eq!(r["type"], "verdicts", "{r}");
    r["verdicts"].as_array().unwrap().clone()
}

#[test]
fn image_description_rule_fires_on_an_image_through_the_host() {
    let Some(models) = clip_models() else { return };
    let (home, example_url) = home_with_image_rule();
    let mut h = spawn_host(home.path(), &models, Some("tiny"));

    let hello = h.request(serde_json::json!({"type": "hello", "request_id": 1, "protocols": [1]}));
    let clip = hello["models"].as_array().unwrap().iter().find(|m| m["kind"] == "clip").cloned();
    let clip = clip.unwrap_or_else(|| panic!("hello lists no CLIP: {hello}"));
    assert_eq!(clip["id"], "clip-tiny", "{clip}");
    assert!(clip["provider"] == "CPU" || clip["provider"] == "CUDA", "{clip}");
    let policy = h.request(serde_json::json!({"type": "policy.get", "request_id": 2}));
    assert_eq!(policy["diagnostics"], serde_json::json!([]), "{policy}");

    let (_, other_url) = png_data_url(97);
    let weather = "Light rain this afternoon, clearing by the evening.";
    let v = classify(
        &mut h,
        serde_json::json!([
            {"id": "same", "text": weather, "images": [example_url]},
            {"id": "other", "text": weather, "images": [other_url]},
            {"id": "no-image", "text": weather},
        ]),
    );
    // The judged image is the example image: the image part scores 1 and decides.
    let same = v[0]["image_scores"]["spider-pictures"].as_f64().unwrap();
    assert!(same >= 0.95, "{}", v[0]);
    assert_eq!(v[0]["action"], "blur", "{}", v[0]);
    assert_eq!(v[0]["rule"], "spider-pictures");
    let reason = v[0]["reason"].as_str().unwrap();
    assert!(reason.contains("an image looks like \"a spider\""), "{reason}");
    assert!(v[0]["scores"]["spider-pictures"].as_f64().unwrap() < 0.95, "the text part alone must not fire: {}", v[0]);
    // Another image gets another score (the random weights make its value meaningless).
    let other = v[1]["image_scores"]["spider-pictures"].as_f64().unwrap();
    assert_ne!(other, same, "{}", v[1]);
    assert!((0.0..=1.0).contains(&other));
    // No image, no image score; the image-only rule does not apply.
    assert!(v[2].get("image_scores").is_none(), "{}", v[2]);
    assert_eq!(v[2]["action"], "show", "{}", v[2]);

    // The verdict cache follows the example image's content: same policy text, new example, restarted host.
    drop(h);
    std::fs::write(home.path().join("examples/spider.png"), png_data_url(97).0).unwrap();
    let mut h = spawn_host(home.path(), &models, Some("tiny"));
    let v = classify(&mut h, serde_json::json!([{"id": "same", "text": weather, "images": [png_data_url(3).1]}]));
    assert_eq!(v[0]["cached"], false, "{}", v[0]);
    assert_ne!(v[0]["image_scores"]["spider-pictures"].as_f64().unwrap(), same, "{}", v[0]);
    let v = classify(&mut h, serde_json::json!([{"id": "same", "text": weather, "images": [png_data_url(3).1]}]));
    assert_eq!(v[0]["cached"], true, "{}", v[0]);
}

#[test]
fn without_clip_image_rules_judge_text_and_say_what_to_install() {
    let Some(models) = common::models_dir() else { return };
    if models.join("clip-vit-b32").exists() {
        eprintln!("SKIPPED: a real CLIP is installed in {}; this test needs it absent", models.display());
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(common::repo_root().join("policies/examples/spiders.toml")).unwrap();
    std::fs::write(home.path().join("policy.toml"), policy).unwrap();
    let mut h = spawn_host(home.path(), &models, None);

    let hello = h.request(serde_json::json!({"type": "hello", "request_id": 1, "protocols": [1]}));
    assert_eq!(hello["ready"], true, "{hello}");
    let clip = hello["models"].as_array().unwrap().iter().find(|m| m["kind"] == "clip").cloned();
    let clip = clip.unwrap_or_else(|| panic!("hello lists no CLIP: {hello}"));
    assert_eq!((clip["id"].as_str(), clip["provider"].is_null()), (Some("clip-vit-b32"), true), "{clip}");
    assert!(clip["error"].as_str().unwrap().contains("feedwarden models fetch clip-vit-b32"), "{clip}");

    let policy = h.request(serde_json::json!({"type": "policy.get", "request_id": 2}));
    let d = policy["diagnostics"].as_array().unwrap();
    let need = d.iter().find(|d| d["code"] == "images-need-clip").unwrap_or_else(|| panic!("{policy}"));
    assert_eq!((need["rule"].as_str(), need["severity"].as_str()), (Some("spiders"), Some("warning")));
    assert!(need["message"].as_str().unwrap().contains("feedwarden models fetch clip-vit-b32"), "{need}");

    let (_, url) = png_data_url(3);
    let text = "Found a huge hairy spider in the bathtub this morning";
    let v = classify(&mut h, serde_json::json!([{"id": "s", "text": text, "images": [url]}]));
    assert!(v[0].get("image_scores").is_none(), "{}", v[0]);
    assert_eq!(v[0]["action"], "blur", "the text part still judges: {}", v[0]);
    assert!(v[0]["reason"].as_str().unwrap().starts_with("Blurred by rule \"spiders\": spiders "), "{}", v[0]);
}

#[test]
fn clip_is_loaded_only_when_a_rule_needs_it() {
    let Some(models) = clip_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut h = spawn_host(home.path(), &models, Some("tiny"));
    let hello = h.request(serde_json::json!({"type": "hello", "request_id": 1, "protocols": [1]}));
    let clip = hello["models"].as_array().unwrap().iter().find(|m| m["kind"] == "clip").cloned().unwrap();
    assert_eq!((clip["id"].as_str(), clip["loaded"].as_bool()), (Some("clip-tiny"), Some(false)), "{clip}");
    assert!(clip["provider"].is_null() && clip.get("error").is_none(), "{clip}");
    // A policy with an image description loads it.
    let src = IMAGE_RULE_POLICY.replace("image_examples = [\"examples/spider.png\"]\n", "");
    let r = h.request(serde_json::json!({"type": "policy.set", "request_id": 2, "source": src}));
    assert_eq!(r["applied"], true, "{r}");
    let hello = h.request(serde_json::json!({"type": "hello", "request_id": 3, "protocols": [1]}));
    let clip = hello["models"].as_array().unwrap().iter().find(|m| m["kind"] == "clip").cloned().unwrap();
    assert_eq!(clip["id"], "clip-tiny", "{clip}");
    assert!(clip["provider"] == "CPU" || clip["provider"] == "CUDA", "{clip}");
}

/// CLIP's image side runs with the image's analysis on the image thread, so it is inside the image budget: with
/// a budget of 0 an image-only rule cannot fire in the reply, only in the `verdict.update` that follows.
#[test]
fn budget_zero_leaves_image_descriptions_to_the_update() {
    let Some(models) = clip_models() else { return };
    let (home, example_url) = home_with_image_rule();
    let mut h = spawn_host(home.path(), &models, Some("tiny"));

    let weather = "Light rain this afternoon, clearing by the evening.";
    let posts = serde_json::json!([{"id": "same", "text": weather, "images": [example_url]}]);
    let r = h.request(serde_json::json!({"type": "classify", "request_id": "b0", "posts": posts,
                                         "image_budget_ms": 0}));
    assert_eq!(r["type"], "verdicts", "{r}");
    let v = &r["verdicts"][0];
    assert_eq!(v["images_pending"], true, "{v}");
    assert_eq!(v["action"], "show", "the text alone does not fire the image-only rule: {v}");
    assert!(v.get("image_scores").is_none(), "no CLIP score before the images are analysed: {v}");

    // Each image stage (CLIP's image side, OCR, NSFW) sends what it found when it is done; the last is final.
    let mut update = h.read();
    while update["verdict"]["images_pending"] == true {
        assert_eq!(
            (update["type"].as_str(), &update["verdict"]["id"]),
            (Some("verdict.update"), &serde_json::json!("same"))
        );
        update = h.read();
    }
    assert_eq!((update["type"].as_str(), &update["request_id"]), (Some("verdict.update"), &serde_json::json!("b0")));
    let u = &update["verdict"];
    assert_eq!((u["id"].as_str(), &u["images_pending"]), (Some("same"), &serde_json::json!(false)), "{update}");
    assert!(u["image_scores"]["spider-pictures"].as_f64().unwrap() >= 0.95, "{u}");
    assert_eq!((u["action"].as_str(), u["rule"].as_str()), (Some("blur"), Some("spider-pictures")), "{u}");
    assert!(u["reason"].as_str().unwrap().contains("an image looks like \"a spider\""), "{u}");
    assert_eq!(u["images"][0]["clip"], true, "the image was embedded with its analysis: {u}");
    // The final verdict was cached: asked again, it is the reply.
    let r = h.request(serde_json::json!({"type": "classify", "request_id": "b1", "posts": posts,
                                         "image_budget_ms": 0}));
    assert_eq!((r["verdicts"][0]["cached"].as_bool(), r["verdicts"][0]["action"].as_str()), (Some(true), Some("blur")));
}

/// Only a policy with image descriptions makes the image thread run CLIP: under the starter policy or a
/// text-only one (no `image_description`) no image of a classified post gets a CLIP embedding, even with
/// CLIP loaded earlier.
#[test]
fn without_image_rules_no_clip_embeddings_are_computed() {
    let Some(models) = clip_models() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut h = spawn_host(home.path(), &models, Some("tiny"));
    let hello = h.request(serde_json::json!({"type": "hello", "request_id": 1, "protocols": [1]}));
    let clip = hello["models"].as_array().unwrap().iter().find(|m| m["kind"] == "clip").cloned().unwrap();
    assert_eq!(clip["loaded"], false, "the starter policy has no image rule: {clip}");
    let text = "Light rain this afternoon, clearing by the evening.";
    let v = classify(&mut h, serde_json::json!([{"id": "a", "text": text, "images": [png_data_url(5).1]}]));
    assert_eq!(v[0]["images"][0]["clip"], false, "{}", v[0]);
    assert!(v[0]["images"][0]["error"].is_null(), "the image itself was analysed: {}", v[0]);

    // With an image rule CLIP loads and embeds; back on a policy without one, it is not asked for again.
    let src = IMAGE_RULE_POLICY.replace("image_examples = [\"examples/spider.png\"]\n", "");
    let r = h.request(serde_json::json!({"type": "policy.set", "request_id": 2, "source": src}));
    assert_eq!(r["applied"], true, "{r}");
    let v = classify(&mut h, serde_json::json!([{"id": "b", "text": text, "images": [png_data_url(6).1]}]));
    assert_eq!(v[0]["images"][0]["clip"], true, "{}", v[0]);
    assert!(v[0]["image_scores"]["spider-pictures"].is_number(), "{}", v[0]);
    let text_only = IMAGE_RULE_POLICY
        .replace("image_description = \"a spider\"\n", "")
        .replace("image_examples = [\"examples/spider.png\"]\n", "")
        .replace("content = [\"images\"]\n", "");
    assert!(!text_only.contains("image"), "{text_only}");
    let r = h.request(serde_json::json!({"type": "policy.set", "request_id": 3, "source": text_only}));
    assert_eq!(r["applied"], true, "{r}");
    let v = classify(&mut h, serde_json::json!([{"id": "c", "text": text, "images": [png_data_url(7).1]}]));
    assert_eq!(v[0]["images"][0]["clip"], false, "{}", v[0]);
    assert!(v[0].get("image_scores").is_none(), "{}", v[0]);
}
