//! `wasm-bindgen` facade over `feedwarden-core` for the in-extension fallback: the same policy parser,
//! resolver and decision as the native host, and the tiny model (`core::tiny`) to score posts when no native
//! host is installed. JSON in and out; errors are converted to `JsError` here, in one place.
//!
//! Every function is also callable natively (the crate is an `rlib` too), which is how the tests prove the
//! native and the WASM builds decide identically (`tests/vectors.rs` and `tests/wasm/`).

use feedwarden_core::decision::Scores;
use feedwarden_core::policy::{builtin_policy_source, parse_policy, resolve, EffectivePolicy, LoadedFile};
use feedwarden_core::protocol::VerdictOut;
use feedwarden_core::tiny::{shipped_heads, shipped_model, FeedbackRow, TinyJudge, TINY_EMBEDDING_ID, TINY_MODEL_ID};
use feedwarden_core::{decide, Post};
use wasm_bindgen::prelude::*;

/// How the reader is told who judged a post (`engine` of every fallback verdict).
pub const ENGINE: &str = "browser-fallback";

fn no_files(name: &str, _from: Option<&str>) -> Result<LoadedFile, String> {
    Err(format!("the browser engine can only extend shipped policies (feedwarden:…), not \"{name}\""))
}

/// The policy a source stands for: an empty source means the shipped defaults.
fn load_policy(source: &str) -> Result<EffectivePolicy, String> {
    let source = if source.trim().is_empty() {
        builtin_policy_source("feedwarden:defaults").expect("defaults ship")
    } else {
        source
    };
    let parsed = parse_policy(source, None);
    if !parsed.loadable {
        return Err("the policy cannot be loaded; run checkPolicy for its diagnostics".to_string());
    }
    Ok(resolve(&parsed, None, &mut no_files, None).policy)
}

/// Parse and resolve a policy; returns `{loadable, hash, rules, diagnostics}` as JSON.
#[wasm_bindgen(js_name = checkPolicy)]
pub fn check_policy(source: &str) -> String {
    let parsed = parse_policy(source, None);
    let r = resolve(&parsed, None, &mut no_files, None);
    serde_json::json!({
        "loadable": parsed.loadable,
        "hash": r.policy.hash,
        "rules": r.policy.rules.iter().map(|r| &r.id).collect::<Vec<_>>(),
        "diagnostics": r.diagnostics,
    })
    .to_string()
}

/// Decide a post (JSON) given its category scores (JSON `{categories: {id: p}}`) under a policy.
#[wasm_bindgen(js_name = decide)]
pub fn decide_json(policy_source: &str, post_json: &str, scores_json: &str) -> Result<String, JsError> {
    decide_str(policy_source, post_json, scores_json).map_err(|e| JsError::new(&e))
}

/// [`decide_json`] with errors as strings, for native callers (`JsError` only exists inside WASM).
pub fn decide_str(policy_source: &str, post_json: &str, scores_json: &str) -> Result<String, String> {
    let policy = load_policy(policy_source)?;
    let post: Post = serde_json::from_str(post_json).map_err(|e| format!("bad post JSON: {e}"))?;
    let scores: Scores = serde_json::from_str(scores_json).map_err(|e| format!("bad scores JSON: {e}"))?;
    Ok(serde_json::to_string(&decide(&policy, &post, &scores)).expect("verdicts serialize"))
}

/// What judges in the browser: `{engine, model, embedding, tokens, dim, heads}` as JSON (`embedding`: the id
/// stored feedback rows carry, [`TINY_EMBEDDING_ID`]).
#[wasm_bindgen(js_name = modelInfo)]
pub fn model_info() -> String {
    let m = shipped_model();
    serde_json::json!({
        "engine": ENGINE,
        "model": TINY_MODEL_ID,
        "embedding": TINY_EMBEDDING_ID,
        "tokens": m.vocab_size(),
        "dim": m.dim(),
        "heads": shipped_heads().iter().map(|h| &h.id).collect::<Vec<_>>(),
    })
    .to_string()
}

/// The tiny model's sentence embedding of a text (for tests and user-category tools).
#[wasm_bindgen]
pub fn embed(text: &str) -> Vec<f32> {
    shipped_model().embed(text)
}

/// The fallback engine for one policy: the tiny model scores, `core` decides.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TinyEngine {
    judge: TinyJudge<'static>,
}

#[wasm_bindgen]
impl TinyEngine {
    /// Prepare a policy (TOML source; empty = the shipped defaults). Embeds its user-defined rules' anchors.
    #[wasm_bindgen(constructor)]
    pub fn new(policy_source: &str) -> Result<TinyEngine, JsError> {
        Self::try_new(policy_source).map_err(|e| JsError::new(&e))
    }

    /// Verdicts for a JSON array of posts, as a JSON array of the protocol's verdicts (`VerdictOut`, with
    /// `engine` and `model` saying who judged).
    pub fn judge(&self, posts_json: &str) -> Result<String, JsError> {
        self.judge_posts(posts_json).map_err(|e| JsError::new(&e))
    }

    /// Replace the reader's corrections: a JSON array of `{rule?, kind: "was_fine"|"more_like_this",
    /// embedding}` (embeddings from [`TinyEngine::embed_post`]). Later verdicts move as the host's do.
    #[wasm_bindgen(js_name = setFeedback)]
    pub fn set_feedback(&mut self, rows_json: &str) -> Result<(), JsError> {
        self.set_feedback_rows(rows_json).map_err(|e| JsError::new(&e))
    }

    /// The tiny embedding of a post (JSON), to store with a correction about it.
    #[wasm_bindgen(js_name = embedPost)]
    pub fn embed_post(&self, post_json: &str) -> Result<Vec<f32>, JsError> {
        self.post_embedding(post_json).map_err(|e| JsError::new(&e))
    }

    /// Hash of the active policy (changes whenever a rule does).
    #[wasm_bindgen(getter, js_name = policyHash)]
    pub fn policy_hash(&self) -> String {
        self.judge.policy().hash.clone()
    }
}

impl TinyEngine {
    /// Native-friendly constructor (errors as strings).
    pub fn try_new(policy_source: &str) -> Result<TinyEngine, String> {
        let policy = load_policy(policy_source)?;
        Ok(TinyEngine { judge: TinyJudge::new(shipped_model(), shipped_heads(), policy) })
    }

    /// Native-friendly [`TinyEngine::set_feedback`].
    pub fn set_feedback_rows(&mut self, rows_json: &str) -> Result<(), String> {
        let rows: Vec<FeedbackRow> = serde_json::from_str(rows_json).map_err(|e| format!("bad feedback JSON: {e}"))?;
        self.judge.set_feedback(&rows);
        Ok(())
    }

    /// Native-friendly [`TinyEngine::embed_post`].
    pub fn post_embedding(&self, post_json: &str) -> Result<Vec<f32>, String> {
        let post: Post = serde_json::from_str(post_json).map_err(|e| format!("bad post JSON: {e}"))?;
        Ok(self.judge.embedding(&post))
    }

    /// Native-friendly [`TinyEngine::judge`].
    pub fn judge_posts(&self, posts_json: &str) -> Result<String, String> {
        let posts: Vec<Post> = serde_json::from_str(posts_json).map_err(|e| format!("bad posts JSON: {e}"))?;
        let verdicts: Vec<VerdictOut> =
            posts.iter().map(|p| VerdictOut::from(self.judge.judge(p)).judged_by(ENGINE, TINY_MODEL_ID)).collect();
        Ok(serde_json::to_string(&verdicts).expect("verdicts serialize"))
    }
}
