//! The native-messaging service: reads frames from the browser, answers every one (errors included) and
//! keeps serving. Diagnostics go to stderr; stdout carries only frames.
//!
//! By job: this file holds the host's state, start-up, the request loop (decode a frame once, dispatch by
//! `type`) and `hello`; `flow` the threads and their events (frame reader, image thread, VLM thread, pending
//! posts, `cancel`); `classify` judging and the `verdict.update`s; `policy` the policy lifecycle; `storage`
//! the SQLite cache, statistics and feedback; `reply` fitting replies into a frame.

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

use crate::framing::{read_frame, write_frame, Frame, MAX_REPLY_BYTES, MAX_REQUEST_BYTES};
use crate::protocol::{
    error_reply, oversized_request_id, truncate_chars, Accepts, CancelledReply, ErrorCode, FeedbackReply, HeadInfo,
    HelloReply, ModelInfo, PolicyReply, PolicyRuleInfo, PolicySummary, ReplyError, Request, StatsReply, StorageReport,
    ValidationReply, VerdictOut, VerdictUpdate, VerdictsReply, DEFAULT_IMAGE_BUDGET_MS, IMAGE_BUDGET_ENV,
    MAX_POSTS_PER_REQUEST, MAX_REQUEST_ID_BYTES, PROTOCOL_VERSION, REQUEST_TYPES,
};
use feedwarden_core::protocol::VlmFinding;
use feedwarden_judge::judge::Judge;
use feedwarden_judge::paths::Paths;
use feedwarden_judge::policy_store::{
    keep_unreadable_policy_file, load_policy_file, load_policy_text, remove_orphaned_temp_files, save_atomic,
    unreadable, PolicyLoad, ORPHANED_AFTER, STARTER_POLICY,
};
use feedwarden_judge::store::{today_utc, FeedbackKind, NewFeedback, Store, StoreError, MAX_IDEMPOTENCY_KEY_CHARS};
use feedwarden_models::embedder::{EmbedderOptions, EmbedderPool, MODEL_ID};
use feedwarden_models::images::clip::SharedVision;
use feedwarden_models::images::image_rules::ImageRules;
use feedwarden_models::images::vlm_stage::{self, VlmImage, VlmJob, VlmQueue, VlmStatus};
use feedwarden_models::images::{ImageAnalysis, ImageAnalyzer, ImageModelsOptions};
use feedwarden_models::vlm::VlmOptions;

/// Write a diagnostic line to stderr (never stdout: that is the protocol).
macro_rules! log {
    ($($arg:tt)*) => { eprintln!("feedwarden-host: {}", format_args!($($arg)*)) };
}

mod classify;
mod flow;
mod policy;
mod reply;
mod storage;

use classify::*;
use flow::*;
use policy::*;
use reply::*;
use storage::*;

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

/// A typed reply as the JSON written to the browser.
fn to_json(reply: impl Serialize) -> Value {
    serde_json::to_value(reply).expect("replies serialize")
}

/// The image models' entries of `hello`, each with the provider that runs it or why it is not loaded.
fn image_models_report(paths: &Paths, images: &ImageAnalyzer) -> Vec<ModelInfo> {
    images
        .report()
        .into_iter()
        .map(|stage| ModelInfo {
            id: stage.id.to_string(),
            kind: stage.kind.to_string(),
            provider: stage.status.as_ref().ok().map(|p| p.to_string()),
            path: paths.models_dir.join(stage.id).display().to_string(),
            error: stage.status.err(),
            loaded: None,
            note: None,
        })
        .collect()
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
                for stage in images.report() {
                    if let Err(e) = stage.status {
                        log!("{} model unavailable: {e}", stage.kind.to_uppercase());
                    }
                }
                // The image thread analyses images (see `serve`); the judge gets the results.
                j.set_images_analysed_by_caller(images.ocr_model());
                image_analyzer = Some(images);
                let policy_dir = paths.policy_file().parent().map(std::path::Path::to_path_buf);
                let mut clip = ImageRules::load(paths.ort_library.clone(), &paths.models_dir, policy_dir);
                clip.set_vlm(vlm_model.as_ref().map(|(id, _)| *id));
                let needed = active.policy.enabled_rules().any(feedwarden_models::images::image_rules::has_image_part);
                if let (true, feedwarden_models::images::image_rules::ClipStatus::Unavailable(e)) =
                    (needed, clip.status())
                {
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
                Event::Images { job, analyses, done } => {
                    if let Some(update) = self.finish_pending(flow, job, Stage::Images { analyses, done }) {
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
            provider: self.judge.as_ref().map_or("CPU", Judge::encoder_provider).into(),
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
        let limits = feedwarden_models::images::DecodeLimits::default();
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
            text_max_chars: feedwarden_models::embedder::MAX_TEXT_CHARS as u32,
            posts_per_request: MAX_POSTS_PER_REQUEST as u32,
        }
    }

    /// Every model with the provider that actually runs it (or why it is not loaded).
    fn models_report(&self) -> Vec<ModelInfo> {
        let dir = self.paths.models_dir.join(feedwarden_models::embedder::MODEL_DIR).display().to_string();
        let mut models = vec![ModelInfo {
            id: MODEL_ID.into(),
            kind: "text-encoder".into(),
            provider: self.judge.as_ref().ok().map(|j| j.encoder_provider().to_string()),
            path: dir,
            error: self.judge.as_ref().err().cloned(),
            loaded: None,
            note: None,
        }];
        models.extend(self.image_models.iter().cloned());
        if let Ok(judge) = self.judge.as_ref() {
            models
                .push(feedwarden_models::images::image_rules::hello_entry(judge.image_rules(), &self.paths.models_dir));
            let vlm = self.vlm_status.lock().unwrap_or_else(|e| e.into_inner()).model_info(&self.paths.models_dir);
            models.push(vlm);
        }
        models
    }
}
