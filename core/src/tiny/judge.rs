//! Scores and verdicts with the tiny model: the fallback's counterpart of the native host's judge. Built-in
//! categories use the tiny heads, user-defined ones the few-shot anchors embedded by the tiny model; the
//! decision is `core::decide`, exactly as in the host.

use std::collections::{BTreeMap, HashMap};

use super::TinyModel;
use crate::decision::Scores;
use crate::fewshot::{user_category_probability, RuleAnchors};
use crate::{decide, EffectivePolicy, Head, Post, Verdict};

/// A policy made ready for the tiny model: the anchors of its user-defined rules are embedded once.
#[derive(Debug, Clone)]
pub struct TinyJudge<'m> {
    model: &'m TinyModel,
    heads: &'m [Head],
    policy: EffectivePolicy,
    anchors: HashMap<String, RuleAnchors>,
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
        TinyJudge { model, heads, policy, anchors }
    }

    pub fn policy(&self) -> &EffectivePolicy {
        &self.policy
    }

    /// Category scores for a text under the policy (no reader feedback in the fallback): built-in categories
    /// from the heads on [`TinyModel::features`], user-defined ones from the embedding's few-shot similarity.
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
        scores
    }

    /// The verdict for one post.
    pub fn judge(&self, post: &Post) -> Verdict {
        decide(&self.policy, post, &self.scores(&post.judged_text()))
    }
}
