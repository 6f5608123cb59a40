//! Feedwarden's native side: the text judge on a real ONNX model, the SQLite store, the native-messaging
//! host and what the `feedwarden` CLI shares with it.

pub mod batch;
pub mod cli;
pub mod durable;
pub mod eval;
pub mod framing;
pub mod host;
pub mod judge;
pub mod paths;
pub mod policy_store;
pub mod protocol;
/// The models (ONNX Runtime, encoder, image stages, VLM) live in their own crate (`native-host/models`);
/// re-exported under their old paths.
pub use feedwarden_models::{embedder, images, local_file, memory, model_error, ort_telemetry, vlm};
/// The feed readers live in their own crate (`native-host/readers`); re-exported under their old path.
pub use feedwarden_readers as readers;
pub mod store;
