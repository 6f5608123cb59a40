//! The native-messaging service: reads frames from the browser, answers every one (errors included) and
//! keeps serving. Diagnostics go to stderr; stdout carries only frames.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use serde_json::{json, Value};

use feedwarden_core::policy::{Diagnostic, EffectivePolicy};
use feedwarden_core::{builtin_heads, Verdict, VerdictAction};

use crate::embedder::{EmbedderOptions, EmbedderPool, MODEL_ID};
use crate::framing::{read_frame, write_frame, Frame, MAX_REPLY_BYTES, MAX_REQUEST_BYTES};
use crate::images::{ImageAnalysis, ImageAnalyzer, ImageModelsOptions};
use crate::judge::Judge;
use crate::paths::Paths;
use crate::policy_store::{load_policy_file, load_policy_text, save_atomic, STARTER_POLICY};
use crate::protocol::{error_reply, ErrorCode, Request, MAX_POSTS_PER_REQUEST, PROTOCOL_VERSION, REQUEST_TYPES};
use crate::store::{today_utc, Store};

/// Write a diagnostic line to stderr (never stdout: that is the protocol).
macro_rules! log {
    ($($arg:tt)*) => { eprintln!("feedwarden-host: {}", format_args!($($arg)*)) };
}

/// The reader's active policy and where it came from.
#[derive(Debug)]
struct ActivePolicy {
    source: String,
    policy: EffectivePolicy,
    diagnostics: Vec<Diagnostic>,
    file: PathBuf,
    file_mtime: Option<SystemTime>,
}

/// All state of one running host.
#[derive(Debug)]
pub struct Host {
    paths: Paths,
    store: Store,
    judge: Result<Judge, String>,
    active: ActivePolicy,
    started: Instant,
    requests: u64,
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn load_active(paths: &Paths, previous: Option<&EffectivePolicy>) -> ActivePolicy {
    let file = paths.policy_file();
    let file_mtime = mtime(&file);
    if file_mtime.is_some() {
        let (src, load) = load_policy_file(&file, previous);
        if let (Some(source), Some(policy)) = (src, load.policy) {
            return ActivePolicy { source, policy, diagnostics: load.diagnostics, file, file_mtime };
        }
        log!("{} cannot be loaded; keeping the previous policy", file.display());
        for d in &load.diagnostics {
            log!("  {d}");
        }
        if let Some(prev) = previous {
            return ActivePolicy {
                source: std::fs::read_to_string(&file).unwrap_or_default(),
                policy: prev.clone(),
                diagnostics: load.diagnostics,
                file,
                file_mtime,
            };
        }
        let starter = load_policy_text(STARTER_POLICY, None, None);
        let mut diagnostics = load.diagnostics;
        diagnostics.extend(starter.diagnostics);
        return ActivePolicy {
            source: STARTER_POLICY.to_string(),
            policy: starter.policy.expect("starter policy loads"),
            diagnostics,
            file,
            file_mtime,
        };
    }
    let starter = load_policy_text(STARTER_POLICY, None, None);
    ActivePolicy {
        source: STARTER_POLICY.to_string(),
        policy: starter.policy.expect("starter policy loads"),
        diagnostics: starter.diagnostics,
        file,
        file_mtime: None,
    }
}

fn rid(request: &Request) -> Option<&Value> {
    match request {
        Request::Hello { request_id, .. }
        | Request::Classify { request_id, .. }
        | Request::PolicyGet { request_id }
        | Request::PolicySet { request_id, .. }
        | Request::PolicyValidate { request_id, .. }
        | Request::Feedback { request_id, .. }
        | Request::Stats { request_id } => request_id.as_ref(),
    }
}

fn with_rid(mut v: Value, request_id: Option<&Value>) -> Value {
    if let Some(id) = request_id {
        v["request_id"] = id.clone();
    }
    v
}

impl Host {
    /// Open the database, load the policy and the model. A missing model does not stop the host: it answers
    /// `hello` with the reason and refuses `classify` with `model-unavailable`.
    pub fn open(paths: Paths) -> anyhow::Result<Self> {
        let store = Store::open(&paths.database())?;
        let active = load_active(&paths, None);
        let judge = EmbedderPool::try_new(&EmbedderOptions::new(paths.ort_library.clone(), &paths.models_dir), 0)
            .and_then(|e| Judge::new(e, active.policy.clone()))
            .map(|mut j| {
                if let Ok(rows) = store.feedback_all() {
                    j.set_feedback(rows);
                }
                // Image models are optional: a missing one only disables its part (hello says which).
                let images = ImageAnalyzer::new(&ImageModelsOptions::new(paths.ort_library.clone(), &paths.models_dir));
                for (name, status) in [("OCR", images.ocr_status()), ("NSFW", images.nsfw_status())] {
                    if let Err(e) = status {
                        log!("{name} model unavailable: {e}");
                    }
                }
                j.set_image_analyzer(images, None);
                j
            })
            .map_err(|e| {
                log!("model unavailable: {e}");
                e.to_string()
            });
        Ok(Host { paths, store, judge, active, started: Instant::now(), requests: 0 })
    }

    /// Serve frames until the browser closes the pipe.
    pub fn serve(&mut self, input: &mut impl Read, output: &mut impl Write) -> std::io::Result<()> {
        loop {
            let reply = match read_frame(input, MAX_REQUEST_BYTES) {
                Ok(Frame::Message(body)) => self.handle(&body),
                Ok(Frame::TooLarge { declared }) => error_reply(
                    None,
                    ErrorCode::FrameTooLarge,
                    format!("declared {declared} bytes; the limit is {MAX_REQUEST_BYTES}"),
                ),
                Ok(Frame::Closed) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    log!("input ended inside a frame: {e}");
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let mut bytes = serde_json::to_vec(&reply).expect("replies serialize");
            if bytes.len() > MAX_REPLY_BYTES {
                let too_big = error_reply(
                    reply.get("request_id"),
                    ErrorCode::ReplyTooLarge,
                    format!("the reply was {} bytes", bytes.len()),
                );
                bytes = serde_json::to_vec(&too_big).expect("replies serialize");
            }
            write_frame(output, &bytes)?;
        }
    }

    /// Answer one message body. Never panics on bad input; always returns a reply.
    pub fn handle(&mut self, body: &[u8]) -> Value {
        self.requests += 1;
        let Ok(text) = std::str::from_utf8(body) else {
            return error_reply(None, ErrorCode::BadUtf8, "");
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return error_reply(None, ErrorCode::BadJson, e.to_string()),
        };
        let Some(obj) = value.as_object() else {
            return error_reply(None, ErrorCode::NotAnObject, "");
        };
        let request_id = obj.get("request_id").cloned();
        let Some(kind) = obj.get("type").and_then(Value::as_str) else {
            return error_reply(request_id.as_ref(), ErrorCode::MissingType, "");
        };
        if !REQUEST_TYPES.contains(&kind) {
            let detail = format!("\"{kind}\"; known types: {}", REQUEST_TYPES.join(", "));
            return error_reply(request_id.as_ref(), ErrorCode::UnknownType, detail);
        }
        let request: Request = match serde_json::from_value(value.clone()) {
            Ok(r) => r,
            Err(e) => return error_reply(request_id.as_ref(), ErrorCode::BadRequest, e.to_string()),
        };
        self.reload_policy_if_edited();
        let id = rid(&request).cloned();
        let reply = match request {
            Request::Hello { .. } => Ok(self.hello()),
            Request::Classify { posts, .. } => self.classify(posts),
            Request::PolicyGet { .. } => Ok(self.policy_reply(true, &self.active.diagnostics.clone())),
            Request::PolicySet { source, .. } => self.policy_set(source),
            Request::PolicyValidate { source, .. } => {
                let load = load_policy_text(&source, None, Some(&self.active.policy));
                Ok(json!({
                    "type": "policy.validation",
                    "loadable": load.policy.is_some(),
                    "diagnostics": load.diagnostics,
                }))
            }
            Request::Feedback { post, rule, kind, .. } => self.feedback(post, rule, kind),
            Request::Stats { .. } => self.stats(),
        };
        match reply {
            Ok(v) => with_rid(v, id.as_ref()),
            Err((code, detail)) => error_reply(id.as_ref(), code, detail),
        }
    }

    fn hello(&self) -> Value {
        let heads: Vec<Value> =
            builtin_heads().iter().map(|h| json!({"id": h.id, "name": h.name, "validation": h.validation})).collect();
        json!({
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "host": "feedwarden-host",
            "version": env!("CARGO_PKG_VERSION"),
            "ready": self.judge.is_ok(),
            "error": self.judge.as_ref().err(),
            "provider": "CPU",
            "models": self.models_report(),
            "heads": heads,
            "policy": {"name": self.active.policy.name, "hash": self.active.policy.hash,
                       "rules": self.active.policy.rules.len()},
            "data_dir": self.paths.data_dir.display().to_string(),
            "uptime_ms": self.started.elapsed().as_millis() as u64,
        })
    }

    /// Every model with the provider that actually runs it (or why it is not loaded).
    fn models_report(&self) -> Vec<Value> {
        let dir = |d: &str| self.paths.models_dir.join(d).display().to_string();
        let mut models = vec![json!({"id": MODEL_ID, "kind": "text-encoder", "provider": "CPU",
                                      "path": dir("all-minilm-l6-v2")})];
        if let Some(images) = self.judge.as_ref().ok().and_then(Judge::image_analyzer) {
            for (id, kind, path, status) in [
                (images.ocr_model().id(), "ocr", images.ocr_model().id(), images.ocr_status()),
                (crate::images::nsfw::MODEL_ID, "nsfw", "open-nsfw", images.nsfw_status()),
            ] {
                models.push(match status {
                    Ok(provider) => json!({"id": id, "kind": kind, "provider": provider, "path": dir(path)}),
                    Err(e) => json!({"id": id, "kind": kind, "provider": null, "path": dir(path), "error": e}),
                });
            }
        }
        models
    }

    fn judge_mut(&mut self) -> Result<&mut Judge, (ErrorCode, String)> {
        self.judge.as_mut().map_err(|e| (ErrorCode::ModelUnavailable, e.clone()))
    }

    fn classify(&mut self, posts: Vec<feedwarden_core::Post>) -> Result<Value, (ErrorCode, String)> {
        let t0 = Instant::now();
        if posts.len() > MAX_POSTS_PER_REQUEST {
            return Err((ErrorCode::TooManyPosts, format!("{} posts; at most {MAX_POSTS_PER_REQUEST}", posts.len())));
        }
        let storage = |e: crate::store::StoreError| (ErrorCode::StorageError, e.to_string());
        let judge = self.judge.as_ref().map_err(|e| (ErrorCode::ModelUnavailable, e.clone()))?;
        let keys: Vec<String> = posts.iter().map(|p| judge.cache_key(p)).collect();
        let mut verdicts: Vec<Option<(Verdict, bool)>> = Vec::with_capacity(posts.len());
        let mut images: Vec<Vec<ImageAnalysis>> = vec![Vec::new(); posts.len()];
        let mut misses = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let hit = self
                .store
                .cache_get(key)
                .map_err(storage)?
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
        if !misses.is_empty() {
            let to_judge: Vec<feedwarden_core::Post> = misses.iter().map(|&i| posts[i].clone()).collect();
            let judged =
                self.judge_mut()?.judge_detailed(&to_judge).map_err(|e| (ErrorCode::ModelError, e.to_string()))?;
            let mut entries = Vec::with_capacity(judged.len());
            for (&i, (v, analyses)) in misses.iter().zip(judged) {
                images[i] = analyses;
                entries.push((keys[i].clone(), serde_json::to_string(&v).expect("verdicts serialize")));
                verdicts[i] = Some((v, false));
            }
            self.store.cache_put_many(&entries).map_err(storage)?;
        }
        let policy = &self.active.policy;
        let events: Vec<(String, String, String)> = posts
            .iter()
            .zip(&verdicts)
            .map(|(p, v)| {
                let v = &v.as_ref().expect("every post judged").0;
                let category = v.rule.as_deref().and_then(|r| policy.rule(r)).map(|r| r.category_id().to_string());
                (p.site.clone().unwrap_or_default(), category.unwrap_or_default(), v.action.as_str().to_string())
            })
            .collect();
        self.store.stats_record(&today_utc(), &events).map_err(storage)?;
        let out: Vec<Value> = verdicts
            .into_iter()
            .zip(images)
            .map(|(v, analyses)| {
                let (verdict, cached) = v.expect("every post judged");
                let mut j = serde_json::to_value(verdict).expect("verdicts serialize");
                j["cached"] = json!(cached);
                if !analyses.is_empty() {
                    j["images"] = json!(analyses
                        .iter()
                        .map(|a| json!({"sha256": a.sha256, "text": a.text, "nsfw": a.nsfw,
                                        "error": a.error.as_ref().map(|(code, reason)| json!({"code": code, "reason": reason})),
                                        "ms": a.ms}))
                        .collect::<Vec<_>>());
                }
                j
            })
            .collect();
        Ok(json!({
            "type": "verdicts",
            "verdicts": out,
            "elapsed_ms": t0.elapsed().as_secs_f64() * 1000.0,
        }))
    }

    fn policy_reply(&self, applied: bool, diagnostics: &[Diagnostic]) -> Value {
        let p = &self.active.policy;
        let rules: Vec<Value> = p
            .rules
            .iter()
            .map(|r| {
                json!({"id": r.id, "category": r.category_id(), "action": r.action, "threshold": r.threshold_value(),
                            "enabled": r.is_enabled(), "user_defined": r.is_user_defined()})
            })
            .collect();
        json!({
            "type": "policy",
            "applied": applied,
            "source": self.active.source,
            "name": p.name,
            "hash": p.hash,
            "rules": rules,
            "diagnostics": diagnostics,
            "path": self.active.file.display().to_string(),
        })
    }

    fn policy_set(&mut self, source: String) -> Result<Value, (ErrorCode, String)> {
        let file = self.paths.policy_file();
        let load = load_policy_text(&source, Some(&file), Some(&self.active.policy));
        let Some(policy) = load.policy else {
            return Ok(self.policy_reply(false, &load.diagnostics));
        };
        if let Ok(judge) = self.judge.as_mut() {
            judge.set_policy(policy.clone()).map_err(|e| (ErrorCode::ModelError, e.to_string()))?;
        }
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
        post: feedwarden_core::Post,
        rule: Option<String>,
        kind: crate::store::FeedbackKind,
    ) -> Result<Value, (ErrorCode, String)> {
        if let Some(r) = rule.as_deref() {
            if self.active.policy.rule(r).is_none() {
                return Err((ErrorCode::BadRequest, format!("no rule \"{r}\" in the active policy")));
            }
        }
        let text = post.judged_text();
        if text.is_empty() {
            return Err((ErrorCode::BadRequest, "the post has no text to learn from".into()));
        }
        let judge = self.judge_mut()?;
        let embedding =
            judge.embed_all(&[text.as_str()]).map_err(|e| (ErrorCode::ModelError, e.to_string()))?.remove(0);
        let storage = |e: crate::store::StoreError| (ErrorCode::StorageError, e.to_string());
        let id = self
            .store
            .feedback_add(
                &post.id,
                post.site.as_deref(),
                post.author.as_deref(),
                &text,
                rule.as_deref(),
                kind,
                &embedding,
            )
            .map_err(storage)?;
        let rows = self.store.feedback_all().map_err(storage)?;
        if let Ok(j) = self.judge.as_mut() {
            j.set_feedback(rows);
        }
        Ok(json!({"type": "feedback", "stored": true, "feedback_id": id}))
    }

    fn stats(&self) -> Result<Value, (ErrorCode, String)> {
        let summary = self.store.stats_summary(&today_utc()).map_err(|e| (ErrorCode::StorageError, e.to_string()))?;
        Ok(json!({
            "type": "stats",
            "today": summary,
            "requests": self.requests,
            "uptime_ms": self.started.elapsed().as_millis() as u64,
        }))
    }
}

/// Whether a verdict filters the post (for summaries).
pub fn is_filtered(action: VerdictAction) -> bool {
    matches!(action, VerdictAction::Label | VerdictAction::Blur | VerdictAction::Hide)
}
