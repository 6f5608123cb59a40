//! CLIP plumbing for user-described image categories, on the tiny random-weight models with CLIP
//! ViT-B/32's exact ONNX interface (models/scripts/make_clip_assets.py) and CLIP's real BPE vocabulary.
//! Checks tokenisation against CLIP's ids, embedding shapes and norms, the prompt ensemble and scoring —
//! not quality: the tiny models' embeddings mean nothing.

mod common;

use std::path::PathBuf;

use feedwarden_host::images::clip::{preprocess, Clip, ClipOptions, EMBED_DIM, TEMPLATES};
use image::{Rgb, RgbImage};

fn clip_models() -> Option<PathBuf> {
    let dir = common::models_dir()?;
    let need = ["clip-tiny/vision_model.onnx", "clip-tiny/text_model.onnx", "clip-tiny/tokenizer.json"];
    if need.iter().all(|f| dir.join(f).is_file()) {
        return Some(dir);
    }
    if std::env::var("FEEDWARDEN_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!("the CLIP test assets are missing in {}; run models/scripts/setup_models.sh", dir.display());
    }
    eprintln!("SKIPPED: CLIP test assets not found in {}; run models/scripts/setup_models.sh", dir.display());
    None
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
