//! User-described image categories with a CLIP-style image/text encoder pair through ONNX Runtime. The code
//! targets the ONNX export of CLIP ViT-B/32 (Xenova/clip-vit-base-patch32: `pixel_values` → `image_embeds`,
//! `input_ids` → `text_embeds`, 512-d); tests run it on tiny random-weight models with exactly that interface
//! (models/scripts/make_clip_assets.py). A rule's description is embedded through a prompt ensemble and
//! optional example images; an image's score is its share against neutral prompts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::RgbImage;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::Tokenizer;

use super::provider::{load_session, ProviderChoice};
use crate::embedder::ort_environment;
use crate::model_error::ModelError;

pub const EMBED_DIM: usize = 512;
/// CLIP's context length and end-of-text id (the real text model pools at the first 49407, so padding with
/// it changes nothing).
pub const MAX_TOKENS: usize = 77;
pub const END_OF_TEXT: i64 = 49407;
const MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
const STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];
/// CLIP's learned logit scale (exp(4.6052) = 100).
const LOGIT_SCALE: f32 = 100.0;

/// The prompt ensemble a description is put through (CLIP's zero-shot recipe: average the normalised
/// embeddings of several phrasings).
pub const TEMPLATES: [&str; 6] =
    ["a photo of {}.", "an image of {}.", "a picture showing {}.", "a screenshot of {}.", "a meme about {}.", "{}"];
/// What an image is compared against besides the category: its score is the category's softmax share.
pub const NEUTRAL_PROMPTS: [&str; 4] =
    ["a photo.", "an image of something else.", "a screenshot of text.", "a picture."];

#[derive(Debug, Clone)]
pub struct ClipOptions {
    pub ort_library: PathBuf,
    pub vision_path: PathBuf,
    pub text_path: PathBuf,
    pub tokenizer_path: PathBuf,
    pub intra_threads: usize,
    pub provider: ProviderChoice,
}

impl ClipOptions {
    /// The real int8 CLIP ViT-B/32 export in `clip-vit-b32/` (for users with internet; see
    /// models/manifests/clip-vit-b32.toml), with the tokenizer built by setup in `clip-tiny/`.
    pub fn vit_b32(ort_library: PathBuf, models_dir: &Path) -> Self {
        ClipOptions {
            ort_library,
            vision_path: models_dir.join("clip-vit-b32/vision_model_quantized.onnx"),
            text_path: models_dir.join("clip-vit-b32/text_model_quantized.onnx"),
            tokenizer_path: models_dir.join("clip-tiny/tokenizer.json"),
            intra_threads: 1,
            provider: ProviderChoice::from_env(),
        }
    }

    /// The tiny random-weight pair with the same interface (tests only: its scores mean nothing).
    pub fn tiny(ort_library: PathBuf, models_dir: &Path) -> Self {
        ClipOptions {
            vision_path: models_dir.join("clip-tiny/vision_model.onnx"),
            text_path: models_dir.join("clip-tiny/text_model.onnx"),
            ..Self::vit_b32(ort_library, models_dir)
        }
    }
}

/// CLIP's image encoder. Shared ([`SharedVision`]) between the judge, which embeds a policy's example
/// images, and the image analyser, which embeds posts' images (on the host's image thread): one session in
/// memory for both.
pub struct ClipVision {
    session: Session,
}

impl std::fmt::Debug for ClipVision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipVision").finish_non_exhaustive()
    }
}

/// The image encoder as the judge and the image analyser hold it.
pub type SharedVision = Arc<Mutex<ClipVision>>;

impl ClipVision {
    /// Normalised image embedding.
    pub fn embed(&mut self, img: &RgbImage) -> Result<Vec<f32>, ModelError> {
        let input = Tensor::from_array(([1usize, 3, 224, 224], preprocess(img)))?;
        let outputs = self.session.run(ort::inputs!["pixel_values" => input])?;
        let (shape, data) = outputs["image_embeds"].try_extract_tensor::<f32>()?;
        if data.len() != EMBED_DIM {
            return Err(ModelError::Shape(shape.iter().copied().collect()));
        }
        Ok(normalize(data.to_vec()))
    }
}

/// Embed one image with a shared encoder (a panic in an earlier call does not make it unusable).
pub fn embed_shared(vision: &SharedVision, img: &RgbImage) -> Result<Vec<f32>, ModelError> {
    vision.lock().unwrap_or_else(std::sync::PoisonError::into_inner).embed(img)
}

pub struct Clip {
    vision: SharedVision,
    text: Session,
    tokenizer: Tokenizer,
    pub provider: &'static str,
}

impl std::fmt::Debug for Clip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clip").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// A described image category, ready to score images.
#[derive(Debug, Clone)]
pub struct ImageCategory {
    /// Normalised mean of the prompt-ensemble text embeddings.
    pub text: Vec<f32>,
    /// Normalised embeddings of the example images.
    pub examples: Vec<Vec<f32>>,
    neutral: Vec<Vec<f32>>,
}

fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= n);
    v
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl ImageCategory {
    /// P(the image shows the category): the category's softmax share against the neutral prompts at CLIP's
    /// logit scale, raised by close example images (image–image cosine 0.5 → 0, 1.0 → 1). A heuristic, not
    /// calibrated on labelled data (none was available).
    pub fn probability(&self, image: &[f32]) -> f32 {
        let cat = dot(&self.text, image) * LOGIT_SCALE;
        let others: Vec<f32> = self.neutral.iter().map(|n| dot(n, image) * LOGIT_SCALE).collect();
        let max = others.iter().copied().fold(cat, f32::max);
        let denom: f32 = (cat - max).exp() + others.iter().map(|o| (o - max).exp()).sum::<f32>();
        let p_text = (cat - max).exp() / denom;
        let p_examples =
            self.examples.iter().map(|e| ((dot(e, image) - 0.5) / 0.5).clamp(0.0, 1.0)).fold(0.0f32, f32::max);
        p_text.max(p_examples)
    }
}

impl Clip {
    pub fn try_new(opts: &ClipOptions) -> Result<Self, ModelError> {
        let env = ort_environment(&opts.ort_library)?;
        for p in [&opts.vision_path, &opts.text_path, &opts.tokenizer_path] {
            if !p.is_file() {
                return Err(ModelError::ModelMissing { path: p.clone(), hint: crate::model_error::SETUP_HINT });
            }
        }
        let load = |p: &Path| {
            load_session(env, p, opts.intra_threads, opts.provider)
                .map_err(|e| ModelError::ModelLoad { path: p.to_path_buf(), source: e })
        };
        let vision = load(&opts.vision_path)?;
        let text = load(&opts.text_path)?;
        let tokenizer = Tokenizer::from_file(&opts.tokenizer_path)
            .map_err(|e| ModelError::Tokenizer { path: opts.tokenizer_path.clone(), message: e.to_string() })?;
        let provider = if vision.provider == "CUDA" && text.provider == "CUDA" { "CUDA" } else { "CPU" };
        let vision = Arc::new(Mutex::new(ClipVision { session: vision.session }));
        Ok(Clip { vision, text: text.session, tokenizer, provider })
    }

    /// CLIP token ids (with start and end of text), cut at 77.
    pub fn token_ids(&self, text: &str) -> Result<Vec<i64>, ModelError> {
        let enc = self.tokenizer.encode(text, true).map_err(|e| ModelError::Tokenize(e.to_string()))?;
        let mut ids: Vec<i64> = enc.get_ids().iter().map(|&i| i64::from(i)).collect();
        if ids.len() > MAX_TOKENS {
            ids.truncate(MAX_TOKENS - 1);
            ids.push(END_OF_TEXT);
        }
        Ok(ids)
    }

    /// Normalised text embeddings, one text per call (no padding to reason about).
    pub fn embed_texts(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = Vec::with_capacity(texts.len());
        for t in texts {
            let ids = self.token_ids(t)?;
            let input = Tensor::from_array(([1usize, ids.len()], ids))?;
            let outputs = self.text.run(ort::inputs!["input_ids" => input])?;
            let (shape, data) = outputs["text_embeds"].try_extract_tensor::<f32>()?;
            if data.len() != EMBED_DIM {
                return Err(ModelError::Shape(shape.iter().copied().collect()));
            }
            out.push(normalize(data.to_vec()));
        }
        Ok(out)
    }

    /// Normalised image embedding.
    pub fn embed_image(&mut self, img: &RgbImage) -> Result<Vec<f32>, ModelError> {
        embed_shared(&self.vision, img)
    }

    /// The image encoder, for whoever embeds posts' images (see `ImageAnalyzer::analyse_post`).
    pub fn vision(&self) -> SharedVision {
        Arc::clone(&self.vision)
    }

    /// Compile a rule's description (and example images) into a category.
    pub fn describe(&mut self, description: &str, examples: &[RgbImage]) -> Result<ImageCategory, ModelError> {
        let prompts: Vec<String> = TEMPLATES.iter().map(|t| t.replace("{}", description.trim())).collect();
        let refs: Vec<&str> = prompts.iter().map(String::as_str).collect();
        let embs = self.embed_texts(&refs)?;
        let mut mean = vec![0f32; EMBED_DIM];
        for e in &embs {
            mean.iter_mut().zip(e).for_each(|(m, x)| *m += x);
        }
        let examples = examples.iter().map(|i| self.embed_image(i)).collect::<Result<Vec<_>, _>>()?;
        let neutral = self.embed_texts(&NEUTRAL_PROMPTS)?;
        Ok(ImageCategory { text: normalize(mean), examples, neutral })
    }
}

/// CLIP's preprocessing: shortest side to 224 (bicubic), centre crop 224, RGB /255, CLIP mean/std, NCHW.
pub fn preprocess(img: &RgbImage) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let s = 224.0 / w.min(h) as f32;
    let (nw, nh) = (((w as f32 * s).round() as u32).max(224), ((h as f32 * s).round() as u32).max(224));
    let resized = image::imageops::resize(img, nw, nh, image::imageops::FilterType::CatmullRom);
    let (x0, y0) = ((nw - 224) / 2, (nh - 224) / 2);
    let mut out = vec![0f32; 3 * 224 * 224];
    for y in 0..224u32 {
        for x in 0..224u32 {
            let p = resized.get_pixel(x0 + x, y0 + y).0;
            for c in 0..3 {
                out[(c * 224 + y as usize) * 224 + x as usize] = (p[c] as f32 / 255.0 - MEAN[c]) / STD[c];
            }
        }
    }
    out
}
