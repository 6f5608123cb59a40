//! The one error type of every model the host runs (text encoder, OCR, NSFW, CLIP; the VLM wraps it with its
//! own cases): loading ONNX Runtime, a model file or a tokenizer, tokenizing, running. Each message says
//! what is wrong and, where it helps, what to run.

use std::path::PathBuf;

/// What to run when a model file the setup builds is missing.
pub const SETUP_HINT: &str =
    "run `./setup.sh` (or models/scripts/setup_models.sh), or point FEEDWARDEN_MODELS_DIR at the folder holding it";

/// Errors from loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("ONNX Runtime not found at {path}; run `./setup.sh` (or models/scripts/setup_models.sh), or point FEEDWARDEN_ORT_LIB at libonnxruntime.so")]
    RuntimeMissing { path: PathBuf },
    #[error("could not load ONNX Runtime from {path}: {source}")]
    RuntimeLoad {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    /// `hint`: what to run to get it ([`SETUP_HINT`] for what the setup builds).
    #[error("model file {path} is missing; {hint}")]
    ModelMissing { path: PathBuf, hint: &'static str },
    #[error("could not load the model {path}: {source}")]
    ModelLoad {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
    #[error("could not load the tokenizer {path}: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("tokenizing failed: {0}")]
    Tokenize(String),
    #[error("running the model failed: {0}")]
    Run(#[from] ort::Error),
    #[error("the model has no output `{name}`: it is not the graph this build expects; {}", SETUP_HINT)]
    Output { name: String },
    #[error("the model's output has an unexpected shape {0:?}; expected [batch, 384]")]
    Shape(Vec<i64>),
    #[error("{0} panicked (a bug: please report it); this image is not judged by that model")]
    Panicked(&'static str),
}
