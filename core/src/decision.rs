//! The decision: which rules fire for a post given its scores, which one wins, and the one-line "why".
//!
//! Precedence (documented in `policies/README.md`): a rule fires when it is enabled, applies to the post's
//! site and to text, its score ≥ its threshold and the author is not exempt. A rule with an
//! `image_description` has a second score, from its images (the host's CLIP): the larger of the two counts,
//! and the reason says which it was. If any firing rule is an
//! `allow` rule, the post is allowed. Otherwise the strongest action wins (hide > blur > label); among equal
//! actions the rule with the larger margin (score − threshold) wins, then the earlier rule.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::categories::{builtin_category, sub_label_name, JudgedFrom};
use crate::policy::{Action, ContentKind, EffectivePolicy, Rule};
use crate::Post;

/// What happens to the post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum VerdictAction {
    /// No rule fired.
    Show,
    /// An `allow` rule fired (it overrides every other rule).
    Allow,
    Label,
    Blur,
    Hide,
}

impl From<Action> for VerdictAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Allow => VerdictAction::Allow,
            Action::Label => VerdictAction::Label,
            Action::Blur => VerdictAction::Blur,
            Action::Hide => VerdictAction::Hide,
        }
    }
}

impl VerdictAction {
    /// Whether the post is filtered (labelled, blurred or hidden) rather than shown.
    pub fn filters(self) -> bool {
        matches!(self, VerdictAction::Label | VerdictAction::Blur | VerdictAction::Hide)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictAction::Show => "show",
            VerdictAction::Allow => "allow",
            VerdictAction::Label => "label",
            VerdictAction::Blur => "blur",
            VerdictAction::Hide => "hide",
        }
    }
}

/// Scores for one post, as computed by whichever engine judged it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scores {
    /// Category id → calibrated probability, for every active category.
    pub categories: BTreeMap<String, f32>,
    /// Category id → sub-label id → probability (the manipulation techniques).
    pub sub_labels: BTreeMap<String, BTreeMap<String, f32>>,
    /// Rule id → probability after the reader's feedback, where it differs from the category score.
    pub rule_adjusted: BTreeMap<String, f32>,
    /// Rule id → probability that one of the post's images shows the rule's `image_description` (the
    /// highest over its images). Only the host fills it (CLIP); other engines leave it empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, f32>,
}

impl Scores {
    pub fn for_rule(&self, rule: &Rule) -> Option<f32> {
        self.rule_adjusted.get(&rule.id).or_else(|| self.categories.get(rule.category_id())).copied()
    }

    /// The higher of two judgements of one post (its own text and the text read from its images, each scored
    /// on its own, so neither dilutes the other): per category the higher probability, with the sub-labels of
    /// the text that scored it; per rule of `policy` the higher score after feedback; per image rule the
    /// higher image score.
    pub fn max_with(self, other: Scores, policy: &EffectivePolicy) -> Scores {
        let mut categories = self.categories.clone();
        let mut sub_labels = self.sub_labels.clone();
        for (cat, &p) in &other.categories {
            if categories.get(cat).is_none_or(|&mine| p > mine) {
                categories.insert(cat.clone(), p);
                match other.sub_labels.get(cat) {
                    Some(subs) => sub_labels.insert(cat.clone(), subs.clone()),
                    None => sub_labels.remove(cat),
                };
            }
        }
        let mut rule_adjusted = BTreeMap::new();
        for rule in policy.enabled_rules() {
            if !self.rule_adjusted.contains_key(&rule.id) && !other.rule_adjusted.contains_key(&rule.id) {
                continue;
            }
            let best = match (self.for_rule(rule), other.for_rule(rule)) {
                (Some(a), Some(b)) => a.max(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => continue,
                },
            };
            // Feedback that lost to the other text's unadjusted score moved nothing.
            if categories.get(rule.category_id()) != Some(&best) {
                rule_adjusted.insert(rule.id.clone(), best);
            }
        }
        let mut images = self.images;
        for (id, p) in other.images {
            let e = images.entry(id).or_insert(p);
            *e = e.max(p);
        }
        Scores { categories, sub_labels, rule_adjusted, images }
    }
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FiredRule {
    pub rule: String,
    pub action: Action,
    pub score: f32,
    pub threshold: f32,
}

/// The verdict for one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "EngineVerdict"))]
pub struct Verdict {
    pub id: String,
    pub action: VerdictAction,
    /// The rule that decided, if any.
    pub rule: Option<String>,
    /// What that rule looks for, in its author's words (its `description`, on one line, at most
    /// [`MAX_DESCRIPTION_CHARS`] characters), so a reader's own rule can be named in a sentence.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(test, ts(optional))]
    pub description: Option<String>,
    pub scores: BTreeMap<String, f32>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    #[cfg_attr(test, ts(as = "Option<BTreeMap<String, BTreeMap<String, f32>>>", optional))]
    pub sub_labels: BTreeMap<String, BTreeMap<String, f32>>,
    /// Every rule that fired, strongest first.
    pub fired: Vec<FiredRule>,
    /// Rule id → image score (see [`Scores::images`]), for rules with an `image_description`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    #[cfg_attr(test, ts(as = "Option<BTreeMap<String, f32>>", optional))]
    pub image_scores: BTreeMap<String, f32>,
    /// One line a reader understands.
    pub reason: String,
}

/// Longest rule description a verdict carries, in characters (the rest is cut and marked with `…`).
pub const MAX_DESCRIPTION_CHARS: usize = 200;

fn round4(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}

/// A text category's name in lower case (an image-only or user-defined category keeps its id).
fn category_name(id: &str) -> String {
    builtin_category(id)
        .filter(|c| c.judged_from == JudgedFrom::Text)
        .map(|c| c.name.to_lowercase())
        .unwrap_or_else(|| id.to_string())
}

/// Manipulation techniques worth naming: the sub-labels at or above 0.5, strongest first, at most three.
fn techniques(category: &str, scores: &Scores) -> String {
    let Some(subs) = scores.sub_labels.get(category) else {
        return String::new();
    };
    let mut strong: Vec<(&String, &f32)> = subs.iter().filter(|(_, p)| **p >= 0.5).collect();
    strong.sort_by(|a, b| b.1.total_cmp(a.1));
    if strong.is_empty() {
        return String::new();
    }
    let names: Vec<String> = strong
        .iter()
        .take(3)
        .map(|(id, p)| {
            let name = sub_label_name(category, id).unwrap_or(id.as_str()).to_lowercase();
            format!("{name} {p:.2}")
        })
        .collect();
    format!("; techniques: {}", names.join(", "))
}

/// Decide what to do with `post` under `policy`, given its `scores`.
pub fn decide(policy: &EffectivePolicy, post: &Post, scores: &Scores) -> Verdict {
    let mut fired: Vec<(usize, FiredRule)> = Vec::new();
    // Rules whose winning score came from their images rather than from text.
    let mut by_image: Vec<&str> = Vec::new();
    let mut exempt: Option<(&Rule, String)> = None;
    let mut nearest_miss: Option<(&Rule, f32)> = None;
    for (i, rule) in policy.enabled_rules().enumerate() {
        // A rule limited to images judges posts that have images (their recognised text and image scores).
        let judged = rule.judges(ContentKind::Text) || (rule.judges(ContentKind::Images) && !post.images.is_empty());
        if !judged || !rule.applies_to_site(post.site.as_deref()) {
            continue;
        }
        let text_score = scores.for_rule(rule);
        let image_score = scores.images.get(&rule.id).copied().filter(|_| rule.judges(ContentKind::Images));
        let score = match (text_score, image_score) {
            (Some(t), Some(i)) if i > t => {
                by_image.push(&rule.id);
                i
            }
            (Some(t), _) => t,
            (None, Some(i)) => {
                by_image.push(&rule.id);
                i
            }
            (None, None) => continue,
        };
        let threshold = rule.threshold_value() as f32;
        if score < threshold {
            if nearest_miss.is_none_or(|(r, s)| score - threshold > s - r.threshold_value() as f32) {
                nearest_miss = Some((rule, score));
            }
            continue;
        }
        if let Some(why) = rule.exempts(post) {
            exempt.get_or_insert((rule, why));
            continue;
        }
        fired.push((i, FiredRule { rule: rule.id.clone(), action: rule.action, score, threshold }));
    }
    // Strongest first: allow, then severity, then margin, then file order.
    fired.sort_by(|(ia, a), (ib, b)| {
        let key = |r: &FiredRule| (r.action == Action::Allow, r.action.severity());
        key(b).cmp(&key(a)).then((b.score - b.threshold).total_cmp(&(a.score - a.threshold))).then(ia.cmp(ib))
    });
    let fired: Vec<FiredRule> = fired.into_iter().map(|(_, f)| f).collect();

    let description = fired
        .first()
        .and_then(|w| policy.rule(&w.rule))
        .map(|r| r.description.trim())
        .filter(|d| !d.is_empty())
        .map(|d| crate::policy::limits::one_line_capped(d, MAX_DESCRIPTION_CHARS));
    let (action, rule, reason) = match fired.first() {
        Some(win) => {
            let r = policy.rule(&win.rule).expect("fired rule exists");
            let verb = match win.action {
                Action::Allow => "Allowed",
                Action::Label => "Labelled",
                Action::Blur => "Blurred",
                Action::Hide => "Hidden",
            };
            let cat = r.category_id();
            let from_image = by_image.contains(&r.id.as_str());
            let mut reason = if from_image {
                let what = r.image_description.as_deref().unwrap_or(&r.description);
                format!(
                    "{verb} by rule \"{}\": an image looks like \"{what}\" ({:.2} ≥ {:.2})",
                    r.id, win.score, win.threshold
                )
            } else {
                format!(
                    "{verb} by rule \"{}\": {} {:.2} ≥ {:.2}{}",
                    r.id,
                    category_name(cat),
                    win.score,
                    win.threshold,
                    techniques(cat, scores)
                )
            };
            let adjusted = scores.rule_adjusted.contains_key(&r.id) && !from_image;
            if let Some(&raw) = scores.categories.get(cat).filter(|_| adjusted) {
                reason.push_str(&format!(" (your feedback moved it from {raw:.2})"));
            }
            if win.action == Action::Allow && fired.len() > 1 {
                reason.push_str(&format!("; allow wins over {} other rule(s)", fired.len() - 1));
            }
            (VerdictAction::from(win.action), Some(r.id.clone()), reason)
        }
        None => {
            let reason = match (exempt, nearest_miss) {
                (Some((r, why)), _) => format!("Shown: rule \"{}\" matched, but {why}", r.id),
                (None, Some((r, s))) => format!(
                    "Shown: no rule fired (closest: \"{}\", {} {:.2} < {:.2})",
                    r.id,
                    category_name(r.category_id()),
                    s,
                    r.threshold_value()
                ),
                (None, None) => "Shown: no rule applies to this post".to_string(),
            };
            (VerdictAction::Show, None, reason)
        }
    };
    Verdict {
        id: post.id.clone(),
        action,
        rule,
        description,
        scores: scores.categories.iter().map(|(k, v)| (k.clone(), round4(*v))).collect(),
        sub_labels: scores
            .sub_labels
            .iter()
            .map(|(k, m)| (k.clone(), m.iter().map(|(s, v)| (s.clone(), round4(*v))).collect()))
            .collect(),
        fired: fired.into_iter().map(|f| FiredRule { score: round4(f.score), ..f }).collect(),
        image_scores: scores.images.iter().map(|(k, v)| (k.clone(), round4(*v))).collect(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Rule, Threshold};

    fn policy(rules: Vec<Rule>) -> EffectivePolicy {
        EffectivePolicy::from_rules("t", None, rules)
    }

    fn rule(id: &str, cat: &str, action: Action, thr: f64) -> Rule {
        let mut r = Rule::new(id, "d", Some(cat), action);
        r.threshold = Some(Threshold::Value(thr));
        r
    }

    fn scores(pairs: &[(&str, f32)]) -> Scores {
        Scores { categories: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(), ..Default::default() }
    }

    fn post() -> Post {
        Post {
            id: "p1".into(),
            text: "t".into(),
            author: Some("@Bob".into()),
            site: Some("x.com".into()),
            ..Default::default()
        }
    }

    #[test]
    fn precedence_table() {
        let rules = vec![
            rule("label-click", "clickbait", Action::Label, 0.5),
            rule("blur-rage", "rage-bait", Action::Blur, 0.5),
            rule("hide-manip", "manipulation", Action::Hide, 0.9),
        ];
        let p = policy(rules);
        // (scores, expected action, expected rule)
        type Case<'a> = (&'a [(&'a str, f32)], VerdictAction, Option<&'a str>);
        let cases: &[Case] = &[
            (&[("clickbait", 0.1), ("rage-bait", 0.1), ("manipulation", 0.1)], VerdictAction::Show, None),
            (
                &[("clickbait", 0.6), ("rage-bait", 0.1), ("manipulation", 0.1)],
                VerdictAction::Label,
                Some("label-click"),
            ),
            (
                &[("clickbait", 0.99), ("rage-bait", 0.51), ("manipulation", 0.1)],
                VerdictAction::Blur,
                Some("blur-rage"),
            ),
            (
                &[("clickbait", 0.99), ("rage-bait", 0.9), ("manipulation", 0.95)],
                VerdictAction::Hide,
                Some("hide-manip"),
            ),
            (
                &[("clickbait", 0.5), ("rage-bait", 0.1), ("manipulation", 0.1)],
                VerdictAction::Label,
                Some("label-click"),
            ),
        ];
        for (s, action, rule) in cases {
            let v = decide(&p, &post(), &scores(s));
            assert_eq!((v.action, v.rule.as_deref()), (*action, *rule), "{s:?}: {}", v.reason);
        }
    }

    #[test]
    fn allow_wins() {
        let p = policy(vec![
            rule("hide-rage", "rage-bait", Action::Hide, 0.5),
            rule("ok-sports", "sports", Action::Allow, 0.5),
        ]);
        let v = decide(&p, &post(), &scores(&[("rage-bait", 0.99), ("sports", 0.6)]));
        assert_eq!(v.action, VerdictAction::Allow);
        assert_eq!(v.fired.len(), 2);
        assert!(v.reason.contains("allow wins"), "{}", v.reason);
    }

    #[test]
    fn the_verdict_carries_the_deciding_rules_description_on_one_line() {
        let mut r = Rule::new("crypto", "Crypto and NFT\npromotion", Some("crypto"), Action::Hide);
        r.threshold = Some(Threshold::Value(0.5));
        let p = policy(vec![r, rule("blur-rage", "rage-bait", Action::Blur, 0.5)]);
        let v = decide(&p, &post(), &scores(&[("crypto", 0.9), ("rage-bait", 0.6)]));
        assert_eq!(v.description.as_deref(), Some("Crypto and NFT\\npromotion"));
        let shown = decide(&p, &post(), &scores(&[("crypto", 0.1)]));
        assert_eq!(shown.description, None, "no rule decided, no description");
        let mut long = Rule::new("long", &"word ".repeat(100), Some("long"), Action::Label);
        long.threshold = Some(Threshold::Value(0.5));
        let v = decide(&policy(vec![long]), &post(), &scores(&[("long", 0.9)]));
        let d = v.description.expect("described");
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(d.ends_with('…'));
        let json = serde_json::to_value(decide(&p, &post(), &scores(&[("crypto", 0.1)]))).unwrap();
        assert!(json.get("description").is_none(), "absent, not null, when no rule decided: {json}");
    }

    #[test]
    fn max_with_keeps_the_higher_text_per_category_and_rule() {
        let p = policy(vec![
            rule("blur-rage", "rage-bait", Action::Blur, 0.5),
            rule("cb", "clickbait", Action::Label, 0.5),
        ]);
        let mut own = scores(&[("rage-bait", 0.2), ("clickbait", 0.97)]);
        own.sub_labels.insert("rage-bait".into(), [("a".to_string(), 0.1)].into_iter().collect());
        let mut image = scores(&[("rage-bait", 0.8), ("clickbait", 0.1)]);
        image.sub_labels.insert("rage-bait".into(), [("b".to_string(), 0.9)].into_iter().collect());
        image.rule_adjusted.insert("cb".into(), 0.05);
        let m = own.max_with(image, &p);
        assert_eq!(m.categories["rage-bait"], 0.8);
        assert_eq!(m.categories["clickbait"], 0.97, "a harmless screenshot does not dilute the post's own text");
        assert!(m.sub_labels["rage-bait"].contains_key("b"), "sub-labels follow the text that scored the category");
        assert!(m.rule_adjusted.is_empty(), "the feedback on the image text lost to the post's own score");
        let v = decide(&p, &post(), &m);
        assert_eq!(v.rule.as_deref(), Some("blur-rage"));

        let mut own = scores(&[("clickbait", 0.9)]);
        own.rule_adjusted.insert("cb".into(), 0.3);
        let m = own.max_with(scores(&[("clickbait", 0.6)]), &p);
        assert_eq!(m.rule_adjusted.get("cb"), Some(&0.6), "after feedback the post's text scores 0.3, its image 0.6");
    }

    #[test]
    fn equal_actions_pick_the_larger_margin() {
        let p = policy(vec![rule("a", "rage-bait", Action::Blur, 0.5), rule("b", "clickbait", Action::Blur, 0.5)]);
        let v = decide(&p, &post(), &scores(&[("rage-bait", 0.6), ("clickbait", 0.8)]));
        assert_eq!(v.rule.as_deref(), Some("b"));
    }

    #[test]
    fn exceptions_sites_and_scope() {
        let mut r = rule("r", "rage-bait", Action::Hide, 0.5);
        r.except_authors = Some(vec!["@bob".into()]);
        let v = decide(&policy(vec![r.clone()]), &post(), &scores(&[("rage-bait", 0.9)]));
        assert_eq!(v.action, VerdictAction::Show);
        assert!(v.reason.contains("@bob"), "{}", v.reason);

        r.except_authors = None;
        r.except_followed = Some(true);
        let mut followed = post();
        followed.author_followed = Some(true);
        assert_eq!(
            decide(&policy(vec![r.clone()]), &followed, &scores(&[("rage-bait", 0.9)])).action,
            VerdictAction::Show
        );
        assert_eq!(
            decide(&policy(vec![r.clone()]), &post(), &scores(&[("rage-bait", 0.9)])).action,
            VerdictAction::Hide
        );

        r.except_followed = None;
        r.sites = Some(vec!["reddit.com".into()]);
        assert_eq!(
            decide(&policy(vec![r.clone()]), &post(), &scores(&[("rage-bait", 0.9)])).action,
            VerdictAction::Show
        );
        let mut on_reddit = post();
        on_reddit.site = Some("old.reddit.com".into());
        assert_eq!(
            decide(&policy(vec![r.clone()]), &on_reddit, &scores(&[("rage-bait", 0.9)])).action,
            VerdictAction::Hide
        );

        r.sites = None;
        r.content = Some(vec![ContentKind::Images]);
        assert_eq!(
            decide(&policy(vec![r.clone()]), &post(), &scores(&[("rage-bait", 0.9)])).action,
            VerdictAction::Show
        );

        r.content = None;
        r.enabled = Some(false);
        assert_eq!(decide(&policy(vec![r]), &post(), &scores(&[("rage-bait", 0.9)])).action, VerdictAction::Show);
    }

    #[test]
    fn feedback_adjusted_score_is_used_and_explained() {
        let p = policy(vec![rule("r", "rage-bait", Action::Blur, 0.5)]);
        let mut s = scores(&[("rage-bait", 0.9)]);
        s.rule_adjusted.insert("r".into(), 0.1);
        assert_eq!(decide(&p, &post(), &s).action, VerdictAction::Show);
        s.rule_adjusted.insert("r".into(), 0.95);
        let v = decide(&p, &post(), &scores(&[("rage-bait", 0.3)]));
        assert_eq!(v.action, VerdictAction::Show);
        let mut s = scores(&[("rage-bait", 0.3)]);
        s.rule_adjusted.insert("r".into(), 0.95);
        let v = decide(&p, &post(), &s);
        assert_eq!(v.action, VerdictAction::Blur);
        assert!(v.reason.contains("your feedback moved it from 0.30"), "{}", v.reason);
    }

    #[test]
    fn image_score_fires_a_rule_and_the_reason_says_so() {
        let mut r = Rule::new("spiders", "Posts about spiders", None, Action::Blur);
        r.threshold = Some(Threshold::Value(0.7));
        r.image_description = Some("a spider".into());
        let p = policy(vec![r.clone()]);
        let mut with_image = post();
        with_image.images = vec!["data:image/png;base64,AAAA".into()];
        let mut s = scores(&[("spiders", 0.2)]);
        assert_eq!(decide(&p, &with_image, &s).action, VerdictAction::Show);
        s.images.insert("spiders".into(), 0.91);
        let v = decide(&p, &with_image, &s);
        assert_eq!(v.action, VerdictAction::Blur);
        assert!(v.reason.contains("an image looks like \"a spider\" (0.91 ≥ 0.70)"), "{}", v.reason);
        assert_eq!(v.image_scores.get("spiders"), Some(&0.91));
        // A higher text score is the one named.
        let mut s2 = scores(&[("spiders", 0.95)]);
        s2.images.insert("spiders".into(), 0.8);
        let v = decide(&p, &with_image, &s2);
        assert!(v.reason.contains("spiders 0.95 ≥ 0.70"), "{}", v.reason);
        // A rule limited to text ignores its image score.
        r.content = Some(vec![ContentKind::Text]);
        assert_eq!(decide(&policy(vec![r]), &with_image, &s).action, VerdictAction::Show);
    }
}
