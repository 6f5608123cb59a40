//! The vision half of the VLM: SmolVLM's `vision_encoder.onnx` (`pixel_values` [b, n, 3, S, S] +
//! `pixel_attention_mask` bool [b, n, S, S] → `image_features` [b·n, tokens, hidden]) and its preprocessing
//! for one view per image: the image squared to S × S (Idefics3's processor does the same when image
//! splitting is off: the aspect ratio is not kept), Lanczos resampling, RGB / 255, mean 0.5, std 0.5, every
//! pixel valid in the mask.

use std::path::{Path, PathBuf};

use image::RgbImage;
use ort::session::Session;
use ort::value::Tensor;

use super::decoder::{float_data, float_input, float_tensor, has_input, has_output, FloatType};
use super::VlmError;

/// Side of the square view when the graph does not fix it (SmolVLM's `max_image_size`).
pub const DEFAULT_IMAGE_SIZE: usize = 512;

/// Pixels of one view as `[3, size, size]`, channels first, scaled to [-1, 1].
pub fn preprocess(img: &RgbImage, size: usize) -> Vec<f32> {
    let side = size as u32;
    let resized;
    let view = if img.dimensions() == (side, side) {
        img
    } else {
        resized = image::imageops::resize(img, side, side, image::imageops::FilterType::Lanczos3);
        &resized
    };
    let plane = size * size;
    let mut out = vec![0f32; 3 * plane];
    for (i, p) in view.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (f32::from(p.0[c]) / 255.0 - 0.5) / 0.5;
        }
    }
    out
}

/// The image encoder session.
pub struct VisionEncoder {
    session: Session,
    path: PathBuf,
    pixels_type: FloatType,
    /// Side of the square view.
    pub image_size: usize,
    has_mask: bool,
}

impl std::fmt::Debug for VisionEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisionEncoder").field("path", &self.path).field("image_size", &self.image_size).finish()
    }
}

impl VisionEncoder {
    /// Check the graph against the interface and keep it.
    pub fn new(session: Session, path: &Path) -> Result<Self, VlmError> {
        let pixels_type = float_input(&session, path, "pixel_values")?;
        if !has_output(&session, "image_features") {
            return Err(VlmError::missing_output(path, "image_features"));
        }
        let shape: Vec<i64> = session
            .inputs()
            .iter()
            .find(|i| i.name() == "pixel_values")
            .and_then(|i| i.dtype().tensor_shape().map(|s| s.iter().copied().collect()))
            .unwrap_or_default();
        if shape.len() != 5 {
            return Err(VlmError::Interface {
                model: path.to_path_buf(),
                message: format!("input `pixel_values` has shape {shape:?}; expected [batch, views, 3, size, size]"),
            });
        }
        let image_size = if shape[3] > 0 { shape[3] as usize } else { DEFAULT_IMAGE_SIZE };
        Ok(VisionEncoder {
            has_mask: has_input(&session, "pixel_attention_mask"),
            session,
            path: path.to_path_buf(),
            pixels_type,
            image_size,
        })
    }

    /// The features of one image as one view: `(tokens, data [tokens × hidden])`.
    pub fn encode(&mut self, img: &RgbImage, hidden: usize) -> Result<(usize, Vec<f32>), VlmError> {
        let s = self.image_size;
        let pixels = float_tensor(self.pixels_type, vec![1, 1, 3, s, s], preprocess(img, s))?;
        let outputs = if self.has_mask {
            let mask = Tensor::from_array(([1usize, 1, s, s], vec![true; s * s]))?;
            self.session.run(ort::inputs!["pixel_values" => pixels, "pixel_attention_mask" => mask])?
        } else {
            self.session.run(ort::inputs!["pixel_values" => pixels])?
        };
        let (shape, data) = float_data(&outputs["image_features"])?;
        if shape.len() != 3 || shape[0] != 1 || shape[1] <= 0 || shape[2] != hidden as i64 {
            return Err(VlmError::OutputShape {
                model: self.path.clone(),
                output: "image_features",
                shape,
                expected: format!("[1, tokens, {hidden}] (the decoder's hidden size)"),
            });
        }
        Ok((shape[1] as usize, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn pixels_are_scaled_to_minus_one_one_channels_first() {
        let img = RgbImage::from_fn(4, 4, |x, _| if x < 2 { Rgb([0, 255, 51]) } else { Rgb([255, 0, 102]) });
        let v = preprocess(&img, 4);
        assert_eq!(v.len(), 3 * 16);
        assert_eq!((v[0], v[16], v[32]), (-1.0, 1.0, 51.0 / 255.0 * 2.0 - 1.0));
        assert_eq!((v[3], v[16 + 3]), (1.0, -1.0));
    }

    #[test]
    fn any_image_becomes_one_square_view() {
        let img = RgbImage::from_pixel(30, 7, Rgb([128, 128, 128]));
        let v = preprocess(&img, 8);
        assert_eq!(v.len(), 3 * 64);
        assert!(v.iter().all(|x| (x - (128.0 / 255.0 * 2.0 - 1.0)).abs() < 1e-2), "a flat image stays flat");
    }
}
