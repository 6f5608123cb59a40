//! The in-browser fallback model ("tiny"): static token embeddings and hashed token bigrams small enough to ship
//! inside the extension (≤ 2 MB), with heads distilled from the native judge on the data it was trained on, judged
//! by the same policy engine.
//!
//! Everything here is pure (no I/O) and builds for wasm32: `wasm-classifier` exposes it to the extension,
//! and native tests check it against the numbers `models/scripts/train_tiny.py` computed
//! (`models/tiny/golden.json`). See `models/cards/tiny.md` for what it was trained on and how well it does.

mod judge;
mod model;

use std::sync::OnceLock;

pub use judge::{FeedbackKind, FeedbackRow, TinyJudge};
pub use model::{TinyError, TinyModel, MAGIC, MAGIC_NO_BIGRAMS, SURFACE_FEATURES};

use crate::Head;

/// Id of the shipped tiny model (the `embedding_model` of its heads); part of every fallback verdict.
pub const TINY_MODEL_ID: &str = "feedwarden-tiny-v8";

/// Id of the model whose token table, and so whose embedding, the shipped one has byte for byte. Reader
/// feedback the extension stores in fallback carries the embedding of the post under this id, so rows given
/// under v7 keep applying under v8 (which added only the bigram table). A new token table needs a new id here
/// (a test holds the table's fingerprint).
pub const TINY_EMBEDDING_ID: &str = "feedwarden-tiny-v7";

/// The shipped model file, compiled in (a reference to it costs its size in the binary; unused, the linker
/// drops it).
pub const SHIPPED_MODEL_BYTES: &[u8] = include_bytes!("../../../models/tiny/feedwarden-tiny.bin");

const SHIPPED_HEAD_JSON: [&str; 4] = [
    include_str!("../../../models/tiny/heads/rage-bait.json"),
    include_str!("../../../models/tiny/heads/manipulation.json"),
    include_str!("../../../models/tiny/heads/clickbait.json"),
    include_str!("../../../models/tiny/heads/engagement-bait.json"),
];

/// The shipped tiny model, parsed once.
pub fn shipped_model() -> &'static TinyModel {
    static MODEL: OnceLock<TinyModel> = OnceLock::new();
    MODEL.get_or_init(|| TinyModel::from_bytes(SHIPPED_MODEL_BYTES).expect("shipped tiny model is checked by tests"))
}

/// The heads of the shipped tiny model (same ids, names and sub-labels as [`crate::builtin_heads`]).
pub fn shipped_heads() -> &'static [Head] {
    static HEADS: OnceLock<Vec<Head>> = OnceLock::new();
    HEADS.get_or_init(|| {
        SHIPPED_HEAD_JSON
            .iter()
            .map(|json| Head::from_json(json).expect("shipped tiny head JSON is checked by tests"))
            .collect()
    })
}

#[cfg(test)]
mod tests;
