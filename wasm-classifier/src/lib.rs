//! `wasm-bindgen` facade over `feedwarden-core` for the in-extension fallback: the same policy parser,
//! resolver and decision as the native host, with JSON in and out and errors converted to `JsError` here,
//! in one place. (The tiny in-browser model arrives with the fallback issue; today the caller brings scores.)

use feedwarden_core::decision::Scores;
use feedwarden_core::policy::{parse_policy, resolve};
use feedwarden_core::{decide, Post};
use wasm_bindgen::prelude::*;

fn no_files(name: &str) -> Result<String, String> {
    Err(format!("the browser engine can only extend shipped policies (feedwarden:…), not \"{name}\""))
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
    let parsed = parse_policy(policy_source, None);
    if !parsed.loadable {
        return Err(JsError::new("the policy cannot be loaded; run checkPolicy for its diagnostics"));
    }
    let policy = resolve(&parsed, None, &mut no_files, None).policy;
    let post: Post = serde_json::from_str(post_json).map_err(|e| JsError::new(&format!("bad post JSON: {e}")))?;
    let scores: Scores =
        serde_json::from_str(scores_json).map_err(|e| JsError::new(&format!("bad scores JSON: {e}")))?;
    Ok(serde_json::to_string(&decide(&policy, &post, &scores)).expect("verdicts serialize"))
}
