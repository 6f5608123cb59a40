//! `feedwarden eval`: score labelled data with a policy's category and print how well the scores agree
//! with the labels (precision/recall/F1, ROC-AUC, calibration, threshold sweep), with an SVG plot.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::output::outln;
use crate::eval::{self, data, Report};
use crate::readers::{ColumnMap, Format};

/// Texts embedded per call (the pool splits them over its workers).
const CHUNK: usize = 256;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled data: JSONL/CSV with a label column, or a TweetEval-style folder (<split>_text.txt, <split>_labels.txt).
    pub data: PathBuf,
    /// The category to evaluate (e.g. rage-bait, manipulation, clickbait, or a user-defined rule's id).
    #[arg(short, long)]
    pub category: String,
    /// Policy file or shipped policy; supplies user-defined categories and the default threshold.
    #[arg(short, long, default_value = "feedwarden:defaults")]
    pub policy: String,
    /// Run even when the policy has errors, with the rules that load (by default such a policy stops the run
    /// with exit status 2 before anything is judged).
    #[arg(long)]
    pub keep_going: bool,
    /// Labels that count as positive, by id or name (repeatable; default 1).
    #[arg(long, default_value = "1")]
    pub positive: Vec<String>,
    /// Threshold for precision/recall/F1 (default: the policy rule's threshold for the category, else 0.5).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Input format of a file (folders are TweetEval).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// Columns: `text=tweet,label=y,…` (label defaults to the `label` column).
    #[arg(long = "map", value_name = "FIELD=COLUMN,…")]
    pub map: Vec<String>,
    /// TweetEval split to read.
    #[arg(long, default_value = "val")]
    pub split: String,
    /// Use only the first N examples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Calibration bins.
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Write the plot here (SVG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write every figure as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Parallel model sessions (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let map = ColumnMap::parse(&args.map)?;
    let mut loaded = data::load(&args.data, args.format, &map, &args.split)?;
    for (pos, why) in &loaded.malformed {
        eprintln!("{}:{pos}: skipped: {why}", args.data.display());
    }
    if let Some(n) = args.limit {
        loaded.examples.truncate(n);
    }
    if loaded.examples.is_empty() {
        bail!("{} has no usable labelled examples", args.data.display());
    }
    let policy = super::load_policy_arg(&args.policy, args.keep_going)?;
    let cats: Vec<String> = policy.active_categories().iter().map(|c| c.to_string()).collect();
    if !cats.contains(&args.category) {
        bail!("the policy {} has no active category {:?}; it has: {}", args.policy, args.category, cats.join(", "));
    }
    let threshold = args.threshold.unwrap_or_else(|| {
        policy.enabled_rules().find(|r| r.category_id() == args.category).map(|r| r.threshold_value()).unwrap_or(0.5)
    });
    let threads = super::batch::init_rayon(args.threads);
    let mut judge = super::load_judge(&crate::paths::Paths::discover(), policy, threads)?;
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(loaded.examples.len() as u64) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} examples [{elapsed_precise}] {per_sec} ETA {eta}")
            .expect("valid template"),
    );
    let mut scored: Vec<(f64, bool)> = Vec::with_capacity(loaded.examples.len());
    for chunk in loaded.examples.chunks(CHUNK) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        let embeddings = judge.encode_all(&texts)?;
        for (e, emb) in chunk.iter().zip(&embeddings) {
            let score = judge.scores(emb, None).categories.get(&args.category).copied().unwrap_or(0.0);
            scored.push((f64::from(score), loaded.is_positive(&e.label, &args.positive)));
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let report = Report::new(&args.category, threshold, &scored, args.bins);
    outln!("{}: {}", args.data.display(), report.to_text());
    if let Some(p) = &args.plot {
        std::fs::write(p, eval::plot::svg(&report)).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("plot: {}", p.display());
    }
    if let Some(p) = &args.json {
        let json = serde_json::to_vec_pretty(&report).expect("report serializes");
        std::fs::write(p, json).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(if loaded.malformed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(3) })
}
