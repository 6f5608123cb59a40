//! The verdict as every output shows it: the host's `verdicts[]` and `verdict.update`, `feedwarden
//! classify`'s JSONL lines, batch rows and the in-browser engine's verdicts are all built from [`VerdictOut`].

use serde::{Deserialize, Serialize};

use crate::Verdict;

/// Why one image was not judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ImageError {
    /// `image-corrupt`, `image-too-large`, … (`docs/protocol.md`, "Images").
    pub code: String,
    /// One sentence saying what was wrong.
    pub reason: String,
}

/// What the vision-language model (SmolVLM) said about one image: asked only for images a rule with an
/// `image_description` needs it for (CLIP uncertain or absent), or for every image by `feedwarden batch --vlm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VlmFinding {
    /// The model that answered (`smolvlm-256m`, or `smolvlm-tiny` in tests).
    pub model: String,
    /// A short generated description of the image ("a close-up photo of a spider on a wall").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub description: Option<String>,
    /// Rule id → P(yes) to "Does this image show ‹image_description›?" (the yes against the no token group).
    pub scores: std::collections::BTreeMap<String, f32>,
    /// Why the model could not answer (all of it or part: the budget ran out, the model failed to load).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<String>,
    /// Time the model spent on this image, in milliseconds.
    pub ms: f64,
}

/// What one of a post's images said.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ImageFinding {
    /// sha256 of the encoded bytes (empty when there were none).
    pub sha256: String,
    /// Text read from the image by OCR (`""` when none).
    pub text: String,
    /// P(nsfw) from OpenNSFW, when it ran.
    pub nsfw: Option<f32>,
    /// Whether the image's CLIP embedding was computed (and compared with the policy's image descriptions).
    pub clip: bool,
    /// Why the image was not judged (`null` when it was).
    pub error: Option<ImageError>,
    /// Time spent on this image, in milliseconds.
    pub ms: f64,
    /// Set when a reply over 1 MB cut `text` to 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub text_truncated: Option<bool>,
    /// What the vision-language model said, when it looked at this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub vlm: Option<VlmFinding>,
}

/// One post's verdict on the wire: the engine's [`Verdict`] plus how it was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Verdict", optional_fields))]
pub struct VerdictOut {
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The native host: whether the verdict came from its SQLite cache. Absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
    /// What each of the post's images said, in the post's order; absent when the post has no images or they
    /// were not judged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<ImageFinding>>"))]
    pub images: Vec<ImageFinding>,
    /// `true` on a verdict whose images are still being judged — some of their stages missed the request's
    /// image budget, or the VLM is looking at them — a `verdict.update` with the fuller verdict follows;
    /// `false` on the last update; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_pending: Option<bool>,
    /// The in-browser fallback: who judged (`browser-fallback`) and with which model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Set when a reply over 1 MB had to be trimmed to fit: see `docs/protocol.md`, "Trimmed verdicts".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trimmed: Option<bool>,
    /// How many `images` entries a trimmed verdict left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_omitted: Option<u32>,
}

impl From<Verdict> for VerdictOut {
    fn from(verdict: Verdict) -> Self {
        VerdictOut {
            verdict,
            cached: None,
            images: Vec::new(),
            images_pending: None,
            engine: None,
            model: None,
            trimmed: None,
            images_omitted: None,
        }
    }
}

impl VerdictOut {
    /// The host's verdict: with whether it came from the cache.
    pub fn cached(mut self, cached: bool) -> Self {
        self.cached = Some(cached);
        self
    }

    /// With what the post's images said.
    pub fn with_images(mut self, images: Vec<ImageFinding>) -> Self {
        self.images = images;
        self
    }

    /// The in-browser engine's verdict: who judged it.
    pub fn judged_by(mut self, engine: &str, model: &str) -> Self {
        self.engine = Some(engine.to_string());
        self.model = Some(model.to_string());
        self
    }

    /// The recognised text of the images, one image after the other, skipping images without text.
    pub fn image_text(&self) -> String {
        let texts: Vec<&str> = self.images.iter().map(|i| i.text.as_str()).filter(|t| !t.is_empty()).collect();
        texts.join("\n")
    }

    /// The highest P(nsfw) over the images, when any was scored.
    pub fn nsfw_max(&self) -> Option<f32> {
        self.images.iter().filter_map(|i| i.nsfw).reduce(f32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VerdictAction;

    fn verdict() -> Verdict {
        Verdict {
            id: "a".into(),
            action: VerdictAction::Show,
            rule: None,
            description: None,
            scores: [("rage-bait".to_string(), 0.25)].into(),
            sub_labels: Default::default(),
            fired: Vec::new(),
            image_scores: Default::default(),
            reason: "no rule fired".into(),
        }
    }

    #[test]
    fn a_plain_verdict_serializes_as_the_engine_verdict() {
        let out = VerdictOut::from(verdict());
        assert_eq!(serde_json::to_value(&out).unwrap(), serde_json::to_value(verdict()).unwrap());
    }

    #[test]
    fn host_fields_sit_beside_the_verdict_fields() {
        let finding = ImageFinding { sha256: "s".into(), text: "HI".into(), nsfw: None, ms: 1.5, ..Default::default() };
        let out = VerdictOut::from(verdict()).cached(false).with_images(vec![finding]);
        let j = serde_json::to_value(&out).unwrap();
        assert_eq!(j["id"], "a");
        assert_eq!(j["cached"], false);
        assert_eq!(j["images"][0]["text"], "HI");
        assert_eq!(j["images"][0]["nsfw"], serde_json::Value::Null);
        assert_eq!(j["images"][0]["error"], serde_json::Value::Null);
        assert_eq!(j["images"][0]["clip"], false);
        assert!(j.get("images_pending").is_none() && j.get("engine").is_none());
        let back: VerdictOut = serde_json::from_value(j).unwrap();
        assert_eq!(back, out);
    }
}
