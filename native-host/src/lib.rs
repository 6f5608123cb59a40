//! The `feedwarden-host` package: the two binaries (`feedwarden-host`, the native-messaging host the browser
//! starts, and `feedwarden`, the CLI) and the CLI's commands. The work lives in the crates beside it —
//! `feedwarden-models` (ONNX Runtime, encoder, image stages, VLM), `feedwarden-readers` (feed exports),
//! `feedwarden-judge` (the judge, SQLite, the policy file), `feedwarden-batch` (batch and eval) and
//! `feedwarden-messaging` (the host's request loop) — re-exported here under their old paths.

pub mod cli;

pub use feedwarden_batch as batch;
pub use feedwarden_batch::eval;
pub use feedwarden_judge::{durable, judge, paths, policy_store, store};
pub use feedwarden_messaging::{framing, host, protocol};
pub use feedwarden_models::{embedder, images, local_file, memory, model_error, ort_telemetry, vlm};
pub use feedwarden_readers as readers;
