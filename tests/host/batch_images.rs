//! `feedwarden batch --images` on saved x.com pages: the x-html reader finds the posts and their local image
//! files, the real OCR and NSFW models judge the images, and the image columns (`image_text`, `nsfw_max`,
//! `image_errors`, and `image_score_<rule>` with CLIP) reach JSONL, CSV and Parquet, with the image models'
//! sha256 in the run manifest. A page this test writes itself covers the reader and the error column
//! everywhere; the real saved pages (../shared/data/feeds/x-html) are used when present and skipped otherwise.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{ImageEncoder, Rgb, RgbImage};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

/// Text model plus the tiny OCR pair and OpenNSFW, with the usual skip / fail rule.
fn models() -> Option<PathBuf> {
    common::models_with(&["pp-ocrv6-tiny/PP-OCRv6_det_tiny.onnx", "open-nsfw/open_nsfw.onnx"], "image models")
}

fn feedwarden(args: &[&str], models: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(args)
        .current_dir(common::repo_root())
        .env("FEEDWARDEN_MODELS_DIR", models)
        .env_remove("FEEDWARDEN_ORT_LIB")
        .env_remove("FEEDWARDEN_OCR_MODEL")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn manifest(out: &Path) -> Value {
    let m = out.with_file_name(format!("{}.manifest.json", out.file_name().unwrap().to_string_lossy()));
    serde_json::from_str(&std::fs::read_to_string(m).unwrap()).unwrap()
}

/// A saved page as a browser writes it: links into `Saved Page_files/`, though the folder on disk was
/// renamed with the page (`page_files/`). Post 1 has a photo, post 2 a corrupt one and no text, post 3 no
/// image, and one article is an ad without a status link.
fn write_page(dir: &Path) -> PathBuf {
    std::fs::create_dir(dir.join("page_files")).unwrap();
    let img = RgbImage::from_fn(96, 64, |x, y| Rgb([(x * 2) as u8, (y * 3) as u8, 120]));
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(img.as_raw(), 96, 64, image::ExtendedColorType::Rgb8)
        .unwrap();
    std::fs::write(dir.join("page_files/photo one.png"), &png).unwrap();
    std::fs::write(dir.join("page_files/broken.jpg"), &png[..png.len() / 2]).unwrap();
    let article = |handle: &str, id: &str, body: &str, photo: &str| {
        let photo = if photo.is_empty() {
            String::new()
        } else {
            format!(r#"<div data-testid="tweetPhoto"><img alt="Image" src="Saved%20Page_files/{photo}"></div>"#)
        };
        format!(
            r#"<article role="article" data-testid="tweet"><a href="https://x.com/{handle}/status/{id}"><time datetime="2025-11-20T20:00:00.000Z">1h</time></a>
<img alt="" src="Saved%20Page_files/avatar_{handle}.jpg">{body}{photo}</article>"#
        )
    };
    let page = format!(
        "<!DOCTYPE html><html><head><title>Home / X</title></head><body>{}{}{}{}</body></html>",
        article("alice", "101", r#"<div data-testid="tweetText"><span>A calm photo</span></div>"#, "photo%20one.png"),
        article("bob", "102", "", "broken.jpg"),
        r#"<article data-testid="tweet"><div data-testid="tweetText">Promoted</div></article>"#,
        article("carol", "103", r#"<div data-testid="tweetText">Just text &amp; no image</div>"#, ""),
    );
    let path = dir.join("page.html");
    std::fs::write(&path, page).unwrap();
    path
}

#[test]
fn a_saved_page_gets_image_columns_in_every_output_format() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = write_page(dir.path());
    for ext in ["jsonl", "csv", "parquet"] {
        let out = dir.path().join(format!("o.{ext}"));
        let o = feedwarden(&["batch", "-q", "--images", s(&page), "-o", s(&out)], &models);
        // The ad is a malformed record (exit 3), reported with its position.
        assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("article 3"), "{}", text(&o.stderr));
        let m = manifest(&out);
        assert_eq!(m["inputs"][0]["format"], "x-html");
        assert_eq!(m["output"]["rows"], 3);
        let cols: Vec<&str> = m["output"]["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert!(cols.ends_with(&["image_text", "nsfw_max", "image_errors"]), "{cols:?}");
        let images = &m["images"];
        assert_eq!(images["ocr"], "pp-ocrv6-tiny");
        let nsfw_sha = feedwarden_core::sha256_hex(&std::fs::read(models.join("open-nsfw/open_nsfw.onnx")).unwrap());
        assert_eq!(images["nsfw_model"]["sha256"], nsfw_sha.as_str());
        assert_eq!(images["ocr_detector"]["sha256"].as_str().map(str::len), Some(64));
        match ext {
            "jsonl" => {
                let rows = jsonl(&out);
                let by_id = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap().clone();
                let alice = by_id("101");
                assert_eq!(alice["author"], "alice");
                let p = alice["nsfw_max"].as_f64().expect("the photo was scored");
                assert!((0.0..0.2).contains(&p), "a gradient is not nsfw: {p}");
                assert_eq!(alice["image_text"], "", "no text in the gradient");
                assert!(alice.get("image_errors").is_none());
                let bob = by_id("102");
                let err = bob["image_errors"].as_str().expect("the broken image is reported");
                assert!(err.starts_with("broken.jpg: image-corrupt: "), "{err}");
                assert!(bob.get("nsfw_max").is_none());
                let carol = by_id("103");
                assert!(carol.get("image_text").is_none() && carol.get("nsfw_max").is_none(), "{carol}");
            }
            "csv" => {
                let t = std::fs::read_to_string(&out).unwrap();
                let mut r = csv::Reader::from_reader(t.as_bytes());
                let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
                let at = |name: &str| header.iter().position(|h| h == name).unwrap();
                let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
                let bob = rows.iter().find(|row| &row[at("id")] == "102").unwrap();
                assert!(bob[at("image_errors")].contains("image-corrupt"));
                let alice = rows.iter().find(|row| &row[at("id")] == "101").unwrap();
                assert!(alice[at("nsfw_max")].parse::<f32>().is_ok());
            }
            _ => {
                let reader = SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
                let schema = reader.metadata().file_metadata().schema_descr();
                let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
                assert!(names.ends_with(&["image_text", "nsfw_max", "image_errors"]), "{names:?}");
                let nsfw = schema.columns().iter().find(|c| c.name() == "nsfw_max").unwrap();
                assert_eq!(nsfw.physical_type(), parquet::basic::Type::FLOAT);
                assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
            }
        }
    }
}

#[test]
fn without_images_the_columns_are_absent() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = write_page(dir.path());
    let out = dir.path().join("o.jsonl");
    let o = feedwarden(&["batch", "-q", s(&page), "-o", s(&out)], &models);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(manifest(&out).get("images").is_none());
    for row in jsonl(&out) {
        assert!(row.get("image_text").is_none() && row.get("image_errors").is_none(), "{row}");
    }
}

#[test]
fn an_unknown_ocr_model_is_refused_with_the_choices() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = write_page(dir.path());
    let o = feedwarden(&["batch", "--images", "--ocr", "large", s(&page)], &models);
    assert_eq!(o.status.code(), Some(2), "clap usage error");
    assert!(text(&o.stderr).contains("tiny") && text(&o.stderr).contains("small"), "{}", text(&o.stderr));
}

/// The saved x.com pages, or `None` with a note.
fn xhtml_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FEEDWARDEN_XHTML_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join("../shared/data/feeds/x-html"));
    if dir.join("home-twitter-complete.html").is_file() {
        return Some(dir);
    }
    eprintln!("SKIPPED: saved x.com pages not found at {} (set FEEDWARDEN_XHTML_DIR)", dir.display());
    None
}

#[test]
fn the_saved_x_com_pages_are_judged_with_their_images() {
    let (Some(models), Some(pages)) = (models(), xhtml_dir()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.jsonl");
    let home = pages.join("home-twitter-complete.html");
    let alert = pages.join("bigtech-alert.html");
    let o = feedwarden(&["batch", "-q", "--images", s(&home), s(&alert), "-o", s(&out)], &models);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let rows = jsonl(&out);
    // 20 posts on the home timeline, one on the BigTechAlert page.
    assert_eq!(rows.len(), 21, "{rows:?}");
    assert!(rows.iter().all(|r| r["site"] == "x.com" && r["url"].as_str().unwrap().contains("/status/")));
    let with_images: Vec<&Value> = rows.iter().filter(|r| r.get("nsfw_max").is_some()).collect();
    assert!(with_images.len() >= 10, "posts whose local images were judged: {}", with_images.len());
    assert!(rows.iter().all(|r| r.get("image_errors").is_none()), "every saved image decodes");
    // The billboard meme's text, read by OCR from the saved file.
    let meme = rows.iter().find(|r| r["author"] == "cryptolyxe").expect("the meme post");
    let ocr = meme["image_text"].as_str().unwrap().replace('\n', " ");
    assert!(ocr.contains("77 MILLION VOTED"), "{ocr}");
    let m = manifest(&out);
    assert_eq!(m["counts"]["posts"], 21);
    assert_eq!(m["images"]["ocr"], "pp-ocrv6-tiny");
}

/// With `--images` and CLIP (the tiny test pair), a rule with an `image_description` gets its CLIP image
/// score in every format: JSONL `image_scores`, CSV and Parquet `image_score_<rule>`; the same with one or two
/// threads, byte for byte. The rule's example image is the first post's photo, so its score is 1.
#[test]
fn image_description_scores_reach_every_output_format() {
    let Some(models) = models() else { return };
    if !models.join("clip-tiny/vision_model.onnx").is_file() {
        assert_ne!(std::env::var("FEEDWARDEN_REQUIRE_MODELS").as_deref(), Ok("1"), "the tiny CLIP is missing");
        eprintln!("SKIPPED: the tiny CLIP is missing; run models/scripts/setup_models.sh");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = write_page(dir.path());
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"Photos\"\n\n[[rule]]\nid = \"photo-like\"\ndescription = \"Gradient photos\"\n\
         image_description = \"a colour gradient\"\nimage_examples = [\"page_files/photo one.png\"]\n\
         action = \"label\"\nthreshold = 0.95\ncontent = [\"images\"]\n",
    )
    .unwrap();
    let run = |out: &Path, threads: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
            .args(["batch", "-q", "--images", "--policy", s(&policy), "--threads", threads, s(&page), "-o", s(out)])
            .current_dir(common::repo_root())
            .env("FEEDWARDEN_MODELS_DIR", &models)
            .env("FEEDWARDEN_CLIP_MODEL", "tiny")
            .env_remove("FEEDWARDEN_ORT_LIB")
            .env_remove("FEEDWARDEN_OCR_MODEL")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(3), "the ad is malformed: {}", text(&o.stderr));
    };
    for ext in ["jsonl", "csv", "parquet"] {
        let (one, two) = (dir.path().join(format!("t1.{ext}")), dir.path().join(format!("t2.{ext}")));
        run(&one, "1");
        run(&two, "2");
        assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap(), "{ext}: same bytes for 1 and 2 threads");
        let cols = manifest(&one)["output"]["columns"].clone();
        assert_eq!(cols.as_array().unwrap().last().unwrap(), "image_score_photo-like", "{cols}");
        match ext {
            "jsonl" => {
                let rows = jsonl(&one);
                let by_id = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap().clone();
                let alice = by_id("101");
                assert!(alice["image_scores"]["photo-like"].as_f64().unwrap() >= 0.95, "{alice}");
                assert_eq!((alice["action"].as_str(), alice["rule"].as_str()), (Some("label"), Some("photo-like")));
                for id in ["102", "103"] {
                    let row = by_id(id);
                    assert!(row.get("image_scores").is_none(), "a corrupt image or none, no score: {row}");
                }
            }
            "csv" => {
                let t = std::fs::read_to_string(&one).unwrap();
                let mut r = csv::Reader::from_reader(t.as_bytes());
                let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
                let at = |name: &str| header.iter().position(|h| h == name).unwrap();
                let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
                let cell = |id: &str| {
                    rows.iter().find(|row| &row[at("id")] == id).unwrap()[at("image_score_photo-like")].to_string()
                };
                assert!(cell("101").parse::<f32>().unwrap() >= 0.95);
                assert_eq!((cell("102"), cell("103")), (String::new(), String::new()));
            }
            _ => {
                let reader = SerializedFileReader::new(std::fs::File::open(&one).unwrap()).unwrap();
                let schema = reader.metadata().file_metadata().schema_descr();
                let col = schema.columns().iter().find(|c| c.name() == "image_score_photo-like").unwrap();
                assert_eq!(col.physical_type(), parquet::basic::Type::FLOAT);
                let mut scored = Vec::new();
                for row in reader.get_row_iter(None).unwrap() {
                    let row = row.unwrap();
                    let cells: Vec<(String, String)> =
                        row.get_column_iter().map(|(name, field)| (name.clone(), field.to_string())).collect();
                    let get = |n: &str| cells.iter().find(|(name, _)| name == n).unwrap().1.clone();
                    scored.push((get("id"), get("image_score_photo-like")));
                }
                let alice = &scored.iter().find(|(id, _)| id.contains("101")).unwrap().1;
                assert!(alice.parse::<f32>().unwrap() >= 0.95, "{scored:?}");
                assert!(scored.iter().filter(|(_, v)| v == "null").count() == 2, "{scored:?}");
            }
        }
    }
}

/// A third-party feed names images outside its folder (absolute, `../`, a link) and a FIFO: none is read,
/// each row says why, the run does not hang, and images inside the folder (or `--images-root`) still are.
#[test]
fn feed_image_paths_are_confined_to_the_feed_folder() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().unwrap();
    let feed_dir = dir.path().join("feed");
    std::fs::create_dir(&feed_dir).unwrap();
    let img = RgbImage::from_fn(64, 48, |x, y| Rgb([(x * 3) as u8, (y * 5) as u8, 90]));
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(img.as_raw(), 64, 48, image::ExtendedColorType::Rgb8)
        .unwrap();
    std::fs::write(feed_dir.join("inside.png"), &png).unwrap();
    let secret = dir.path().join("secret.png");
    std::fs::write(&secret, &png).unwrap();
    std::os::unix::fs::symlink(&secret, feed_dir.join("link.png")).unwrap();
    let fifo = feed_dir.join("pipe.png");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let rows = [
        ("in", "inside.png"),
        ("abs", s(&secret)),
        ("up", "../secret.png"),
        ("link", "link.png"),
        ("fifo", "pipe.png"),
        ("etc", "file:///etc/passwd"),
    ];
    let feed: String = rows
        .iter()
        .map(|(id, image)| format!("{}\n", serde_json::json!({"id": id, "text": "a post", "images": [image]})))
        .collect();
    let input = feed_dir.join("feed.jsonl");
    std::fs::write(&input, feed).unwrap();
    let out = dir.path().join("out.jsonl");
    // A FIFO used to block the run for ever: run it on a thread and give up (failing) after a generous wait.
    let args: Vec<String> = ["batch", s(&input), "--images", "--fresh", "-q", "-o", s(&out)].map(String::from).into();
    let (tx, rx) = std::sync::mpsc::channel();
    let m = models.clone();
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = tx.send(feedwarden(&args, &m));
    });
    let o = rx.recv_timeout(std::time::Duration::from_secs(300)).expect("the batch run hung on a feed's image path");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let by_id: std::collections::HashMap<String, Value> =
        jsonl(&out).into_iter().map(|r| (r["id"].as_str().unwrap().to_string(), r)).collect();
    assert!(by_id["in"]["image_errors"].is_null(), "{}", by_id["in"]);
    for (id, code) in [
        ("abs", "image-outside-root"),
        ("up", "image-outside-root"),
        ("link", "image-outside-root"),
        ("etc", "image-outside-root"),
        ("fifo", "image-not-a-file"),
    ] {
        let errors = by_id[id]["image_errors"].as_str().unwrap_or_default();
        assert!(errors.contains(code), "{id}: {}", by_id[id]);
    }
    // --images-root widens the folder on purpose: then the file beside the feed's folder is read (relative
    // paths are taken from the root too).
    let out2 = dir.path().join("out2.jsonl");
    let o = feedwarden(
        &["batch", s(&input), "--images", "--images-root", s(dir.path()), "--fresh", "-q", "-o", s(&out2)],
        &models,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let abs = jsonl(&out2).into_iter().find(|r| r["id"] == "abs").unwrap();
    assert!(abs["image_errors"].is_null(), "{abs}");
}
