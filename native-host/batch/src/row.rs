//! One output row per post (its identity, the verdict, the rule, every category score and, with `--images`,
//! what its images said, CLIP image scores included) and the flat column layout that CSV and Parquet share.

use std::collections::BTreeMap;

use feedwarden_core::heads::builtin_head;
use feedwarden_core::protocol::VerdictOut;
use feedwarden_core::{EffectivePolicy, Post};

/// One judged post. JSONL writes it as an object with these fields, in this order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// Record number across all inputs, in input order (malformed records count too): sorting shard
    /// outputs by `seq` rebuilds a single run's output.
    pub seq: u64,
    /// The input file's name (without folders, so shards run from different mounts agree).
    pub source: String,
    pub id: String,
    pub site: Option<String>,
    pub author: Option<String>,
    pub created_at: Option<String>,
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    /// `show`, `allow`, `label`, `blur` or `hide`.
    pub action: String,
    /// The rule that decided, if any.
    pub rule: Option<String>,
    pub reason: String,
    /// Every active category → calibrated probability (4 decimals).
    pub scores: BTreeMap<String, f32>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub sub_labels: BTreeMap<String, BTreeMap<String, f32>>,
    /// With `--images`: the recognised text of the post's images, one image after the other (empty when
    /// none had text).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image_text: Option<String>,
    /// With `--images`: the highest P(nsfw) over the post's images (OpenNSFW), whatever the policy.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nsfw_max: Option<f32>,
    /// With `--images`: why some of the post's images were not judged, `path: code: reason`, one per line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image_errors: Option<String>,
    /// With `--images` and CLIP: rule id → the rule's image score (CLIP, the highest over the post's images,
    /// 4 decimals) for the rules with an `image_description`; empty for a post without a scored image.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub image_scores: BTreeMap<String, f32>,
    /// With `--vlm`: the VLM's description of each image it looked at, `name: description`, one per line.
    /// (Its P(yes) per rule is the image score above for the images it answered.)
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image_descriptions: Option<String>,
}

impl Row {
    /// The row of one judged post, from its verdict as every output shows it. With `with_images` the image
    /// columns come from the verdict's `images` (`post.images`, in the same order, names the entries in
    /// errors); a post without images keeps them empty.
    pub fn new(seq: u64, source: &str, post: &Post, out: VerdictOut, with_text: bool, with_images: bool) -> Self {
        let images = (with_images && !out.images.is_empty()).then(|| {
            let errors: Vec<String> = post
                .images
                .iter()
                .zip(&out.images)
                .filter_map(|(entry, i)| {
                    i.error.as_ref().map(|e| format!("{}: {}: {}", short(entry), e.code, e.reason))
                })
                .collect();
            let nsfw_max = out.nsfw_max().map(|p| (p * 1e4).round() / 1e4);
            (out.image_text(), nsfw_max, (!errors.is_empty()).then(|| errors.join("\n")))
        });
        let descriptions: Vec<String> = post
            .images
            .iter()
            .zip(&out.images)
            .filter_map(|(entry, i)| {
                let d = i.vlm.as_ref()?.description.as_deref()?;
                Some(format!("{}: {}", short(entry), d.replace('\n', " ")))
            })
            .collect();
        let image_descriptions = (with_images && !descriptions.is_empty()).then(|| descriptions.join("\n"));
        let (image_text, nsfw_max, image_errors) = match images {
            Some((text, nsfw, errors)) => (Some(text), nsfw, errors),
            None => (None, None, None),
        };
        let verdict = out.verdict;
        Row {
            seq,
            source: source.to_string(),
            id: post.id.clone(),
            site: post.site.clone(),
            author: post.author.clone(),
            created_at: post.created_at.clone(),
            url: post.url.clone(),
            text: with_text.then(|| post.judged_text()),
            action: verdict.action.as_str().to_string(),
            rule: verdict.rule,
            reason: verdict.reason,
            scores: verdict.scores,
            sub_labels: verdict.sub_labels,
            image_text,
            nsfw_max,
            image_errors,
            image_scores: verdict.image_scores,
            image_descriptions,
        }
    }
}

/// An image entry as errors name it: a file's name, a URL as is, a data: URL by its type only.
fn short(entry: &str) -> String {
    if entry.starts_with("data:") {
        return entry.split([',', ';']).next().unwrap_or("data:").to_string();
    }
    if entry.contains("://") {
        return entry.to_string();
    }
    std::path::Path::new(entry).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A flat column and how to read it from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Seq,
    Source,
    Id,
    Site,
    Author,
    CreatedAt,
    Url,
    Text,
    Action,
    Rule,
    Reason,
    /// `score_<category>`.
    Score(String),
    /// `sub_<category>_<label>`.
    Sub(String, String),
    /// `image_text`, `nsfw_max`, `image_errors` (with `--images`).
    ImageText,
    NsfwMax,
    ImageErrors,
    /// `image_score_<rule>`: a rule's image score, CLIP's or the VLM's (with `--images`, for rules with an
    /// `image_description`).
    ImageScore(String),
    /// `image_descriptions` (with `--vlm`).
    ImageDescriptions,
}

impl Column {
    pub fn name(&self) -> String {
        match self {
            Column::Seq => "seq".into(),
            Column::Source => "source".into(),
            Column::Id => "id".into(),
            Column::Site => "site".into(),
            Column::Author => "author".into(),
            Column::CreatedAt => "created_at".into(),
            Column::Url => "url".into(),
            Column::Text => "text".into(),
            Column::Action => "action".into(),
            Column::Rule => "rule".into(),
            Column::Reason => "reason".into(),
            Column::Score(c) => format!("score_{c}"),
            Column::Sub(c, s) => format!("sub_{c}_{s}"),
            Column::ImageText => "image_text".into(),
            Column::NsfwMax => "nsfw_max".into(),
            Column::ImageErrors => "image_errors".into(),
            Column::ImageScore(r) => format!("image_score_{r}"),
            Column::ImageDescriptions => "image_descriptions".into(),
        }
    }

    /// Text columns' value (`None` = empty/null); numbers are read with [`Column::number`].
    pub fn text<'a>(&self, row: &'a Row) -> Option<&'a str> {
        match self {
            Column::Source => Some(&row.source),
            Column::Id => Some(&row.id),
            Column::Site => row.site.as_deref(),
            Column::Author => row.author.as_deref(),
            Column::CreatedAt => row.created_at.as_deref(),
            Column::Url => row.url.as_deref(),
            Column::Text => row.text.as_deref(),
            Column::Action => Some(&row.action),
            Column::Rule => row.rule.as_deref(),
            Column::Reason => Some(&row.reason),
            Column::ImageText => row.image_text.as_deref(),
            Column::ImageErrors => row.image_errors.as_deref(),
            Column::ImageDescriptions => row.image_descriptions.as_deref(),
            Column::Seq | Column::Score(_) | Column::Sub(..) | Column::NsfwMax | Column::ImageScore(_) => None,
        }
    }

    pub fn number(&self, row: &Row) -> Option<f32> {
        match self {
            Column::Score(c) => row.scores.get(c).copied(),
            Column::Sub(c, s) => row.sub_labels.get(c).and_then(|m| m.get(s)).copied(),
            Column::NsfwMax => row.nsfw_max,
            Column::ImageScore(r) => row.image_scores.get(r).copied(),
            _ => None,
        }
    }

    /// Whether the column holds numbers (read with [`Column::number`]) rather than text.
    pub fn is_number(&self) -> bool {
        matches!(self, Column::Score(_) | Column::Sub(..) | Column::NsfwMax | Column::ImageScore(_))
    }

    /// Whether every row has a value (the rest may be empty).
    pub fn required(&self) -> bool {
        matches!(self, Column::Seq | Column::Source | Column::Id | Column::Action | Column::Reason)
    }
}

/// The flat layout for a policy: fixed columns, then one score per active category, then the built-in
/// heads' sub-labels (manipulation techniques), then the image columns when images are judged (with one
/// `image_score_<rule>` per enabled rule with an `image_description`, in policy order, and the VLM's
/// `image_descriptions` with `with_vlm`).
pub fn columns(policy: &EffectivePolicy, with_text: bool, with_images: bool, with_vlm: bool) -> Vec<Column> {
    let mut cols = vec![Column::Seq, Column::Source, Column::Id, Column::Site, Column::Author, Column::CreatedAt];
    cols.push(Column::Url);
    if with_text {
        cols.push(Column::Text);
    }
    cols.extend([Column::Action, Column::Rule, Column::Reason]);
    let cats = policy.active_categories();
    cols.extend(cats.iter().map(|c| Column::Score(c.to_string())));
    for c in &cats {
        if let Some(head) = builtin_head(c) {
            cols.extend(head.sub_labels.iter().map(|s| Column::Sub(c.to_string(), s.id.clone())));
        }
    }
    if with_images {
        cols.extend([Column::ImageText, Column::NsfwMax, Column::ImageErrors]);
        let image_rules = policy.enabled_rules().filter(|r| feedwarden_models::images::image_rules::has_image_part(r));
        cols.extend(image_rules.map(|r| Column::ImageScore(r.id.clone())));
        if with_vlm {
            cols.push(Column::ImageDescriptions);
        }
    }
    cols
}
