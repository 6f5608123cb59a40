//! Images on the host: OCR character error rate on images this test renders itself (several fonts, sizes,
//! colours, plain / noisy / photo-like backgrounds), OpenNSFW on the same images, and the host judging a
//! meme's text sent as a data: URL. Needs the image models (models/scripts/setup_models.sh) and a TrueType
//! font (DejaVu or Liberation, Debian's fonts-dejavu-core / fonts-liberation).

// Pixel loops over RGB channels read better with an index; the style table is a plain test table.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]

mod common;
#[path = "common/render.rs"]
mod render;

use std::path::PathBuf;
use std::time::Instant;

use ab_glyph::FontVec;
use base64::Engine;
use feedwarden_host::images::nsfw::{Nsfw, NsfwOptions};
use feedwarden_host::images::ocr::{cer, join_lines, Ocr, OcrModel, OcrOptions};
use feedwarden_host::images::{decode, DecodeLimits};
use image::{Rgb, RgbImage};
use serde_json::json;

use render::{image_models, png_bytes};

fn ort_lib(models: &std::path::Path) -> PathBuf {
    models.join("onnxruntime/libonnxruntime.so")
}

const FONT_FILES: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
];

fn fonts() -> Vec<(String, FontVec)> {
    let fonts: Vec<(String, FontVec)> = FONT_FILES
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            let name = std::path::Path::new(p).file_stem()?.to_string_lossy().into_owned();
            Some((name, FontVec::try_from_vec(bytes).ok()?))
        })
        .collect();
    assert!(fonts.len() >= 2, "install fonts-dejavu-core and fonts-liberation to render the OCR test images");
    fonts
}

#[derive(Clone, Copy, Debug)]
enum Background {
    Plain,
    Noise,
    Photo,
}

/// Draw `lines` centred on a `w`-wide canvas.
fn render(
    lines: &[&str],
    font: &FontVec,
    px: f32,
    ink: [u8; 3],
    paper: [u8; 3],
    bg: Background,
    seed: u64,
) -> RgbImage {
    let layout = render::TextLayout::new(lines, font, px);
    let (w, h) = (layout.width, layout.height);
    let mut rng = common::Rng(seed | 1);
    // Photo-like: a few soft colour blobs over a gradient.
    let blobs: Vec<(f32, f32, f32, [f32; 3])> = (0..6)
        .map(|_| {
            let c = [rng.unit() * 255.0, rng.unit() * 255.0, rng.unit() * 255.0];
            (rng.unit() * w as f32, rng.unit() * h as f32, 20.0 + rng.unit() * w as f32 / 3.0, c)
        })
        .collect();
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let mut p = [paper[0] as f32, paper[1] as f32, paper[2] as f32];
        match bg {
            Background::Plain => {}
            Background::Noise => {}
            Background::Photo => {
                let t = y as f32 / h as f32;
                for c in &mut p {
                    *c *= 0.75 + 0.25 * t;
                }
                for (bx, by, r, col) in &blobs {
                    let d2 = ((x as f32 - bx).powi(2) + (y as f32 - by).powi(2)) / (r * r);
                    let a = 0.35 * (-d2).exp();
                    for k in 0..3 {
                        p[k] = p[k] * (1.0 - a) + col[k] * a;
                    }
                }
            }
        }
        Rgb([p[0] as u8, p[1] as u8, p[2] as u8])
    });
    for (i, line) in lines.iter().enumerate() {
        let x = (w as f32 - layout.widths[i]) / 2.0;
        render::draw_line(&mut img, font, px, x, layout.baseline(i), line, ink);
    }
    if let Background::Noise = bg {
        for p in img.pixels_mut() {
            for k in 0..3 {
                let n = (rng.unit() - 0.5) * 70.0;
                p.0[k] = (p.0[k] as f32 + n).clamp(0.0, 255.0) as u8;
            }
        }
    }
    img
}

const TEXTS: [&[&str]; 6] = [
    &["They are LYING to you", "and nobody cares"],
    &["Share this before it gets deleted!"],
    &["Breaking: city council votes 7-2"],
    &["You won't believe what happened next"],
    &["Meeting moved to 3:30 PM, room 204"],
    &["WAKE UP PEOPLE", "the elites want you poor"],
];

/// Collapse whitespace the way the reference text is compared: one space between words, lines joined.
fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The small OCR pair (the quality option), or `None` with a note; required with FEEDWARDEN_REQUIRE_MODELS=1.
fn small_ocr_models() -> Option<PathBuf> {
    common::models_with(&["pp-ocrv6-small/PP-OCRv6_rec_small.onnx"], "pp-ocrv6-small")
}

#[test]
fn ocr_reads_rendered_text_with_low_cer() {
    let Some(models) = image_models() else { return };
    rendered_text_cer(OcrModel::Tiny, &models, 6906);
}

#[test]
fn small_ocr_reads_rendered_text_with_low_cer() {
    let Some(models) = small_ocr_models() else { return };
    rendered_text_cer(OcrModel::Small, &models, 18710);
}

/// CER of `model` on the rendered images (`classes` = blank + the metadata's characters + space).
fn rendered_text_cer(model: OcrModel, models: &std::path::Path, classes: usize) {
    let fonts = fonts();
    let opts = OcrOptions::for_model(model, ort_lib(models), models).with_intra_threads(1);
    let mut ocr = Ocr::try_new(&opts).unwrap();
    assert_eq!(ocr.classes(), classes, "blank + metadata characters + space");
    let styles: [(&str, f32, [u8; 3], [u8; 3], Background); 5] = [
        ("black on white 28px", 28.0, [0, 0, 0], [255, 255, 255], Background::Plain),
        ("white on dark 40px", 40.0, [250, 250, 250], [30, 40, 60], Background::Plain),
        ("red on cream 20px", 20.0, [190, 20, 20], [250, 240, 220], Background::Plain),
        ("black on noise 32px", 32.0, [10, 10, 10], [220, 220, 220], Background::Noise),
        ("white on photo 36px", 36.0, [255, 255, 255], [70, 90, 110], Background::Photo),
    ];
    let mut per_style: Vec<(String, f64, usize)> = Vec::new();
    let (mut total_err, mut total_chars, mut n, mut ms) = (0.0f64, 0usize, 0usize, 0.0f64);
    for (si, (name, px, ink, paper, bg)) in styles.iter().enumerate() {
        let (mut err, mut chars) = (0.0f64, 0usize);
        for (ti, text) in TEXTS.iter().enumerate() {
            let (_, font) = &fonts[(si + ti) % fonts.len()];
            let img = render(text, font, *px, *ink, *paper, *bg, (si * 31 + ti) as u64 + 7);
            // Through the real decoder, as the host sees it.
            let img = decode(&png_bytes(&img), &DecodeLimits::default()).unwrap();
            let t0 = Instant::now();
            let got = join_lines(&ocr.read(&img).unwrap());
            ms += t0.elapsed().as_secs_f64() * 1000.0;
            n += 1;
            let want = norm(&text.join(" "));
            let c = cer(&want, &norm(&got));
            if c > 0.0 {
                eprintln!("  [{name}] {want:?} → {:?} (CER {c:.3})", norm(&got));
            }
            err += c * want.chars().count() as f64;
            chars += want.chars().count();
        }
        per_style.push((name.to_string(), err / chars as f64, chars));
        total_err += err;
        total_chars += chars;
    }
    let overall = total_err / total_chars as f64;
    eprintln!(
        "OCR ({}) on {n} rendered images, {total_chars} characters: CER {overall:.4}, {:.1} ms/image",
        model.id(),
        ms / n as f64
    );
    for (name, c, chars) in &per_style {
        eprintln!("  {name:<22} CER {c:.4} ({chars} chars)");
    }
    assert!(overall < 0.05, "overall CER {overall:.4}");
    for (name, c, _) in &per_style {
        assert!(*c < 0.15, "{name}: CER {c:.4}");
    }
}

#[test]
fn nsfw_scores_text_images_as_safe() {
    let Some(models) = image_models() else { return };
    let fonts = fonts();
    let mut nsfw = Nsfw::try_new(&NsfwOptions::new(ort_lib(&models), &models)).unwrap();
    for (i, text) in TEXTS.iter().enumerate() {
        let img = render(text, &fonts[i % fonts.len()].1, 32.0, [0, 0, 0], [255, 255, 255], Background::Plain, 1);
        let p = nsfw.probability(&img).unwrap();
        assert!((0.0..=1.0).contains(&p) && p < 0.2, "{text:?}: P(nsfw) = {p}");
    }
    // Deterministic: the same image twice gives the same score.
    let img = render(TEXTS[0], &fonts[0].1, 30.0, [0, 0, 0], [200, 180, 160], Background::Photo, 3);
    assert_eq!(nsfw.probability(&img).unwrap(), nsfw.probability(&img).unwrap());
}

/// An image budget no test image misses (ten minutes), so the reply carries the image-informed verdict.
const WAIT_FOR_IMAGES_MS: u64 = 600_000;

#[test]
fn host_judges_a_memes_text_and_quotes_it() {
    let Some(models) = image_models() else { return };
    let fonts = fonts();
    let home = tempfile::tempdir().unwrap();
    let mut host = common::HostProc::spawn(home.path(), &models);
    let hello = host.request(json!({"type": "hello", "request_id": 1}));
    let kinds: Vec<(String, String)> = hello["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap().to_string(), m["provider"].as_str().unwrap_or("-").to_string()))
        .collect();
    for kind in ["text-encoder", "ocr", "nsfw"] {
        assert!(kinds.iter().any(|(k, p)| k == kind && (p == "CPU" || p == "CUDA")), "{kind} in {kinds:?}");
    }
    let lines = ["They want you ANGRY.", "Share if you're sick of these", "traitors destroying our country!"];
    let img = render(&lines, &fonts[0].1, 30.0, [255, 255, 255], [20, 20, 20], Background::Plain, 5);
    let data = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png_bytes(&img)));
    let plain =
        render(&["Lunch menu: soup and bread"], &fonts[1].1, 30.0, [0, 0, 0], [255, 255, 255], Background::Plain, 6);
    let plain =
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png_bytes(&plain)));
    let truncated = png_bytes(&img);
    let truncated = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&truncated[..truncated.len() / 3])
    );
    // The whole verdict in the reply: a budget no image misses (see tests/host/image_flow.rs for the update).
    let r = host.request(json!({"type": "classify", "request_id": 2, "image_budget_ms": WAIT_FOR_IMAGES_MS, "posts": [
        {"id": "meme", "text": "", "images": [data]},
        {"id": "typed", "text": lines.join(" ")},
        {"id": "lunch", "text": "", "images": [plain]},
        {"id": "broken", "text": "hello", "images": [truncated, "data:image/png;base64,AAAA", "https://x.com/a.jpg"]},
    ]}));
    assert_eq!(r["type"], "verdicts", "{r}");
    let v = &r["verdicts"];
    let (meme, typed) = (&v[0], &v[1]);
    eprintln!("meme: {} | {}", meme["action"], meme["reason"]);
    eprintln!("typed: {} | {}", typed["action"], typed["reason"]);
    assert_eq!(meme["action"], typed["action"], "the meme gets the verdict its text would get typed out");
    assert_eq!(meme["action"], "blur");
    let reason = meme["reason"].as_str().unwrap();
    // "why" quotes the image's sentence that weighs most for the rule, with its own score.
    assert!(reason.contains("text in the image: \"They want you ANGRY.\" (rage-bait 0."), "{reason}");
    let rb = |x: &serde_json::Value| x["scores"]["rage-bait"].as_f64().unwrap();
    assert!((rb(meme) - rb(typed)).abs() < 0.1, "{} vs {}", rb(meme), rb(typed));
    assert_eq!(v[2]["action"], "show", "{}", v[2]);
    let errs: Vec<&str> =
        v[3]["images"].as_array().unwrap().iter().map(|i| i["error"]["code"].as_str().unwrap()).collect();
    assert_eq!(errs, ["image-corrupt", "image-unknown-format", "image-not-fetched"]);
    assert_eq!(v[3]["action"], "show");

    // nsfw: a built-in category, off in the defaults; a policy turns it on and gets a score per image.
    let policy = "[policy]\nname = \"nsfw on\"\nextends = [\"feedwarden:defaults\"]\n\n[[rule]]\nid = \"explicit\"\n\
                  description = \"Explicit images\"\ncategory = \"nsfw\"\naction = \"blur\"\nthreshold = 0.8\n";
    let set = host.request(json!({"type": "policy.set", "source": policy}));
    assert_eq!(set["applied"], true, "{set}");
    let r = host.request(json!({"type": "classify", "image_budget_ms": WAIT_FOR_IMAGES_MS,
                                "posts": [{"id": "lunch", "text": "", "images": [v[2]["images"][0]["sha256"].clone()]}]}));
    // (an entry that is not a data: URL is refused by the host, never read as a file)
    assert_eq!(r["verdicts"][0]["images"][0]["error"]["code"], "image-file-refused");
    let r = host.request(json!({"type": "classify", "image_budget_ms": WAIT_FOR_IMAGES_MS,
                                "posts": [{"id": "meme2", "text": "", "images": [data]}]}));
    let p = r["verdicts"][0]["scores"]["nsfw"].as_f64().expect("nsfw scored when a rule asks for it");
    assert!(p < 0.2, "{p}");
}

/// The saved x.com pages (`../shared/data/feeds/x-html`, or FEEDWARDEN_XHTML_DIR), or `None` with a note.
fn xhtml_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FEEDWARDEN_XHTML_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join("../shared/data/feeds/x-html"));
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!("SKIPPED: saved x.com pages not found at {} (set FEEDWARDEN_XHTML_DIR)", dir.display());
    None
}

/// CER on the saved x.com images with hand transcriptions (`fixtures/xcom_ocr_truth.json`). The pages live
/// outside the repository; the test skips when they are absent.
#[test]
fn ocr_cer_on_saved_x_com_images() {
    let (Some(models), Some(dir)) = (image_models(), xhtml_dir()) else { return };
    saved_images_cer(OcrModel::Tiny, &models, &dir);
}

#[test]
fn small_ocr_cer_on_saved_x_com_images() {
    let (Some(models), Some(dir)) = (small_ocr_models(), xhtml_dir()) else { return };
    saved_images_cer(OcrModel::Small, &models, &dir);
}

fn saved_images_cer(model: OcrModel, models: &std::path::Path, dir: &std::path::Path) {
    let truth: serde_json::Value = serde_json::from_str(include_str!("fixtures/xcom_ocr_truth.json")).unwrap();
    let mut ocr = Ocr::try_new(&OcrOptions::for_model(model, ort_lib(models), models).with_intra_threads(1)).unwrap();
    let (mut err, mut chars, mut ms, mut n) = (0.0, 0usize, 0.0, 0usize);
    for (file, want) in truth["images"].as_object().unwrap() {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let img = decode(&bytes, &DecodeLimits::default()).unwrap();
        let t0 = Instant::now();
        let got = norm(&join_lines(&ocr.read(&img).unwrap()));
        ms += t0.elapsed().as_secs_f64() * 1000.0;
        n += 1;
        let want = want.as_str().unwrap();
        let c = cer(want, &got);
        eprintln!("{file}: CER {c:.4}\n  want {want:?}\n  got  {got:?}");
        err += c * want.chars().count() as f64;
        chars += want.chars().count();
    }
    let overall = err / chars as f64;
    eprintln!(
        "x.com images ({}): CER {overall:.4} over {chars} characters, {:.1} ms/image (full size)",
        model.id(),
        ms / n as f64
    );
    assert!(overall < 0.1);
}
