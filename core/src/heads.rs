//! Trained category heads (linear heads on the judge's fine-tuned `task_embedding`, Platt-calibrated) and the
//! built-in categories that ship with them: `rage-bait`, `manipulation` (with technique sub-labels),
//! `clickbait` and `engagement-bait`. The JSON files are produced by `models/scripts/finetune_judge.py` and
//! `calibrate_judge.py`; see `models/cards/judge.md`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The encoder the shipped heads were trained on; verdicts from another encoder are meaningless.
pub const HEADS_EMBEDDING_MODEL: &str = "feedwarden-judge-v3-int8";

/// Platt calibration: `p = sigmoid(a * logit + b)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub a: f32,
    pub b: f32,
}

/// A technique sub-label of a head (e.g. `loaded-language` under `manipulation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubHead {
    pub id: String,
    pub name: String,
    pub weights: Vec<f32>,
    pub bias: f32,
    pub calibration: Calibration,
}

/// One trained head, exactly as stored in `models/heads/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub id: String,
    pub name: String,
    pub description: String,
    pub embedding_model: String,
    pub dim: usize,
    pub weights: Vec<f32>,
    pub bias: f32,
    pub calibration: Calibration,
    #[serde(default)]
    pub sub_labels: Vec<SubHead>,
    /// Validation figures from the model card (kept opaque here; reported by `doctor` and `hello`).
    #[serde(default)]
    pub validation: serde_json::Value,
}

/// Errors from loading a head file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    #[error("head JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("head '{id}' declares dim {dim} but has {len} weights{sub}")]
    Dimension { id: String, dim: usize, len: usize, sub: String },
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn calibrated(weights: &[f32], bias: f32, cal: Calibration, embedding: &[f32]) -> f32 {
    let logit: f32 = weights.iter().zip(embedding).map(|(w, x)| w * x).sum::<f32>() + bias;
    sigmoid(cal.a * logit + cal.b)
}

impl Head {
    /// Parse and check a head file's JSON.
    pub fn from_json(json: &str) -> Result<Self, HeadError> {
        let head: Head = serde_json::from_str(json)?;
        let check = |len: usize, sub: String| {
            if len == head.dim {
                Ok(())
            } else {
                Err(HeadError::Dimension { id: head.id.clone(), dim: head.dim, len, sub })
            }
        };
        check(head.weights.len(), String::new())?;
        for s in &head.sub_labels {
            check(s.weights.len(), format!(" (sub-label '{}')", s.id))?;
        }
        Ok(head)
    }

    /// Calibrated probability that a post with this (L2-normalised) embedding belongs to the category.
    pub fn probability(&self, embedding: &[f32]) -> f32 {
        calibrated(&self.weights, self.bias, self.calibration, embedding)
    }

    /// Calibrated probability of each sub-label, in file order.
    pub fn sub_probabilities(&self, embedding: &[f32]) -> Vec<(String, f32)> {
        self.sub_labels
            .iter()
            .map(|s| (s.id.clone(), calibrated(&s.weights, s.bias, s.calibration, embedding)))
            .collect()
    }
}

const BUILTIN_HEAD_JSON: [&str; 4] = [
    include_str!("../../models/heads/rage-bait.json"),
    include_str!("../../models/heads/manipulation.json"),
    include_str!("../../models/heads/clickbait.json"),
    include_str!("../../models/heads/engagement-bait.json"),
];

/// The heads compiled into every build, parsed once.
pub fn builtin_heads() -> &'static [Head] {
    static HEADS: OnceLock<Vec<Head>> = OnceLock::new();
    HEADS.get_or_init(|| {
        BUILTIN_HEAD_JSON
            .iter()
            .map(|json| Head::from_json(json).expect("shipped head JSON is checked by tests"))
            .collect()
    })
}

/// The built-in head with this category id.
pub fn builtin_head(id: &str) -> Option<&'static Head> {
    builtin_heads().iter().find(|h| h.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_heads_parse_with_expected_ids() {
        let ids: Vec<&str> = builtin_heads().iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["rage-bait", "manipulation", "clickbait", "engagement-bait"]);
        for h in builtin_heads() {
            assert_eq!(h.embedding_model, HEADS_EMBEDDING_MODEL);
            assert_eq!(h.dim, 384);
        }
    }

    #[test]
    fn probability_follows_the_documented_formula() {
        let head = Head {
            id: "t".into(),
            name: "T".into(),
            description: String::new(),
            embedding_model: HEADS_EMBEDDING_MODEL.into(),
            dim: 2,
            weights: vec![2.0, -1.0],
            bias: 0.5,
            calibration: Calibration { a: 1.5, b: -0.25 },
            sub_labels: vec![],
            validation: serde_json::Value::Null,
        };
        let p = head.probability(&[1.0, 0.5]);
        let expected = 1.0 / (1.0 + (-(1.5f32 * (2.0 - 0.5 + 0.5) - 0.25)).exp());
        assert!((p - expected).abs() < 1e-6);
    }

    #[test]
    fn wrong_dimension_is_refused() {
        let json = r#"{"id":"x","name":"X","description":"","embedding_model":"m","dim":3,
            "weights":[1,2],"bias":0,"calibration":{"a":1,"b":0}}"#;
        let err = Head::from_json(json).unwrap_err();
        assert!(err.to_string().contains("dim 3 but has 2"), "{err}");
    }
}
