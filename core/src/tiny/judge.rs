//! Scores and verdicts with the tiny model: the fallback's counterpart of the native host's judge. Built-in
//! categories use the tiny heads, user-defined ones the few-shot anchors embedded by the tiny model; the
//! reader's corrections move later scores with the host's maths (`core::fewshot`); the decision is
//! `core::decide`, exactly as in the host.

use std::collections::HashMap;

use super::TinyModel;
use crate::decision::Scores;
use crate::fewshot::RuleAnchors;
use crate::scoring::{self, Correction, FeedbackScopes};
use crate::{decide, EffectivePolicy, Head, Post, Verdict};

/// Which way a correction points ("this was fine" / "hide more like this"): the host protocol's own.
pub use crate::protocol::FeedbackKind;

/// One correction the fallback keeps (the extension stores these): the rule it is about (`None`: every rule
/// of the policy, for "more like this", as in the host), the site it was given on (`None`: every site) and
/// the tiny embedding of the post ([`TinyJudge::embedding`]). Scoped as the host scopes them
/// ([`FeedbackScopes`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeedbackRow {
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub site: Option<String>,
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
    feedback: FeedbackScopes,
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
        TinyJudge { model, heads, policy, anchors, feedback: FeedbackScopes::default() }
    }

    /// Replace the reader's corrections. Rows whose embedding has the wrong length (another model's) are
    /// ignored.
    pub fn set_feedback(&mut self, rows: &[FeedbackRow]) {
        let rows = rows.iter().filter(|r| r.embedding.len() == self.model.dim()).map(|r| Correction {
            site: r.site.as_deref(),
            rule: r.rule.as_deref(),
            kind: r.kind,
            embedding: &r.embedding,
        });
        self.feedback = FeedbackScopes::new(rows, &self.policy);
    }

    /// The tiny embedding of a post's judged text: what a correction about the post stores.
    pub fn embedding(&self, post: &Post) -> Vec<f32> {
        self.model.embed(&post.judged_text())
    }

    pub fn policy(&self) -> &EffectivePolicy {
        &self.policy
    }

    /// Category scores for a text under the policy, for a post from `site`: built-in categories from the
    /// heads on [`TinyModel::features`], user-defined ones from the embedding's few-shot similarity; then the
    /// reader's corrections ([`Self::set_feedback`]) that apply on that site, per rule ([`scoring::score`],
    /// the host's scorer).
    pub fn scores_on(&self, text: &str, site: Option<&str>) -> Scores {
        let features = self.model.features(text);
        let embedding = &features[..self.model.dim()];
        scoring::score(&self.policy, self.heads, &self.anchors, &features, embedding, self.feedback.for_site(site))
    }

    /// [`Self::scores_on`] for a post without a site.
    pub fn scores(&self, text: &str) -> Scores {
        self.scores_on(text, None)
    }

    /// The verdict for one post.
    pub fn judge(&self, post: &Post) -> Verdict {
        decide(&self.policy, post, &self.scores_on(&post.judged_text(), post.site.as_deref()))
    }
}
