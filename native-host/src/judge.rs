//! The text judge: embeds posts with the real encoder, scores every active category (trained heads for the
//! built-in ones, few-shot anchors for user-defined ones), applies the reader's feedback and lets `core`
//! decide. The host and the CLI both run this.

use std::collections::{BTreeMap, HashMap};

use feedwarden_core::decision::Scores;
use feedwarden_core::fewshot::{apply_feedback, user_category_probability, FeedbackExamples, RuleAnchors};
use feedwarden_core::heads::builtin_head;
use feedwarden_core::{decide, EffectivePolicy, Post, Verdict};

use crate::embedder::{EmbedderError, EmbedderPool, MODEL_ID};
use crate::images::{ImageAnalysis, ImageAnalyzer};
use crate::store::{FeedbackKind, FeedbackRow};

/// How one of a policy's own examples fared in `policy test`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExampleResult {
    pub rule: String,
    pub text: String,
    pub expected_match: bool,
    pub score: f32,
    pub threshold: f32,
    pub passed: bool,
}

/// Embedder + the active policy's compiled state + the reader's feedback.
#[derive(Debug)]
pub struct Judge {
    embedder: EmbedderPool,
    policy: EffectivePolicy,
    anchors: HashMap<String, RuleAnchors>,
    feedback: Vec<FeedbackRow>,
    feedback_by_rule: HashMap<String, FeedbackExamples>,
    feedback_version: i64,
    /// OCR + NSFW for posts' images; `None` judges text only.
    images: Option<ImageAnalyzer>,
    /// Folder relative image paths are read from (batch mode); `None` refuses local files (the host).
    image_base_dir: Option<std::path::PathBuf>,
    /// The caller analyses images and passes the results in (the host); see [`Judge::judge_with_analyses`].
    images_analysed_by_caller: bool,
}

/// The built-in category scored from images alone (OpenNSFW), not from text.
pub const NSFW_CATEGORY: &str = "nsfw";
/// Characters of recognised text quoted in a verdict's reason at most.
const QUOTE_CHARS: usize = 120;

impl Judge {
    pub fn new(embedder: EmbedderPool, policy: EffectivePolicy) -> Result<Self, EmbedderError> {
        let mut judge = Judge {
            embedder,
            policy: EffectivePolicy::default(),
            anchors: HashMap::new(),
            feedback: Vec::new(),
            feedback_by_rule: HashMap::new(),
            feedback_version: 0,
            images: None,
            image_base_dir: None,
            images_analysed_by_caller: false,
        };
        judge.set_policy(policy)?;
        Ok(judge)
    }

    /// Judge images too: their recognised text joins the post's text and `nsfw` gets a score.
    pub fn set_image_analyzer(&mut self, analyzer: ImageAnalyzer, base_dir: Option<std::path::PathBuf>) {
        self.images = Some(analyzer);
        self.image_base_dir = base_dir;
    }

    pub fn image_analyzer(&self) -> Option<&ImageAnalyzer> {
        self.images.as_ref()
    }

    pub fn policy(&self) -> &EffectivePolicy {
        &self.policy
    }

    pub fn embedder(&mut self) -> &mut EmbedderPool {
        &mut self.embedder
    }

    /// Activate a policy: embeds the descriptions and examples of its user-defined rules.
    pub fn set_policy(&mut self, policy: EffectivePolicy) -> Result<(), EmbedderError> {
        let mut anchors = HashMap::new();
        for rule in policy.enabled_rules().filter(|r| r.is_user_defined()) {
            let positives: Vec<&str> = std::iter::once(rule.description.as_str())
                .chain(rule.should_match.iter().map(String::as_str))
                .collect();
            let negatives: Vec<&str> = rule.should_not_match.iter().map(String::as_str).collect();
            anchors.insert(
                rule.id.clone(),
                RuleAnchors { positive: self.embed_all(&positives)?, negative: self.embed_all(&negatives)? },
            );
        }
        self.policy = policy;
        self.anchors = anchors;
        self.rebuild_feedback();
        Ok(())
    }

    /// Replace the reader's corrections (from the store).
    pub fn set_feedback(&mut self, rows: Vec<FeedbackRow>) {
        self.feedback_version = rows.iter().map(|r| r.id).max().unwrap_or(0);
        self.feedback = rows;
        self.rebuild_feedback();
    }

    fn rebuild_feedback(&mut self) {
        let mut by_rule: HashMap<String, FeedbackExamples> = HashMap::new();
        for row in &self.feedback {
            let rules: Vec<String> = match &row.rule {
                Some(r) => vec![r.clone()],
                None => self.policy.rules.iter().map(|r| r.id.clone()).collect(),
            };
            for rule in rules {
                let entry = by_rule.entry(rule).or_default();
                match row.kind {
                    FeedbackKind::WasFine => entry.was_fine.push(row.embedding.clone()),
                    FeedbackKind::MoreLikeThis => entry.more_like_this.push(row.embedding.clone()),
                }
            }
        }
        self.feedback_by_rule = by_rule;
    }

    /// Say that the caller analyses posts' images itself and passes the analyses to
    /// [`Judge::judge_with_analyses`] (the host does, on its image thread): images then count in cache keys.
    pub fn set_images_analysed_by_caller(&mut self) {
        self.images_analysed_by_caller = true;
    }

    /// Everything a verdict for `post` depends on besides the post: part of its cache key.
    pub fn cache_key(&self, post: &Post) -> String {
        // Images count by content (a data: URL is its content) and only when they are judged.
        let images = if self.images.is_some() || self.images_analysed_by_caller {
            let entries: Vec<String> = post.images.iter().map(|i| feedwarden_core::sha256_hex(i.as_bytes())).collect();
            entries.join(",")
        } else {
            String::new()
        };
        let key = format!(
            "{MODEL_ID}\0{}\0{}\0{}\0{}\0{:?}\0{}\0{images}",
            self.policy.hash,
            self.feedback_version,
            post.judged_text(),
            post.site.as_deref().unwrap_or(""),
            post.author_followed,
            post.normalized_author().unwrap_or_default(),
        );
        feedwarden_core::sha256_hex(key.as_bytes())
    }

    /// Embed texts on every worker of the pool.
    pub fn embed_all(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedderError> {
        self.embedder.embed(texts)
    }

    /// Category scores for one embedding under the active policy, feedback applied per rule.
    pub fn scores(&self, embedding: &[f32]) -> Scores {
        let mut scores = Scores::default();
        for cat in self.policy.active_categories() {
            if let Some(head) = builtin_head(cat) {
                scores.categories.insert(cat.to_string(), head.probability(embedding));
                let subs: BTreeMap<String, f32> = head.sub_probabilities(embedding).into_iter().collect();
                if !subs.is_empty() {
                    scores.sub_labels.insert(cat.to_string(), subs);
                }
            } else if let Some(anchors) = self.anchors.get(cat) {
                scores.categories.insert(cat.to_string(), user_category_probability(embedding, anchors));
            }
        }
        for rule in self.policy.enabled_rules() {
            let (Some(fb), Some(&p)) = (self.feedback_by_rule.get(&rule.id), scores.categories.get(rule.category_id()))
            else {
                continue;
            };
            let adjusted = apply_feedback(p, embedding, fb);
            if adjusted != p {
                scores.rule_adjusted.insert(rule.id.clone(), adjusted);
            }
        }
        scores
    }

    /// Judge posts (no cache: the host adds one in `host.rs`).
    pub fn judge(&mut self, posts: &[Post]) -> Result<Vec<Verdict>, EmbedderError> {
        Ok(self.judge_detailed(posts)?.into_iter().map(|(v, _)| v).collect())
    }

    /// Judge posts and return what each of their images said. An image's recognised text is judged with the
    /// post's text (the reason quotes it); `nsfw` is the highest P(nsfw) over the post's images.
    pub fn judge_detailed(&mut self, posts: &[Post]) -> Result<Vec<(Verdict, Vec<ImageAnalysis>)>, EmbedderError> {
        let analyses: Vec<Vec<ImageAnalysis>> = posts.iter().map(|p| self.analyse_images(p)).collect();
        self.judge_with_analyses(posts, analyses)
    }

    /// Judge posts whose images were analysed elsewhere (the host analyses them on its image thread, see
    /// `host.rs`): `analyses[i]` belongs to `posts[i]`; an empty list judges that post on its text alone.
    pub fn judge_with_analyses(
        &mut self,
        posts: &[Post],
        analyses: Vec<Vec<ImageAnalysis>>,
    ) -> Result<Vec<(Verdict, Vec<ImageAnalysis>)>, EmbedderError> {
        assert_eq!(posts.len(), analyses.len(), "one list of image analyses per post");
        let ocr_texts: Vec<String> = analyses
            .iter()
            .map(|a| a.iter().map(|i| i.text.as_str()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n"))
            .collect();
        let texts: Vec<String> = posts
            .iter()
            .zip(&ocr_texts)
            .map(|(p, ocr)| {
                let mut t = p.judged_text();
                feedwarden_core::text::append_paragraph(&mut t, ocr);
                t
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embeddings = self.embed_all(&refs)?;
        let nsfw_active = self.policy.active_categories().contains(&NSFW_CATEGORY);
        let mut out = Vec::with_capacity(posts.len());
        for (((post, e), images), ocr) in posts.iter().zip(&embeddings).zip(analyses).zip(&ocr_texts) {
            let mut scores = self.scores(e);
            let nsfw = images.iter().filter_map(|i| i.nsfw).reduce(f32::max);
            if let (true, Some(p)) = (nsfw_active, nsfw) {
                scores.categories.insert(NSFW_CATEGORY.to_string(), p);
            }
            let mut verdict = decide(&self.policy, post, &scores);
            let from_text = verdict
                .rule
                .as_deref()
                .and_then(|r| self.policy.rule(r))
                .is_some_and(|r| r.category_id() != NSFW_CATEGORY);
            if from_text && !ocr.is_empty() {
                verdict.reason.push_str(&format!("; text in the image: \"{}\"", quote(ocr)));
            }
            out.push((verdict, images));
        }
        Ok(out)
    }

    fn analyse_images(&mut self, post: &Post) -> Vec<ImageAnalysis> {
        let Some(analyzer) = self.images.as_mut() else {
            return Vec::new();
        };
        post.images.iter().map(|entry| analyzer.analyse_entry(entry, self.image_base_dir.as_deref())).collect()
    }

    /// Run every rule's own examples as tests. For user-defined rules each example is left out of the
    /// anchors while it is tested, so an example cannot pass just by matching itself.
    pub fn test_examples(&mut self) -> Result<Vec<ExampleResult>, EmbedderError> {
        let mut results = Vec::new();
        let rules: Vec<_> = self.policy.enabled_rules().cloned().collect();
        for rule in rules {
            // Image-only categories have no text examples to test.
            if rule.category_id() == NSFW_CATEGORY && !rule.is_user_defined() {
                continue;
            }
            let cases: Vec<(&String, bool)> = rule
                .should_match
                .iter()
                .map(|t| (t, true))
                .chain(rule.should_not_match.iter().map(|t| (t, false)))
                .collect();
            let texts: Vec<&str> = cases.iter().map(|(t, _)| t.as_str()).collect();
            let embeddings = self.embed_all(&texts)?;
            for (i, ((text, expected), e)) in cases.iter().zip(&embeddings).enumerate() {
                let score = match builtin_head(rule.category_id()).filter(|_| !rule.is_user_defined()) {
                    Some(head) => head.probability(e),
                    None => {
                        let mut anchors = self.anchors.get(&rule.id).cloned().unwrap_or_default();
                        // Anchors are [description, should_match…] and [should_not_match…].
                        if *expected {
                            anchors.positive.remove(1 + i);
                        } else {
                            anchors.negative.remove(i - rule.should_match.len());
                        }
                        user_category_probability(e, &anchors)
                    }
                };
                let threshold = rule.threshold_value() as f32;
                results.push(ExampleResult {
                    rule: rule.id.clone(),
                    text: (*text).clone(),
                    expected_match: *expected,
                    score,
                    threshold,
                    passed: (score >= threshold) == *expected,
                });
            }
        }
        Ok(results)
    }
}

/// The recognised text, one line, cut at [`QUOTE_CHARS`] characters.
fn quote(text: &str) -> String {
    let one_line = feedwarden_core::text::normalize(&text.replace('\n', " "));
    match one_line.char_indices().nth(QUOTE_CHARS) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}
