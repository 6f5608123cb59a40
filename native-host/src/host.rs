//! The native-messaging service: reads frames from the browser, answers every one (errors included) and
//! keeps serving. Diagnostics go to stderr; stdout carries only frames.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::{json, Value};

use feedwarden_core::policy::limits::{bound_diagnostics, one_line_capped};
use feedwarden_core::policy::{Diagnostic, EffectivePolicy, Severity};
use feedwarden_core::{builtin_heads, Post, Verdict};

use crate::embedder::{EmbedderOptions, EmbedderPool, MODEL_ID};
use crate::framing::{read_frame, write_frame, Frame, MAX_REPLY_BYTES, MAX_REQUEST_BYTES};
use crate::images::clip::SharedVision;
use crate::images::image_rules::ImageRules;
use crate::images::vlm_stage::{self, VlmImage, VlmJob, VlmQueue, VlmStatus};
use crate::images::{ImageAnalysis, ImageAnalyzer, ImageModelsOptions};
use crate::judge::Judge;
use crate::paths::Paths;
use crate::policy_store::{
    keep_unreadable_policy_file, load_policy_file, load_policy_text, remove_orphaned_temp_files, save_atomic,
    unreadable, PolicyLoad, ORPHANED_AFTER, STARTER_POLICY,
};
use crate::protocol::{
    error_reply, oversized_request_id, truncate_chars, Accepts, CancelledReply, ErrorCode, FeedbackReply, HeadInfo,
    HelloReply, ModelInfo, PolicyReply, PolicyRuleInfo, PolicySummary, ReplyError, Request, StatsReply, StorageReport,
    ValidationReply, VerdictOut, VerdictUpdate, VerdictsReply, DEFAULT_IMAGE_BUDGET_MS, IMAGE_BUDGET_ENV,
    MAX_POSTS_PER_REQUEST, MAX_REQUEST_ID_BYTES, PROTOCOL_VERSION, REQUEST_TYPES,
};
use crate::store::{today_utc, FeedbackKind, NewFeedback, Store, StoreError, MAX_IDEMPOTENCY_KEY_CHARS};
use crate::vlm::VlmOptions;
use feedwarden_core::protocol::VlmFinding;

/// Write a diagnostic line to stderr (never stdout: that is the protocol).
macro_rules! log {
    ($($arg:tt)*) => { eprintln!("feedwarden-host: {}", format_args!($($arg)*)) };
}

/// The reader's active policy and where it came from.
#[derive(Debug)]
struct ActivePolicy {
    /// The policy file's text as it is on disk, even when it cannot load (the editor shows it and saves it
    /// back; it must never stand in for another text); the starter policy when there is no file yet; empty
    /// when the file cannot be read as a policy text (the diagnostics say why).
    source: String,
    policy: EffectivePolicy,
    diagnostics: Vec<Diagnostic>,
    file: PathBuf,
    file_mtime: Option<SystemTime>,
}

/// The database, or why it cannot be used. Without it the host still judges (without its verdict cache) and
/// serves the policy; `feedback` and `stats` answer `storage-error`, and `hello` says what is wrong.
#[derive(Debug)]
struct Storage {
    store: Result<Store, String>,
    /// The last failure of a cache or statistics write while serving (a full disk, a lock held too long):
    /// the verdicts are still answered; `hello` reports it until a later write succeeds.
    last_error: Option<String>,
}

impl Storage {
    fn open(path: &std::path::Path) -> Self {
        let store = Store::open(path).map_err(|e| {
            log!("the database cannot be used, so verdicts are not cached and feedback is not stored: {e}");
            e.to_string()
        });
        Storage { store, last_error: None }
    }

    fn get(&self) -> Result<&Store, (ErrorCode, String)> {
        self.store.as_ref().map_err(|e| (ErrorCode::StorageError, e.clone()))
    }

    fn get_mut(&mut self) -> Result<&mut Store, (ErrorCode, String)> {
        self.store.as_mut().map_err(|e| (ErrorCode::StorageError, e.clone()))
    }

    /// Run a write that must not cost the reader their verdicts: a failure is logged and reported in `hello`.
    fn best_effort(&mut self, what: &str, write: impl FnOnce(&mut Store) -> Result<(), StoreError>) {
        let Ok(store) = self.store.as_mut() else { return };
        match write(store) {
            Ok(()) => self.last_error = None,
            Err(e) => {
                log!("could not {what}: {e}");
                self.last_error = Some(format!("could not {what}: {e}"));
            }
        }
    }

    /// `hello`'s `storage` field.
    fn report(&self, path: &std::path::Path) -> StorageReport {
        let path = path.display().to_string();
        let (error, effect) = match (&self.store, &self.last_error) {
            (Ok(_), None) => return StorageReport { ok: true, path, error: None, effect: None },
            (Ok(_), Some(e)) => (e, "verdicts may not be cached or counted"),
            (Err(e), _) => {
                (e, "verdicts are not cached; feedback and stats are unavailable; `feedwarden doctor` says what to do")
            }
        };
        StorageReport { ok: false, path, error: Some(error.clone()), effect: Some(effect.to_string()) }
    }
}

/// All state of one running host.
#[derive(Debug)]
pub struct Host {
    paths: Paths,
    storage: Storage,
    judge: Result<Judge, String>,
    active: ActivePolicy,
    started: Instant,
    requests: u64,
    /// The image models until `serve` hands them to the image thread.
    image_analyzer: Option<ImageAnalyzer>,
    /// The image models' part of `hello` (their state never changes once loaded).
    image_models: Vec<ModelInfo>,
    /// How long `classify` waits for a post's images when the request does not say.
    default_image_budget: Duration,
    /// The VLM to load (on its worker, on the first image that needs it) until `serve` hands it over.
    vlm_model: Option<(&'static str, VlmOptions)>,
    /// Where the VLM stands (its worker updates it when it loads).
    vlm_status: Arc<Mutex<VlmStatus>>,
    /// The time one post's images may take in the VLM.
    vlm_budget: Duration,
}

/// What the main loop waits for: the next frame from the browser, or one post's finished image analyses.
#[derive(Debug)]
enum Event {
    Frame(std::io::Result<Frame>),
    ImagesDone {
        job: u64,
        analyses: Vec<ImageAnalysis>,
    },
    /// The VLM answered for some of a post's images (image index → finding); also sent for a job that left
    /// the VLM's queue unanswered, with findings that say why.
    VlmDone {
        job: u64,
        findings: Vec<(usize, VlmFinding)>,
    },
}

/// What finished for a pending post: its image analyses, or the VLM's findings on them.
#[derive(Debug)]
enum Stage {
    Images(Vec<ImageAnalysis>),
    Vlm(Vec<(usize, VlmFinding)>),
}

/// A post's verdict with what each of its images said.
type JudgedPost = (Verdict, Vec<ImageAnalysis>);

/// Frames read ahead of the main loop at most (the reader thread blocks beyond that).
const EVENT_QUEUE: usize = 16;

/// One post's images, for the image thread.
#[derive(Debug)]
struct ImageJob {
    job: u64,
    entries: Vec<String>,
    /// CLIP's image encoder when the active policy has image descriptions: the images' CLIP embeddings are
    /// computed with their analyses (inside the image budget). `None`: no CLIP work at all.
    clip: Option<SharedVision>,
}

/// A post answered on its text alone whose image-informed verdict is still to come.
#[derive(Debug)]
struct PendingPost {
    request_id: Option<Value>,
    post: Post,
    /// The verdict sent so far (the update falls back to it if judging fails).
    text_verdict: Verdict,
    received: Instant,
    /// The images' analyses, while the VLM looks at them (empty while the image thread does).
    analyses: Vec<ImageAnalysis>,
}

/// The concurrent part of a serving session: events from the frame reader and the image thread, jobs sent to
/// the image thread and the posts whose images are still being judged.
#[derive(Debug)]
struct Flow {
    events: Receiver<Event>,
    /// Events taken off the queue while `classify` waited for its own images, handled next, in order.
    deferred: VecDeque<Event>,
    jobs: Option<Sender<ImageJob>>,
    worker: Option<JoinHandle<()>>,
    /// The VLM's queue and worker, when a VLM is installed.
    vlm: Option<Arc<VlmQueue>>,
    vlm_worker: Option<JoinHandle<()>>,
    next_job: u64,
    pending: HashMap<u64, PendingPost>,
    input_open: bool,
}

impl Flow {
    fn next_event(&mut self) -> Option<Event> {
        self.deferred.pop_front().or_else(|| self.events.recv().ok())
    }

    /// Queue one post's images on the image thread; `None` when there is no image thread.
    fn submit(&mut self, entries: &[String], clip: Option<&SharedVision>) -> Option<u64> {
        let jobs = self.jobs.as_ref()?;
        let job = self.next_job;
        self.next_job += 1;
        jobs.send(ImageJob { job, entries: entries.to_vec(), clip: clip.cloned() }).ok()?;
        Some(job)
    }

    /// Queue one post's images on the VLM; a post pushed out of the full queue is finished without it.
    fn submit_vlm(&mut self, images: Vec<VlmImage>, budget: Duration) -> Option<u64> {
        let queue = self.vlm.as_ref().filter(|_| self.input_open)?;
        let job = self.next_job;
        self.next_job += 1;
        if let Some(dropped) = queue.push(VlmJob { job, images, budget }) {
            self.deferred.push_back(unanswered(dropped, "newer posts' images came first (the VLM's queue was full)"));
        }
        Some(job)
    }

    /// No more requests will come: no new jobs; the image thread finishes the queued ones and stops; the
    /// posts waiting for the VLM are finished without it (nobody will see them), but the one it is on.
    fn close_input(&mut self) {
        self.input_open = false;
        self.jobs = None;
        if let Some(queue) = &self.vlm {
            for job in queue.drain() {
                self.deferred.push_back(unanswered(job, "the browser closed the connection"));
            }
        }
    }

    fn stop_worker(&mut self) {
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            if worker.join().is_err() {
                log!("the image thread panicked");
            }
        }
        if let Some(queue) = self.vlm.take() {
            queue.drain();
            queue.close();
        }
        if let Some(worker) = self.vlm_worker.take() {
            if worker.join().is_err() {
                log!("the VLM thread panicked");
            }
        }
    }
}

/// The event that finishes a VLM job nobody answered: each of its images says why.
fn unanswered(job: VlmJob, why: &str) -> Event {
    let model = "";
    let findings = job.images.iter().map(|i| (i.index, vlm_stage::not_answered(model, why))).collect();
    Event::VlmDone { job: job.job, findings }
}

/// The VLM thread: loads the model on the first job (the host pays its memory only once an image needs it)
/// and answers the newest post's images first, within the post's budget.
fn spawn_vlm_worker(
    model: Option<(&'static str, VlmOptions)>,
    queue: Arc<VlmQueue>,
    status: Arc<Mutex<VlmStatus>>,
    events: SyncSender<Event>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("vlm".into())
        .spawn(move || {
            vlm_stage::run_worker(model, &queue, &status, |job, findings| {
                events.send(Event::VlmDone { job, findings }).is_ok()
            })
        })
        .expect("the VLM thread starts")
}

/// Read frames on their own thread so the main loop can wait for frames and image results at once.
fn spawn_frame_reader<R: Read + Send + 'static>(mut input: R, events: SyncSender<Event>) {
    std::thread::Builder::new()
        .name("frame-reader".into())
        .spawn(move || loop {
            let frame = read_frame(&mut input, MAX_REQUEST_BYTES);
            let more = matches!(frame, Ok(Frame::Message(_)) | Ok(Frame::TooLarge { .. }));
            if events.send(Event::Frame(frame)).is_err() || !more {
                return;
            }
        })
        .expect("the frame reader thread starts");
}

/// The image thread: owns the image models (OCR and NSFW sessions and the content-hash cache) and analyses
/// one post's images per job, in the order the jobs came, with their CLIP embeddings when the job carries
/// CLIP's image encoder (shared with the judge, which embeds the policy's example images with it).
fn spawn_image_worker(
    mut analyzer: ImageAnalyzer,
    jobs: Receiver<ImageJob>,
    events: SyncSender<Event>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("images".into())
        .spawn(move || {
            for ImageJob { job, entries, clip } in jobs {
                let analyses = entries
                    .iter()
                    .map(|entry| {
                        // A bug in a decoder or model wrapper costs this image, not the thread (and every
                        // later post's images).
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            analyzer.analyse_entry(entry, None, clip.as_ref())
                        }))
                        .unwrap_or_else(|_| ImageAnalysis {
                            error: Some(("model-error".into(), "the image analysis failed unexpectedly".into())),
                            ..Default::default()
                        })
                    })
                    .collect();
                if events.send(Event::ImagesDone { job, analyses }).is_err() {
                    return;
                }
            }
        })
        .expect("the image thread starts")
}

/// Serialize a frame within the browser's 1 MB limit. A `verdicts` reply or a `verdict.update` that is too
/// big first loses the bulky optional parts of its verdicts ([`trim_verdicts`]), so the verdicts themselves
/// always arrive; anything else too big is replaced by a `reply-too-large` error, itself small (see
/// [`error_reply`]).
fn write_reply(output: &mut impl Write, reply: &Value) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(reply).expect("replies serialize");
    if bytes.len() > MAX_REPLY_BYTES {
        let original = bytes.len();
        bytes = trim_verdicts(reply).unwrap_or_else(|| {
            let too_big = error_reply(
                reply.get("request_id"),
                ErrorCode::ReplyTooLarge,
                format!("the reply was {original} bytes"),
            );
            serde_json::to_vec(&too_big).expect("replies serialize")
        });
    }
    write_frame(output, &bytes)
}

/// Recognised text kept per image in a trimmed verdict (characters).
const TRIMMED_IMAGE_TEXT_CHARS: usize = 200;
/// Image entries kept per trimmed verdict.
const TRIMMED_IMAGES: usize = 16;
/// Reason kept in a trimmed verdict (characters).
const TRIMMED_REASON_CHARS: usize = 500;
/// The fields of a verdict that survive the last trimming step: what the page needs to act and explain.
const ESSENTIAL_VERDICT_FIELDS: [&str; 7] = ["id", "action", "rule", "reason", "cached", "images_pending", "trimmed"];

/// How far [`trim_verdicts`] has gone, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trim {
    /// Each image's recognised text cut to [`TRIMMED_IMAGE_TEXT_CHARS`] (`text_truncated: true`).
    ImageText,
    /// At most [`TRIMMED_IMAGES`] image entries (`images_omitted` counts the rest).
    ImageList,
    /// The reason cut to [`TRIMMED_REASON_CHARS`], `sub_labels` dropped.
    Reason,
    /// Only [`ESSENTIAL_VERDICT_FIELDS`].
    Essentials,
}

/// The verdicts of a `verdicts` reply or a `verdict.update`.
fn verdicts_mut(reply: &mut Value) -> Vec<&mut serde_json::Map<String, Value>> {
    if reply.get("verdicts").is_some() {
        return reply["verdicts"].as_array_mut().into_iter().flatten().filter_map(Value::as_object_mut).collect();
    }
    reply.get_mut("verdict").and_then(Value::as_object_mut).into_iter().collect()
}

fn trim_verdict(v: &mut serde_json::Map<String, Value>, step: Trim) {
    v.insert("trimmed".into(), json!(true));
    match step {
        Trim::ImageText => {
            for image in v.get_mut("images").and_then(Value::as_array_mut).into_iter().flatten() {
                let Some(text) = image.get("text").and_then(Value::as_str) else { continue };
                if text.chars().count() > TRIMMED_IMAGE_TEXT_CHARS {
                    image["text"] = json!(truncate_chars(text, TRIMMED_IMAGE_TEXT_CHARS));
                    image["text_truncated"] = json!(true);
                }
            }
        }
        Trim::ImageList => {
            let Some(images) = v.get_mut("images").and_then(Value::as_array_mut) else { return };
            let omitted = images.len().saturating_sub(TRIMMED_IMAGES);
            if omitted > 0 {
                images.truncate(TRIMMED_IMAGES);
                v.insert("images_omitted".into(), json!(omitted));
            }
        }
        Trim::Reason => {
            if let Some(reason) = v.get("reason").and_then(Value::as_str) {
                let cut = truncate_chars(reason, TRIMMED_REASON_CHARS).into_owned();
                v.insert("reason".into(), json!(cut));
            }
            v.remove("sub_labels");
        }
        Trim::Essentials => v.retain(|k, _| ESSENTIAL_VERDICT_FIELDS.contains(&k.as_str())),
    }
}

/// `reply` (`verdicts` or `verdict.update`) made to fit [`MAX_REPLY_BYTES`] by trimming every verdict one
/// [`Trim`] step at a time until it fits; a trimmed verdict says `"trimmed": true`. `None` when the reply
/// has no verdicts or still does not fit.
fn trim_verdicts(reply: &Value) -> Option<Vec<u8>> {
    let mut reply = reply.clone();
    if verdicts_mut(&mut reply).is_empty() {
        return None;
    }
    for step in [Trim::ImageText, Trim::ImageList, Trim::Reason, Trim::Essentials] {
        for v in verdicts_mut(&mut reply) {
            trim_verdict(v, step);
        }
        let bytes = serde_json::to_vec(&reply).expect("replies serialize");
        if bytes.len() <= MAX_REPLY_BYTES {
            return Some(bytes);
        }
    }
    None
}

/// One element of `verdicts[]` (and the `verdict` of a `verdict.update`).
fn verdict_out(verdict: Verdict, cached: bool, analyses: &[ImageAnalysis]) -> VerdictOut {
    crate::images::verdict_out(verdict, analyses).cached(cached)
}

/// A typed reply as the JSON written to the browser.
fn to_json(reply: impl Serialize) -> Value {
    serde_json::to_value(reply).expect("replies serialize")
}

/// The host's default image budget: `FEEDWARDEN_IMAGE_BUDGET_MS`, else [`DEFAULT_IMAGE_BUDGET_MS`].
fn default_image_budget() -> Duration {
    let ms = match std::env::var(IMAGE_BUDGET_ENV) {
        Ok(v) => v.trim().parse::<u64>().unwrap_or_else(|_| {
            log!("{IMAGE_BUDGET_ENV}={v:?} is not a whole number of milliseconds; using {DEFAULT_IMAGE_BUDGET_MS}");
            DEFAULT_IMAGE_BUDGET_MS
        }),
        Err(_) => DEFAULT_IMAGE_BUDGET_MS,
    };
    Duration::from_millis(ms)
}

/// The image models' entries of `hello`, each with the provider that runs it or why it is not loaded.
fn image_models_report(paths: &Paths, images: &ImageAnalyzer) -> Vec<ModelInfo> {
    let dir = |d: &str| paths.models_dir.join(d).display().to_string();
    [
        (images.ocr_model().id(), "ocr", images.ocr_model().id(), images.ocr_status()),
        (crate::images::nsfw::MODEL_ID, "nsfw", "open-nsfw", images.nsfw_status()),
    ]
    .into_iter()
    .map(|(id, kind, path, status)| ModelInfo {
        id: id.to_string(),
        kind: kind.to_string(),
        provider: status.ok().map(str::to_string),
        path: dir(path),
        error: status.err().map(str::to_string),
        loaded: None,
        note: None,
    })
    .collect()
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Load the policy file. A file that cannot load (unreadable, or broken beyond its rules) leaves the
/// previous policy running, or the starter policy at start-up, and says so in the diagnostics; `source` stays
/// the file's own text. At start-up (`previous` is `None`) the temporary files of interrupted saves are
/// removed first. Never panics, never blocks on the file (see `policy_store::read_policy_source`).
fn load_active(paths: &Paths, previous: Option<&EffectivePolicy>) -> ActivePolicy {
    let file = paths.policy_file();
    if previous.is_none() {
        for orphan in remove_orphaned_temp_files(&file, ORPHANED_AFTER) {
            log!("removed {}, left by a save that was interrupted", orphan.display());
        }
    }
    let file_mtime = mtime(&file);
    let starter = || load_policy_text(STARTER_POLICY, None, None).policy.expect("starter policy loads");
    if file_mtime.is_none() {
        return ActivePolicy {
            source: STARTER_POLICY.to_string(),
            policy: starter(),
            diagnostics: Vec::new(),
            file,
            file_mtime,
        };
    }
    // A bug in the policy engine must cost the policy, not the host (which must still answer `hello`).
    let (src, load) = std::panic::catch_unwind(|| load_policy_file(&file, previous)).unwrap_or_else(|_| {
        (
            None,
            PolicyLoad {
                policy: None,
                diagnostics: vec![unreadable(&file, "the policy engine failed on it unexpectedly")],
            },
        )
    });
    if let (Some(source), Some(policy)) = (&src, load.policy) {
        return ActivePolicy { source: source.clone(), policy, diagnostics: load.diagnostics, file, file_mtime };
    }
    log!("{} cannot be loaded; keeping the previous policy", file.display());
    for d in &load.diagnostics {
        log!("  {d}");
    }
    let (policy, running) = match previous {
        Some(prev) => (prev.clone(), "the last good policy stays active"),
        None => (starter(), "the shipped defaults run (as in the starter policy)"),
    };
    let mut diagnostics = load.diagnostics;
    let fix = if src.is_some() {
        "fix the problems listed and save"
    } else {
        "saving from the editor replaces it (a regular file that cannot be read is first renamed policy.toml.unreadable)"
    };
    diagnostics.push(Diagnostic::about_file(
        Severity::Warning,
        "policy-not-active",
        Some(file.display().to_string()),
        format!("this file cannot be loaded, so {running}; {fix}"),
    ));
    ActivePolicy { source: src.unwrap_or_default(), policy, diagnostics, file, file_mtime }
}

/// Diagnostics a `policy` or `policy.validation` reply lists at most (`feedwarden policy check` lists them
/// all, up to the engine's own limit).
const REPLY_DIAGNOSTICS: usize = 50;

/// Room a `policy` reply leaves under the browser's message limit (for the request id and the framing).
const POLICY_REPLY_BUDGET: usize = MAX_REPLY_BYTES - 16 * 1024;

/// A `policy` reply's diagnostics cut to one summary when the reply would not fit the browser's limit
/// otherwise. With the policy limits (a text of at most 128 KiB, at most 500 rules, a name cut to 200
/// characters) the rest always fits, so a saved policy can always be read back.
fn fit_policy_reply(mut reply: PolicyReply) -> PolicyReply {
    let size = |r: &PolicyReply| serde_json::to_vec(r).map_or(usize::MAX, |b| b.len());
    if size(&reply) <= POLICY_REPLY_BUDGET {
        return reply;
    }
    let listed = reply.diagnostics.len();
    reply.diagnostics = vec![Diagnostic::about_file(
        Severity::Warning,
        "too-many-diagnostics",
        Some(reply.path.clone()),
        format!("{listed} problems are too long to list here; run `feedwarden policy check` on the file to see them"),
    )];
    reply
}

/// What kind of JSON value `v` is, for error details.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A reply with the `request_id` of the request it answers: every reply type declares the field
/// (`feedwarden_core::protocol`), and the host sets it here, in one place, for every request.
fn with_rid(mut v: Value, request_id: Option<&Value>) -> Value {
    if let Some(id) = request_id {
        v["request_id"] = id.clone();
    }
    v
}

impl Host {
    /// Open the database, load the policy and the model. A missing model does not stop the host: it answers
    /// `hello` with the reason and refuses `classify` with `model-unavailable`. Nor does a database that
    /// cannot be used (corrupt, locked, read-only): see [`Storage`].
    pub fn open(paths: Paths) -> anyhow::Result<Self> {
        let storage = Storage::open(&paths.database());
        let active = load_active(&paths, None);
        let mut image_analyzer = None;
        let vlm_choice = vlm_stage::vlm_choice(paths.ort_library.clone(), &paths.models_dir);
        let vlm_status = VlmStatus::from_choice(&vlm_choice);
        let vlm_model = vlm_choice.ok();
        let (vlm_budget, warning) = vlm_stage::vlm_budget();
        if let Some(warning) = warning {
            log!("{warning}");
        }
        let judge = EmbedderPool::try_new(&EmbedderOptions::new(paths.ort_library.clone(), &paths.models_dir), 0)
            .and_then(|e| Judge::new(e, active.policy.clone()))
            .map(|mut j| {
                if let Ok(rows) = storage.get().and_then(|s| s.feedback_all().map_err(storage_error)) {
                    j.set_feedback(rows);
                }
                // Image models are optional: a missing one only disables its part (hello says which).
                let (options, warning) = ImageModelsOptions::new(paths.ort_library.clone(), &paths.models_dir);
                if let Some(warning) = warning {
                    log!("{warning}");
                }
                let images = ImageAnalyzer::new(&options);
                for (name, status) in [("OCR", images.ocr_status()), ("NSFW", images.nsfw_status())] {
                    if let Err(e) = status {
                        log!("{name} model unavailable: {e}");
                    }
                }
                // The image thread analyses images (see `serve`); the judge gets the results.
                j.set_images_analysed_by_caller(images.ocr_model());
                image_analyzer = Some(images);
                let policy_dir = paths.policy_file().parent().map(std::path::Path::to_path_buf);
                let mut clip = ImageRules::load(paths.ort_library.clone(), &paths.models_dir, policy_dir);
                clip.set_vlm(vlm_model.as_ref().map(|(id, _)| *id));
                let needed = active.policy.enabled_rules().any(crate::images::image_rules::has_image_part);
                if let (true, crate::images::image_rules::ClipStatus::Unavailable(e)) = (needed, clip.status()) {
                    log!("CLIP unavailable (image_description rules judge text only): {e}");
                }
                if let Err(e) = j.set_image_rules(clip) {
                    log!("could not compile the image descriptions: {e}");
                }
                j
            })
            .map_err(|e| {
                log!("model unavailable: {e}");
                e.to_string()
            });
        let image_models = image_analyzer.as_ref().map(|a| image_models_report(&paths, a)).unwrap_or_default();
        Ok(Host {
            paths,
            storage,
            judge,
            active,
            started: Instant::now(),
            requests: 0,
            image_analyzer,
            image_models,
            default_image_budget: default_image_budget(),
            vlm_model,
            vlm_status: Arc::new(Mutex::new(vlm_status)),
            vlm_budget,
        })
    }

    /// Serve frames until the browser closes the pipe. Frames are read on their own thread and images are
    /// analysed on the image thread, so `classify` can answer on a post's text when its images miss the budget
    /// and send the image-informed verdict later as a `verdict.update`. Every request still gets exactly one
    /// reply, in order; this thread is the only writer of `output`. When the input ends, the posts whose
    /// images are still being judged are finished (judged, cached, their updates written) before returning.
    pub fn serve<R: Read + Send + 'static>(&mut self, input: R, output: &mut impl Write) -> std::io::Result<()> {
        let (events_tx, events) = mpsc::sync_channel(EVENT_QUEUE);
        spawn_frame_reader(input, events_tx.clone());
        let (jobs, worker) = match self.image_analyzer.take() {
            Some(analyzer) => {
                let (jobs_tx, jobs_rx) = mpsc::channel();
                (Some(jobs_tx), Some(spawn_image_worker(analyzer, jobs_rx, events_tx.clone())))
            }
            None => (None, None),
        };
        // The VLM worker runs only when one is installed and the image thread is there to feed it.
        let (vlm, vlm_worker) = match (self.vlm_model.take(), &jobs) {
            (Some(model), Some(_)) => {
                let queue = Arc::new(VlmQueue::new(vlm_stage::QUEUE_POSTS));
                let worker = spawn_vlm_worker(Some(model), queue.clone(), self.vlm_status.clone(), events_tx.clone());
                (Some(queue), Some(worker))
            }
            _ => (None, None),
        };
        drop(events_tx);
        let mut flow = Flow {
            events,
            deferred: VecDeque::new(),
            jobs,
            worker,
            vlm,
            vlm_worker,
            next_job: 0,
            pending: HashMap::new(),
            input_open: true,
        };
        let served = self.serve_events(&mut flow, output);
        flow.stop_worker();
        match served {
            // The browser went away while updates were still being written: nobody is left to read them.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && !flow.input_open => {
                log!("the browser closed the pipe before the last updates: {e}");
                Ok(())
            }
            other => other,
        }
    }

    fn serve_events(&mut self, flow: &mut Flow, output: &mut impl Write) -> std::io::Result<()> {
        while flow.input_open || !flow.pending.is_empty() {
            let Some(event) = flow.next_event() else {
                break;
            };
            match event {
                Event::Frame(Ok(Frame::Message(body))) => {
                    let reply = self.handle(&body, flow);
                    write_reply(output, &reply)?;
                }
                Event::Frame(Ok(Frame::TooLarge { declared })) => {
                    self.requests += 1;
                    let reply = error_reply(
                        None,
                        ErrorCode::FrameTooLarge,
                        format!("declared {declared} bytes; the limit is {MAX_REQUEST_BYTES}"),
                    );
                    write_reply(output, &to_json(reply))?;
                }
                Event::Frame(Ok(Frame::Closed)) => flow.close_input(),
                Event::Frame(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    log!("input ended inside a frame: {e}");
                    flow.close_input();
                }
                Event::Frame(Err(e)) => return Err(e),
                Event::ImagesDone { job, analyses } => {
                    if let Some(update) = self.finish_pending(flow, job, Stage::Images(analyses)) {
                        write_reply(output, &to_json(update))?;
                    }
                }
                Event::VlmDone { job, findings } => {
                    if let Some(update) = self.finish_pending(flow, job, Stage::Vlm(findings)) {
                        write_reply(output, &to_json(update))?;
                    }
                }
            }
        }
        if !flow.pending.is_empty() {
            log!("{} posts' image verdicts were lost: the image thread stopped", flow.pending.len());
        }
        Ok(())
    }

    /// Answer one message body. Never panics on bad input; always returns a reply.
    fn handle(&mut self, body: &[u8], flow: &mut Flow) -> Value {
        self.requests += 1;
        let Ok(text) = std::str::from_utf8(body) else {
            return to_json(error_reply(None, ErrorCode::BadUtf8, ""));
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return to_json(error_reply(None, ErrorCode::BadJson, e.to_string())),
        };
        let Some(obj) = value.as_object() else {
            return to_json(error_reply(None, ErrorCode::NotAnObject, ""));
        };
        let request_id = obj.get("request_id").cloned();
        if let Some(len) = request_id.as_ref().and_then(oversized_request_id) {
            let detail = format!("\"request_id\" is {len} bytes of JSON; at most {MAX_REQUEST_ID_BYTES}");
            return to_json(error_reply(None, ErrorCode::BadRequest, detail));
        }
        let kind = match obj.get("type") {
            None => return to_json(error_reply(request_id.as_ref(), ErrorCode::MissingType, "")),
            Some(Value::String(kind)) => kind.as_str(),
            Some(other) => {
                let detail = format!("\"type\" must be a string such as \"classify\", not {}", json_kind(other));
                return to_json(error_reply(request_id.as_ref(), ErrorCode::BadRequest, detail));
            }
        };
        if !REQUEST_TYPES.contains(&kind) {
            let detail = format!("\"{}\"; known types: {}", truncate_chars(kind, 64), REQUEST_TYPES.join(", "));
            return to_json(error_reply(request_id.as_ref(), ErrorCode::UnknownType, detail));
        }
        // Parsed from the value itself, so a post's images (up to 8 MiB of base64) are not copied.
        let request: Request = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => return to_json(error_reply(request_id.as_ref(), ErrorCode::BadRequest, e.to_string())),
        };
        self.reload_policy_if_edited();
        let id = request.request_id().cloned();
        let reply = match request {
            Request::Hello { .. } => Ok(to_json(self.hello())),
            Request::Classify { posts, image_budget_ms, .. } => {
                let budget = image_budget_ms.map(Duration::from_millis).unwrap_or(self.default_image_budget);
                self.classify(posts.into_iter().map(Post::from).collect(), budget, id.as_ref(), flow).map(to_json)
            }
            Request::PolicyGet { .. } => Ok(to_json(self.policy_reply(true, &self.active.diagnostics.clone()))),
            Request::PolicySet { source, .. } => self.policy_set(source).map(to_json),
            Request::PolicyValidate { source, .. } => {
                // Checked as `policy.set` would load it: relative paths start from the policy file's folder.
                let file = self.paths.policy_file();
                let load = load_policy_text(&source, Some(&file), Some(&self.active.policy));
                Ok(to_json(ValidationReply {
                    kind: Default::default(),
                    request_id: None,
                    loadable: load.policy.is_some(),
                    diagnostics: bound_diagnostics(load.diagnostics, REPLY_DIAGNOSTICS),
                }))
            }
            Request::Feedback { post, rule, kind, idempotency_key, .. } => {
                self.feedback((*post).into(), rule, kind, idempotency_key).map(to_json)
            }
            Request::Stats { .. } => self.stats().map(to_json),
            Request::Cancel { requests, .. } => Ok(to_json(cancel(flow, &requests))),
        };
        match reply {
            Ok(v) => with_rid(v, id.as_ref()),
            Err((code, detail)) => to_json(error_reply(id.as_ref(), code, detail)),
        }
    }

    fn hello(&self) -> HelloReply {
        let heads = builtin_heads()
            .iter()
            .map(|h| HeadInfo { id: h.id.clone(), name: h.name.clone(), validation: h.validation.clone() })
            .collect();
        let policy = &self.active.policy;
        HelloReply {
            kind: Default::default(),
            request_id: None,
            protocol: PROTOCOL_VERSION,
            host: "feedwarden-host".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            ready: self.judge.is_ok(),
            error: self.judge.as_ref().err().cloned(),
            provider: "CPU".into(),
            models: self.models_report(),
            heads,
            policy: PolicySummary {
                name: policy.name.clone(),
                hash: policy.hash.clone(),
                rules: u32::try_from(policy.rules.len()).unwrap_or(u32::MAX),
            },
            data_dir: self.paths.data_dir.display().to_string(),
            storage: self.storage.report(&self.paths.database()),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            accepts: self.accepts(),
        }
    }

    /// `hello.accepts`: images are worth sending when an image model will look at them — OCR or NSFW loaded,
    /// or CLIP / the VLM there for the policy's rules with an `image_description`.
    fn accepts(&self) -> Accepts {
        let limits = crate::images::DecodeLimits::default();
        let image_model_loaded = self.image_models.iter().any(|m| m.provider.is_some());
        let image_rules = self.judge.as_ref().ok().and_then(Judge::image_rules);
        let described = image_rules.is_some_and(|r| !r.described().is_empty());
        let clip_or_vlm = image_rules.is_some_and(|r| r.is_loaded() || r.vlm_wanted().is_some());
        Accepts {
            images: self.judge.is_ok() && (image_model_loaded || (described && clip_or_vlm)),
            image_formats: ["jpeg", "png", "webp", "gif"].map(str::to_string).to_vec(),
            image_max_bytes: limits.max_bytes as u64,
            image_max_dimension: limits.max_dimension,
            image_max_pixels: limits.max_pixels,
            text_max_chars: crate::embedder::MAX_TEXT_CHARS as u32,
            posts_per_request: MAX_POSTS_PER_REQUEST as u32,
        }
    }

    /// Every model with the provider that actually runs it (or why it is not loaded).
    fn models_report(&self) -> Vec<ModelInfo> {
        let dir = self.paths.models_dir.join("all-minilm-l6-v2").display().to_string();
        let mut models = vec![ModelInfo {
            id: MODEL_ID.into(),
            kind: "text-encoder".into(),
            provider: Some("CPU".into()),
            path: dir,
            error: None,
            loaded: None,
            note: None,
        }];
        models.extend(self.image_models.iter().cloned());
        if let Ok(judge) = self.judge.as_ref() {
            models.push(crate::images::image_rules::hello_entry(judge.image_rules(), &self.paths.models_dir));
            let vlm = self.vlm_status.lock().unwrap_or_else(|e| e.into_inner()).model_info(&self.paths.models_dir);
            models.push(vlm);
        }
        models
    }

    fn judge_mut(&mut self) -> Result<&mut Judge, (ErrorCode, String)> {
        self.judge.as_mut().map_err(|e| (ErrorCode::ModelUnavailable, e.clone()))
    }

    /// Judge `posts[i]` for each `i` in `which`, with `analyses` (one list per judged post; empty judges the
    /// text alone), in one batch. Returns `(i, (verdict, analyses))`.
    fn judge_some(
        &mut self,
        posts: &[Post],
        which: &[usize],
        analyses: Vec<Vec<ImageAnalysis>>,
    ) -> Result<Vec<(usize, JudgedPost)>, (ErrorCode, String)> {
        if which.is_empty() {
            return Ok(Vec::new());
        }
        let to_judge: Vec<Post> = which.iter().map(|&i| posts[i].clone()).collect();
        let judged = self
            .judge_mut()?
            .judge_with_analyses(&to_judge, analyses)
            .map_err(|e| (ErrorCode::ModelError, e.to_string()))?;
        Ok(which.iter().copied().zip(judged).collect())
    }

    /// Judge a batch of posts. Cache hits are answered from SQLite. The misses' images go to the image thread
    /// while their text is judged here; images that finish within `budget` (counted from now) join their
    /// post's verdict, the others leave the post with its text-only verdict, marked `images_pending`, and
    /// the image-informed verdict follows as a `verdict.update` (see `finish_pending`). A budget of zero never
    /// waits. Only final verdicts are cached and counted in the statistics.
    fn classify(
        &mut self,
        posts: Vec<Post>,
        budget: Duration,
        request_id: Option<&Value>,
        flow: &mut Flow,
    ) -> Result<VerdictsReply, (ErrorCode, String)> {
        let t0 = Instant::now();
        if posts.len() > MAX_POSTS_PER_REQUEST {
            return Err((ErrorCode::TooManyPosts, format!("{} posts; at most {MAX_POSTS_PER_REQUEST}", posts.len())));
        }
        let judge = self.judge.as_ref().map_err(|e| (ErrorCode::ModelUnavailable, e.clone()))?;
        let keys: Vec<String> = posts.iter().map(|p| judge.cache_key(p)).collect();
        let mut verdicts: Vec<Option<(Verdict, bool)>> = Vec::with_capacity(posts.len());
        let mut images: Vec<Vec<ImageAnalysis>> = vec![Vec::new(); posts.len()];
        let mut misses = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            // Without a database (or on a read error) every post is judged afresh.
            let hit = self
                .storage
                .get()
                .ok()
                .and_then(|store| store.cache_get(key).ok().flatten())
                .and_then(|json| serde_json::from_str::<Verdict>(&json).ok());
            match hit {
                Some(mut v) => {
                    v.id = posts[i].id.clone();
                    verdicts.push(Some((v, true)));
                }
                None => {
                    misses.push(i);
                    verdicts.push(None);
                }
            }
        }
        // Images first, so the image thread works while the text is judged here (with CLIP when the policy
        // has image descriptions).
        let clip = judge.image_rules().and_then(ImageRules::vision_wanted);
        let mut waiting: HashMap<u64, usize> = HashMap::new();
        for &i in &misses {
            if !posts[i].images.is_empty() {
                if let Some(job) = flow.submit(&posts[i].images, clip.as_ref()) {
                    waiting.insert(job, i);
                }
            }
        }
        let mut with_images: Vec<usize> = waiting.values().copied().collect();
        with_images.sort_unstable();
        let mut pending: Vec<usize> = Vec::new();
        let mut vlm_waiting: Vec<(u64, usize)> = Vec::new();
        if !misses.is_empty() {
            let without_images: Vec<usize> = misses.iter().copied().filter(|i| !with_images.contains(i)).collect();
            let none = vec![Vec::new(); without_images.len()];
            for (i, (v, _)) in self.judge_some(&posts, &without_images, none)? {
                verdicts[i] = Some((v, false));
            }
            let deadline = t0 + budget;
            while !waiting.is_empty() && !budget.is_zero() {
                let left = deadline.saturating_duration_since(Instant::now());
                match flow.events.recv_timeout(left) {
                    Ok(Event::ImagesDone { job, analyses }) if waiting.contains_key(&job) => {
                        let i = waiting.remove(&job).expect("a job of this request");
                        images[i] = analyses;
                    }
                    Ok(other) => flow.deferred.push_back(other),
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
            // Posts whose images came back are judged with them; the others on their text (images pending).
            let analyses = with_images.iter().map(|&i| std::mem::take(&mut images[i])).collect();
            for (i, (v, analyses)) in self.judge_some(&posts, &with_images, analyses)? {
                images[i] = analyses;
                verdicts[i] = Some((v, false));
            }
            // Images an image rule leaves to the VLM: the verdict so far is sent, the VLM's follows.
            for &i in &with_images {
                if !waiting.values().any(|&w| w == i) {
                    if let Some(job) = self.submit_vlm(flow, &posts[i], &images[i]) {
                        vlm_waiting.push((job, i));
                    }
                }
            }
            pending = waiting.values().copied().chain(vlm_waiting.iter().map(|&(_, i)| i)).collect();
            pending.sort_unstable();
            let entries: Vec<(String, String)> = misses
                .iter()
                .filter(|i| !pending.contains(i))
                .map(|&i| {
                    let v = &verdicts[i].as_ref().expect("every miss judged").0;
                    (keys[i].clone(), serde_json::to_string(v).expect("verdicts serialize"))
                })
                .collect();
            self.storage.best_effort("cache the verdicts", |store| store.cache_put_many(&entries));
        }
        let policy = &self.active.policy;
        let events: Vec<(String, String, String)> = posts
            .iter()
            .zip(&verdicts)
            .enumerate()
            .filter(|(i, _)| !pending.contains(i))
            .map(|(_, (p, v))| stats_event(policy, p, &v.as_ref().expect("every post judged").0))
            .collect();
        self.storage.best_effort("count the verdicts", |store| store.stats_record(&today_utc(), &events));
        for (job, i) in waiting.into_iter().chain(vlm_waiting.iter().copied()) {
            let text_verdict = verdicts[i].as_ref().expect("every post judged").0.clone();
            let post = posts[i].clone();
            // The VLM's findings join these analyses; the image thread's come with its event.
            let analyses = if vlm_waiting.iter().any(|&(j, _)| j == job) { images[i].clone() } else { Vec::new() };
            let received = t0;
            flow.pending
                .insert(job, PendingPost { request_id: request_id.cloned(), post, text_verdict, received, analyses });
        }
        let out = verdicts
            .into_iter()
            .zip(images)
            .enumerate()
            .map(|(i, (v, analyses))| {
                let (verdict, cached) = v.expect("every post judged");
                let mut out = verdict_out(verdict, cached, &analyses);
                if pending.contains(&i) {
                    out.images_pending = Some(true);
                }
                out
            })
            .collect();
        Ok(VerdictsReply {
            kind: Default::default(),
            request_id: None,
            verdicts: out,
            elapsed_ms: t0.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Queue on the VLM the images of a post (judged with `analyses`) that an image rule leaves to it
    /// ([`ImageRules::vlm_questions`]); `None` when there are none, or no VLM.
    fn submit_vlm(&self, flow: &mut Flow, post: &Post, analyses: &[ImageAnalysis]) -> Option<u64> {
        flow.vlm.as_ref()?;
        if !self.vlm_status.lock().unwrap_or_else(|e| e.into_inner()).is_available() {
            return None;
        }
        let rules = self.judge.as_ref().ok()?.image_rules()?;
        let images: Vec<VlmImage> = rules
            .vlm_questions(analyses)
            .into_iter()
            .enumerate()
            .filter(|(_, questions)| !questions.is_empty())
            .filter_map(|(index, questions)| {
                Some(VlmImage { index, entry: post.images.get(index)?.clone(), questions })
            })
            .collect();
        if images.is_empty() {
            return None;
        }
        flow.submit_vlm(images, self.vlm_budget)
    }

    /// A pending post's images (or the VLM's findings on them) are done: judge it with them. When an image
    /// rule leaves some images to the VLM, they are queued on it and the update says more is coming
    /// (`images_pending: true`); otherwise the final verdict is cached and counted. Builds the
    /// `verdict.update`; `None` for a job no reply announced (its request failed after queueing it).
    fn finish_pending(&mut self, flow: &mut Flow, job: u64, stage: Stage) -> Option<VerdictUpdate> {
        let mut pending = flow.pending.remove(&job)?;
        let analyses = match stage {
            Stage::Images(analyses) => analyses,
            Stage::Vlm(findings) => {
                let mut analyses = std::mem::take(&mut pending.analyses);
                for (index, finding) in findings {
                    if let Some(a) = analyses.get_mut(index) {
                        a.vlm = Some(finding);
                    }
                }
                analyses
            }
        };
        let judged = match self.judge.as_mut() {
            Ok(judge) => judge
                .judge_with_analyses(std::slice::from_ref(&pending.post), vec![analyses.clone()])
                .map(|mut v| {
                    // Images analysed before the policy gained image descriptions have no CLIP embeddings, and
                    // the VLM may have left some unanswered: that verdict is sent but not cached (the next
                    // classify of the post judges it fully).
                    let complete = !judge.image_rules().is_some_and(|r| r.lacks_embeddings(&analyses))
                        && !analyses.iter().any(|a| a.vlm.as_ref().is_some_and(|v| v.error.is_some()));
                    (v.remove(0).0, complete.then(|| judge.cache_key(&pending.post)))
                })
                .map_err(|e| (ErrorCode::ModelError, e.to_string())),
            Err(e) => Err((ErrorCode::ModelUnavailable, e.clone())),
        };
        if let Ok((verdict, _)) = &judged {
            if let Some(next) = self.submit_vlm(flow, &pending.post, &analyses) {
                let mut out = verdict_out(verdict.clone(), false, &analyses);
                out.images_pending = Some(true);
                let update = VerdictUpdate {
                    kind: Default::default(),
                    request_id: pending.request_id.clone(),
                    verdict: out,
                    error: None,
                    elapsed_ms: pending.received.elapsed().as_secs_f64() * 1000.0,
                };
                let next_post = PendingPost { text_verdict: verdict.clone(), analyses, ..pending };
                flow.pending.insert(next, next_post);
                return Some(update);
            }
        }
        let (verdict, error) = match judged {
            Ok((verdict, key)) => {
                let cached = serde_json::to_string(&verdict).expect("verdicts serialize");
                if let Some(key) = key {
                    self.storage.best_effort("cache an image verdict", |store| store.cache_put_many(&[(key, cached)]));
                }
                let event = stats_event(&self.active.policy, &pending.post, &verdict);
                self.storage.best_effort("count an image verdict", |store| store.stats_record(&today_utc(), &[event]));
                (verdict, None)
            }
            Err((code, detail)) => {
                log!("judging post {} with its images failed: {detail}", pending.post.id);
                (pending.text_verdict, Some(ReplyError { code, message: code.sentence().into(), detail }))
            }
        };
        let mut verdict = verdict_out(verdict, false, &analyses);
        verdict.images_pending = Some(false);
        Some(VerdictUpdate {
            kind: Default::default(),
            request_id: pending.request_id,
            verdict,
            error,
            elapsed_ms: pending.received.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// The `policy` reply: the active policy's text, rules and diagnostics (bounded: see
    /// [`fit_policy_reply`]).
    fn policy_reply(&self, applied: bool, diagnostics: &[Diagnostic]) -> PolicyReply {
        let p = &self.active.policy;
        let mut diagnostics = diagnostics.to_vec();
        if let Some(clip) = self.judge.as_ref().ok().and_then(Judge::image_rules) {
            diagnostics.extend(clip.diagnostics(p));
        }
        let rules = p
            .rules
            .iter()
            .map(|r| PolicyRuleInfo {
                id: r.id.clone(),
                category: r.category_id().to_string(),
                action: r.action,
                threshold: r.threshold_value(),
                enabled: r.is_enabled(),
                user_defined: r.is_user_defined(),
            })
            .collect();
        fit_policy_reply(PolicyReply {
            kind: Default::default(),
            request_id: None,
            applied,
            source: self.active.source.clone(),
            name: one_line_capped(&p.name, 200),
            hash: p.hash.clone(),
            rules,
            diagnostics: bound_diagnostics(diagnostics, REPLY_DIAGNOSTICS),
            path: self.active.file.display().to_string(),
        })
    }

    fn policy_set(&mut self, source: String) -> Result<PolicyReply, (ErrorCode, String)> {
        let file = self.paths.policy_file();
        let load = load_policy_text(&source, Some(&file), Some(&self.active.policy));
        let Some(policy) = load.policy else {
            return Ok(self.policy_reply(false, &load.diagnostics));
        };
        if let Ok(judge) = self.judge.as_mut() {
            judge.set_policy(policy.clone()).map_err(|e| (ErrorCode::ModelError, e.to_string()))?;
        }
        keep_unreadable_policy_file(&file)
            .map_err(|e| (ErrorCode::StorageError, format!("{}: {e}", file.display())))?;
        save_atomic(&file, &source).map_err(|e| (ErrorCode::StorageError, format!("{}: {e}", file.display())))?;
        self.active = ActivePolicy { source, policy, diagnostics: load.diagnostics, file_mtime: mtime(&file), file };
        Ok(self.policy_reply(true, &self.active.diagnostics.clone()))
    }

    /// Pick up hand edits of the policy file; a broken edit keeps the current policy.
    fn reload_policy_if_edited(&mut self) {
        let now = mtime(&self.paths.policy_file());
        if now.is_none() || now == self.active.file_mtime {
            return;
        }
        let next = load_active(&self.paths, Some(&self.active.policy));
        if next.policy.hash != self.active.policy.hash {
            if let Ok(judge) = self.judge.as_mut() {
                if let Err(e) = judge.set_policy(next.policy.clone()) {
                    log!("could not activate the edited policy: {e}");
                    return;
                }
            }
            log!("reloaded {}", next.file.display());
        }
        self.active = next;
    }

    fn feedback(
        &mut self,
        post: Post,
        rule: Option<String>,
        kind: FeedbackKind,
        idempotency_key: Option<String>,
    ) -> Result<FeedbackReply, (ErrorCode, String)> {
        match rule.as_deref() {
            Some(r) if self.active.policy.rule(r).is_none() => {
                return Err((ErrorCode::BadRequest, format!("no rule \"{r}\" in the active policy")));
            }
            None if kind == FeedbackKind::WasFine => {
                return Err((
                    ErrorCode::BadRequest,
                    "\"was_fine\" needs the \"rule\" that should not have fired (a correction applies to one rule)"
                        .into(),
                ));
            }
            _ => {}
        }
        if let Some(key) = idempotency_key.as_deref() {
            if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
                return Err((
                    ErrorCode::BadRequest,
                    format!("\"idempotency_key\" must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
                ));
            }
        }
        let text = post.judged_text();
        if text.is_empty() {
            return Err((ErrorCode::BadRequest, "the post has no text to learn from".into()));
        }
        self.storage.get()?;
        let judge = self.judge_mut()?;
        let embedding =
            judge.embed_all(&[text.as_str()]).map_err(|e| (ErrorCode::ModelError, e.to_string()))?.remove(0);
        let store = self.storage.get_mut()?;
        let (id, duplicate) = store
            .feedback_add(&NewFeedback {
                post_id: &post.id,
                site: post.site.as_deref(),
                author: post.author.as_deref(),
                text: &text,
                rule: rule.as_deref(),
                kind,
                embedding: &embedding,
                idempotency_key: idempotency_key.as_deref(),
            })
            .map_err(storage_error)?;
        let rows = store.feedback_all().map_err(storage_error)?;
        if let Ok(j) = self.judge.as_mut() {
            j.set_feedback(rows);
        }
        Ok(FeedbackReply { kind: Default::default(), request_id: None, stored: true, feedback_id: id, duplicate })
    }

    fn stats(&self) -> Result<StatsReply, (ErrorCode, String)> {
        let today = self.storage.get()?.stats_summary(&today_utc()).map_err(storage_error)?;
        Ok(StatsReply {
            kind: Default::default(),
            request_id: None,
            today,
            requests: self.requests,
            uptime_ms: self.started.elapsed().as_millis() as u64,
        })
    }
}

/// `cancel`: forget the posts of these `classify` requests that still wait for images or the VLM (no update
/// will be written for them) and take their jobs off the VLM's queue. Work already running finishes and is
/// dropped.
fn cancel(flow: &mut Flow, requests: &[Value]) -> CancelledReply {
    let jobs: Vec<u64> = flow
        .pending
        .iter()
        .filter(|(_, p)| p.request_id.as_ref().is_some_and(|id| requests.contains(id)))
        .map(|(&job, _)| job)
        .collect();
    for job in &jobs {
        flow.pending.remove(job);
    }
    if let Some(queue) = &flow.vlm {
        queue.remove(&jobs);
    }
    CancelledReply { kind: Default::default(), request_id: None, posts: u32::try_from(jobs.len()).unwrap_or(u32::MAX) }
}

fn storage_error(e: StoreError) -> (ErrorCode, String) {
    (ErrorCode::StorageError, e.to_string())
}

/// One post's entry in the daily statistics: (site, category of the deciding rule, action).
fn stats_event(policy: &EffectivePolicy, post: &Post, verdict: &Verdict) -> (String, String, String) {
    let category = verdict.rule.as_deref().and_then(|r| policy.rule(r)).map(|r| r.category_id().to_string());
    (post.site.clone().unwrap_or_default(), category.unwrap_or_default(), verdict.action.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest reply the limits allow (a 128 KiB policy of control characters is 768 KiB of JSON, 500
    /// rules with 64-character ids, 50 diagnostics of 400 four-byte characters) fits once its diagnostics are
    /// summarised.
    #[test]
    fn policy_replies_are_cut_to_fit() {
        let diagnostic = |i: usize| Diagnostic {
            severity: Severity::Error,
            code: "syntax".into(),
            file: Some("😀".repeat(400)),
            line: i,
            column: 1,
            rule: Some("r".repeat(64)),
            message: "😀".repeat(400),
        };
        let rule = PolicyRuleInfo {
            id: "r".repeat(64),
            category: "r".repeat(64),
            action: feedwarden_core::Action::Label,
            threshold: 0.123_456_789_012_345_67,
            enabled: true,
            user_defined: true,
        };
        let diagnostics: Vec<Diagnostic> = (1..=1_000).map(diagnostic).collect();
        let policy_reply = |rules: Vec<PolicyRuleInfo>, diagnostics: Vec<Diagnostic>| PolicyReply {
            kind: Default::default(),
            request_id: None,
            applied: true,
            source: "\u{1}".repeat(128 * 1024),
            name: "p".into(),
            hash: "h".into(),
            rules,
            diagnostics,
            path: "/data/policy.toml".into(),
        };
        let reply = fit_policy_reply(policy_reply(vec![rule; 500], bound_diagnostics(diagnostics, REPLY_DIAGNOSTICS)));
        assert!(serde_json::to_vec(&reply).unwrap().len() <= POLICY_REPLY_BUDGET);
        let listed = &reply.diagnostics;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].code, "too-many-diagnostics");
        assert!(listed[0].message.starts_with("51 problems"), "{}", listed[0]);
        // A reply that fits is left alone.
        let small = policy_reply(Vec::new(), vec![diagnostic(1)]);
        assert_eq!(fit_policy_reply(small.clone()).diagnostics, small.diagnostics);
    }
}
