//! `feedwarden classify`: JSONL posts in, JSONL verdicts out (the protocol's verdict, images included), with a
//! progress bar on stderr.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use feedwarden_core::Post;
use indicatif::{ProgressBar, ProgressStyle};

use crate::images::{verdict_out, ImageModelsOptions};

/// Posts judged per model batch.
const CHUNK: usize = 64;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// JSONL file of posts, or `-` for stdin.
    #[arg(default_value = "-")]
    pub input: String,
    /// Where to write JSONL verdicts; `-` for stdout.
    #[arg(short, long, default_value = "-")]
    pub output: String,
    /// Policy file, or a shipped policy such as `feedwarden:defaults`.
    #[arg(short, long, default_value = "feedwarden:defaults")]
    pub policy: String,
    /// Run even when the policy has errors, with the rules that load (by default such a policy stops the run
    /// with exit status 2 before anything is judged).
    #[arg(long)]
    pub keep_going: bool,
    /// Parallel model sessions (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also print a table (id, action, rule, reason) to stderr; the JSONL still goes to --output.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
}

/// What to print besides the JSONL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Table,
}

fn parse_line(line: &str) -> Result<Post, String> {
    let post: Post = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if post.id.is_empty() {
        return Err("missing \"id\"".into());
    }
    Ok(post)
}

pub fn run(args: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let policy = super::load_policy_arg(&args.policy, args.keep_going)?;
    let (reader, total): (Box<dyn BufRead>, Option<u64>) = if args.input == "-" {
        (Box::new(BufReader::new(std::io::stdin())), None)
    } else {
        let text = std::fs::read(&args.input).with_context(|| format!("cannot read {}", args.input))?;
        let lines = text.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count() as u64;
        (Box::new(BufReader::new(std::io::Cursor::new(text))), Some(lines))
    };
    let mut out: Box<dyn Write> = if args.output == "-" {
        Box::new(BufWriter::new(super::output::stdout()))
    } else {
        Box::new(BufWriter::new(
            std::fs::File::create(&args.output).with_context(|| format!("cannot create {}", args.output))?,
        ))
    };
    let paths = crate::paths::Paths::discover();
    let mut judge = super::load_judge(&paths, policy, args.threads)?;
    // Posts' images are judged as the host judges them (`data:` URLs; no local files); the image models are
    // loaded with the first post that has images.
    let ocr_model = crate::images::ocr::OcrModel::from_env().map_err(anyhow::Error::msg)?;
    let mut images_attached = false;
    let bar = match (args.quiet, total) {
        (true, _) => ProgressBar::hidden(),
        (false, Some(n)) => ProgressBar::new(n),
        (false, None) => ProgressBar::new_spinner(),
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} posts [{elapsed_precise}] {per_sec} ETA {eta} {msg}")
            .expect("valid template"),
    );
    let table = args.format == Format::Table;
    if table {
        eprintln!("{:<10} {:<6} {:<14} REASON", "ID", "ACTION", "RULE");
    }
    let t0 = Instant::now();
    let (mut judged, mut malformed) = (0u64, 0u64);
    let mut chunk: Vec<Post> = Vec::with_capacity(CHUNK);
    let mut flush = |chunk: &mut Vec<Post>, out: &mut Box<dyn Write>| -> anyhow::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if !images_attached && chunk.iter().any(|p| !p.images.is_empty()) {
            let opts = ImageModelsOptions::with_ocr_model(ocr_model, paths.ort_library.clone(), &paths.models_dir);
            bar.suspend(|| super::attach_images(&mut judge, &paths, &opts, None, &args.policy))?;
            images_attached = true;
        }
        for (v, analyses) in judge.judge_detailed(chunk)? {
            if table {
                bar.suspend(|| {
                    eprintln!(
                        "{:<10} {:<6} {:<14} {}",
                        v.id,
                        v.action.as_str(),
                        v.rule.as_deref().unwrap_or("-"),
                        v.reason
                    )
                });
            }
            serde_json::to_writer(&mut *out, &verdict_out(v, &analyses))?;
            out.write_all(b"\n")?;
        }
        bar.inc(chunk.len() as u64);
        chunk.clear();
        Ok(())
    };
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(&line) {
            Ok(post) => {
                chunk.push(post);
                judged += 1;
            }
            Err(why) => {
                malformed += 1;
                bar.inc(1);
                bar.suspend(|| eprintln!("{}:{}: skipped malformed post: {why}", args.input, i + 1));
            }
        }
        if chunk.len() == CHUNK {
            flush(&mut chunk, &mut out)?;
        }
    }
    flush(&mut chunk, &mut out)?;
    out.flush()?;
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    if !args.quiet {
        eprintln!(
            "classified {judged} posts in {secs:.2} s ({:.0} posts/s){}",
            judged as f64 / secs.max(1e-9),
            if malformed > 0 { format!("; {malformed} malformed lines skipped (listed above)") } else { String::new() }
        );
    }
    Ok(if malformed > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}
