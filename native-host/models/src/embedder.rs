//! The text encoder: Feedwarden's judge graph (int8) through ONNX Runtime, with its `tokenizers` tokenizer.
//! One pass turns a text into the stock all-MiniLM-L6-v2 sentence embedding (L2-normalised, 384-d: user-defined
//! categories, feedback) and the fine-tuned branch's `task_embedding` (384-d: the built-in heads' input); see
//! `models/cards/judge.md`.

use crate::model_error::{ModelError, SETUP_HINT};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::images::provider::{load_session_with, ProviderChoice};
use ndarray::Array2;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Id of the encoder (the heads were trained and calibrated on exactly this one): the id core's heads name.
pub const MODEL_ID: &str = feedwarden_core::heads::HEADS_EMBEDDING_MODEL;
/// The folder (under the models folder) that holds it.
pub const MODEL_DIR: &str = "feedwarden-judge";
/// Tokens per text at most; longer posts are cut (280-character posts are ~70 tokens).
pub const MAX_TOKENS: usize = 128;
/// Output width.
pub const EMBEDDING_DIM: usize = 384;
/// Characters of a text handed to the tokenizer at most; the rest is cut before tokenising. The model sees
/// [`MAX_TOKENS`] (128) tokens and the in-browser model 256: English averages 4–5 characters per token, so
/// 4,096 characters (256 tokens × 16 characters) always fill the window, while an 8 MB text would cost
/// seconds and ~75 MB per MB to tokenise whole only to be cut to 128 tokens afterwards.
pub const MAX_TEXT_CHARS: usize = 4096;

/// `text` cut to [`MAX_TEXT_CHARS`] characters (on a character boundary): what the models may see of it.
pub fn cap_text(text: &str) -> &str {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Where the encoder's files are and how it runs.
#[derive(Clone)]
pub struct EmbedderOptions {
    pub ort_library: PathBuf,
    pub model_dir: PathBuf,
    /// Threads ONNX Runtime uses inside one inference (0 = ONNX Runtime's default: all cores).
    pub intra_threads: usize,
    /// The graph file inside `model_dir` (both outputs).
    pub model_file: String,
    /// The same graph pruned to `task_embedding` (cheaper: the stock top layers are cut away), run when no
    /// sentence embedding is asked for; `None` runs `model_file` for everything.
    pub task_file: Option<String>,
    /// Prepacked weights shared between the sessions of one pool (saves a copy per worker).
    pub prepacked: Option<ort::session::builder::PrepackedWeights>,
}

impl std::fmt::Debug for EmbedderOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbedderOptions")
            .field("ort_library", &self.ort_library)
            .field("model_dir", &self.model_dir)
            .field("model_file", &self.model_file)
            .field("intra_threads", &self.intra_threads)
            .finish_non_exhaustive()
    }
}

impl EmbedderOptions {
    pub fn new(ort_library: PathBuf, models_dir: &Path) -> Self {
        EmbedderOptions {
            ort_library,
            model_dir: models_dir.join(MODEL_DIR),
            intra_threads: 0,
            model_file: "model.int8.onnx".to_string(),
            task_file: Some("task.int8.onnx".to_string()),
            prepacked: None,
        }
    }

    /// Fewer threads per session: better when several sessions run side by side (batch mode), worse latency.
    pub fn with_intra_threads(mut self, n: usize) -> Self {
        self.intra_threads = n;
        self
    }

    /// Run another graph with the same interface for everything, e.g. the fp32 `model.onnx` (4× larger, for
    /// checks).
    pub fn with_model_file(mut self, file: &str) -> Self {
        self.model_file = file.to_string();
        self.task_file = None;
        self
    }

    pub fn model_path(&self) -> PathBuf {
        self.model_dir.join(&self.model_file)
    }

    pub fn tokenizer_path(&self) -> PathBuf {
        self.model_dir.join("tokenizer.json")
    }
}

static ORT_INIT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Load ONNX Runtime once per process from `path`.
pub fn ort_environment(path: &Path) -> Result<&'static ort::environment::Environment, ModelError> {
    if !path.is_file() {
        return Err(ModelError::RuntimeMissing { path: path.to_path_buf() });
    }
    let env = ORT_INIT.get_or_init(|| {
        // Telemetry is read when ONNX Runtime creates its environment: switch it off before (the binaries'
        // `main`s already did; this covers every other user of the library).
        crate::ort_telemetry::disable_before_load();
        ort::init_from(path)
            .map_err(|e| e.to_string())
            .and_then(|b| b.with_name("feedwarden").with_telemetry(false).build().map_err(|e| e.to_string()))
    });
    env.as_ref().map_err(|e| ModelError::RuntimeLoad { path: path.to_path_buf(), source: ort::Error::new(e.clone()) })
}

/// Which of the encoder's outputs a call wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outputs {
    Sentence,
    Task,
    Both,
}

/// What the encoder makes of one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Encoded {
    /// The stock all-MiniLM-L6-v2 sentence embedding (L2-normalised): user-defined categories and feedback.
    pub embedding: Vec<f32>,
    /// The fine-tuned branch's mean-pooled output: the built-in heads' input (empty when not asked for).
    pub task: Vec<f32>,
}

/// Graph optimisers the encoder's sessions run without. `SkipLayerNormFusion` merges each residual Add with the
/// LayerNormalization after it; ONNX Runtime 1.31's CPU kernel for the merged op took 22 % of the judge's kernel
/// time on these CPUs, where the unmerged pair takes 7 %: without it a post costs ~20 % less CPU
/// (docs/benchmarks.md, "Without SkipLayerNormFusion"). The maths are the same; the int8 graph's outputs move
/// within its own batch-to-batch noise. The Python scripts that calibrate the judge and write the golden files
/// keep ONNX Runtime's defaults, so that reruns rebuild the committed files; `calibrate_judge.py
/// --disabled-optimizers SkipLayerNormFusion --out DIR` measures what this setting changes (models/cards/judge.md).
pub const ENCODER_DISABLED_OPTIMIZERS: &str = "SkipLayerNormFusion";

/// One encoder session. `embed` takes `&mut self` (ONNX Runtime sessions run one call at a time): use one
/// `Embedder` per worker thread.
pub struct Embedder {
    /// The full graph (sentence and task embeddings): loaded when first needed if `task` is there.
    full: Option<Session>,
    /// The graph pruned to the task embedding, when the options name one.
    task: Option<Session>,
    opts: EmbedderOptions,
    tokenizer: Tokenizer,
    /// The execution provider that runs it (always `CPU`: see [`Embedder::try_new`]).
    provider: &'static str,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").finish_non_exhaustive()
    }
}

impl Embedder {
    /// Load the model and tokenizer; never downloads anything.
    pub fn try_new(opts: &EmbedderOptions) -> Result<Self, ModelError> {
        ort_environment(&opts.ort_library)?;
        let model = opts.model_path();
        if !model.is_file() {
            return Err(ModelError::ModelMissing { path: model, hint: SETUP_HINT });
        }
        let tok_path = opts.tokenizer_path();
        let mut tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| ModelError::Tokenizer { path: tok_path.clone(), message: e.to_string() })?;
        // Pad to the longest text of each batch, not to a fixed length: short posts stay cheap.
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| ModelError::Tokenizer { path: tok_path.clone(), message: e.to_string() })?;
        let mut embedder = Embedder { full: None, task: None, opts: opts.clone(), tokenizer, provider: "CPU" };
        // The graph most posts need is loaded now (its errors show in `hello`), the other on first use.
        match opts.task_file.as_deref() {
            Some(file) => embedder.task = Some(embedder.load(file)?),
            None => embedder.full = Some(embedder.load(&opts.model_file)?),
        }
        Ok(embedder)
    }

    fn load(&mut self, file: &str) -> Result<Session, ModelError> {
        let env = ort_environment(&self.opts.ort_library)?;
        let path = self.opts.model_dir.join(file);
        if !path.is_file() {
            return Err(ModelError::ModelMissing { path, hint: SETUP_HINT });
        }
        // Sessions are made where every model's are; the encoder stays on the CPU (its pool is sized by
        // cores, and a post's few milliseconds there are not worth a GPU round trip). Both graphs share the
        // pool's prepacked weights (the bottom layers are the same bytes).
        let loaded = load_session_with(
            env,
            &path,
            self.opts.intra_threads,
            ProviderChoice::Cpu,
            self.opts.prepacked.as_ref(),
            ENCODER_DISABLED_OPTIMIZERS,
        )
        .map_err(|e| ModelError::ModelLoad { path: path.clone(), source: e })?;
        self.provider = loaded.provider;
        Ok(loaded.session)
    }

    /// Embed a batch of texts (any length; each is cut at [`MAX_TEXT_CHARS`] characters, then at
    /// [`MAX_TOKENS`] tokens): the sentence embeddings.
    pub fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(self.run(texts, Outputs::Sentence)?.into_iter().map(|e| e.embedding).collect())
    }

    /// Both outputs for a batch of texts: the sentence embedding and the heads' `task_embedding`.
    pub fn encode(&mut self, texts: &[&str]) -> Result<Vec<Encoded>, ModelError> {
        self.run(texts, Outputs::Both)
    }

    /// The heads' `task_embedding` alone (`embedding` left empty), from the pruned graph when there is one.
    pub fn encode_task(&mut self, texts: &[&str]) -> Result<Vec<Encoded>, ModelError> {
        self.run(texts, Outputs::Task)
    }

    fn run(&mut self, texts: &[&str], outputs: Outputs) -> Result<Vec<Encoded>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let pruned = outputs == Outputs::Task && self.task.is_some();
        if !pruned && self.full.is_none() {
            let file = self.opts.model_file.clone();
            self.full = Some(self.load(&file)?);
        }
        let session = if pruned { self.task.as_mut() } else { self.full.as_mut() }.expect("loaded above");
        let capped: Vec<&str> = texts.iter().map(|t| cap_text(t)).collect();
        let encodings = self.tokenizer.encode_batch(capped, true).map_err(|e| ModelError::Tokenize(e.to_string()))?;
        let batch = encodings.len();
        let seq = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = Array2::<i64>::zeros((batch, seq));
        let mut mask = Array2::<i64>::zeros((batch, seq));
        let types = Array2::<i64>::zeros((batch, seq));
        for (row, enc) in encodings.iter().enumerate() {
            for (col, (&id, &m)) in enc.get_ids().iter().zip(enc.get_attention_mask()).enumerate() {
                ids[[row, col]] = i64::from(id);
                mask[[row, col]] = i64::from(m);
            }
        }
        let results = session.run(ort::inputs! {
            "input_ids" => Tensor::from_array(ids)?,
            "attention_mask" => Tensor::from_array(mask)?,
            "token_type_ids" => Tensor::from_array(types)?,
        })?;
        let rows = |name: &str| -> Result<Vec<Vec<f32>>, ModelError> {
            let Some(value) = results.get(name) else {
                return Err(ModelError::Output { name: name.to_string() });
            };
            let (shape, data) = value.try_extract_tensor::<f32>()?;
            let dims: Vec<i64> = shape.iter().copied().collect();
            if dims != [batch as i64, EMBEDDING_DIM as i64] {
                return Err(ModelError::Shape(dims));
            }
            Ok(data.chunks_exact(EMBEDDING_DIM).map(<[f32]>::to_vec).collect())
        };
        let none = || vec![Vec::new(); batch];
        let embeddings = if outputs == Outputs::Task { none() } else { rows("sentence_embedding")? };
        let tasks = if outputs == Outputs::Sentence { none() } else { rows("task_embedding")? };
        Ok(embeddings.into_iter().zip(tasks).map(|(embedding, task)| Encoded { embedding, task }).collect())
    }

    /// Token ids as the model sees them (for tests and debugging).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let enc = self.tokenizer.encode(cap_text(text), true).map_err(|e| ModelError::Tokenize(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }
}

/// Texts per model call inside the pool: small batches waste little on padding (inputs are sorted by
/// length first) and keep every worker busy; measured 6.1 ms/post at 4 vs 6.9 ms/post at 16 on one core.
pub const POOL_CHUNK: usize = 4;

/// Several single-threaded sessions that embed a batch in parallel. Single-threaded sessions side by side
/// beat one session with several intra-op threads on throughput (no synchronisation inside each matmul),
/// and a lone post still runs at full single-core speed.
pub struct EmbedderPool {
    workers: Vec<Embedder>,
}

impl std::fmt::Debug for EmbedderPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbedderPool").field("workers", &self.workers.len()).finish()
    }
}

/// Worker count when the caller does not choose: one per available core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

impl EmbedderPool {
    /// The execution provider that runs the encoder's sessions.
    pub fn provider(&self) -> &'static str {
        self.workers.first().map_or("CPU", |w| w.provider)
    }

    /// `workers` sessions (0 = one per core), each with one intra-op thread, sharing prepacked weights.
    pub fn try_new(opts: &EmbedderOptions, workers: usize) -> Result<Self, ModelError> {
        let n = if workers == 0 { default_workers() } else { workers };
        // ONNX Runtime must be loaded before any other ort call (PrepackedWeights::new included).
        ort_environment(&opts.ort_library)?;
        let mut opts = opts.clone().with_intra_threads(1);
        opts.prepacked = Some(ort::session::builder::PrepackedWeights::new());
        let workers = (0..n).map(|_| Embedder::try_new(&opts)).collect::<Result<Vec<_>, _>>()?;
        Ok(EmbedderPool { workers })
    }

    /// Wrap one embedder (no parallelism).
    pub fn single(embedder: Embedder) -> Self {
        EmbedderPool { workers: vec![embedder] }
    }

    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// The first worker, for one-off texts.
    pub fn first(&mut self) -> &mut Embedder {
        &mut self.workers[0]
    }

    /// Embed texts in parallel (sentence embeddings); the result is in input order.
    pub fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(self.run(texts, Outputs::Sentence)?.into_iter().map(|e| e.embedding).collect())
    }

    /// Both outputs for texts, in parallel; the result is in input order.
    pub fn encode(&mut self, texts: &[&str]) -> Result<Vec<Encoded>, ModelError> {
        self.run(texts, Outputs::Both)
    }

    /// The task embeddings alone (cheaper: the pruned graph), in parallel; the result is in input order.
    pub fn encode_task(&mut self, texts: &[&str]) -> Result<Vec<Encoded>, ModelError> {
        self.run(texts, Outputs::Task)
    }

    /// The texts are sorted by length and cut into chunks of [`POOL_CHUNK`] whatever the number of workers,
    /// so a text's embedding does not depend on the worker count (the int8 model quantises each batch by
    /// its own range: batch composition shows in the last digits). Workers pull chunks from a shared
    /// counter on rayon's pool, one task and one session per worker.
    fn run(&mut self, texts: &[&str], outputs: Outputs) -> Result<Vec<Encoded>, ModelError> {
        // A lone post (the host's common case): one call on worker 0, no thread hand-off.
        if texts.len() <= POOL_CHUNK {
            return self.workers[0].run(texts, outputs);
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let chunks: Vec<&[usize]> = order.chunks(POOL_CHUNK).collect();
        let run = |worker: &mut Embedder, chunk: &[usize]| -> Result<Vec<(usize, Encoded)>, ModelError> {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            Ok(chunk.iter().copied().zip(worker.run(&batch, outputs)?).collect())
        };
        type Indexed = Vec<(usize, Encoded)>;
        let results: Vec<Result<Indexed, ModelError>> = if self.workers.len() == 1 {
            chunks.iter().map(|c| run(&mut self.workers[0], c)).collect()
        } else {
            use rayon::prelude::*;
            let next = std::sync::atomic::AtomicUsize::new(0);
            self.workers
                .par_iter_mut()
                .with_max_len(1)
                .map(|worker| {
                    let mut mine = Vec::new();
                    loop {
                        let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(chunk) = chunks.get(c) else { break };
                        mine.extend(run(worker, chunk)?);
                    }
                    Ok(mine)
                })
                .collect()
        };
        let mut out: Vec<Encoded> = vec![Encoded::default(); texts.len()];
        for r in results {
            for (i, e) in r? {
                out[i] = e;
            }
        }
        Ok(out)
    }
}
