//! `feedwarden batch`: judge exported or captured feeds (any reader format) into JSONL, CSV or Parquet
//! with a run manifest; resumable, shardable. The pipeline itself is in `crate::batch`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::batch::{self, manifest, BatchConfig, OutputFormat, Shard};
use crate::embedder::{default_workers, EmbedderOptions, MAX_TOKENS, MODEL_ID};
use crate::paths::Paths;
use crate::readers::{ColumnMap, Format};

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Feed files: X GraphQL or archive, saved x.com pages (.html), Bluesky, Reddit, Mastodon JSON, JSONL or CSV.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Input format (`auto` detects it per file from the name and content).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// Columns of generic JSONL/CSV: `text=body,id=tweet_id,author=user.name,…` (repeatable).
    #[arg(long = "map", value_name = "FIELD=COLUMN,…")]
    pub map: Vec<String>,
    /// Output file; without it, JSONL (or CSV) goes to stdout and nothing is resumable.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format (default: from the -o extension: .csv, .parquet, else JSONL).
    #[arg(long, value_enum)]
    pub output_format: Option<OutputFormat>,
    /// Policy file, or a shipped policy such as `feedwarden:defaults`.
    #[arg(short, long, default_value = "feedwarden:defaults")]
    pub policy: String,
    /// Run even when the policy has errors, with the rules that load (by default such a policy stops the run
    /// with exit status 2 before anything is judged).
    #[arg(long)]
    pub keep_going: bool,
    /// Judge only shard K of N (K from 0): blocks of 256 records dealt round-robin.
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Parallel model sessions (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Continue an interrupted run from its checkpoint (the default).
    #[arg(long, conflicts_with = "fresh")]
    pub resume: bool,
    /// Start over, overwriting the output and its checkpoint.
    #[arg(long)]
    pub fresh: bool,
    /// Also write each post's judged text (text + quoted text) in a `text` column.
    #[arg(long)]
    pub with_text: bool,
    /// Judge posts' local image files too (OCR text joins the text; `nsfw` is scored when the policy has an
    /// nsfw rule). Relative paths are read from the first input's folder, e.g. a saved page's `_files/`; only
    /// regular files inside that folder (or --images-root) are read.
    #[arg(long)]
    pub images: bool,
    /// With --images: describe each image with the VLM (SmolVLM-256M, `feedwarden models fetch smolvlm-256m`)
    /// and answer every rule with an `image_description` about it; adds an `image_descriptions` column, and
    /// the VLM's P(yes) becomes those rules' image scores. Slow on a CPU (seconds per image).
    #[arg(long, requires = "images")]
    pub vlm: bool,
    /// With --images: the folder image paths are confined to (default: the first input's folder).
    #[arg(long, value_name = "DIR", requires = "images")]
    pub images_root: Option<PathBuf>,
    /// OCR models for --images: `tiny` or `small` (slower, multilingual). Default: FEEDWARDEN_OCR_MODEL,
    /// else tiny.
    #[arg(long, value_enum)]
    pub ocr: Option<crate::images::ocr::OcrModel>,
    /// Where to write the run manifest (default `<output>.manifest.json`).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// No progress bar or summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Id, file and hashes of the model and heads this run uses.
pub fn model_info(paths: &Paths) -> anyhow::Result<manifest::Model> {
    let opts = EmbedderOptions::new(paths.ort_library.clone(), &paths.models_dir);
    let (model, tokenizer) = (opts.model_path(), opts.tokenizer_path());
    let sha = |p: &PathBuf| {
        manifest::sha256_file(p)
            .with_context(|| format!("cannot read {}; run ./setup.sh (or set FEEDWARDEN_MODELS_DIR)", p.display()))
    };
    Ok(manifest::Model {
        id: MODEL_ID.into(),
        file: opts.model_file.clone(),
        sha256: sha(&model)?,
        tokenizer_sha256: sha(&tokenizer)?,
        max_tokens: MAX_TOKENS,
        heads: feedwarden_core::builtin_heads()
            .iter()
            .map(|h| (h.id.clone(), feedwarden_core::sha256_hex(&serde_json::to_vec(h).expect("head serializes"))))
            .collect(),
    })
}

/// Size rayon's global pool (the embedder's workers run on it); a second call keeps the first size.
pub fn init_rayon(threads: usize) -> usize {
    let n = if threads == 0 { default_workers() } else { threads };
    let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    n
}

pub fn run(args: BatchArgs) -> anyhow::Result<ExitCode> {
    let map = ColumnMap::parse(&args.map)?;
    let output_format = args
        .output_format
        .unwrap_or_else(|| args.output.as_deref().map(OutputFormat::from_path).unwrap_or(OutputFormat::Jsonl));
    let inputs =
        args.inputs.iter().map(|p| batch::pipeline::Input::inspect(p, args.format)).collect::<Result<Vec<_>, _>>()?;
    let policy = super::load_policy_arg(&args.policy, args.keep_going)?;
    let paths = Paths::discover();
    let model = model_info(&paths)?;
    let threads = init_rayon(args.threads);
    let policy_info =
        manifest::PolicyInfo { name: policy.name.clone(), source: args.policy.clone(), hash: policy.hash.clone() };
    let mut judge = super::load_judge(&paths, policy, threads)?;
    let mut image_models = None;
    if args.images {
        let ocr_model = match args.ocr {
            Some(m) => m,
            None => crate::images::ocr::OcrModel::from_env().map_err(anyhow::Error::msg)?,
        };
        let opts =
            crate::images::ImageModelsOptions::with_ocr_model(ocr_model, paths.ort_library.clone(), &paths.models_dir);
        let mut models = manifest::ImageModels {
            ocr: ocr_model.id().into(),
            ocr_detector: manifest::ModelFile::of(&opts.ocr.model_dir.join(&opts.ocr.det_file)),
            ocr_recogniser: manifest::ModelFile::of(&opts.ocr.model_dir.join(&opts.ocr.rec_file)),
            nsfw: crate::images::nsfw::MODEL_ID.into(),
            nsfw_model: manifest::ModelFile::of(&opts.nsfw.model_path),
            vlm: None,
            vlm_files: Vec::new(),
        };
        let base = args
            .images_root
            .clone()
            .or_else(|| args.inputs.first().and_then(|p| p.parent()).map(std::path::Path::to_path_buf));
        super::attach_images(&mut judge, &paths, &opts, Some(base.unwrap_or_default()), &args.policy)?;
        if args.vlm {
            use crate::images::vlm_stage::{vlm_choice, VlmJudge};
            let (id, vlm_opts) =
                vlm_choice(paths.ort_library.clone(), &paths.models_dir).map_err(anyhow::Error::msg)?;
            let vlm = VlmJudge::load(id, &vlm_opts).map_err(|e| anyhow::anyhow!("{id} did not load: {e}"))?;
            if !args.quiet {
                eprintln!("VLM: {id} on {} (describes every image; seconds per image on a CPU)", vlm.provider());
            }
            models.vlm = Some(id.to_string());
            models.vlm_files = vlm.files().iter().map(|f| manifest::ModelFile::of(f)).collect();
            judge.set_vlm(vlm);
        }
        image_models = Some(models);
    }
    let cfg = BatchConfig {
        inputs,
        map,
        output: args.output.clone(),
        output_format,
        manifest: args.manifest.clone(),
        shard: args.shard,
        with_text: args.with_text,
        images: image_models,
        fresh: args.fresh,
        quiet: args.quiet,
        threads,
        model,
        policy: policy_info,
        command: std::env::args().collect(),
        stdout: || Box::new(super::output::stdout()),
        note: |line| eprintln!("{line}"),
        progress: progress_bar(args.quiet),
    };
    let s = batch::run(&cfg, &mut judge)?;
    if !args.quiet {
        let out = args.output.as_ref().map(|o| o.display().to_string()).unwrap_or_else(|| "stdout".into());
        if s.already_complete {
            eprintln!("{out} is already complete ({} rows; see {}); --fresh runs it again", s.rows, manifest_note(&s));
        } else {
            let images = if args.images {
                format!(
                    " and {} images ({:.1} images/s)",
                    s.images_judged,
                    s.images_judged as f64 / s.seconds.max(1e-9)
                )
            } else {
                String::new()
            };
            eprintln!(
                "judged {} posts{images} in {:.2} s ({:.0} posts/s) on {threads} threads{}; {} rows in {out}{}{}",
                s.posts_judged,
                s.seconds,
                s.posts_judged as f64 / s.seconds.max(1e-9),
                if cfg.shard.count > 1 { format!(", shard {}", cfg.shard) } else { String::new() },
                s.rows,
                if s.resumed_from_rows > 0 {
                    format!(" ({} from the earlier run)", s.resumed_from_rows)
                } else {
                    String::new()
                },
                s.manifest_path.as_ref().map(|m| format!("; manifest {}", m.display())).unwrap_or_default(),
            );
        }
        if s.malformed > 0 {
            eprintln!("{} malformed records skipped (listed above and in the manifest)", s.malformed);
        }
    }
    Ok(if s.malformed > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

fn manifest_note(s: &batch::Summary) -> String {
    s.manifest_path.as_ref().map(|m| m.display().to_string()).unwrap_or_else(|| "its manifest".into())
}

/// The run's progress bar on stderr, with rate and ETA; hidden with `-q`.
fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} records [{elapsed_precise}] {per_sec} ETA {eta} {msg}",
        )
        .expect("valid template"),
    );
    bar
}
