//! Per-image analysis for the judge: resolve, decode, OCR, NSFW and (when the policy has image descriptions)
//! the CLIP image embedding, cached by the content's sha256. A missing image model only disables its part; a
//! bad image is reported with its code, never fatal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use feedwarden_core::protocol::{ImageError, ImageFinding, VerdictOut, VlmFinding};
use feedwarden_core::Verdict;

use super::clip::{embed_shared, SharedVision};
use image::RgbImage;

use super::decode::{decode, DecodeLimits};
use super::nsfw::{Nsfw, NsfwOptions};
use super::ocr::{join_lines, Ocr, OcrLine, OcrModel, OcrOptions};
use super::source::{parse_image_ref, read_file, ImageRef};
use super::stage::{ImageStage, MissingStage, StageOutput};
use crate::model_error::ModelError;

/// The order stages are reported in.
const STAGE_ORDER: [&str; 2] = ["ocr", "nsfw"];

/// Entries kept in the in-memory cache; it is cleared when full (feeds rarely repeat images after that).
const CACHE_ENTRIES: usize = 1024;

/// Where the image models are and how they run.
#[derive(Debug, Clone)]
pub struct ImageModelsOptions {
    pub ocr: OcrOptions,
    pub nsfw: NsfwOptions,
    pub limits: DecodeLimits,
}

impl ImageModelsOptions {
    /// The OCR pair `FEEDWARDEN_OCR_MODEL` names (tiny when unset). An unknown name selects the tiny pair
    /// and comes back as the warning to show (this library prints nothing itself).
    pub fn new(ort_library: PathBuf, models_dir: &Path) -> (Self, Option<String>) {
        let (ocr_model, warning) = match OcrModel::from_env() {
            Ok(m) => (m, None),
            Err(e) => (OcrModel::Tiny, Some(format!("{e}; using tiny"))),
        };
        (Self::with_ocr_model(ocr_model, ort_library, models_dir), warning)
    }

    pub fn with_ocr_model(ocr_model: OcrModel, ort_library: PathBuf, models_dir: &Path) -> Self {
        ImageModelsOptions {
            ocr: OcrOptions::for_model(ocr_model, ort_library.clone(), models_dir),
            nsfw: NsfwOptions::new(ort_library, models_dir),
            limits: DecodeLimits::default(),
        }
    }
}

/// What one image said.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImageAnalysis {
    /// sha256 of the encoded bytes (empty when there were none).
    pub sha256: String,
    /// Recognised text, one line per row.
    pub text: String,
    pub lines: Vec<OcrLine>,
    /// P(nsfw), when the NSFW model ran.
    pub nsfw: Option<f32>,
    /// Why the image was not judged: (code, reason).
    pub error: Option<(String, String)>,
    /// The normalised CLIP image embedding, when the caller asked for it (the policy has rules with an
    /// `image_description`) and it could be computed; the judge compares it with the rules' descriptions.
    #[serde(skip)]
    pub clip_embedding: Option<Vec<f32>>,
    /// What the vision-language model said, once it looked at the image (a later stage than the analysis:
    /// see `vlm_stage`). Its P(yes) per rule takes the place of CLIP's score for that rule.
    pub vlm: Option<VlmFinding>,
    /// Milliseconds until the image's analysis was complete (a post's images are analysed together, each
    /// stage over all of them: see [`ImageAnalyzer::analyse_post`]); a cached analysis keeps its first figure.
    pub ms: f64,
}

/// A verdict as every output shows it ([`VerdictOut`]: the host's replies, `feedwarden classify`, batch rows),
/// with what each of the post's images said (`analyses` in the post's order; empty: no `images`).
pub fn verdict_out(verdict: Verdict, analyses: &[ImageAnalysis]) -> VerdictOut {
    VerdictOut::from(verdict).with_images(analyses.iter().map(ImageAnalysis::finding).collect())
}

impl ImageAnalysis {
    fn failed(code: &str, reason: String) -> Self {
        ImageAnalysis { error: Some((code.to_string(), reason)), ..Default::default() }
    }

    /// What the verdict says about this image (`images[]` of a verdict on the wire and in `classify`'s output).
    pub fn finding(&self) -> ImageFinding {
        ImageFinding {
            sha256: self.sha256.clone(),
            text: self.text.clone(),
            nsfw: self.nsfw,
            clip: self.clip_embedding.is_some(),
            error: self.error.as_ref().map(|(code, reason)| ImageError { code: code.clone(), reason: reason.clone() }),
            ms: self.ms,
            text_truncated: None,
            vlm: self.vlm.clone(),
        }
    }
}

/// The image stages that loaded (OCR, NSFW: [`ImageStage`]), those that did not and why, and the cache.
#[derive(Debug)]
pub struct ImageAnalyzer {
    stages: Vec<Box<dyn ImageStage>>,
    missing: Vec<MissingStage>,
    ocr_model: OcrModel,
    limits: DecodeLimits,
    cache: HashMap<String, ImageAnalysis>,
}

/// One image stage as `hello` and `doctor` report it: id, kind and the provider that runs it, or why it is
/// not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageReport {
    pub id: &'static str,
    pub kind: &'static str,
    pub status: Result<&'static str, String>,
}

impl ImageAnalyzer {
    /// Load whatever image models are installed; the missing ones are remembered with the reason.
    pub fn new(opts: &ImageModelsOptions) -> Self {
        let mut stages: Vec<Box<dyn ImageStage>> = Vec::new();
        let mut missing = Vec::new();
        let mut load =
            |id: &'static str, kind: &'static str, stage: Result<Box<dyn ImageStage>, ModelError>| match stage {
                Ok(stage) => stages.push(stage),
                Err(e) => missing.push(MissingStage { id, kind, why: e.to_string() }),
            };
        load(opts.ocr.model.id(), "ocr", Ocr::try_new(&opts.ocr).map(|o| Box::new(o) as Box<dyn ImageStage>));
        load(super::nsfw::MODEL_ID, "nsfw", Nsfw::try_new(&opts.nsfw).map(|n| Box::new(n) as Box<dyn ImageStage>));
        ImageAnalyzer { stages, missing, ocr_model: opts.ocr.model, limits: opts.limits, cache: HashMap::new() }
    }

    /// The OCR pair configured (loaded or not: see [`ImageAnalyzer::report`]).
    pub fn ocr_model(&self) -> OcrModel {
        self.ocr_model
    }

    /// Every stage, loaded or not, in the order OCR, NSFW.
    pub fn report(&self) -> Vec<StageReport> {
        let loaded = self.stages.iter().map(|s| StageReport { id: s.id(), kind: s.kind(), status: Ok(s.provider()) });
        let missing = self.missing.iter().map(|m| StageReport { id: m.id, kind: m.kind, status: Err(m.why.clone()) });
        let mut all: Vec<StageReport> = loaded.chain(missing).collect();
        all.sort_by_key(|r| STAGE_ORDER.iter().position(|k| *k == r.kind));
        all
    }

    /// Analyse a post's `images` entries (one analysis each, in order), every stage over every image: the
    /// stages (and CLIP's image side, with `clip`) run side by side, each over the post's images in order,
    /// and `progress(analyses, done)` is called each time one of them has finished them all — with what is
    /// known so far, `done` on the last call — so a fast stage's findings (NSFW) need not wait for a slow
    /// one's (OCR). Analyses are cached by content (sha256); a cached analysis made without CLIP gets its
    /// embedding when one is asked for later. `progress` is called at least once (`done`). `base_dir` allows
    /// local files (batch mode), confined to it ([`confined_file`]); without it only `data:` URLs are read.
    pub fn analyse_post(
        &mut self,
        entries: &[String],
        base_dir: Option<&Path>,
        clip: Option<&SharedVision>,
        mut progress: impl FnMut(&[ImageAnalysis], bool),
    ) -> Vec<ImageAnalysis> {
        let t0 = Instant::now();
        let mut analyses = Vec::with_capacity(entries.len());
        // Decoded images that need the stages (`fresh`) or only CLIP's embedding (a cached analysis without one).
        let mut fresh: Vec<(usize, RgbImage)> = Vec::new();
        let mut clip_only: Vec<(usize, RgbImage)> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let bytes = match entry_bytes(entry, base_dir, self.limits.max_bytes) {
                Ok(bytes) => bytes,
                Err((code, reason)) => {
                    analyses.push(ImageAnalysis::failed(code, reason));
                    continue;
                }
            };
            let sha = feedwarden_core::sha256_hex(&bytes);
            if let Some(hit) = self.cache.get(&sha) {
                if clip.is_some() && hit.clip_embedding.is_none() && hit.error.is_none() {
                    if let Ok(img) = decode(&bytes, &self.limits) {
                        clip_only.push((i, img));
                    }
                }
                analyses.push(hit.clone());
                continue;
            }
            match decode(&bytes, &self.limits) {
                Ok(img) => fresh.push((i, img)),
                Err(e) => {
                    let mut failed = ImageAnalysis::failed(e.code(), e.to_string());
                    failed.sha256 = sha.clone();
                    self.remember(sha, &failed);
                    analyses.push(failed);
                    continue;
                }
            }
            analyses.push(ImageAnalysis { sha256: sha, ..Default::default() });
        }
        if fresh.is_empty() && clip_only.is_empty() {
            progress(&analyses, true);
            return analyses;
        }
        let with_clip: Vec<&(usize, RgbImage)> =
            if clip.is_some() { fresh.iter().chain(&clip_only).collect() } else { Vec::new() };
        // Only images new to the cache go through the stages; CLIP may be all that is left to do.
        let stages: &mut [Box<dyn ImageStage>] = if fresh.is_empty() { &mut [] } else { &mut self.stages };
        let parts = stages.len() + usize::from(!with_clip.is_empty());
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel::<Part>();
            for stage in stages.iter_mut() {
                let (tx, fresh) = (tx.clone(), &fresh);
                s.spawn(move || {
                    let outputs = fresh.iter().map(|(i, img)| (*i, run_stage(stage.as_mut(), img))).collect();
                    let _ = tx.send(Part::Stage(outputs));
                });
            }
            if let (Some(vision), false) = (clip, with_clip.is_empty()) {
                let (tx, with_clip) = (tx.clone(), &with_clip);
                s.spawn(move || {
                    // A CLIP failure only leaves the image descriptions unjudged for this image.
                    let embeddings = with_clip.iter().map(|(i, img)| (*i, embed_shared(vision, img).ok())).collect();
                    let _ = tx.send(Part::Clip(embeddings));
                });
            }
            drop(tx);
            for (n, part) in rx.iter().enumerate() {
                match part {
                    Part::Stage(outputs) => {
                        for (i, output) in outputs {
                            merge(&mut analyses[i], output);
                        }
                    }
                    Part::Clip(embeddings) => {
                        for (i, embedding) in embeddings {
                            analyses[i].clip_embedding = embedding;
                        }
                    }
                }
                let done = n + 1 == parts;
                if done {
                    for (i, _) in fresh.iter().chain(&clip_only) {
                        analyses[*i].ms += t0.elapsed().as_secs_f64() * 1000.0;
                    }
                }
                progress(&analyses, done);
            }
        });
        for (i, _) in fresh.iter().chain(&clip_only) {
            let a = analyses[*i].clone();
            self.remember(a.sha256.clone(), &a);
        }
        analyses
    }

    fn remember(&mut self, sha: String, analysis: &ImageAnalysis) {
        if self.cache.len() >= CACHE_ENTRIES {
            self.cache.clear();
        }
        self.cache.insert(sha, analysis.clone());
    }
}

/// What one stage (or CLIP's image side) found in each of a post's images: (image index, output).
enum Part {
    Stage(Vec<(usize, Result<StageOutput, ModelError>)>),
    Clip(Vec<(usize, Option<Vec<f32>>)>),
}

/// One stage on one image; a bug in a model wrapper costs this output, not the thread.
fn run_stage(stage: &mut dyn ImageStage, img: &RgbImage) -> Result<StageOutput, ModelError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stage.run(img)))
        .unwrap_or(Err(ModelError::Panicked("an image model")))
}

/// Add what a stage found to an image's analysis.
fn merge(analysis: &mut ImageAnalysis, output: Result<StageOutput, ModelError>) {
    match output {
        Ok(StageOutput::Lines(lines)) => {
            analysis.text = join_lines(&lines);
            analysis.lines = lines;
        }
        Ok(StageOutput::Nsfw(p)) => analysis.nsfw = Some(p),
        Err(e) => analysis.error = Some(("model-error".into(), e.to_string())),
    }
}

/// The encoded bytes of one `images` entry: a `data:` URL's payload, or a local file when `base_dir` allows
/// them (batch mode), confined to it ([`confined_file`]); never a download. Errors are (code, reason).
pub fn entry_bytes(entry: &str, base_dir: Option<&Path>, max_bytes: usize) -> Result<Vec<u8>, (&'static str, String)> {
    match parse_image_ref(entry, base_dir, max_bytes) {
        Ok(ImageRef::Data(b)) => Ok(b),
        Ok(ImageRef::File(p)) => {
            let root = base_dir.expect("files are only resolved with a base folder");
            confined_file(&p, root).and_then(|p| read_file(&p, max_bytes).map_err(|e| (e.code(), e.to_string())))
        }
        Ok(ImageRef::Remote(_)) => Err(("image-not-fetched", "the host does not download images".into())),
        Err(e) => Err((e.code(), e.to_string())),
    }
}

/// A feed file's image path, checked before anything is opened: it must lead (symlinks followed) to a
/// regular file inside `root` — the feed's folder or `--images-root` — so a third-party feed cannot make
/// `feedwarden batch --images` read `/home/you/.ssh/…` or `../../secret.png` into its output, nor hang on a
/// FIFO or a device. Errors are (code, reason): `image-outside-root`, `image-not-a-file` or
/// `image-unreadable`.
pub fn confined_file(path: &Path, root: &Path) -> Result<PathBuf, (&'static str, String)> {
    let root = if root.as_os_str().is_empty() { Path::new(".") } else { root };
    let unreadable = |p: &Path, e: std::io::Error| ("image-unreadable", format!("could not read {}: {e}", p.display()));
    let real_root = root.canonicalize().map_err(|e| unreadable(root, e))?;
    let real = path.canonicalize().map_err(|e| unreadable(path, e))?;
    if !real.starts_with(&real_root) {
        return Err((
            "image-outside-root",
            format!(
                "{} is outside {}: images are only read from the feed's folder (--images-root chooses another)",
                path.display(),
                real_root.display()
            ),
        ));
    }
    let meta = std::fs::metadata(&real).map_err(|e| unreadable(path, e))?;
    if !meta.is_file() {
        return Err(("image-not-a-file", format!("{} is not a regular file", path.display())));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use std::time::Duration;

    /// A stage that answers after `delay`.
    #[derive(Debug)]
    struct Timed {
        kind: &'static str,
        delay: Duration,
        runs: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl ImageStage for Timed {
        fn id(&self) -> &'static str {
            "timed"
        }
        fn kind(&self) -> &'static str {
            self.kind
        }
        fn provider(&self) -> &'static str {
            "CPU"
        }
        fn run(&mut self, _: &RgbImage) -> Result<StageOutput, ModelError> {
            std::thread::sleep(self.delay);
            self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(match self.kind {
                "ocr" => StageOutput::Lines(vec![OcrLine { text: "READ".into(), score: 0.9, bbox: [0.0; 4] }]),
                _ => StageOutput::Nsfw(0.7),
            })
        }
    }

    fn png_data_url(shade: u8) -> String {
        let mut bytes = Vec::new();
        let img = RgbImage::from_pixel(8, 8, image::Rgb([shade, 0, 0]));
        img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    #[test]
    fn a_fast_stage_reports_before_a_slow_one_and_the_cache_answers_at_once() {
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let slow = Box::new(Timed { kind: "ocr", delay: Duration::from_millis(300), runs: runs.clone() });
        let fast = Box::new(Timed { kind: "nsfw", delay: Duration::ZERO, runs: runs.clone() });
        let mut analyzer = ImageAnalyzer {
            stages: vec![slow, fast],
            missing: Vec::new(),
            ocr_model: OcrModel::Tiny,
            limits: DecodeLimits::default(),
            cache: HashMap::new(),
        };
        let entries = vec![png_data_url(1), png_data_url(2), "data:image/png;base64,AAAA".to_string()];
        let mut reports = Vec::new();
        let analyses = analyzer.analyse_post(&entries, None, None, |a, done| reports.push((a.to_vec(), done)));
        assert_eq!(reports.len(), 2, "one report per stage");
        let (first, done) = &reports[0];
        assert!(!done);
        assert!(first[..2].iter().all(|a| a.nsfw == Some(0.7) && a.text.is_empty()), "NSFW did not wait for OCR");
        let (last, done) = &reports[1];
        assert!(done);
        assert!(last[..2].iter().all(|a| a.nsfw == Some(0.7) && a.text == "READ" && a.error.is_none()));
        assert!(last[2].error.is_some() && last[2].nsfw.is_none(), "a bad image is reported, not judged");
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 4, "two stages × two images");
        assert_eq!(analyses.len(), 3);
        // Seen before: answered from the cache in one report, no stage runs.
        let mut again = Vec::new();
        analyzer.analyse_post(&entries[..2], None, None, |a, done| again.push((a.to_vec(), done)));
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 4, "no stage ran again");
        assert_eq!(again.len(), 1);
        assert!(again[0].1 && again[0].0.iter().all(|a| a.text == "READ"));
    }

    #[test]
    fn feed_image_paths_stay_inside_their_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("feed");
        std::fs::create_dir_all(root.join("a_files")).unwrap();
        std::fs::write(root.join("a_files/x.png"), b"png").unwrap();
        std::fs::write(dir.path().join("secret.png"), b"secret").unwrap();
        let code = |p: &Path| confined_file(p, &root).map_err(|(code, _)| code);
        assert!(code(&root.join("a_files/x.png")).is_ok());
        assert_eq!(code(&root.join("../secret.png")), Err("image-outside-root"));
        assert_eq!(code(&dir.path().join("secret.png")), Err("image-outside-root"));
        assert_eq!(code(Path::new("/etc/passwd")), Err("image-outside-root"));
        assert_eq!(code(&root.join("a_files")), Err("image-not-a-file"));
        assert_eq!(code(&root.join("missing.png")), Err("image-unreadable"));
        // A link inside the folder to a file outside it is outside too.
        std::os::unix::fs::symlink(dir.path().join("secret.png"), root.join("link.png")).unwrap();
        assert_eq!(code(&root.join("link.png")), Err("image-outside-root"));
    }
}
