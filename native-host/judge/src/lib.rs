//! Feedwarden's judge and what it keeps on disk: `judge` scores posts with the real models (the host, the
//! CLI and batch all run it), `store` is the SQLite file (verdict cache, feedback, stats), `policy_store`
//! loads and saves the reader's policy file, `durable` replaces files atomically and `paths` says where the
//! data, the models and ONNX Runtime live.

pub mod durable;
pub mod judge;
pub mod paths;
pub mod policy_store;
pub mod store;

pub use judge::Judge;
