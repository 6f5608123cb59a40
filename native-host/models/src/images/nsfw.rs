//! OpenNSFW (Yahoo, ResNet-50-thin) through ONNX Runtime with its exact preprocessing: resize to 256×256
//! (bilinear), a JPEG encode/decode round trip (the network was fitted to JPEG artefacts), centre crop 224,
//! BGR minus the Caffe means (104, 117, 123), channels last. Output column 1 is P(nsfw). It detects
//! pornography only — not gore or hate.

use std::path::{Path, PathBuf};

use image::RgbImage;
use ort::session::Session;
use ort::value::Tensor;

use super::provider::{load_session, ProviderChoice};
use crate::embedder::ort_environment;
use crate::model_error::ModelError;

pub const MODEL_ID: &str = "open-nsfw";
const RESIZE: u32 = 256;
const CROP: u32 = 224;
const BGR_MEAN: [f32; 3] = [104.0, 117.0, 123.0];
/// PIL's default JPEG quality, which the reference pipeline uses.
const JPEG_QUALITY: u8 = 75;

#[derive(Debug, Clone)]
pub struct NsfwOptions {
    pub ort_library: PathBuf,
    pub model_path: PathBuf,
    pub intra_threads: usize,
    pub provider: ProviderChoice,
}

impl NsfwOptions {
    pub fn new(ort_library: PathBuf, models_dir: &Path) -> Self {
        NsfwOptions {
            ort_library,
            model_path: models_dir.join("open-nsfw/open_nsfw.onnx"),
            intra_threads: 1,
            provider: ProviderChoice::from_env(),
        }
    }
}

pub struct Nsfw {
    session: Session,
    pub provider: &'static str,
}

impl std::fmt::Debug for Nsfw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nsfw").field("provider", &self.provider).finish()
    }
}

impl Nsfw {
    pub fn try_new(opts: &NsfwOptions) -> Result<Self, ModelError> {
        let env = ort_environment(&opts.ort_library)?;
        if !opts.model_path.is_file() {
            return Err(ModelError::ModelMissing {
                path: opts.model_path.clone(),
                hint: crate::model_error::SETUP_HINT,
            });
        }
        let loaded = load_session(env, &opts.model_path, opts.intra_threads, opts.provider)
            .map_err(|e| ModelError::ModelLoad { path: opts.model_path.clone(), source: e })?;
        Ok(Nsfw { session: loaded.session, provider: loaded.provider })
    }

    /// P(nsfw) for one image.
    pub fn probability(&mut self, img: &RgbImage) -> Result<f32, ModelError> {
        let data = preprocess(img);
        let input = Tensor::from_array(([1usize, CROP as usize, CROP as usize, 3], data))?;
        let outputs = self.session.run(ort::inputs!["input_0" => input])?;
        let (shape, out) = outputs[0].try_extract_tensor::<f32>()?;
        if out.len() != 2 {
            return Err(ModelError::Shape(shape.iter().copied().collect()));
        }
        Ok(out[1])
    }
}

/// The reference preprocessing, as an NHWC [224, 224, 3] buffer.
pub fn preprocess(img: &RgbImage) -> Vec<f32> {
    use image::ImageEncoder;
    let resized = image::imageops::resize(img, RESIZE, RESIZE, image::imageops::FilterType::Triangle);
    let mut jpeg = Vec::new();
    let round_trip = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .write_image(resized.as_raw(), RESIZE, RESIZE, image::ExtendedColorType::Rgb8)
        .ok()
        .and_then(|_| image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).ok())
        .map(|i| i.into_rgb8());
    // Our own 256×256 encoder output always decodes; fall back to the resized image rather than fail.
    let decoded = round_trip.unwrap_or(resized);
    let off = (RESIZE - CROP) / 2;
    let mut out = Vec::with_capacity((CROP * CROP * 3) as usize);
    for y in off..off + CROP {
        for x in off..off + CROP {
            let p = decoded.get_pixel(x, y).0;
            out.extend([p[2] as f32 - BGR_MEAN[0], p[1] as f32 - BGR_MEAN[1], p[0] as f32 - BGR_MEAN[2]]);
        }
    }
    out
}
