//! The Rust tiny model against the numbers `models/scripts/train_tiny.py` computed for the shipped files.

use super::*;
use crate::policy::{parse_policy, resolve};
use crate::Post;

fn golden() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../models/tiny/golden.json")).expect("golden JSON")
}

#[test]
fn shipped_model_loads_and_fits_the_size_budget() {
    let m = shipped_model();
    assert!(SHIPPED_MODEL_BYTES.len() <= 2_000_000, "{} bytes", SHIPPED_MODEL_BYTES.len());
    assert!(m.vocab_size() > 1000 && m.dim() > 0, "{m:?}");
    let ids: Vec<&str> = shipped_heads().iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["rage-bait", "manipulation", "clickbait", "engagement-bait"]);
    for h in shipped_heads() {
        assert_eq!(h.embedding_model, TINY_MODEL_ID);
        assert_eq!(h.dim, m.feature_dim());
        let native = crate::heads::builtin_head(&h.id).expect("same ids as the native heads");
        let subs = |h: &Head| h.sub_labels.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(subs(h), subs(native), "sub-labels of {}", h.id);
    }
}

#[test]
fn tokens_embeddings_and_probabilities_match_python() {
    let g = golden();
    let tol = g["tolerance_abs"].as_f64().unwrap() as f32;
    let m = shipped_model();
    for row in g["sentences"].as_array().unwrap() {
        let text = crate::text::normalize(row["text"].as_str().unwrap());
        let ids: Vec<u32> = row["token_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(m.tokenize(&text), ids, "tokens of {text:?}");
        let e = m.features(&text);
        assert_eq!(e.len(), m.feature_dim());
        for (i, want) in row["embedding_head"].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap() as f32;
            assert!((e[i] - want).abs() <= tol, "{text:?} dim {i}: {} vs {want}", e[i]);
        }
        for (i, want) in row["surface"].as_array().unwrap().iter().enumerate() {
            let (got, want) = (e[m.dim() + i], want.as_f64().unwrap() as f32);
            assert!((got - want).abs() <= tol, "{text:?} {}: {got} vs {want}", SURFACE_FEATURES[i]);
        }
        let bigrams = row["bigram"].as_array().unwrap();
        assert_eq!(m.dim() + SURFACE_FEATURES.len() + bigrams.len(), m.feature_dim());
        for (i, want) in bigrams.iter().enumerate() {
            let (got, want) = (e[m.dim() + SURFACE_FEATURES.len() + i], want.as_f64().unwrap() as f32);
            assert!((got - want).abs() <= tol, "{text:?} bigram feature {i}: {got} vs {want}");
        }
        for (key, want) in row["probabilities"].as_object().unwrap() {
            let (hid, sub) = key.split_once('/').map_or((key.as_str(), None), |(h, s)| (h, Some(s)));
            let head = shipped_heads().iter().find(|h| h.id == hid).unwrap();
            let p = match sub {
                None => head.probability(&e),
                Some(s) => head.sub_probabilities(&e).into_iter().find(|(id, _)| id == s).unwrap().1,
            };
            let want = want.as_f64().unwrap() as f32;
            assert!((p - want).abs() <= tol, "{text:?} {key}: {p} vs {want}");
        }
    }
}

#[test]
fn tokenizer_splits_on_whitespace_and_skips_unknown_characters() {
    let m = shipped_model();
    assert!(m.tokenize("").is_empty());
    assert!(m.tokenize(" \t\n ").is_empty());
    assert_eq!(m.embed(""), vec![0.0; m.dim()]);
    // zero-width and control characters are dropped, whitespace of any kind separates words
    assert_eq!(m.tokenize("hello\u{200B} world"), m.tokenize("hello  world"));
    assert_eq!(m.tokenize("hello\u{3000}world"), m.tokenize("hello world"));
    // case-folded like the uncased native judge: headline case and sentence case read the same
    assert_eq!(m.tokenize("What Movie Should Be More Popular?"), m.tokenize("what movie should be more popular?"));
    assert_eq!(m.tokenize("ΣΟΦΙΑΣ"), m.tokenize("σοφιασ"));
    assert_ne!(m.tokenize("What"), m.tokenize("Whet"));
    // the cap on tokens per post
    let long = "word ".repeat(1000);
    assert_eq!(m.tokenize(&long).len(), 256);
    let e = m.embed("Had a lovely walk with the dog this morning");
    let norm: f32 = e.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    assert!(matches!(TinyModel::from_bytes(b"nope"), Err(TinyError::Truncated { .. })));
    assert!(matches!(TinyModel::from_bytes(b"NOTTINY0xxxxxxxxxxxxxxxx"), Err(TinyError::Magic)));
    let cut = &SHIPPED_MODEL_BYTES[..SHIPPED_MODEL_BYTES.len() / 2];
    let err = TinyModel::from_bytes(cut).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    // the bigram table cut short, and one byte too many
    let cut = &SHIPPED_MODEL_BYTES[..SHIPPED_MODEL_BYTES.len() - 1];
    let err = TinyModel::from_bytes(cut).unwrap_err();
    assert!(err.to_string().contains("the bigram table"), "{err}");
    let mut long = SHIPPED_MODEL_BYTES.to_vec();
    long.push(0);
    assert!(matches!(TinyModel::from_bytes(&long), Err(TinyError::Trailing(1))));
    // a malformed bigram header: rows not a power of two, a table too large to allocate, 5-bit values
    let header = bigram_header_offset();
    for (field, value, want) in
        [(0, 1000u32, "power of two"), (0, 1 << 24, "too large"), (3, 5, "neither 4 nor 8 bits")]
    {
        let mut bad = SHIPPED_MODEL_BYTES.to_vec();
        bad[header + 4 * field..header + 4 * field + 4].copy_from_slice(&value.to_le_bytes());
        let err = TinyModel::from_bytes(&bad).unwrap_err();
        assert!(err.to_string().contains(want), "{err}");
    }
}

/// Where the shipped file's bigram header starts (after the vocabulary).
fn bigram_header_offset() -> usize {
    let u32_at = |o: usize| u32::from_le_bytes(SHIPPED_MODEL_BYTES[o..o + 4].try_into().unwrap()) as usize;
    let (n, dim) = (u32_at(8), u32_at(12));
    let vocab_len_at = 24 + 4 * dim + 4 * n + n * dim;
    vocab_len_at + 4 + u32_at(vocab_len_at)
}

#[test]
fn the_embedding_id_names_the_token_table_in_the_file() {
    // FNV-1a over everything before the bigram table (header, mean, scales, rows, vocabulary): what the
    // embedding depends on. If this fails, the token table changed: feedback stored under TINY_EMBEDDING_ID no
    // longer fits, so give TINY_EMBEDDING_ID the new model's id and record the new fingerprint.
    let fnv = SHIPPED_MODEL_BYTES[8..bigram_header_offset()]
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    assert_eq!((TINY_EMBEDDING_ID, fnv), ("feedwarden-tiny-v7", TOKEN_TABLE_FNV), "{fnv:#x}");
}

/// The fingerprint of v7's token table (also v8's; computed the same way over v7's whole file after its magic).
const TOKEN_TABLE_FNV: u64 = 0x4389_7ca8_c29e_65e0;

#[test]
fn the_v7_format_without_bigrams_is_still_read() {
    let mut old = SHIPPED_MODEL_BYTES[..bigram_header_offset()].to_vec();
    old[..8].copy_from_slice(MAGIC_NO_BIGRAMS);
    let m = TinyModel::from_bytes(&old).unwrap();
    assert_eq!(m.feature_dim(), m.dim() + SURFACE_FEATURES.len());
    let text = "Comment YES if you agree";
    assert_eq!(m.features(text)[..m.feature_dim()], shipped_model().features(text)[..m.feature_dim()]);
}

#[test]
fn bigram_features_see_word_order() {
    let m = shipped_model();
    assert!(m.feature_dim() > m.dim() + SURFACE_FEATURES.len(), "the shipped model has a bigram table");
    let bigrams = |t: &str| m.features(t)[m.dim() + SURFACE_FEATURES.len()..].to_vec();
    // the same tokens in another order: the same embedding, other bigram features
    let (a, b) = ("dog bites man", "man bites dog");
    let (ea, eb) = (m.embed(a), m.embed(b));
    assert!(ea.iter().zip(&eb).all(|(x, y)| (x - y).abs() < 1e-6), "the mean of the rows ignores order");
    let (ba, bb) = (bigrams(a), bigrams(b));
    assert!(ba.iter().zip(&bb).map(|(x, y)| (x - y).abs()).sum::<f32>() > 0.01, "{ba:?} vs {bb:?}");
    assert!(bigrams("").iter().all(|&x| x == 0.0));
}

fn judge_for(src: &str) -> TinyJudge<'static> {
    let parsed = parse_policy(src, None);
    let policy = resolve(&parsed, None, &mut crate::policy::no_files, None).policy;
    TinyJudge::new(shipped_model(), shipped_heads(), policy)
}

#[test]
fn the_defaults_judge_obvious_posts_like_the_native_heads_would() {
    let judge = judge_for("[policy]\nname = \"d\"\nextends = [\"feedwarden:defaults\"]\n");
    let post = |text: &str| Post { id: "1".into(), text: text.into(), ..Post::default() };
    let calm = judge.judge(&post("Had a lovely walk with the dog this morning, the weather was perfect."));
    assert_eq!(calm.action, crate::VerdictAction::Show, "{calm:?}");
    assert_eq!(calm.scores.len(), 4, "{calm:?}");
    let bait = judge.judge(&post("You Won't Believe What This Dog Did Next"));
    assert!(bait.scores["clickbait"] > 0.5, "{bait:?}");
}

#[test]
fn user_defined_categories_use_the_tiny_embedding() {
    let src = r#"[policy]
name = "spiders"

[[rule]]
id = "spiders"
description = "Posts about spiders, tarantulas and other arachnids"
action = "blur"
threshold = 0.5
should_match = ["Found a huge hairy spider in the bathtub this morning", "Tarantulas make surprisingly calm pets"]
should_not_match = ["The city council approved the new budget"]
"#;
    let judge = judge_for(src);
    let on = judge.scores("a giant spider spun its web across my window");
    let off = judge.scores("The central bank raised interest rates by a quarter point");
    assert!(on.categories["spiders"] > off.categories["spiders"], "{on:?} {off:?}");
    assert!(off.categories["spiders"] < 0.5, "{off:?}");
}

#[test]
fn feedback_moves_later_verdicts_like_the_host() {
    let mut judge = judge_for("[policy]\nname = \"d\"\nextends = [\"feedwarden:defaults\"]\n");
    let post = |text: &str| Post { id: "1".into(), text: text.into(), ..Post::default() };
    // Clickbait and nothing else near its threshold (tiny v5: clickbait 0.96, manipulation 0.69; "You Won't
    // Believe What This Dog Did Next" sits at manipulation 0.80, so hiding its clickbait label shows another).
    let bait = post("What This Cat Did Next Will Shock You");
    let before = judge.judge(&bait);
    assert_eq!(before.action, crate::VerdictAction::Label, "{before:?}");
    let row = FeedbackRow {
        rule: Some("clickbait".into()),
        site: None,
        kind: FeedbackKind::WasFine,
        embedding: judge.embedding(&bait),
    };
    judge.set_feedback(std::slice::from_ref(&row));
    let after = judge.judge(&bait);
    assert_eq!(after.action, crate::VerdictAction::Show, "{after:?}");
    // Scoped like the host's: a correction given on one site moves only that site's posts (and site-less ones).
    judge.set_feedback(&[FeedbackRow { site: Some("www.Reddit.com".into()), ..row.clone() }]);
    let on = |site: &str| Post { site: Some(site.into()), ..bait.clone() };
    assert_eq!(judge.judge(&on("reddit.com")).action, crate::VerdictAction::Show);
    assert_eq!(judge.judge(&on("x.com")).action, crate::VerdictAction::Label, "another site is not steered");
    // "This was fine" without a rule says nothing (the host refuses it).
    judge.set_feedback(&[FeedbackRow { rule: None, ..row.clone() }]);
    assert_eq!(judge.judge(&bait).action, crate::VerdictAction::Label);
    judge.set_feedback(std::slice::from_ref(&row));
    // an unrelated post is untouched
    let calm = post("The city council approved the new budget on Tuesday after a two-hour debate.");
    let fresh = judge_for("[policy]\nname = \"d\"\nextends = [\"feedwarden:defaults\"]\n");
    assert_eq!(judge.scores(&calm.judged_text()), fresh.scores(&calm.judged_text()));
    // "more like this" without a rule raises every rule for a similar post
    let mut judge = fresh;
    let calm_row =
        FeedbackRow { rule: None, site: None, kind: FeedbackKind::MoreLikeThis, embedding: judge.embedding(&calm) };
    judge.set_feedback(&[calm_row]);
    let raised = judge.judge(&calm);
    assert_ne!(raised.action, crate::VerdictAction::Show, "{raised:?}");
    // rows of another model (wrong length) are ignored
    judge.set_feedback(&[FeedbackRow {
        rule: None,
        site: None,
        kind: FeedbackKind::MoreLikeThis,
        embedding: vec![1.0; 3],
    }]);
    assert_eq!(judge.judge(&calm).action, crate::VerdictAction::Show);
}
