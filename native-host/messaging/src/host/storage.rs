//! The host's SQLite store as it serves: the verdict cache and statistics written best-effort (a failing
//! write never costs the reader a verdict), `feedback` and `stats`.

use super::*;

/// The database, or why it cannot be used. Without it the host still judges (without its verdict cache) and
/// serves the policy; `feedback` and `stats` answer `storage-error`, and `hello` says what is wrong.
#[derive(Debug)]
pub(super) struct Storage {
    pub(super) store: Result<Store, String>,
    /// The last failure of a cache or statistics write while serving (a full disk, a lock held too long):
    /// the verdicts are still answered; `hello` reports it until a later write succeeds.
    pub(super) last_error: Option<String>,
}

impl Storage {
    pub(super) fn open(path: &std::path::Path) -> Self {
        let store = Store::open(path).map_err(|e| {
            log!("the database cannot be used, so verdicts are not cached and feedback is not stored: {e}");
            e.to_string()
        });
        Storage { store, last_error: None }
    }

    pub(super) fn get(&self) -> Result<&Store, (ErrorCode, String)> {
        self.store.as_ref().map_err(|e| (ErrorCode::StorageError, e.clone()))
    }

    pub(super) fn get_mut(&mut self) -> Result<&mut Store, (ErrorCode, String)> {
        self.store.as_mut().map_err(|e| (ErrorCode::StorageError, e.clone()))
    }

    /// Run a write that must not cost the reader their verdicts: a failure is logged and reported in `hello`.
    pub(super) fn best_effort(&mut self, what: &str, write: impl FnOnce(&mut Store) -> Result<(), StoreError>) {
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
    pub(super) fn report(&self, path: &std::path::Path) -> StorageReport {
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

pub(super) fn storage_error(e: StoreError) -> (ErrorCode, String) {
    (ErrorCode::StorageError, e.to_string())
}

/// One post's entry in the daily statistics: (site, category of the deciding rule, action).
pub(super) fn stats_event(policy: &EffectivePolicy, post: &Post, verdict: &Verdict) -> (String, String, String) {
    let category = verdict.rule.as_deref().and_then(|r| policy.rule(r)).map(|r| r.category_id().to_string());
    (post.site.clone().unwrap_or_default(), category.unwrap_or_default(), verdict.action.as_str().to_string())
}

impl Host {
    pub(super) fn feedback(
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

    pub(super) fn stats(&self) -> Result<StatsReply, (ErrorCode, String)> {
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
