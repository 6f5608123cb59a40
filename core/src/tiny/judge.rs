//! Scores and verdicts with the tiny model: the fallback's counterpart of the native host's judge. Built-in
//! categories use the tiny heads, user-defined ones the few-shot anchors embedded by the tiny model; the
//! reader's corrections move later scores with the host's maths (`core::fewshot`); the decision is
//! `core::decide`, exactly as in the host.

use std::collections::{BTreeMap, HashMap};

use super::TinyModel;
use crate::decision::Scores;
use crate::fewshot::{apply_rule_feedback, user_category_probability, FeedbackExamples, RuleAnchors};
use crate::{decide, EffectivePolicy, Head, Post, Verdict};

/// Which way a correction points ("this was fine" / "hide more like this"): the host protocol's own.
pub use crate::protocol::FeedbackKind;

/// One correction the fallback keeps (the extension stores these): the rule it is about (`None`: every rule
/// of the policy, as in the host) and the tiny embedding of the post ([`TinyJudge::embedding`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedbackRow {
    #[serde(default)]
    pub rule: Option<String>,
    pub kind: FeedbackKind,
    pub embedding: Vec<f32>,
}

/// A policy made ready for the tiny model: the anchors of its user-defined rules are embedded once.
#[derive(Debug, Clone)]
pub struct TinyJudge<'m> {
    model: &'m TinyModel,
    heads: &'m [Head],
    policy: EffectivePolicy,
    anchors: HashMap<String, RuleAnchors>,
    feedback_by_rule: HashMap<String, FeedbackExamples>,
}

impl<'m> TinyJudge<'m> {
    /// Prepare `policy` for `model` and its `heads`.
    pub fn new(model: &'m TinyModel, heads: &'m [Head], policy: EffectivePolicy) -> Self {
        let mut anchors = HashMap::new();
        for rule in policy.enabled_rules().filter(|r| r.is_user_defined()) {
            let positive = std::iter::once(&rule.description).chain(&rule.should_match).map(|t| model.embed(t));
            let negative = rule.should_not_match.iter().map(|t| model.embed(t));
            anchors.insert(
                rule.category_id().to_string(),
                RuleAnchors { positive: positive.collect(), negative: negative.collect() },
            );
        }
        TinyJudge { model, heads, policy, anchors, feedback_by_rule: HashMap::new() }
    }

    /// Replace the reader's corrections. Rows whose embedding has the wrong length (another model's) are
    /// ignored; a row without a rule applies to every rule of the policy, as in the host.
    pub fn set_feedback(&mut self, rows: &[FeedbackRow]) {
        let mut by_rule: HashMap<String, FeedbackExamples> = HashMap::new();
        for row in rows.iter().filter(|r| r.embedding.len() == self.model.dim()) {
            let rules: Vec<&str> = match &row.rule {
                Some(r) => vec![r.as_str()],
                None => self.policy.rules.iter().map(|r| r.id.as_str()).collect(),
            };
            for rule in rules {
                let entry = by_rule.entry(rule.to_string()).or_default();
                match row.kind {
                    FeedbackKind::WasFine => entry.was_fine.push(row.embedding.clone()),
                    FeedbackKind::MoreLikeThis => entry.more_like_this.push(row.embedding.clone()),
                }
            }
        }
        self.feedback_by_rule = by_rule;
    }

    /// The tiny embedding of a post's judged text: what a correction about the post stores.
    pub fn embedding(&self, post: &Post) -> Vec<f32> {
        self.model.embed(&post.judged_text())
    }

    pub fn policy(&self) -> &EffectivePolicy {
        &self.policy
    }

    /// Category scores for a text under the policy: built-in categories from the heads on
    /// [`TinyModel::features`], user-defined ones from the embedding's few-shot similarity; then the reader's
    /// corrections ([`Self::set_feedback`]) per rule.
    pub fn scores(&self, text: &str) -> Scores {
        let features = self.model.features(text);
        let embedding = &features[..self.model.dim()];
        let mut scores = Scores::default();
        for cat in self.policy.active_categories() {
            if let Some(head) = self.heads.iter().find(|h| h.id == cat) {
                scores.categories.insert(cat.to_string(), head.probability(&features));
                let subs: BTreeMap<String, f32> = head.sub_probabilities(&features).into_iter().collect();
                if !subs.is_empty() {
                    scores.sub_labels.insert(cat.to_string(), subs);
                }
            } else if let Some(anchors) = self.anchors.get(cat) {
                scores.categories.insert(cat.to_string(), user_category_probability(embedding, anchors));
            }
        }
        apply_rule_feedback(&self.policy, embedding, &self.feedback_by_rule, &mut scores);
        scores
    }

    /// The verdict for one post.
    pub fn judge(&self, post: &Post) -> Verdict {
        decide(&self.policy, post, &self.scores(&post.judged_text()))
    }
}
