//! `feedwarden images`: OCR and NSFW on local image files, one JSON line per image, with a timing summary
//! (`--bench`) — what the benchmark in docs/benchmarks.md runs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;

use super::output::outln;
use crate::images::decode::decode;
use crate::images::nsfw::{Nsfw, NsfwOptions};
use crate::images::ocr::{join_lines, Ocr, OcrModel, OcrOptions};
use crate::images::source::read_file;
use crate::images::stage::{run_all, ImageStage, StageOutput};
use crate::images::DecodeLimits;
use crate::model_error::ModelError;
use crate::paths::Paths;

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Image files (JPEG, PNG, WebP, GIF).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// OCR models: `tiny` (pp-ocrv6-tiny/) or `small` (pp-ocrv6-small/, slower, multilingual). Default:
    /// FEEDWARDEN_OCR_MODEL, else tiny.
    #[arg(long, value_enum)]
    pub ocr: Option<OcrModel>,
    /// Skip NSFW.
    #[arg(long)]
    pub no_nsfw: bool,
    /// Downscale each image so its longest side is at most this many pixels first (the extension sends 512).
    #[arg(long, default_value_t = 0)]
    pub max_side: u32,
    /// Read every file this many times and print p50/p95 per image and images/s on stderr.
    #[arg(long, default_value_t = 0)]
    pub bench: usize,
    /// Threads per ONNX Runtime session.
    #[arg(long, default_value_t = 1)]
    pub intra_threads: usize,
}

pub fn run(args: ImagesArgs) -> anyhow::Result<ExitCode> {
    let paths = Paths::discover();
    let model = match args.ocr {
        Some(m) => m,
        None => OcrModel::from_env().map_err(anyhow::Error::msg)?,
    };
    let ocr_opts = OcrOptions::for_model(model, paths.ort_library.clone(), &paths.models_dir);
    let ocr = Ocr::try_new(&ocr_opts.with_intra_threads(args.intra_threads))?;
    let provider = ocr.provider;
    // OCR first, NSFW beside it: the host's stages, run as the host runs them.
    let mut stages: Vec<Box<dyn ImageStage>> = vec![Box::new(ocr)];
    if !args.no_nsfw {
        let mut o = NsfwOptions::new(paths.ort_library.clone(), &paths.models_dir);
        o.intra_threads = args.intra_threads;
        stages.push(Box::new(Nsfw::try_new(&o)?));
    }
    let limits = DecodeLimits::default();
    let mut times = Vec::new();
    let mut failed = false;
    let t_all = Instant::now();
    for round in 0..args.bench.max(1) {
        for f in &args.files {
            let t0 = Instant::now();
            let result = read_file(f, limits.max_bytes)
                .map_err(|e| (e.code(), e.to_string()))
                .and_then(|b| decode(&b, &limits).map_err(|e| (e.code(), e.to_string())));
            let img = match result {
                Ok(img) => downscale(img, args.max_side),
                Err((code, reason)) => {
                    failed = true;
                    if round == 0 {
                        outln!("{}", json!({"path": f, "error": {"code": code, "reason": reason}}));
                    }
                    continue;
                }
            };
            let (outputs, _) = run_all(&mut stages, &img, None::<fn() -> Result<(), ModelError>>);
            let (mut lines, mut p) = (Vec::new(), None);
            for output in outputs {
                match output? {
                    StageOutput::Lines(l) => lines = l,
                    StageOutput::Nsfw(x) => p = Some(x),
                }
            }
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            times.push(ms);
            if round == 0 {
                outln!(
                    "{}",
                    json!({"path": f, "width": img.width(), "height": img.height(), "text": join_lines(&lines),
                           "lines": lines, "nsfw": p, "ms": ms, "provider": provider,
                           "ocr_model": model.id()})
                );
            }
        }
    }
    if args.bench > 0 && !times.is_empty() {
        let wall = t_all.elapsed().as_secs_f64();
        let n = times.len();
        times.sort_by(f64::total_cmp);
        let pct = |q: f64| times[((n as f64 * q).ceil() as usize).clamp(1, n) - 1];
        eprintln!(
            "{n} images: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms, {:.1} images/s (decode + OCR{})",
            pct(0.5),
            pct(0.95),
            pct(1.0),
            n as f64 / wall,
            if args.no_nsfw { "" } else { " + NSFW" }
        );
    }
    Ok(if failed { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

fn downscale(img: image::RgbImage, max_side: u32) -> image::RgbImage {
    let (w, h) = img.dimensions();
    if max_side == 0 || w.max(h) <= max_side {
        return img;
    }
    let r = max_side as f32 / w.max(h) as f32;
    let (nw, nh) = (((w as f32 * r).round() as u32).max(1), ((h as f32 * r).round() as u32).max(1));
    image::imageops::resize(&img, nw, nh, image::imageops::FilterType::Triangle)
}
