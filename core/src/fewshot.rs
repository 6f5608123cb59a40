//! Few-shot scoring on sentence embeddings: user-defined categories from a rule's description and examples,
//! and the reader's feedback nudging any rule's score for posts like the ones they corrected.

/// Cosine similarity of two L2-normalised vectors (a plain dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_similarity(e: &[f32], anchors: &[Vec<f32>]) -> Option<f32> {
    anchors.iter().map(|a| cosine(e, a)).reduce(f32::max)
}

/// Embeddings that define a user-defined category: its description and `should_match` examples (positive),
/// and its `should_not_match` examples (negative).
#[derive(Debug, Clone, Default)]
pub struct RuleAnchors {
    pub positive: Vec<Vec<f32>>,
    pub negative: Vec<Vec<f32>>,
}

/// Similarity to the category's centroid at which a post is as likely in as out. all-MiniLM-L6-v2 puts
/// unrelated sentences around 0.0–0.15 and on-topic ones around 0.35–0.6 from a centroid of a few examples.
pub const RELATEDNESS_FLOOR: f32 = 0.25;
/// Steepness of the similarity → probability mapping.
const USER_CATEGORY_GAIN: f32 = 12.0;

/// Unit-length mean of some embeddings (a category prototype): averaging the description and examples
/// cancels what is particular to each, so on-topic posts sit closer to it than to any single example.
pub fn centroid(vectors: &[Vec<f32>]) -> Option<Vec<f32>> {
    let first = vectors.first()?;
    let mut sum = vec![0.0f32; first.len()];
    for v in vectors {
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
    }
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm > 0.0).then(|| sum.iter().map(|x| x / norm).collect())
}

/// Probability that a post belongs to a user-defined category: `sigmoid(gain · (s⁺ − max(s⁻, floor)))`,
/// where s⁺ is the cosine similarity to the centroid of the positive anchors and s⁻ the highest similarity
/// to a negative anchor. Uncalibrated (there is no labelled data for a category the reader just made up);
/// `feedwarden policy test` shows how it behaves on the rule's own examples.
pub fn user_category_probability(embedding: &[f32], anchors: &RuleAnchors) -> f32 {
    let Some(prototype) = centroid(&anchors.positive) else {
        return 0.0;
    };
    let pos = cosine(embedding, &prototype);
    let neg = max_similarity(embedding, &anchors.negative).unwrap_or(f32::MIN);
    crate::heads::sigmoid(USER_CATEGORY_GAIN * (pos - neg.max(RELATEDNESS_FLOOR)))
}

/// The reader's corrections for one rule, as embeddings of the posts they were about.
#[derive(Debug, Clone, Default)]
pub struct FeedbackExamples {
    /// "Hide more like this": posts the rule should have caught.
    pub more_like_this: Vec<Vec<f32>>,
    /// "This was fine": posts the rule should have left alone.
    pub was_fine: Vec<Vec<f32>>,
}

impl FeedbackExamples {
    pub fn is_empty(&self) -> bool {
        self.more_like_this.is_empty() && self.was_fine.is_empty()
    }
}

/// How far one correction reaches: no effect below `floor` (cosine similarity to the corrected post), then a
/// weight `w = ((s − floor) / (1 − floor))^exponent` and a logit shift of `shift · w`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedbackReach {
    pub floor: f32,
    pub exponent: i32,
    pub shift: f32,
}

impl FeedbackReach {
    /// The logit shift for a post whose nearest corrected post is at similarity `s` (none: 0).
    fn shift_at(&self, s: Option<f32>) -> f32 {
        s.map(|s| self.shift * ((s - self.floor).max(0.0) / (1.0 - self.floor)).min(1.0).powi(self.exponent))
            .unwrap_or(0.0)
    }
}

/// "Hide more like this" makes the filter stricter: it reaches posts on the same topic (all-MiniLM-L6-v2 puts
/// those around 0.5–0.8 from each other), so the reader's "more like this" catches what is like it.
pub const MORE_LIKE_THIS_REACH: FeedbackReach = FeedbackReach { floor: 0.5, exponent: 1, shift: 8.0 };
/// "This was fine" makes the filter weaker, so it reaches only the corrected post and its near-duplicates
/// (paraphrases sit around 0.85–1): the weight is squared and starts at 0.7, so one correction cannot
/// switch a rule off for posts it was not about, however typical of the rule the corrected post was (a page
/// that clicks "This was fine" on a post it made up un-filters that post, not the others). The same post
/// drops from 0.99 to below 0.001, a close paraphrase (0.93) to about 0.06, a post at 0.8 only from 0.95
/// to 0.84; below 0.7 nothing moves.
pub const WAS_FINE_REACH: FeedbackReach = FeedbackReach { floor: 0.7, exponent: 2, shift: 12.0 };

/// Move a rule's probability towards the reader's corrections: the logit moves up by
/// [`MORE_LIKE_THIS_REACH`] for the nearest "more like this" example and down by [`WAS_FINE_REACH`] for the
/// nearest "was fine" one. Several corrections do not add up (the nearest of each kind counts); posts below
/// both floors are untouched.
pub fn apply_feedback(probability: f32, embedding: &[f32], feedback: &FeedbackExamples) -> f32 {
    if feedback.is_empty() {
        return probability;
    }
    let delta = MORE_LIKE_THIS_REACH.shift_at(max_similarity(embedding, &feedback.more_like_this))
        - WAS_FINE_REACH.shift_at(max_similarity(embedding, &feedback.was_fine));
    if delta == 0.0 {
        return probability;
    }
    let p = probability.clamp(1e-6, 1.0 - 1e-6);
    let logit = (p / (1.0 - p)).ln();
    crate::heads::sigmoid(logit + delta)
}

/// Apply the reader's corrections, grouped by rule id, to the scores of one post: each enabled rule with
/// corrections gets [`apply_feedback`] of its category's probability, stored in `scores.rule_adjusted` when it
/// moved (what `decide` then uses, and says so in the reason). The native host does this in its judge; the
/// in-browser fallback (`tiny::TinyJudge`) calls this.
pub fn apply_rule_feedback(
    policy: &crate::EffectivePolicy,
    embedding: &[f32],
    feedback_by_rule: &std::collections::HashMap<String, FeedbackExamples>,
    scores: &mut crate::decision::Scores,
) {
    for rule in policy.enabled_rules() {
        let (Some(fb), Some(&p)) = (feedback_by_rule.get(&rule.id), scores.categories.get(rule.category_id())) else {
            continue;
        };
        let adjusted = apply_feedback(p, embedding, fb);
        if adjusted != p {
            scores.rule_adjusted.insert(rule.id.clone(), adjusted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn closer_to_positive_means_higher_probability() {
        let anchors = RuleAnchors { positive: vec![unit(&[1.0, 0.0, 0.0])], negative: vec![unit(&[0.0, 1.0, 0.0])] };
        let near = user_category_probability(&unit(&[0.9, 0.1, 0.0]), &anchors);
        let far = user_category_probability(&unit(&[0.0, 0.2, 1.0]), &anchors);
        let neg = user_category_probability(&unit(&[0.1, 0.9, 0.0]), &anchors);
        assert!(near > 0.99, "{near}");
        assert!(far < 0.1, "{far}");
        assert!(neg < 0.01, "{neg}");
    }

    #[test]
    fn centroid_is_the_unit_mean() {
        let c = centroid(&[vec![1.0, 0.0], vec![0.0, 1.0]]).unwrap();
        assert!((c[0] - 0.70710677).abs() < 1e-6 && (c[1] - 0.70710677).abs() < 1e-6);
        assert!(centroid(&[]).is_none());
        assert!(centroid(&[vec![1.0, 0.0], vec![-1.0, 0.0]]).is_none());
    }

    #[test]
    fn no_positive_anchor_means_zero() {
        assert_eq!(user_category_probability(&unit(&[1.0, 0.0]), &RuleAnchors::default()), 0.0);
    }

    #[test]
    fn feedback_moves_the_same_post_and_spares_unrelated_ones() {
        let post = unit(&[1.0, 0.0, 0.0]);
        let fb = FeedbackExamples { more_like_this: vec![], was_fine: vec![post.clone()] };
        let after = apply_feedback(0.95, &post, &fb);
        assert!(after < 0.01, "{after}");
        let unrelated = unit(&[0.0, 0.0, 1.0]);
        assert_eq!(apply_feedback(0.95, &unrelated, &fb), 0.95);
        let fb_pos = FeedbackExamples { more_like_this: vec![post.clone()], was_fine: vec![] };
        assert!(apply_feedback(0.2, &post, &fb_pos) > 0.99);
    }

    /// A "was fine" leaves a post on the same topic but not a near-duplicate (similarity 0.6) untouched, and one
    /// at 0.8 keeps a 0.95 score above 0.8: it reaches the post and its paraphrases, not the whole rule. A
    /// "more like this" reaches further (0.6 moves).
    #[test]
    fn was_fine_falls_off_fast_below_near_duplicates() {
        let post = unit(&[1.0, 0.0]);
        let at = |s: f32| vec![s, (1.0 - s * s).sqrt()];
        let fb = FeedbackExamples { more_like_this: vec![], was_fine: vec![post] };
        assert_eq!(apply_feedback(0.95, &at(0.6), &fb), 0.95);
        let near = apply_feedback(0.95, &at(0.8), &fb);
        assert!(near > 0.8, "{near}");
        let paraphrase = apply_feedback(0.95, &at(0.97), &fb);
        assert!(paraphrase < 0.1, "{paraphrase}");
        let more = FeedbackExamples { more_like_this: vec![unit(&[1.0, 0.0])], was_fine: vec![] };
        assert!(apply_feedback(0.3, &at(0.6), &more) > 0.4);
    }
}
