//! The text judge: embeds posts with the real encoder, scores every active category (trained heads for the
//! built-in ones, few-shot anchors for user-defined ones), applies the reader's feedback and lets `core`
//! decide. The host and the CLI both run this.

use feedwarden_core::categories::judged_from_images;
use std::collections::HashMap;

use feedwarden_core::builtin_heads;
use feedwarden_core::decision::Scores;
use feedwarden_core::fewshot::{user_category_probability, RuleAnchors};
use feedwarden_core::heads::builtin_head;
use feedwarden_core::scoring::{self, Correction, FeedbackScopes};
use feedwarden_core::{decide, EffectivePolicy, Post, Verdict};

use crate::store::FeedbackRow;
use feedwarden_models::embedder::{EmbedderPool, Encoded, MODEL_ID};
use feedwarden_models::images::image_rules::ImageRules;
use feedwarden_models::images::ocr::OcrModel;
use feedwarden_models::images::{ImageAnalysis, ImageAnalyzer};
use feedwarden_models::model_error::ModelError;

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
    /// The corrections that apply to a post, by the post's site (see [`FeedbackScopes`]).
    feedback_scopes: FeedbackScopes,
    feedback_version: i64,
    /// OCR + NSFW for posts' images; `None` judges text only.
    images: Option<ImageAnalyzer>,
    /// Folder relative image paths are read from (batch mode); `None` refuses local files (the host).
    image_base_dir: Option<std::path::PathBuf>,
    /// The caller analyses images and passes the results in (the host); see [`Judge::judge_with_analyses`].
    images_analysed_by_caller: Option<OcrModel>,
    /// CLIP for rules with an `image_description` (images/image_rules.rs); `None` judges them on text only.
    image_rules: Option<ImageRules>,
    /// The VLM that describes every analysed image and answers every image rule about it (`feedwarden batch
    /// --vlm`); the host runs its VLM on a worker thread of its own instead.
    vlm: Option<feedwarden_models::images::vlm_stage::VlmJudge>,
}

/// The built-in category scored from images alone (OpenNSFW), not from text (`core::categories`).
pub const NSFW_CATEGORY: &str = feedwarden_core::categories::NSFW;
/// Characters of recognised text quoted in a verdict's reason at most.
const QUOTE_CHARS: usize = 120;
/// A post text longer than this (characters) has its sentences scored one by one to quote the one that
/// triggered a rule; a shorter one is scored whole.
const LONG_TEXT_CHARS: usize = 280;
/// A sentence broken over OCR lines is rejoined up to this many characters; longer runs stay separate lines.
const SEGMENT_MAX_CHARS: usize = 200;
/// Pieces (sentences, lines) of one post scored for the quote at most.
const MAX_QUOTE_PIECES: usize = 48;
/// Pieces quoted in one reason at most.
const MAX_QUOTES: usize = 2;

/// A filtered post's candidate quotes: (index of its verdict, the deciding rule, the post's site, the pieces
/// of its text).
type QuoteCandidates = (usize, String, Option<String>, Vec<(QuoteSource, String)>);

/// Where a quoted piece of a judged text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteSource {
    Post,
    Image,
}

impl Judge {
    pub fn new(embedder: EmbedderPool, policy: EffectivePolicy) -> Result<Self, ModelError> {
        let mut judge = Judge {
            embedder,
            policy: EffectivePolicy::default(),
            anchors: HashMap::new(),
            feedback: Vec::new(),
            feedback_scopes: FeedbackScopes::default(),
            feedback_version: 0,
            images: None,
            image_base_dir: None,
            images_analysed_by_caller: None,
            image_rules: None,
            vlm: None,
        };
        judge.set_policy(policy)?;
        Ok(judge)
    }

    /// Judge images too: their recognised text joins the post's text and `nsfw` gets a score.
    pub fn set_image_analyzer(&mut self, analyzer: ImageAnalyzer, base_dir: Option<std::path::PathBuf>) {
        self.images = Some(analyzer);
        self.image_base_dir = base_dir;
    }

    /// Judge rules with an `image_description` on the post's images too (compiled for the active policy).
    pub fn set_image_rules(&mut self, mut rules: ImageRules) -> Result<(), ModelError> {
        rules.set_policy(&self.policy)?;
        self.image_rules = Some(rules);
        Ok(())
    }

    /// Describe every analysed image with `vlm` and answer every rule with an image part about it (its P(yes)
    /// is the rule's image score for that image). Needs [`Judge::set_image_analyzer`] to judge anything.
    pub fn set_vlm(&mut self, vlm: feedwarden_models::images::vlm_stage::VlmJudge) {
        if let Some(rules) = self.image_rules.as_mut() {
            rules.set_vlm(Some(vlm.model_id()));
        }
        self.vlm = Some(vlm);
    }

    pub fn image_rules(&self) -> Option<&ImageRules> {
        self.image_rules.as_ref()
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

    /// The execution provider that runs the text encoder.
    pub fn encoder_provider(&self) -> &'static str {
        self.embedder.provider()
    }

    /// Activate a policy: embeds the descriptions and examples of its user-defined rules.
    pub fn set_policy(&mut self, policy: EffectivePolicy) -> Result<(), ModelError> {
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
        if let Some(image_rules) = self.image_rules.as_mut() {
            image_rules.set_policy(&policy)?;
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
        let rows = self.feedback.iter().map(|r| Correction {
            site: r.site.as_deref(),
            rule: r.rule.as_deref(),
            kind: r.kind,
            embedding: &r.embedding,
        });
        self.feedback_scopes = FeedbackScopes::new(rows, &self.policy);
    }

    /// Say that the caller analyses posts' images itself and passes the analyses to
    /// [`Judge::judge_with_analyses`] (the host does, on its image thread): images then count in cache keys.
    pub fn set_images_analysed_by_caller(&mut self, ocr: OcrModel) {
        self.images_analysed_by_caller = Some(ocr);
    }

    /// Everything a verdict for `post` depends on besides the post: part of its cache key.
    pub fn cache_key(&self, post: &Post) -> String {
        // Images count by content (a data: URL is its content) and only when they are judged, with the OCR
        // pair that reads them (and the CLIP model and example images, when image descriptions are judged).
        let clip = self.image_rules.as_ref().map(ImageRules::cache_salt).unwrap_or_default();
        let ocr = self.images.as_ref().map(ImageAnalyzer::ocr_model).or(self.images_analysed_by_caller);
        let images = if ocr.is_some() || !clip.is_empty() {
            let entries: Vec<String> = post.images.iter().map(|i| feedwarden_core::sha256_hex(i.as_bytes())).collect();
            // The salt names how image text is judged (apart from the post's), so verdicts cached
            // when it was appended to the post's text are not served again.
            let ocr = format!("{}+apart", ocr.map(OcrModel::id).unwrap_or_default());
            if clip.is_empty() {
                format!("{ocr}:{}", entries.join(","))
            } else {
                format!("{ocr}:{}\0{clip}", entries.join(","))
            }
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
    pub fn embed_all(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        self.embedder.embed(texts)
    }

    /// What the active policy needs of texts: always the heads' `task_embedding`, and the sentence embedding
    /// only when a user-defined rule or a stored correction will compare it (otherwise the encoder runs the
    /// graph pruned to the task embedding, as fast as the stock encoder alone; `embedding` is then empty).
    pub fn encode_all(&mut self, texts: &[&str]) -> Result<Vec<Encoded>, ModelError> {
        if self.anchors.is_empty() && self.feedback.is_empty() {
            self.embedder.encode_task(texts)
        } else {
            self.embedder.encode(texts)
        }
    }

    /// Category scores for one encoded text under the active policy (built-in heads on its task embedding,
    /// user-defined rules and corrections on its sentence embedding), with the corrections that apply to a
    /// post from `site` applied per rule.
    pub fn scores(&self, encoded: &Encoded, site: Option<&str>) -> Scores {
        let feedback = self.feedback_scopes.for_site(site);
        scoring::score(&self.policy, builtin_heads(), &self.anchors, &encoded.task, &encoded.embedding, feedback)
    }

    /// Judge posts (no cache: the host adds one in `host/classify.rs`).
    pub fn judge(&mut self, posts: &[Post]) -> Result<Vec<Verdict>, ModelError> {
        Ok(self.judge_detailed(posts)?.into_iter().map(|(v, _)| v).collect())
    }

    /// Judge posts and return what each of their images said. An image's recognised text is judged beside the
    /// post's text, each on its own, the higher score winning (the reason quotes the piece that decided);
    /// `nsfw` is the highest P(nsfw) over the post's images.
    pub fn judge_detailed(&mut self, posts: &[Post]) -> Result<Vec<(Verdict, Vec<ImageAnalysis>)>, ModelError> {
        let analyses: Vec<Vec<ImageAnalysis>> = posts.iter().map(|p| self.analyse_images(p)).collect();
        self.judge_with_analyses(posts, analyses)
    }

    /// Judge posts whose images were analysed elsewhere (the host analyses them on its image thread, see
    /// `host/flow.rs`, with the CLIP embeddings [`ImageRules::vision_wanted`] asks for): `analyses[i]` belongs to
    /// `posts[i]`; an empty list judges that post on its text alone.
    pub fn judge_with_analyses(
        &mut self,
        posts: &[Post],
        analyses: Vec<Vec<ImageAnalysis>>,
    ) -> Result<Vec<(Verdict, Vec<ImageAnalysis>)>, ModelError> {
        assert_eq!(posts.len(), analyses.len(), "one list of image analyses per post");
        let ocr_texts: Vec<String> = analyses
            .iter()
            .map(|a| a.iter().map(|i| i.text.as_str()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n"))
            .collect();
        // The post's own text and the text read from its images are embedded and scored apart, then the higher
        // wins per category and rule (`Scores::max_with`): a screenshot's text never dilutes the post's words,
        // nor the words a screenshot's text. A post without image text is one text, as before.
        let mut texts: Vec<String> = Vec::with_capacity(posts.len());
        // Per post: the index of its first text (its own, or the image text when it has no words of its own)
        // and of the image text when it has both.
        let mut parts: Vec<(usize, Option<usize>)> = Vec::with_capacity(posts.len());
        for (post, ocr) in posts.iter().zip(&ocr_texts) {
            let own = post.judged_text();
            let both = !own.is_empty() && !ocr.is_empty();
            texts.push(if own.is_empty() && !ocr.is_empty() { ocr.clone() } else { own });
            let first = texts.len() - 1;
            if both {
                texts.push(ocr.clone());
            }
            parts.push((first, both.then_some(texts.len() - 1)));
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embeddings = self.encode_all(&refs)?;
        let nsfw_active = self.policy.active_categories().contains(&NSFW_CATEGORY);
        let mut out = Vec::with_capacity(posts.len());
        let mut to_quote = Vec::new();
        for (((post, (first, image_text)), images), ocr) in posts.iter().zip(parts).zip(analyses).zip(&ocr_texts) {
            let site = post.site.as_deref();
            let mut scores = self.scores(&embeddings[first], site);
            if let Some(i) = image_text {
                scores = scores.max_with(self.scores(&embeddings[i], site), &self.policy);
            }
            let nsfw = images.iter().filter_map(|i| i.nsfw).reduce(f32::max);
            if let (true, Some(p)) = (nsfw_active, nsfw) {
                scores.categories.insert(NSFW_CATEGORY.to_string(), p);
            }
            // Image descriptions are scored from the CLIP embeddings computed with the images' analyses: a
            // text-only verdict (images pending in the host) leaves them to the `verdict.update`.
            if let Some(image_rules) = self.image_rules.as_ref() {
                scores.images = image_rules.score_post(&images);
            }
            let mut verdict = decide(&self.policy, post, &scores);
            // A rule decided by its image score (CLIP) has no words to quote; nsfw neither.
            let decided_by_image = |r: &feedwarden_core::policy::Rule| {
                scores.images.get(&r.id).is_some_and(|&i| scores.for_rule(r).is_none_or(|t| i > t))
            };
            let deciding = verdict.rule.as_deref().and_then(|r| self.policy.rule(r));
            // Decided by an image the VLM looked at: say in its words what the image shows.
            if let Some(described) =
                deciding.filter(|r| decided_by_image(r)).and_then(|r| image_description(&images, &r.id))
            {
                verdict.reason.push_str(&format!("; the image shows: \"{}\"", quote(described)));
            }
            let text_rule = deciding.filter(|r| !judged_from_images(r.category_id()) && !decided_by_image(r));
            if let Some(rule) = text_rule {
                let post_text = post.judged_text();
                // Only what the model sees can be quoted (and a huge text is not split whole).
                let post_text = feedwarden_models::embedder::cap_text(&post_text).to_string();
                let long = post_text.chars().count() > LONG_TEXT_CHARS;
                if verdict.action.filters() && (long || !ocr.is_empty()) {
                    // Found below, for all filtered posts at once: the words that weigh most for this rule.
                    let mut pieces: Vec<(QuoteSource, String)> = if long {
                        segments(&post_text).into_iter().map(|t| (QuoteSource::Post, t)).collect()
                    } else if post_text.is_empty() {
                        Vec::new()
                    } else {
                        vec![(QuoteSource::Post, post_text)]
                    };
                    for image in images.iter().filter(|i| !i.text.is_empty()) {
                        pieces.extend(segments(&image.text).into_iter().map(|t| (QuoteSource::Image, t)));
                    }
                    pieces.truncate(MAX_QUOTE_PIECES);
                    to_quote.push((out.len(), rule.id.clone(), post.site.clone(), pieces));
                } else if !ocr.is_empty() {
                    verdict.reason.push_str(&format!("; text in the image: \"{}\"", quote(ocr)));
                }
            }
            out.push((verdict, images));
        }
        self.quote_triggering_words(&mut out, to_quote)?;
        Ok(out)
    }

    /// For each `(index into out, deciding rule, candidate pieces)`, score every piece on its own for the rule
    /// (one batch for all posts) and quote the strongest in the verdict's reason, with its score: the pieces at
    /// or above the rule's threshold, strongest first, at most [`MAX_QUOTES`]; otherwise the strongest one.
    fn quote_triggering_words(
        &mut self,
        out: &mut [(Verdict, Vec<ImageAnalysis>)],
        to_quote: Vec<QuoteCandidates>,
    ) -> Result<(), ModelError> {
        let texts: Vec<&str> =
            to_quote.iter().flat_map(|(_, _, _, pieces)| pieces.iter().map(|(_, t)| t.as_str())).collect();
        if texts.is_empty() {
            return Ok(());
        }
        let embeddings = self.encode_all(&texts)?;
        let mut embeddings = embeddings.iter();
        for (i, rule_id, site, pieces) in to_quote {
            let Some(rule) = self.policy.rule(&rule_id) else {
                continue;
            };
            let mut scored: Vec<(f32, &QuoteSource, &str)> = pieces
                .iter()
                .map(|(source, text)| {
                    let scores = self.scores(embeddings.next().expect("one embedding per piece"), site.as_deref());
                    let score = scores.for_rule(rule).unwrap_or(0.0);
                    (score, source, text.as_str())
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            let threshold = rule.threshold_value() as f32;
            let strong = scored.iter().take_while(|(score, _, _)| *score >= threshold).count();
            let name = builtin_head(rule.category_id())
                .filter(|_| !rule.is_user_defined())
                .map(|h| h.name.to_lowercase())
                .unwrap_or_else(|| rule.category_id().to_string());
            let reason = &mut out[i].0.reason;
            for (score, source, text) in scored.iter().take(strong.clamp(1, MAX_QUOTES)) {
                let place = match source {
                    QuoteSource::Post => "the words",
                    QuoteSource::Image => "text in the image",
                };
                reason.push_str(&format!("; {place}: \"{}\" ({name} {score:.2} on its own)", quote(text)));
            }
        }
        Ok(())
    }

    fn analyse_images(&mut self, post: &Post) -> Vec<ImageAnalysis> {
        let Some(analyzer) = self.images.as_mut() else {
            return Vec::new();
        };
        let clip = self.image_rules.as_ref().and_then(ImageRules::vision_wanted);
        let base = self.image_base_dir.as_deref();
        let mut analyses = analyzer.analyse_post(&post.images, base, clip.as_ref(), |_, _| {});
        if let Some(vlm) = self.vlm.as_mut() {
            let questions = self.image_rules.as_ref().map(|r| r.described().to_vec()).unwrap_or_default();
            for (analysis, entry) in analyses.iter_mut().zip(&post.images).filter(|(a, _)| a.error.is_none()) {
                // The entry was already confined to the base folder by the analysis.
                analysis.vlm = Some(vlm.judge_entry(entry, base, &questions, true, None));
            }
        }
        analyses
    }

    /// Run every rule's own examples as tests. For user-defined rules each example is left out of the
    /// anchors while it is tested, so an example cannot pass just by matching itself.
    pub fn test_examples(&mut self) -> Result<Vec<ExampleResult>, ModelError> {
        let mut results = Vec::new();
        let rules: Vec<_> = self.policy.enabled_rules().cloned().collect();
        for rule in rules {
            // Image-only categories have no text examples to test.
            if judged_from_images(rule.category_id()) && !rule.is_user_defined() {
                continue;
            }
            let cases: Vec<(&String, bool)> = rule
                .should_match
                .iter()
                .map(|t| (t, true))
                .chain(rule.should_not_match.iter().map(|t| (t, false)))
                .collect();
            let texts: Vec<&str> = cases.iter().map(|(t, _)| t.as_str()).collect();
            let embeddings = self.encode_all(&texts)?;
            for (i, ((text, expected), e)) in cases.iter().zip(&embeddings).enumerate() {
                let score = match builtin_head(rule.category_id()).filter(|_| !rule.is_user_defined()) {
                    Some(head) => head.probability(&e.task),
                    None => {
                        let mut anchors = self.anchors.get(&rule.id).cloned().unwrap_or_default();
                        // Anchors are [description, should_match…] and [should_not_match…].
                        if *expected {
                            anchors.positive.remove(1 + i);
                        } else {
                            anchors.negative.remove(i - rule.should_match.len());
                        }
                        user_category_probability(&e.embedding, &anchors)
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

/// The sentences of `text`, for quoting. OCR breaks sentences over lines, so a sentence still open at the end
/// of a line continues on the next one, unless that would make it longer than [`SEGMENT_MAX_CHARS`]
/// (screenshots: lines of UI text without punctuation stay apart). Pieces with fewer than three letters or
/// digits are dropped.
fn segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut open = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !open.is_empty() && open.chars().count() + 1 + line.chars().count() > SEGMENT_MAX_CHARS {
            out.push(std::mem::take(&mut open));
        }
        let mut rest = line;
        while let Some(end) = sentence_end(rest) {
            push_words(&mut open, &rest[..end]);
            out.push(std::mem::take(&mut open));
            rest = &rest[end..];
        }
        push_words(&mut open, rest);
    }
    out.push(open);
    out.retain(|s| s.chars().filter(|c| c.is_alphanumeric()).count() >= 3);
    out
}

fn push_words(sentence: &mut String, words: &str) {
    let words = words.trim();
    if words.is_empty() {
        return;
    }
    if !sentence.is_empty() {
        sentence.push(' ');
    }
    sentence.push_str(words);
}

/// Byte index just after the first sentence end in `s`: `.`, `!`, `?` or `…` (repeated, maybe followed by a
/// closing quote or bracket) before whitespace or the end of `s`.
fn sentence_end(s: &str) -> Option<usize> {
    let mut chars = s.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        let mut end = s.len();
        while let Some(&(i, next)) = chars.peek() {
            if matches!(next, '.' | '!' | '?' | '…' | '"' | '\'' | ')' | '”' | '’') {
                chars.next();
                continue;
            }
            end = i;
            break;
        }
        if end == s.len() || s[end..].starts_with(char::is_whitespace) {
            return Some(end);
        }
    }
    None
}

/// The recognised text, one line, cut at [`QUOTE_CHARS`] characters.
/// The VLM's description of the image that scored highest for `rule` (any described image when none scored).
fn image_description<'a>(images: &'a [ImageAnalysis], rule: &str) -> Option<&'a str> {
    let described = images.iter().filter_map(|i| i.vlm.as_ref()).filter(|v| v.description.is_some());
    let score = |v: &feedwarden_core::protocol::VlmFinding| v.scores.get(rule).copied().unwrap_or(-1.0);
    described.max_by(|a, b| score(a).total_cmp(&score(b))).and_then(|v| v.description.as_deref())
}

fn quote(text: &str) -> String {
    let one_line = feedwarden_core::text::normalize(&text.replace('\n', " "));
    match one_line.char_indices().nth(QUOTE_CHARS) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_rejoin_sentences_broken_over_lines() {
        let ocr = "Weather today: sunny.\nShare if you're sick of these\ntraitors destroying our country!\nBus 12 runs \"on time\"... mostly";
        assert_eq!(
            segments(ocr),
            [
                "Weather today: sunny.",
                "Share if you're sick of these traitors destroying our country!",
                "Bus 12 runs \"on time\"...",
                "mostly"
            ]
        );
        assert_eq!(segments("3.5 million? Yes. ok\n!!\n\n"), ["3.5 million?", "Yes."]);
    }

    #[test]
    fn segments_keep_long_runs_of_lines_apart() {
        let line = "word ".repeat(30);
        let text = format!("{line}\n{line}\n{line}");
        let got = segments(&text);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.iter().all(|s| s.chars().count() <= SEGMENT_MAX_CHARS));
    }
}
