//! The shared policy vectors (`tests/wasm/policy_vectors.json`) through the native build of the facade: the
//! verdicts must equal `tests/wasm/policy_vectors.expected.jsonl` byte for byte, the file the WASM build is
//! held to under Node (`tests/wasm/engines.test.mjs`). Regenerate with
//! `FEEDWARDEN_BLESS=1 cargo test -p feedwarden-wasm --test vectors`.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One line per policy × post × scores triple, in that nesting order.
fn verdict_lines() -> Vec<String> {
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/wasm/policy_vectors.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for policy in vectors["policies"].as_array().unwrap() {
        let source = match policy["path"].as_str() {
            Some(p) => std::fs::read_to_string(root().join(p)).unwrap(),
            None => policy["source"].as_str().unwrap().to_string(),
        };
        for post in vectors["posts"].as_array().unwrap() {
            for scores in vectors["scores"].as_array().unwrap() {
                let v = feedwarden_wasm::decide_str(&source, &post.to_string(), &scores.to_string())
                    .unwrap_or_else(|e| format!("error: {e}"));
                out.push(v);
            }
        }
    }
    out
}

#[test]
fn native_build_matches_the_recorded_vectors() {
    let got = verdict_lines().join("\n") + "\n";
    let path = root().join("tests/wasm/policy_vectors.expected.jsonl");
    if std::env::var_os("FEEDWARDEN_BLESS").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).expect("expected verdicts; run with FEEDWARDEN_BLESS=1 once");
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "vector {i}");
    }
    assert_eq!(got.lines().count(), want.lines().count());
    // the vectors exercise every action
    for action in ["show", "allow", "label", "blur", "hide"] {
        assert!(want.contains(&format!("\"action\":\"{action}\"")), "no vector ends in {action}");
    }
}

#[test]
fn tiny_engine_judges_natively() {
    let engine = feedwarden_wasm::TinyEngine::try_new("").unwrap();
    let out = engine.judge_posts(r#"[{"id":"a","text":"Had a lovely walk with the dog this morning"}]"#).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["id"], "a");
    assert_eq!(v[0]["engine"], "browser-fallback");
    assert_eq!(v[0]["scores"].as_object().unwrap().len(), 4);
    assert!(feedwarden_wasm::TinyEngine::try_new("[policy\nbroken").is_err());
}
