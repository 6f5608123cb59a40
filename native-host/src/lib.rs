//! Feedwarden's native side: the text judge on a real ONNX model, the SQLite store, the native-messaging
//! host and what the `feedwarden` CLI shares with it.

pub mod batch;
pub mod cli;
pub mod durable;
pub mod embedder;
pub mod eval;
pub mod framing;
pub mod host;
pub mod images;
pub mod judge;
pub mod local_file;
pub mod memory;
pub mod model_error;
pub mod ort_telemetry;
pub mod paths;
pub mod policy_store;
pub mod protocol;
/// The feed readers live in their own crate (`native-host/readers`); re-exported under their old path.
pub use feedwarden_readers as readers;
pub mod store;
pub mod vlm;
