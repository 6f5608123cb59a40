//! Feedwarden's pure engine: the post model, the policy language, the category heads, the decision, and the
//! host protocol's message types (`protocol`: the one source the extension's TypeScript is generated from).
//!
//! Nothing in this crate does I/O, runs ONNX or touches SQLite, so it builds for `wasm32-unknown-unknown` too
//! and the native host and the in-browser fallback share one policy engine. Callers bring the sentence
//! embeddings (the native host from MiniLM through ONNX Runtime, the fallback from its tiny model); this crate
//! turns them into category probabilities and a [`Verdict`].

pub mod categories;
pub mod decision;
pub mod fewshot;
pub mod heads;
pub mod policy;
pub mod post;
pub mod protocol;
pub mod scoring;
pub mod text;
pub mod tiny;

pub use decision::{decide, FiredRule, Verdict, VerdictAction};
pub use fewshot::{FeedbackExamples, RuleAnchors};
pub use heads::{builtin_heads, Head};
pub use policy::{Action, Diagnostic, EffectivePolicy, ParsedPolicy, PolicyFile, Rule, Severity, Threshold};
pub use post::Post;

/// Lowercase hex SHA-256 of some bytes: the hash used for cache keys, policy hashes and model manifests.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
