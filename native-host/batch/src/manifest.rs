//! The run manifest (`<out>.manifest.json`): what produced an output — tool version, model and head
//! hashes, policy hash, input hashes, options — and what came out (counts, malformed records with their
//! positions, the output's hash), so a result can be reproduced and cited. Everything that varies between
//! identical runs (times, speed, resume) is under `run`.

use std::path::Path;

pub use feedwarden_judge::durable::sha256_file;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Model {
    pub id: String,
    pub file: String,
    pub sha256: String,
    pub tokenizer_sha256: String,
    pub max_tokens: usize,
    /// Built-in heads (compiled in): id → SHA-256 of their JSON.
    pub heads: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PolicyInfo {
    pub name: String,
    pub source: String,
    pub hash: String,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct InputInfo {
    pub path: String,
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: String,
    /// Records in the whole file (every shard).
    pub records: u64,
    /// Of this shard's records: posts judged and malformed records.
    pub posts: u64,
    pub malformed: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Malformed {
    pub source: String,
    pub position: String,
    pub reason: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    pub index: u64,
    pub count: u64,
    pub block: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OutputInfo {
    pub path: String,
    pub format: String,
    pub rows: u64,
    pub sha256: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub records: u64,
    pub records_in_shard: u64,
    pub posts: u64,
    pub malformed: u64,
}

/// What varies between two identical runs.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    pub started_at: String,
    pub finished_at: String,
    pub seconds: f64,
    /// Posts judged by this process (not counting rows resumed from an earlier one).
    pub posts_judged: u64,
    pub posts_per_second: f64,
    pub resumed_from_rows: u64,
    pub threads: usize,
    pub command: Vec<String>,
}

/// One image model file and its hash (`None` when it is not installed: that part of the analysis is off).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelFile {
    pub path: String,
    pub sha256: Option<String>,
}

/// The image models of a `--images` run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImageModels {
    /// `pp-ocrv6-tiny` or `pp-ocrv6-small`.
    pub ocr: String,
    pub ocr_detector: ModelFile,
    pub ocr_recogniser: ModelFile,
    pub nsfw: String,
    pub nsfw_model: ModelFile,
    /// With `--vlm`: the VLM that described the images and answered the image rules (`smolvlm-256m`), and
    /// its files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlm: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vlm_files: Vec<ModelFile>,
}

impl ModelFile {
    /// Hash `path` (its hash is `None` when it cannot be read).
    pub fn of(path: &Path) -> Self {
        ModelFile { path: path.display().to_string(), sha256: sha256_file(path).ok() }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub tool: Tool,
    pub fingerprint: String,
    pub model: Model,
    pub policy: PolicyInfo,
    pub inputs: Vec<InputInfo>,
    pub column_map: std::collections::BTreeMap<String, String>,
    pub with_text: bool,
    /// The OCR and NSFW models when posts' images were judged (`--images`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<ImageModels>,
    pub shard: ShardInfo,
    pub output: OutputInfo,
    pub counts: Counts,
    pub malformed: Vec<Malformed>,
    pub run: RunInfo,
}

/// Now as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    feedwarden_readers::text::rfc3339_from_unix(secs).unwrap_or_default()
}
