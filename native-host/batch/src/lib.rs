//! Batch mode for researchers: judge whole exported feeds on every core into JSONL, CSV or Parquet, with a
//! run manifest, resumable after a kill, splittable into shards across machines.

pub mod eval;
pub mod manifest;
pub mod output;
pub mod parquet;
pub mod pipeline;
pub mod resume;
pub mod row;
pub mod shard;

use std::path::PathBuf;

pub use output::OutputFormat;
pub use pipeline::{run, BatchConfig, Summary};
pub use shard::Shard;

/// Why a batch run stopped. Malformed records never stop a run; these do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    #[error(transparent)]
    Read(#[from] feedwarden_readers::ReadError),
    #[error(transparent)]
    Resume(#[from] resume::ResumeError),
    #[error("judging failed: {0}")]
    Judge(#[from] feedwarden_models::model_error::ModelError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing Parquet to {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: ::parquet::errors::ParquetError,
    },
    #[error("Parquet cannot be written to stdout; name a file with -o OUT.parquet")]
    ParquetToStdout,
    #[error("writing the output stopped: {0}")]
    Writer(String),
}
