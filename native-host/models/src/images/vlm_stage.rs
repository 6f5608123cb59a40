//! The VLM stage of image judging: SmolVLM answers "Does this image show ‹image_description›?" for the images
//! CLIP leaves uncertain (or every image of a post when there is no CLIP) and writes a short description of
//! each image it looks at. It runs on its own worker thread with its own queue — newest posts first (those are
//! on screen), bounded (the oldest waiting post is dropped), a budget per post — so it never delays text
//! verdicts, OCR or NSFW; its results reach the page as a `verdict.update`. Answers are cached by image hash +
//! question. Which model runs is chosen here: the real SmolVLM-256M when installed, the tiny random-weight
//! model only when `FEEDWARDEN_VLM_MODEL=tiny` asks for it (tests), so noise never judges a reader's images.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use feedwarden_core::protocol::{ModelInfo, VlmFinding};

use super::decode::DecodeLimits;
use crate::vlm::{
    yes_no_question, Vlm, VlmError, VlmOptions, DESCRIBE_PROMPT, SMOLVLM_DIR, SMOLVLM_TINY_DIR, VISION_FILES,
};

/// Which VLM to load: unset or `smolvlm-256m` = the real one when installed; `tiny` = the random-weight test
/// model; `off` = none.
pub const VLM_MODEL_ENV: &str = "FEEDWARDEN_VLM_MODEL";
/// Manifest id of the real model (`feedwarden models fetch smolvlm-256m`).
pub const SMOLVLM_256M: &str = "smolvlm-256m";
/// Id reported for the random-weight test model.
pub const SMOLVLM_TINY: &str = "smolvlm-tiny";
/// What a reader runs to get the VLM.
pub const FETCH_HINT: &str = "feedwarden models fetch smolvlm-256m";
/// The time one post's images may take in the VLM (milliseconds; `FEEDWARDEN_VLM_BUDGET_MS`): what is not
/// answered by then is left out (the rule keeps its CLIP score) and the update says so.
pub const VLM_BUDGET_ENV: &str = "FEEDWARDEN_VLM_BUDGET_MS";
pub const DEFAULT_VLM_BUDGET_MS: u64 = 20_000;
/// Posts waiting for the VLM at most; a newer post pushes the oldest waiting one out (it keeps its CLIP
/// verdict). On a 2-core machine the real model takes 1–3 s per image, so more would never be reached
/// before the reader scrolls past.
pub const QUEUE_POSTS: usize = 32;
/// CLIP probabilities in this band are "uncertain": the VLM is asked. Outside it CLIP's answer stands.
pub const CLIP_UNCERTAIN: std::ops::RangeInclusive<f32> = 0.2..=0.8;
/// Tokens of a generated description at most.
pub const DESCRIPTION_TOKENS: usize = 24;
/// Answers kept in the in-memory cache; it is cleared when full.
const CACHE_ENTRIES: usize = 4096;

/// The VLM `FEEDWARDEN_VLM_MODEL` selects: `(model id, options)`, or why there is none (with what to run).
pub fn vlm_choice(ort_library: PathBuf, models_dir: &Path) -> Result<(&'static str, VlmOptions), String> {
    choose(&std::env::var(VLM_MODEL_ENV).unwrap_or_default(), ort_library, models_dir)
}

fn choose(wanted: &str, ort_library: PathBuf, models_dir: &Path) -> Result<(&'static str, VlmOptions), String> {
    let (id, dir) = match wanted.trim() {
        "" | SMOLVLM_256M => (SMOLVLM_256M, SMOLVLM_DIR),
        "tiny" | SMOLVLM_TINY => (SMOLVLM_TINY, SMOLVLM_TINY_DIR),
        "off" | "none" => return Err(format!("the VLM is switched off ({VLM_MODEL_ENV}={wanted})")),
        other => {
            return Err(format!("{VLM_MODEL_ENV}=\"{other}\" is not a VLM; use {SMOLVLM_256M}, tiny or off"));
        }
    };
    let dir = models_dir.join(dir);
    let has_vision = VISION_FILES.iter().any(|f| dir.join(f).is_file());
    if !dir.join("tokenizer.json").is_file() || !has_vision {
        return Err(if id == SMOLVLM_256M {
            format!("SmolVLM-256M is not installed in {}; run `{FETCH_HINT}` (about 330 MB)", dir.display())
        } else {
            format!("the tiny test VLM is not built in {}; run models/scripts/setup_models.sh", dir.display())
        });
    }
    Ok((id, VlmOptions::new(ort_library, &dir)))
}

/// The host's per-post VLM budget: `FEEDWARDEN_VLM_BUDGET_MS`, else [`DEFAULT_VLM_BUDGET_MS`]; the warning
/// to show when the value is not a number.
pub fn vlm_budget() -> (Duration, Option<String>) {
    millis_from_env(VLM_BUDGET_ENV, DEFAULT_VLM_BUDGET_MS)
}

/// A duration in whole milliseconds from the environment variable `name`, else `default_ms`; with the
/// warning to show (this library prints nothing) when the value is not a whole number.
pub fn millis_from_env(name: &str, default_ms: u64) -> (Duration, Option<String>) {
    match std::env::var(name) {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(ms) => (Duration::from_millis(ms), None),
            Err(_) => (
                Duration::from_millis(default_ms),
                Some(format!("{name}={v:?} is not a whole number of milliseconds; using {default_ms}")),
            ),
        },
        Err(_) => (Duration::from_millis(default_ms), None),
    }
}

/// Where the VLM stands, shared between its worker (which loads it on the first job) and `hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VlmStatus {
    /// Installed, not loaded yet: no image has needed it.
    Idle { model_id: &'static str },
    /// `resident_mib`: how much the process's resident memory grew from before the model loaded to the end of
    /// its first job (what the VLM costs), when /proc says.
    Loaded { model_id: &'static str, provider: &'static str, resident_mib: Option<u64> },
    /// Why there is none (with what to run).
    Unavailable { model_id: &'static str, why: String },
}

impl VlmStatus {
    /// From [`vlm_choice`]'s answer.
    pub fn from_choice(choice: &Result<(&'static str, VlmOptions), String>) -> Self {
        match choice {
            Ok((model_id, _)) => VlmStatus::Idle { model_id },
            Err(why) => VlmStatus::Unavailable { model_id: SMOLVLM_256M, why: why.clone() },
        }
    }

    pub fn is_available(&self) -> bool {
        !matches!(self, VlmStatus::Unavailable { .. })
    }

    /// The `hello.models` / `doctor` entry: the model and the provider that runs it, or why it is not loaded.
    pub fn model_info(&self, models_dir: &Path) -> ModelInfo {
        let entry = |id: &str, provider: Option<&str>| ModelInfo {
            id: id.to_string(),
            kind: "vlm".into(),
            provider: provider.map(str::to_string),
            path: models_dir
                .join(if id == SMOLVLM_TINY { SMOLVLM_TINY_DIR } else { SMOLVLM_DIR })
                .display()
                .to_string(),
            error: None,
            loaded: None,
            note: None,
        };
        match self {
            VlmStatus::Loaded { model_id, provider, resident_mib } => ModelInfo {
                note: resident_mib.map(|mib| format!("loaded; the host grew by {mib} MiB of memory with it")),
                ..entry(model_id, Some(provider))
            },
            VlmStatus::Idle { model_id } => ModelInfo {
                loaded: Some(false),
                note: Some("installed; loaded when an image rule leaves an image to it".into()),
                ..entry(model_id, None)
            },
            VlmStatus::Unavailable { model_id, why } => ModelInfo { error: Some(why.clone()), ..entry(model_id, None) },
        }
    }
}

/// One image a job asks about: its index in the post, its `images` entry and the questions (rule id, image
/// description) to answer.
#[derive(Debug, Clone)]
pub struct VlmImage {
    pub index: usize,
    pub entry: String,
    pub questions: Vec<(String, String)>,
}

/// One post's images for the VLM.
#[derive(Debug, Clone)]
pub struct VlmJob {
    pub job: u64,
    pub images: Vec<VlmImage>,
    /// Time the post's images may take, counted from when the worker takes the job.
    pub budget: Duration,
}

/// The VLM's queue: the newest job is taken first; beyond the capacity the oldest is pushed out.
#[derive(Debug)]
pub struct VlmQueue {
    state: Mutex<(VecDeque<VlmJob>, bool)>,
    ready: Condvar,
    capacity: usize,
}

impl VlmQueue {
    pub fn new(capacity: usize) -> Self {
        VlmQueue { state: Mutex::new((VecDeque::new(), false)), ready: Condvar::new(), capacity: capacity.max(1) }
    }

    /// Queue a job; returns the job pushed out to make room (its post keeps its verdict without the VLM).
    pub fn push(&self, job: VlmJob) -> Option<VlmJob> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0.push_back(job);
        let dropped = if state.0.len() > self.capacity { state.0.pop_front() } else { None };
        self.ready.notify_one();
        dropped
    }

    /// The newest job, waiting for one; `None` once the queue is closed and empty.
    pub fn pop(&self) -> Option<VlmJob> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = state.0.pop_back() {
                return Some(job);
            }
            if state.1 {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Take every waiting job out (the browser went away: nobody will see their updates).
    pub fn drain(&self) -> Vec<VlmJob> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0.drain(..).collect()
    }

    /// Take these jobs out if they are still waiting (their page went away); returns how many were.
    pub fn remove(&self, jobs: &[u64]) -> usize {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let before = state.0.len();
        state.0.retain(|j| !jobs.contains(&j.job));
        before - state.0.len()
    }

    /// No more jobs: the worker finishes the waiting ones and stops.
    pub fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.ready.notify_all();
    }
}

/// A finding for an image the VLM did not look at, saying why.
pub fn not_answered(model_id: &str, why: &str) -> VlmFinding {
    VlmFinding { model: model_id.to_string(), error: Some(why.to_string()), ..Default::default() }
}

/// A loaded VLM with its answer cache.
pub struct VlmJudge {
    vlm: Vlm,
    model_id: &'static str,
    limits: DecodeLimits,
    /// (image sha256, question) → P(yes).
    scores: HashMap<(String, String), f32>,
    /// Image sha256 → description.
    descriptions: HashMap<String, String>,
}

impl std::fmt::Debug for VlmJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VlmJudge").field("model_id", &self.model_id).field("vlm", &self.vlm).finish()
    }
}

impl VlmJudge {
    pub fn load(model_id: &'static str, opts: &VlmOptions) -> Result<Self, VlmError> {
        let vlm = Vlm::load(opts)?;
        if !vlm.has_vision() {
            return Err(VlmError::NotInstalled(format!("{} has no image encoder", opts.dir.display())));
        }
        Ok(VlmJudge {
            vlm,
            model_id,
            limits: DecodeLimits::default(),
            scores: HashMap::new(),
            descriptions: HashMap::new(),
        })
    }

    pub fn model_id(&self) -> &'static str {
        self.model_id
    }

    pub fn provider(&self) -> &'static str {
        self.vlm.provider()
    }

    /// The model's files (for a run manifest).
    pub fn files(&self) -> &[PathBuf] {
        self.vlm.files()
    }

    /// Answer `questions` (rule id, image description) about one `images` entry (a `data:` URL; files only
    /// under `base_dir`) and, with `describe`, describe it. Nothing is started after `deadline`: what was not
    /// answered by then is missing from the finding, whose `error` says so.
    pub fn judge_entry(
        &mut self,
        entry: &str,
        base_dir: Option<&Path>,
        questions: &[(String, String)],
        describe: bool,
        deadline: Option<Instant>,
    ) -> VlmFinding {
        match super::analyzer::entry_bytes(entry, base_dir, self.limits.max_bytes) {
            Ok(bytes) => self.judge_bytes(&bytes, questions, describe, deadline),
            Err((_, why)) => not_answered(self.model_id, &why),
        }
    }

    /// [`VlmJudge::judge_entry`] on encoded image bytes.
    pub fn judge_bytes(
        &mut self,
        bytes: &[u8],
        questions: &[(String, String)],
        describe: bool,
        deadline: Option<Instant>,
    ) -> VlmFinding {
        let t0 = Instant::now();
        let sha = feedwarden_core::sha256_hex(bytes);
        let mut finding = VlmFinding { model: self.model_id.to_string(), ..Default::default() };
        let asked: Vec<(String, String)> =
            questions.iter().map(|(rule, description)| (rule.clone(), yes_no_question(description))).collect();
        for (rule, q) in &asked {
            if let Some(&p) = self.scores.get(&(sha.clone(), q.clone())) {
                finding.scores.insert(rule.clone(), p);
            }
        }
        let todo: Vec<&(String, String)> =
            asked.iter().filter(|(rule, _)| !finding.scores.contains_key(rule)).collect();
        let cached_description = self.descriptions.get(&sha).cloned();
        let wants_description = describe && cached_description.is_none();
        finding.description = cached_description.filter(|_| describe);
        if todo.is_empty() && !wants_description {
            finding.ms = t0.elapsed().as_secs_f64() * 1000.0;
            return finding;
        }
        let out_of_time = |at: Option<Instant>| at.is_some_and(|d| Instant::now() >= d);
        if out_of_time(deadline) {
            finding.error = Some("the VLM's time for this post ran out before this image".into());
            finding.ms = t0.elapsed().as_secs_f64() * 1000.0;
            return finding;
        }
        let result = (|| -> Result<(), VlmError> {
            let img = crate::vlm::decode_image(bytes, &self.limits)?;
            let (tokens, features) = self.vlm.image_features(&img)?;
            if !todo.is_empty() {
                let qs: Vec<&str> = todo.iter().map(|(_, q)| q.as_str()).collect();
                let ps = self.vlm.yes_probabilities_from(tokens, &features, &qs)?;
                for ((rule, q), p) in todo.iter().zip(ps) {
                    finding.scores.insert(rule.clone(), p);
                    self.remember_score(&sha, q, p);
                }
            }
            if wants_description {
                if out_of_time(deadline) {
                    finding.error = Some("the VLM's time for this post ran out before the description".into());
                    return Ok(());
                }
                let prompt = self.vlm.image_prompt_from(tokens, &features, DESCRIBE_PROMPT)?;
                let mut ran_out = false;
                let generated = self.vlm.generate(&prompt, DESCRIPTION_TOKENS, &mut |_| {
                    ran_out = out_of_time(deadline);
                    if ran_out {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })?;
                let text = generated.text.trim().to_string();
                if !ran_out && !text.is_empty() {
                    if self.descriptions.len() >= CACHE_ENTRIES {
                        self.descriptions.clear();
                    }
                    self.descriptions.insert(sha.clone(), text.clone());
                }
                if ran_out {
                    finding.error = Some("the VLM's time for this post ran out during the description".into());
                }
                finding.description = (!text.is_empty()).then_some(text);
            }
            Ok(())
        })();
        if let Err(e) = result {
            finding.error = Some(e.to_string());
        }
        finding.ms = t0.elapsed().as_secs_f64() * 1000.0;
        finding
    }

    fn remember_score(&mut self, sha: &str, question: &str, p: f32) {
        if self.scores.len() >= CACHE_ENTRIES {
            self.scores.clear();
        }
        self.scores.insert((sha.to_string(), question.to_string()), p);
    }
}

/// The VLM worker's loop: takes the newest job, loads the model on the first one (reporting in `status`),
/// answers the job's images within its budget and hands the findings (image index → finding) to `done`;
/// stops when the queue is closed and empty or `done` returns `false`. A panic in the model costs the
/// image, not the worker.
pub fn run_worker(
    model: Option<(&'static str, VlmOptions)>,
    queue: &VlmQueue,
    status: &Mutex<VlmStatus>,
    mut done: impl FnMut(u64, Vec<(usize, VlmFinding)>) -> bool,
) {
    let mut judge: Option<VlmJudge> = None;
    let mut why_not: Option<(&'static str, String)> = None;
    // Resident memory before the model loaded, until its first job is done (then its cost is reported).
    let mut before_load: Option<u64> = None;
    while let Some(job) = queue.pop() {
        if judge.is_none() && why_not.is_none() {
            before_load = crate::memory::resident_kib();
            match &model {
                Some((id, opts)) => match VlmJudge::load(id, opts) {
                    Ok(j) => {
                        *status.lock().unwrap_or_else(|e| e.into_inner()) =
                            VlmStatus::Loaded { model_id: id, provider: j.provider(), resident_mib: None };
                        judge = Some(j);
                    }
                    Err(e) => {
                        let why = format!("{id} did not load: {e}");
                        *status.lock().unwrap_or_else(|e| e.into_inner()) =
                            VlmStatus::Unavailable { model_id: id, why: why.clone() };
                        why_not = Some((id, why));
                    }
                },
                None => why_not = Some((SMOLVLM_256M, "no VLM is installed".into())),
            }
        }
        let deadline = Instant::now() + job.budget;
        let findings = job
            .images
            .iter()
            .map(|img| {
                let finding = match (&mut judge, &why_not) {
                    (Some(j), _) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        j.judge_entry(&img.entry, None, &img.questions, true, Some(deadline))
                    }))
                    .unwrap_or_else(|_| not_answered(j.model_id(), "the VLM failed unexpectedly on this image")),
                    (None, Some((id, why))) => not_answered(id, why),
                    (None, None) => not_answered(SMOLVLM_256M, "no VLM is installed"),
                };
                (img.index, finding)
            })
            .collect();
        if let (Some(kib), Some(j)) = (before_load.take(), &judge) {
            let grown = crate::memory::resident_kib().map(|now| now.saturating_sub(kib) / 1024);
            *status.lock().unwrap_or_else(|e| e.into_inner()) =
                VlmStatus::Loaded { model_id: j.model_id(), provider: j.provider(), resident_mib: grown };
        }
        if !done(job.job, findings) {
            return;
        }
    }
}

/// Rule id → P(yes) over a post's findings: the highest per rule (as CLIP's image scores are).
pub fn best_scores<'a>(findings: impl IntoIterator<Item = &'a VlmFinding>) -> BTreeMap<String, f32> {
    let mut out = BTreeMap::new();
    for f in findings {
        for (rule, &p) in &f.scores {
            let best = out.entry(rule.clone()).or_insert(p);
            *best = best.max(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: u64) -> VlmJob {
        VlmJob { job: n, images: Vec::new(), budget: Duration::from_secs(1) }
    }

    #[test]
    fn newest_post_first_and_the_oldest_is_pushed_out() {
        let q = VlmQueue::new(2);
        assert!(q.push(job(1)).is_none());
        assert!(q.push(job(2)).is_none());
        assert_eq!(q.push(job(3)).map(|j| j.job), Some(1), "the oldest waiting post leaves");
        assert_eq!(q.pop().map(|j| j.job), Some(3));
        assert!(q.push(job(4)).is_none());
        assert_eq!(q.pop().map(|j| j.job), Some(4));
        assert!(q.push(job(5)).is_none());
        assert_eq!(q.remove(&[5, 77]), 1, "a cancelled job leaves; an unknown one is ignored");
        assert_eq!(q.drain().iter().map(|j| j.job).collect::<Vec<_>>(), vec![2]);
        q.close();
        assert!(q.pop().is_none(), "closed and empty");
    }

    #[test]
    fn a_closed_queue_still_hands_out_what_waits() {
        let q = std::sync::Arc::new(VlmQueue::new(4));
        q.push(job(7));
        q.close();
        assert_eq!(q.pop().map(|j| j.job), Some(7));
        assert!(q.pop().is_none());
    }

    #[test]
    fn the_worker_reports_why_without_a_model() {
        let q = VlmQueue::new(4);
        q.push(VlmJob {
            job: 9,
            images: vec![VlmImage { index: 1, entry: "data:,".into(), questions: vec![("r".into(), "a cat".into())] }],
            budget: Duration::from_secs(1),
        });
        q.close();
        let status = Mutex::new(VlmStatus::Unavailable { model_id: SMOLVLM_256M, why: "not installed".into() });
        let mut got = Vec::new();
        run_worker(None, &q, &status, |job, findings| {
            got.push((job, findings));
            true
        });
        assert_eq!(got.len(), 1);
        let (job, findings) = &got[0];
        assert_eq!((*job, findings[0].0), (9, 1));
        assert!(findings[0].1.scores.is_empty() && findings[0].1.error.is_some(), "{:?}", findings[0].1);
    }

    #[test]
    fn a_missing_model_says_what_to_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let e = choose("", PathBuf::from("/x/libonnxruntime.so"), dir.path()).unwrap_err();
        assert!(choose("off", PathBuf::new(), dir.path()).unwrap_err().contains("switched off"));
        assert!(choose("llava", PathBuf::new(), dir.path()).unwrap_err().contains("is not a VLM"));
        assert!(e.contains(FETCH_HINT), "{e}");
        let status = VlmStatus::from_choice(&Err(e));
        let info = status.model_info(dir.path());
        assert_eq!((info.kind.as_str(), info.id.as_str(), info.provider.is_none()), ("vlm", SMOLVLM_256M, true));
        assert!(info.error.unwrap().contains(FETCH_HINT));
    }

    #[test]
    fn best_scores_keep_the_highest_per_rule() {
        let f = |p: f32| VlmFinding { scores: [("r".to_string(), p)].into(), ..Default::default() };
        let got = best_scores([&f(0.2), &f(0.7), &f(0.4)]);
        assert_eq!(got.get("r"), Some(&0.7));
    }
}
