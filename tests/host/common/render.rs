//! Text rendered into PNG `data:` URLs for the black-box image tests: known words in a real TrueType font
//! (DejaVu or Liberation, Debian's fonts-dejavu-core / fonts-liberation), so the OCR has something true to
//! read. Included with `#[path = "common/render.rs"]` beside `mod common;`.
#![allow(dead_code)]

use std::path::PathBuf;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use base64::Engine;
use image::{ImageEncoder, Rgb, RgbImage};

/// The text and image models, with the same skip / fail rule as `common::models_dir`.
pub fn image_models() -> Option<PathBuf> {
    crate::common::models_with(
        &["pp-ocrv6-tiny/PP-OCRv6_det_tiny.onnx", "pp-ocrv6-tiny/PP-OCRv6_rec_tiny.onnx", "open-nsfw/open_nsfw.onnx"],
        "image models",
    )
}

const FONT_FILES: [&str; 2] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// The first installed font of [`FONT_FILES`].
pub fn font() -> FontVec {
    FONT_FILES
        .iter()
        .find_map(|p| FontVec::try_from_vec(std::fs::read(p).ok()?).ok())
        .expect("install fonts-dejavu-core or fonts-liberation to render the test images")
}

/// Where `lines` of text `px` pixels high go, one under the other, with a margin of `px` all round.
pub struct TextLayout {
    /// Each line's advance width.
    pub widths: Vec<f32>,
    pub width: u32,
    pub height: u32,
    line_h: f32,
    top: f32,
}

impl TextLayout {
    pub fn new(lines: &[&str], font: &FontVec, px: f32) -> Self {
        let scaled = font.as_scaled(PxScale::from(px));
        let line_h = (scaled.ascent() - scaled.descent() + scaled.line_gap()).ceil();
        let widths: Vec<f32> =
            lines.iter().map(|l| l.chars().map(|c| scaled.h_advance(font.glyph_id(c))).sum::<f32>()).collect();
        let width = (widths.iter().cloned().fold(0.0, f32::max) + 2.0 * px).ceil() as u32;
        let height = (line_h * lines.len() as f32 + 2.0 * px).ceil() as u32;
        TextLayout { widths, width, height, line_h, top: px + scaled.ascent() }
    }

    /// The baseline of line `i`.
    pub fn baseline(&self, i: usize) -> f32 {
        self.top + i as f32 * self.line_h
    }
}

/// `lines` in `ink` on a plain `paper` background, `px` pixels high, one line under the other.
pub fn render(lines: &[&str], font: &FontVec, px: f32, ink: [u8; 3], paper: [u8; 3]) -> RgbImage {
    let layout = TextLayout::new(lines, font, px);
    let mut img = RgbImage::from_pixel(layout.width, layout.height, Rgb(paper));
    for (i, line) in lines.iter().enumerate() {
        draw_line(&mut img, font, px, px, layout.baseline(i), line, ink);
    }
    img
}

/// Draw one line of `text` in `ink` onto `img`, starting at `x` on `baseline` (kerned, anti-aliased).
pub fn draw_line(img: &mut RgbImage, font: &FontVec, px: f32, mut x: f32, baseline: f32, text: &str, ink: [u8; 3]) {
    let scaled = font.as_scaled(PxScale::from(px));
    let (w, h) = img.dimensions();
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(x, baseline));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                let (x_, y_) = (gx as i32 + b.min.x as i32, gy as i32 + b.min.y as i32);
                if x_ >= 0 && y_ >= 0 && (x_ as u32) < w && (y_ as u32) < h {
                    let dst = img.get_pixel_mut(x_ as u32, y_ as u32);
                    for (d, k) in dst.0.iter_mut().zip(ink) {
                        *d = (*d as f32 * (1.0 - cov) + k as f32 * cov) as u8;
                    }
                }
            });
        }
        x += scaled.h_advance(id);
        prev = Some(id);
    }
}

pub fn png_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// `lines` rendered black on white at 30 px, as a PNG `data:` URL (what the extension sends).
pub fn text_image_data_url(lines: &[&str]) -> String {
    let img = render(lines, &font(), 30.0, [0, 0, 0], [255, 255, 255]);
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png_bytes(&img)))
}
