//! `feedwarden vlm`: the generative tier from the command line — `ask` (P(yes) for a yes/no question about an
//! image), `describe` (a short greedy description), `chat` (a text prompt, e.g. to the text-only SmolLM2
//! decoder) and `bench` (prefill, decode, yes/no and peak memory figures for docs/benchmarks.md).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;

use super::output::outln;
use crate::images::source::read_file;
use crate::images::DecodeLimits;
use crate::paths::Paths;
use crate::vlm::{decode_image, installed_dir, Vlm, VlmOptions, SMOLVLM_TINY_DIR};

#[derive(Debug, clap::Args)]
pub struct VlmArgs {
    #[command(subcommand)]
    pub command: VlmCommand,
    /// Model folder (SmolVLM layout: vision_encoder*.onnx, embed_tokens*.onnx, decoder_model_merged*.onnx,
    /// tokenizer.json). Default: smolvlm-256m/ in the models folder, else the tiny test set smolvlm-tiny/
    /// (random weights: noise), and for `chat` also smollm2-135m/.
    #[arg(long, global = true)]
    pub model_dir: Option<PathBuf>,
    /// Decoder graph inside the model folder (default: int8, else fp32, else 4-bit, else fp16).
    #[arg(long, global = true)]
    pub decoder: Option<String>,
    /// Threads per ONNX Runtime session (1 beat 2 on a busy 2-core machine: docs/benchmarks.md).
    #[arg(long, global = true, default_value_t = 1)]
    pub threads: usize,
    /// Print one JSON object (with the model folder, files, provider and timings) instead of plain text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum VlmCommand {
    /// P(yes) for a yes/no question about an image ("Does this image show a spider?").
    Ask { image: PathBuf, question: String },
    /// Describe an image in a short sentence (greedy).
    Describe {
        image: PathBuf,
        /// New tokens at most.
        #[arg(long, default_value_t = 32)]
        max_tokens: usize,
        /// Ask this instead of the default description prompt.
        #[arg(long)]
        prompt: Option<String>,
    },
    /// Reply to a text prompt (greedy); `--yes-no` prints P(yes) instead.
    Chat {
        prompt: String,
        #[arg(long, default_value_t = 64)]
        max_tokens: usize,
        #[arg(long)]
        yes_no: bool,
    },
    /// Time prefill, decoding and a yes/no judgement; print JSON with the peak RSS (run each graph in a fresh
    /// process: `tests/bench/vlm.sh`).
    Bench {
        /// Decode steps timed.
        #[arg(long, default_value_t = 32)]
        decode_tokens: usize,
        /// Prefill runs (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// An image for the end-to-end describe path (needs a vision encoder).
        #[arg(long)]
        image: Option<PathBuf>,
        /// The user text of the prefill prompt (default: a ~100-token yes/no question about a post).
        #[arg(long)]
        prompt: Option<String>,
    },
}

fn load(args: &VlmArgs, text_only: bool) -> anyhow::Result<Vlm> {
    let paths = Paths::discover();
    let dir = match &args.model_dir {
        Some(d) => d.clone(),
        None => installed_dir(&paths.models_dir, text_only)?,
    };
    if dir.file_name().is_some_and(|n| n == SMOLVLM_TINY_DIR) {
        eprintln!(
            "warning: {} holds the tiny random-weight test models: their answers are noise; \
             run `feedwarden models fetch smolvlm-256m` for the real model",
            dir.display()
        );
    }
    let mut opts = VlmOptions::new(paths.ort_library.clone(), &dir).with_intra_threads(args.threads);
    opts.decoder_file = args.decoder.clone();
    Ok(Vlm::load(&opts)?)
}

fn read_image(path: &Path) -> anyhow::Result<image::RgbImage> {
    let limits = DecodeLimits::default();
    let bytes =
        read_file(path, limits.max_bytes).map_err(|e| anyhow::anyhow!("{} ({}): {e}", path.display(), e.code()))?;
    decode_image(&bytes, &limits).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn about(vlm: &Vlm) -> serde_json::Value {
    json!({
        "model_dir": vlm.files().last().and_then(|f| f.parent()).map(|d| d.display().to_string()),
        "files": vlm.files().iter().map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned())).collect::<Vec<_>>(),
        "provider": vlm.provider(),
        "kv_cache": vlm.layout().dtype.name(),
        "layers": vlm.layout().layers,
    })
}

fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(b), serde_json::Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

pub fn run(args: VlmArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        VlmCommand::Ask { image, question } => {
            let img = read_image(image)?;
            let mut vlm = load(&args, false)?;
            let t = Instant::now();
            let p = vlm.yes_probability(&img, question)?;
            if args.json {
                outln!("{}", with(about(&vlm), json!({"question": question, "p_yes": p, "ms": ms(t)})));
            } else {
                outln!("{p:.4}");
            }
        }
        VlmCommand::Describe { image, max_tokens, prompt } => {
            let img = read_image(image)?;
            let mut vlm = load(&args, false)?;
            let t = Instant::now();
            let question = prompt.as_deref().unwrap_or(crate::vlm::DESCRIBE_PROMPT);
            let out = vlm.answer(&img, question, *max_tokens)?;
            print_generation(&args, &vlm, &out, t);
        }
        VlmCommand::Chat { prompt, max_tokens, yes_no } => {
            let mut vlm = load(&args, true)?;
            let t = Instant::now();
            if *yes_no {
                let p = vlm.yes_probability_text(prompt)?;
                if args.json {
                    outln!("{}", with(about(&vlm), json!({"question": prompt, "p_yes": p, "ms": ms(t)})));
                } else {
                    outln!("{p:.4}");
                }
            } else {
                let out = vlm.chat(prompt, *max_tokens)?;
                print_generation(&args, &vlm, &out, t);
            }
        }
        VlmCommand::Bench { decode_tokens, runs, image, prompt } => {
            let img = image.as_deref().map(read_image).transpose()?;
            let t = Instant::now();
            let mut vlm = load(&args, img.is_none())?;
            let load_ms = ms(t);
            let figures = bench(
                &mut vlm,
                load_ms,
                prompt.as_deref().unwrap_or(BENCH_PROMPT),
                *decode_tokens,
                (*runs).max(1),
                img.as_ref(),
            )?;
            outln!("{}", with(with(about(&vlm), json!({"threads": args.threads})), figures));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_generation(args: &VlmArgs, vlm: &Vlm, out: &crate::vlm::Generation, t: Instant) {
    if args.json {
        outln!(
            "{}",
            with(
                about(vlm),
                json!({"text": out.text, "ids": out.ids, "tokens": out.ids.len(), "prompt_tokens": out.prompt_tokens,
                       "stop": out.stop, "ms": ms(t)})
            )
        );
    } else {
        outln!("{}", out.text);
    }
}

/// A ~100-token prompt (in the model's template) for the prefill figures.
pub const BENCH_PROMPT: &str = "Here is a post from a social-media feed: \"I can't believe they cancelled the late \
bus again. Third time this month, and nobody from the council even bothered to explain why. If you rely on public \
transport to get to work, you're basically on your own now. Share this if you're as fed up as I am!\" Read it \
carefully. Is this post trying to make the reader angry in order to get shares? Answer yes or no.";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(
    vlm: &mut Vlm,
    load_ms: f64,
    text: &str,
    decode_tokens: usize,
    runs: usize,
    img: Option<&image::RgbImage>,
) -> anyhow::Result<serde_json::Value> {
    let prompt = vlm.text_prompt(text)?;
    // One warm-up run (first-run allocations and kernel choice are not what a reader waits for twice).
    vlm.prefill(&prompt)?;
    let mut prefill = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(vlm.prefill(&prompt)?);
        prefill.push(ms(t));
    }
    let (mut logits, mut cache) = last.expect("at least one run");
    // Decode exactly `decode_tokens` greedy steps (stop tokens ignored: the figure is per step).
    let t = Instant::now();
    for _ in 0..decode_tokens {
        let next = crate::vlm::decoder::argmax(&logits) as u32;
        logits = vlm.decode_step(next, &mut cache)?;
    }
    let decode_s = t.elapsed().as_secs_f64();
    let mut yes_no = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        vlm.yes_probability_text(text)?;
        yes_no.push(ms(t));
    }
    let mut out = json!({
        "load_ms": load_ms,
        "prompt_tokens": prompt.ids.len(),
        "prefill_ms_median": median(prefill.clone()),
        "prefill_ms_min": prefill.iter().copied().fold(f64::INFINITY, f64::min),
        "decode_tokens": decode_tokens,
        "decode_tokens_per_s": decode_tokens as f64 / decode_s,
        "decode_ms_per_token": decode_s * 1000.0 / decode_tokens.max(1) as f64,
        "yes_no_ms_median": median(yes_no),
    });
    if let Some(img) = img {
        // The end-to-end describe path: encoder, prompt, prefill, 16 greedy tokens (no early stop), against the
        // same token count without the image.
        let mut encode = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            vlm.image_features(img)?;
            encode.push(ms(t));
        }
        let mut e2e = Vec::new();
        let mut text_only = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let p = vlm.image_prompt(img, crate::vlm::DESCRIBE_PROMPT)?;
            vlm.generate(&p, 16, &mut |_| ControlFlow::Continue(()))?;
            e2e.push(ms(t));
            let t = Instant::now();
            let p = vlm.text_prompt(crate::vlm::DESCRIBE_PROMPT)?;
            vlm.generate(&p, 16, &mut |_| ControlFlow::Continue(()))?;
            text_only.push(ms(t));
        }
        let (e, t) = (median(e2e), median(text_only));
        out = with(
            out,
            json!({"image_encode_ms_median": median(encode), "describe_e2e_ms_median": e,
                   "same_tokens_text_only_ms_median": t, "image_overhead_ms": e - t}),
        );
    }
    Ok(with(out, json!({"peak_rss_mib": crate::memory::peak_resident_kib().map(|k| k as f64 / 1024.0)})))
}
