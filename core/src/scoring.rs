//! The one scoring engine of both judges (the native host's and the in-browser tiny model's): category scores
//! for a post from the built-in heads and the user-defined rules' anchors, then the reader's corrections per
//! rule, scoped to the site they were given on. Callers bring the vectors (the host's MiniLM embedding, the
//! tiny model's features); the maths is `fewshot`'s.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::decision::Scores;
use crate::fewshot::{apply_rule_feedback, user_category_probability, FeedbackExamples, RuleAnchors};
use crate::protocol::FeedbackKind;
use crate::{EffectivePolicy, Head};

/// One stored correction, as both judges keep them.
#[derive(Debug, Clone, Copy)]
pub struct Correction<'a> {
    /// The site it was given on (`None`: it applies on every site).
    pub site: Option<&'a str>,
    /// The rule it is about (`None`: every rule, for "more like this").
    pub rule: Option<&'a str>,
    pub kind: FeedbackKind,
    pub embedding: &'a [f32],
}

/// The reader's corrections grouped by where they apply. A correction affects only the rule it was given
/// for (a "more like this" without a rule: every rule; a "was fine" without one says nothing) and only posts
/// from the site it was given on (a page can only steer the filter on its own site) or posts without a site
/// (the CLI's); corrections stored without a site apply everywhere.
#[derive(Debug, Clone, Default)]
pub struct FeedbackScopes {
    /// Rule id → the corrections stored without a site.
    everywhere: HashMap<String, FeedbackExamples>,
    /// Site → rule id → the corrections that apply on that site (its own and the site-less ones).
    by_site: HashMap<String, HashMap<String, FeedbackExamples>>,
    /// Rule id → every correction: for posts without a site.
    all: HashMap<String, FeedbackExamples>,
}

impl FeedbackScopes {
    pub fn new<'a>(rows: impl IntoIterator<Item = Correction<'a>>, policy: &EffectivePolicy) -> Self {
        let rows: Vec<Correction<'a>> = rows.into_iter().collect();
        let mut scopes = FeedbackScopes::default();
        let sites: BTreeSet<String> = rows.iter().filter_map(|r| r.site).map(site_key).collect();
        for row in &rows {
            let rules: Vec<String> = match (row.rule, row.kind) {
                (Some(r), _) => vec![r.to_string()],
                (None, FeedbackKind::MoreLikeThis) => policy.rules.iter().map(|r| r.id.clone()).collect(),
                // "This was fine" without the rule that fired says nothing (the host does not accept it).
                (None, FeedbackKind::WasFine) => Vec::new(),
            };
            let row_site = row.site.map(site_key);
            let add = |map: &mut HashMap<String, FeedbackExamples>| {
                for rule in &rules {
                    let examples = map.entry(rule.clone()).or_default();
                    match row.kind {
                        FeedbackKind::WasFine => examples.was_fine.push(row.embedding.to_vec()),
                        FeedbackKind::MoreLikeThis => examples.more_like_this.push(row.embedding.to_vec()),
                    }
                }
            };
            add(&mut scopes.all);
            if row_site.is_none() {
                add(&mut scopes.everywhere);
            }
            for site in sites.iter().filter(|s| row_site.as_ref().is_none_or(|r| r == *s)) {
                add(scopes.by_site.entry(site.clone()).or_default());
            }
        }
        scopes
    }

    /// Rule id → the corrections that apply to a post from `site`.
    pub fn for_site(&self, site: Option<&str>) -> &HashMap<String, FeedbackExamples> {
        match site {
            None => &self.all,
            Some(s) => self.by_site.get(&site_key(s)).unwrap_or(&self.everywhere),
        }
    }
}

/// A site as corrections are scoped by: the host name, lowercase, without a leading `www.`.
pub fn site_key(site: &str) -> String {
    let s = site.trim().to_ascii_lowercase();
    s.strip_prefix("www.").map(str::to_string).unwrap_or(s)
}

/// Category scores for one post under `policy`: each active built-in category from its head in `heads`
/// (on `head_input`, with its sub-labels), each user-defined one from its rule's `anchors` (on `embedding`);
/// then the corrections in `feedback` (rule id → examples, see [`FeedbackScopes::for_site`]) per rule.
pub fn score(
    policy: &EffectivePolicy,
    heads: &[Head],
    anchors: &HashMap<String, RuleAnchors>,
    head_input: &[f32],
    embedding: &[f32],
    feedback: &HashMap<String, FeedbackExamples>,
) -> Scores {
    let mut scores = Scores::default();
    for cat in policy.active_categories() {
        if let Some(head) = heads.iter().find(|h| h.id == cat) {
            scores.categories.insert(cat.to_string(), head.probability(head_input));
            let subs: BTreeMap<String, f32> = head.sub_probabilities(head_input).into_iter().collect();
            if !subs.is_empty() {
                scores.sub_labels.insert(cat.to_string(), subs);
            }
        } else if let Some(rule_anchors) = anchors.get(cat) {
            scores.categories.insert(cat.to_string(), user_category_probability(embedding, rule_anchors));
        }
    }
    apply_rule_feedback(policy, embedding, feedback, &mut scores);
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_keys_ignore_case_and_www() {
        assert_eq!(site_key(" WWW.Reddit.com "), "reddit.com");
        assert_eq!(site_key("x.com"), "x.com");
    }
}
