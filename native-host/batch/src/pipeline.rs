//! The batch pipeline: a reader thread turns the inputs into blocks of posts, the calling thread judges
//! each block on every core (one ONNX Runtime session per rayon worker), a writer thread encodes, appends
//! and checkpoints. Bounded channels keep reading and writing off the critical path and bound memory.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Instant;

use feedwarden_core::Post;
use indicatif::ProgressBar;
use parquet::errors::ParquetError;

use super::manifest::{self, InputInfo, Malformed, Manifest};
use super::output::{self, OutputFormat};
use super::resume::{self, DurableOutput};
use super::row::{self, Column, Row};
use super::shard::{Shard, BLOCK};
use super::BatchError;
use feedwarden_judge::judge::Judge;
use feedwarden_readers::{self as readers, ColumnMap, Format, ReadError};

/// Blocks in flight between threads: enough to hide reading and writing, little memory.
const CHANNEL_BLOCKS: usize = 4;

/// One input, its format resolved.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub format: Format,
    pub sha256: String,
    pub bytes: u64,
}

impl Input {
    /// Hash the file and detect its format when `format` is `Auto`, from one read (the reader thread reads it
    /// once more, block by block, when the run starts).
    pub fn inspect(path: &Path, format: Format) -> Result<Input, BatchError> {
        let io = |source| BatchError::Io { path: path.to_path_buf(), source };
        let bytes = std::fs::read(path).map_err(io)?;
        let format = if format == Format::Auto { readers::detect(path, &bytes)? } else { format };
        let sha256 = feedwarden_core::sha256_hex(&bytes);
        Ok(Input { path: path.to_path_buf(), format, sha256, bytes: bytes.len() as u64 })
    }

    /// The file name, as rows and the manifest name it.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// Everything a run needs besides the judge.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    pub inputs: Vec<Input>,
    pub map: ColumnMap,
    /// `None`: JSONL or CSV on stdout (no resume, no manifest unless `manifest` is set).
    pub output: Option<PathBuf>,
    pub output_format: OutputFormat,
    /// Where the manifest goes (default `<output>.manifest.json`).
    pub manifest: Option<PathBuf>,
    pub shard: Shard,
    pub with_text: bool,
    /// The image models when posts' images are judged (`--images`; the judge holds the analyzer).
    pub images: Option<manifest::ImageModels>,
    pub fresh: bool,
    pub quiet: bool,
    pub threads: usize,
    pub model: manifest::Model,
    pub policy: manifest::PolicyInfo,
    pub command: Vec<String>,
    /// Where rows go when `output` is `None`: the CLI's output writer (this library never opens stdout).
    pub stdout: fn() -> Box<dyn Write + Send>,
    /// Tells the reader one thing (resuming, a malformed record skipped); the CLI writes it to stderr.
    pub note: fn(&str),
    /// The CLI's progress bar (hidden with `-q`): this library only sets its length and advances it.
    pub progress: ProgressBar,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub rows: u64,
    pub malformed: u64,
    pub resumed_from_rows: u64,
    pub posts_judged: u64,
    /// Image entries of the judged posts that went through the image analysis (`--images`).
    pub images_judged: u64,
    pub seconds: f64,
    pub already_complete: bool,
    pub manifest_path: Option<PathBuf>,
}

struct Block {
    index: u64,
    posts: Vec<(u64, usize, Post)>,
    malformed: Vec<Malformed>,
}

enum ReaderMsg {
    Opened { owned_hint: u64 },
    Block(Block),
    Done { per_input: Vec<(u64, u64, u64)>, total: u64 },
    Failed(ReadError),
}

/// How many of the `len` records starting at `seq` this shard owns.
fn owned_in_range(shard: Shard, seq: u64, len: u64) -> u64 {
    let end = seq + len;
    let mut n = 0;
    let mut b = seq / BLOCK;
    while b * BLOCK < end {
        if shard.owns_block(b) {
            n += end.min((b + 1) * BLOCK) - seq.max(b * BLOCK);
        }
        b += 1;
    }
    n
}

fn read_inputs(inputs: &[Input], map: &ColumnMap, shard: Shard, tx: &SyncSender<ReaderMsg>) {
    let mut seq = 0u64;
    let mut cur = Block { index: 0, posts: Vec::new(), malformed: Vec::new() };
    let mut counts = vec![(0u64, 0u64, 0u64); inputs.len()];
    for (i, input) in inputs.iter().enumerate() {
        let opened = match readers::open(&input.path, input.format, map) {
            Ok(o) => o,
            Err(e) => {
                let _ = tx.send(ReaderMsg::Failed(e));
                return;
            }
        };
        if tx.send(ReaderMsg::Opened { owned_hint: owned_in_range(shard, seq, opened.len_hint as u64) }).is_err() {
            return;
        }
        let name = input.name();
        for rec in opened.records {
            let block = seq / BLOCK;
            if block != cur.index {
                let done =
                    std::mem::replace(&mut cur, Block { index: block, posts: Vec::new(), malformed: Vec::new() });
                if shard.owns_block(done.index) && tx.send(ReaderMsg::Block(done)).is_err() {
                    return;
                }
            }
            counts[i].0 += 1;
            if shard.owns_block(block) {
                match rec.post {
                    Ok(post) => {
                        counts[i].1 += 1;
                        cur.posts.push((seq, i, post));
                    }
                    Err(reason) => {
                        counts[i].2 += 1;
                        cur.malformed.push(Malformed { source: name.clone(), position: rec.position, reason });
                    }
                }
            }
            seq += 1;
        }
    }
    let last_has_records = !cur.posts.is_empty() || !cur.malformed.is_empty();
    if shard.owns_block(cur.index) && last_has_records && tx.send(ReaderMsg::Block(cur)).is_err() {
        return;
    }
    let _ = tx.send(ReaderMsg::Done { per_input: counts, total: seq });
}

/// Where rows go.
enum Sink {
    File(DurableOutput),
    Stdout(std::io::BufWriter<Box<dyn Write + Send>>),
}

struct WriterMsg {
    next_block: u64,
    rows: Vec<Row>,
}

fn write_rows(
    mut sink: Sink,
    rx: Receiver<WriterMsg>,
    encoding: OutputFormat,
    columns: &[Column],
    mut rows_total: u64,
) -> Result<(Sink, u64), BatchError> {
    for msg in rx {
        let bytes = match encoding {
            OutputFormat::Csv => output::csv(columns, &msg.rows),
            // Parquet is spooled as JSONL and converted at the end.
            OutputFormat::Jsonl | OutputFormat::Parquet => output::jsonl(&msg.rows),
        };
        rows_total += msg.rows.len() as u64;
        match &mut sink {
            Sink::File(out) => {
                out.append(&bytes)?;
                out.commit(msg.next_block, rows_total)?;
            }
            Sink::Stdout(w) => {
                let io = |source| BatchError::Io { path: "-".into(), source };
                w.write_all(&bytes).map_err(io)?;
                w.flush().map_err(io)?;
            }
        }
    }
    Ok((sink, rows_total))
}

/// Fingerprint: everything the output bytes depend on.
fn fingerprint(cfg: &BatchConfig, columns: &[Column]) -> String {
    let key = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "model": cfg.model,
        "policy": cfg.policy.hash,
        "inputs": cfg.inputs.iter().map(|i| (i.name(), &i.sha256, i.format)).collect::<Vec<_>>(),
        "map": cfg.map,
        "shard": cfg.shard,
        "block": BLOCK,
        "columns": columns.iter().map(Column::name).collect::<Vec<_>>(),
        "with_text": cfg.with_text,
        "images": cfg.images,
        "output_format": cfg.output_format,
    });
    feedwarden_core::sha256_hex(key.to_string().as_bytes())
}

/// Run the batch: judge every post of this shard, write the rows, the manifest, and return the summary.
pub fn run(cfg: &BatchConfig, judge: &mut Judge) -> Result<Summary, BatchError> {
    let t0 = Instant::now();
    let started_at = manifest::now_rfc3339();
    let with_vlm = cfg.images.as_ref().is_some_and(|i| i.vlm.is_some());
    let columns = row::columns(judge.policy(), cfg.with_text, cfg.images.is_some(), with_vlm);
    let fp = fingerprint(cfg, &columns);
    let manifest_path =
        cfg.manifest.clone().or_else(|| cfg.output.as_ref().map(|o| resume::sidecar(o, ".manifest.json")));
    if cfg.output.is_none() && cfg.output_format == OutputFormat::Parquet {
        return Err(BatchError::ParquetToStdout);
    }

    // A finished run with the same fingerprint: nothing to do (lets a requeued array task succeed).
    if let (Some(out), Some(mpath), false) = (&cfg.output, &manifest_path, cfg.fresh) {
        if !resume::progress_path(out).exists() {
            if let Some(done) = finished(out, mpath, &fp) {
                return Ok(Summary {
                    rows: done.output.rows,
                    malformed: done.counts.malformed,
                    resumed_from_rows: done.output.rows,
                    posts_judged: 0,
                    images_judged: 0,
                    seconds: 0.0,
                    already_complete: true,
                    manifest_path: Some(mpath.clone()),
                });
            }
        }
    }

    let (sink, start) = open_sink(cfg, &columns, &fp)?;
    if start.rows > 0 && !cfg.quiet {
        (cfg.note)(&format!(
            "resuming: {} rows already written, continuing at record {}",
            start.rows,
            start.next_block * BLOCK
        ));
    }

    let judged = judge_all(cfg, judge, &columns, sink, &start)?;
    let JudgedRun { sink, rows, per_input, total_records, malformed, posts_judged, images_judged } = judged;

    // Finish the output: Parquet from the spool, then the hash, the manifest, and the checkpoint goes.
    let output_sha = match (&cfg.output, sink) {
        (Some(out), Sink::File(d)) => {
            if cfg.output_format == OutputFormat::Parquet {
                write_parquet(out, &columns)?;
            }
            let sha = manifest::sha256_file(out).map_err(|source| BatchError::Io { path: out.clone(), source })?;
            Some((sha, d))
        }
        _ => None,
    };
    let seconds = t0.elapsed().as_secs_f64();
    let m = Manifest {
        tool: manifest::Tool { name: "feedwarden".into(), version: env!("CARGO_PKG_VERSION").into() },
        fingerprint: fp,
        model: cfg.model.clone(),
        policy: cfg.policy.clone(),
        inputs: cfg
            .inputs
            .iter()
            .zip(&per_input)
            .map(|(i, &(records, posts, bad))| InputInfo {
                path: i.path.display().to_string(),
                name: i.name(),
                sha256: i.sha256.clone(),
                bytes: i.bytes,
                format: i.format.as_str().into(),
                records,
                posts,
                malformed: bad,
            })
            .collect(),
        column_map: cfg.map.columns.clone(),
        with_text: cfg.with_text,
        images: cfg.images.clone(),
        shard: manifest::ShardInfo { index: cfg.shard.index, count: cfg.shard.count, block: BLOCK },
        output: manifest::OutputInfo {
            path: cfg.output.as_ref().map(|o| o.display().to_string()).unwrap_or_else(|| "-".into()),
            format: cfg.output_format.as_str().into(),
            rows,
            sha256: output_sha.as_ref().map(|(s, _)| s.clone()),
            columns: columns.iter().map(Column::name).collect(),
        },
        counts: manifest::Counts {
            records: total_records,
            records_in_shard: per_input.iter().map(|c| c.1 + c.2).sum(),
            posts: per_input.iter().map(|c| c.1).sum(),
            malformed: malformed.len() as u64,
        },
        malformed,
        run: manifest::RunInfo {
            started_at,
            finished_at: manifest::now_rfc3339(),
            seconds,
            posts_judged,
            posts_per_second: posts_judged as f64 / seconds.max(1e-9),
            resumed_from_rows: start.rows,
            threads: cfg.threads,
            command: cfg.command.clone(),
        },
    };
    if let Some(mpath) = &manifest_path {
        let mut json = serde_json::to_vec_pretty(&m).expect("manifest serializes");
        json.push(b'\n');
        resume::write_atomic(mpath, &json).map_err(|source| BatchError::Io { path: mpath.clone(), source })?;
    }
    if let Some((_, d)) = output_sha {
        d.finish()?;
        if cfg.output_format == OutputFormat::Parquet {
            let spool = resume::sidecar(cfg.output.as_ref().expect("file output"), ".spool.jsonl");
            std::fs::remove_file(&spool).map_err(|source| BatchError::Io { path: spool, source })?;
        }
    }
    Ok(Summary {
        rows,
        malformed: m.counts.malformed,
        resumed_from_rows: start.rows,
        posts_judged,
        images_judged,
        seconds,
        already_complete: false,
        manifest_path,
    })
}

/// What judging every block of the run left: the sink (to finish), the rows written (resumed ones
/// included), per input (records, posts, malformed), the records read, the malformed ones, and the counts.
struct JudgedRun {
    sink: Sink,
    rows: u64,
    per_input: Vec<(u64, u64, u64)>,
    total_records: u64,
    malformed: Vec<Malformed>,
    posts_judged: u64,
    images_judged: u64,
}

/// The three threads of a run: the reader turns the inputs into blocks, this thread judges the blocks not
/// yet written (`start.next_block` on), the writer appends their rows and checkpoints; the caller's progress
/// bar advances per block, malformed records are noted as they come.
fn judge_all(
    cfg: &BatchConfig,
    judge: &mut Judge,
    columns: &[Column],
    sink: Sink,
    start: &resume::Checkpoint,
) -> Result<JudgedRun, BatchError> {
    let bar = &cfg.progress;
    let names: Vec<String> = cfg.inputs.iter().map(Input::name).collect();
    let mut malformed: Vec<Malformed> = Vec::new();
    let mut per_input = vec![(0u64, 0u64, 0u64); cfg.inputs.len()];
    let mut total_records = 0u64;
    let mut posts_judged = 0u64;
    let mut images_judged = 0u64;

    let (sink, rows) = std::thread::scope(|s| -> Result<(Sink, u64), BatchError> {
        let (rtx, rrx) = sync_channel::<ReaderMsg>(CHANNEL_BLOCKS);
        let (wtx, wrx) = sync_channel::<WriterMsg>(CHANNEL_BLOCKS);
        s.spawn(move || read_inputs(&cfg.inputs, &cfg.map, cfg.shard, &rtx));
        let cols = columns;
        let writer = s.spawn(move || write_rows(sink, wrx, cfg.output_format, cols, start.rows));
        let judged = || -> Result<(), BatchError> {
            for msg in rrx {
                match msg {
                    ReaderMsg::Opened { owned_hint } => bar.inc_length(owned_hint),
                    ReaderMsg::Failed(e) => return Err(e.into()),
                    ReaderMsg::Done { per_input: counts, total } => {
                        per_input = counts;
                        total_records = total;
                    }
                    ReaderMsg::Block(block) => {
                        for m in &block.malformed {
                            bar.suspend(|| {
                                (cfg.note)(&format!(
                                    "{}:{}: skipped malformed record: {}",
                                    m.source, m.position, m.reason
                                ))
                            });
                        }
                        let n = (block.posts.len() + block.malformed.len()) as u64;
                        malformed.extend(block.malformed);
                        if block.index < start.next_block {
                            bar.inc(n);
                            continue;
                        }
                        let posts: Vec<Post> = block.posts.iter().map(|(_, _, p)| p.clone()).collect();
                        let judged = judge.judge_detailed(&posts)?;
                        let rows: Vec<Row> = block
                            .posts
                            .iter()
                            .zip(judged)
                            .map(|((seq, input, post), (v, images))| {
                                images_judged += images.len() as u64;
                                let out = feedwarden_models::images::verdict_out(v, &images);
                                Row::new(*seq, &names[*input], post, out, cfg.with_text, cfg.images.is_some())
                            })
                            .collect();
                        posts_judged += rows.len() as u64;
                        if wtx.send(WriterMsg { next_block: block.index + 1, rows }).is_err() {
                            break; // the writer failed: its error is reported below
                        }
                        bar.inc(n);
                    }
                }
            }
            Ok(())
        };
        let judged = judged();
        drop(wtx);
        let written = writer.join().map_err(|_| BatchError::Writer("the writer thread panicked".into()))?;
        judged?;
        written
    })?;
    bar.finish_and_clear();
    Ok(JudgedRun { sink, rows, per_input, total_records, malformed, posts_judged, images_judged })
}

/// Where the rows go: the output file (or, for Parquet, its JSONL spool) opened for appending from its
/// checkpoint, or stdout; with the checkpoint to resume from. CSV gets its header when it starts.
fn open_sink(cfg: &BatchConfig, columns: &[Column], fp: &str) -> Result<(Sink, resume::Checkpoint), BatchError> {
    let header = match cfg.output_format {
        OutputFormat::Csv => output::csv_header(columns),
        _ => Vec::new(),
    };
    match &cfg.output {
        Some(out) => {
            let data = match cfg.output_format {
                OutputFormat::Parquet => resume::sidecar(out, ".spool.jsonl"),
                _ => out.clone(),
            };
            if cfg.output_format == OutputFormat::Parquet
                && !cfg.fresh
                && !resume::progress_path(out).exists()
                && out.exists()
            {
                return Err(resume::ResumeError::Exists { path: out.clone() }.into());
            }
            let (d, start) = DurableOutput::open(&data, &resume::progress_path(out), fp, cfg.fresh, &header)?;
            Ok((Sink::File(d), start))
        }
        None => {
            let mut w = std::io::BufWriter::new((cfg.stdout)());
            w.write_all(&header).map_err(|source| BatchError::Io { path: "-".into(), source })?;
            Ok((Sink::Stdout(w), resume::Checkpoint { fingerprint: fp.to_string(), next_block: 0, rows: 0, bytes: 0 }))
        }
    }
}

/// The manifest of a finished run of this fingerprint whose output is intact.
fn finished(out: &Path, manifest_path: &Path, fp: &str) -> Option<Manifest> {
    let m: Manifest = serde_json::from_slice(&std::fs::read(manifest_path).ok()?).ok()?;
    let sha = manifest::sha256_file(out).ok()?;
    (m.fingerprint == fp && m.output.sha256.as_deref() == Some(sha.as_str())).then_some(m)
}

/// Stream the JSONL spool into `out` as Parquet (temp file, fsync, rename), one row group in memory at a time
/// (`super::parquet` says why a run spools).
fn write_parquet(out: &Path, columns: &[Column]) -> Result<(), BatchError> {
    use std::io::BufRead;
    let spool = resume::sidecar(out, ".spool.jsonl");
    let lines =
        std::io::BufReader::new(File::open(&spool).map_err(|source| BatchError::Io { path: spool.clone(), source })?)
            .lines();
    let rows = lines.enumerate().filter(|(_, l)| !matches!(l, Ok(l) if l.is_empty())).map(|(i, line)| {
        let bad = |e: String| ParquetError::General(format!("{}:{}: {e}", spool.display(), i + 1));
        serde_json::from_str::<Row>(&line.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))
    });
    let tmp = resume::sidecar(out, ".tmp");
    let mut failed = None;
    let written = feedwarden_judge::durable::replace_with(out, &tmp, |file| {
        let file = file.try_clone()?;
        super::parquet::write(file, columns, rows).map(|_| ()).map_err(|e| {
            let message = e.to_string();
            failed = Some(e);
            std::io::Error::other(message)
        })
    });
    match (written, failed) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(source)) => Err(BatchError::Parquet { path: out.to_path_buf(), source }),
        (Err(source), None) => Err(BatchError::Io { path: out.to_path_buf(), source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_ranges_match_block_ownership() {
        let s = Shard { index: 1, count: 3 };
        assert_eq!(owned_in_range(s, 0, 3 * BLOCK), BLOCK);
        assert_eq!(owned_in_range(s, BLOCK + 10, 20), 20);
        assert_eq!(owned_in_range(s, 0, 10), 0);
        let total: u64 = (0..3).map(|k| owned_in_range(Shard { index: k, count: 3 }, 5, 1000)).sum();
        assert_eq!(total, 1000);
    }
}
