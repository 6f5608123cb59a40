//! `classify`: cache lookups, the text judged at once, images awaited within the budget, the VLM queued
//! for what image rules leave to it, and each pending post finished as a `verdict.update`.

use super::*;

/// A post's verdict with what each of its images said.
pub(super) type JudgedPost = (Verdict, Vec<ImageAnalysis>);

/// One element of `verdicts[]` (and the `verdict` of a `verdict.update`).
pub(super) fn verdict_out(verdict: Verdict, cached: bool, analyses: &[ImageAnalysis]) -> VerdictOut {
    feedwarden_models::images::verdict_out(verdict, analyses).cached(cached)
}

/// The host's default image budget: `FEEDWARDEN_IMAGE_BUDGET_MS`, else [`DEFAULT_IMAGE_BUDGET_MS`].
pub(super) fn default_image_budget() -> Duration {
    let (budget, warning) = vlm_stage::millis_from_env(IMAGE_BUDGET_ENV, DEFAULT_IMAGE_BUDGET_MS);
    if let Some(warning) = warning {
        log!("{warning}");
    }
    budget
}

impl Host {
    pub(super) fn judge_mut(&mut self) -> Result<&mut Judge, (ErrorCode, String)> {
        self.judge.as_mut().map_err(|e| (ErrorCode::ModelUnavailable, e.clone()))
    }

    /// Judge `posts[i]` for each `i` in `which`, with `analyses` (one list per judged post; empty judges the
    /// text alone), in one batch. Returns `(i, (verdict, analyses))`.
    pub(super) fn judge_some(
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
    pub(super) fn classify(
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
            if !budget.is_zero() {
                // Each stage's findings that came within the budget join the verdict; a post whose images
                // are not done stays pending and its slower stages send their own updates.
                for (job, (analyses, done)) in flow.wait_for(waiting.keys().copied().collect(), t0 + budget) {
                    let i = if done { waiting.remove(&job) } else { waiting.get(&job).copied() };
                    images[i.expect("a job of this request")] = analyses;
                }
            }
            // Posts are judged with what their images said so far; those still waiting are pending.
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
    pub(super) fn submit_vlm(&self, flow: &mut Flow, post: &Post, analyses: &[ImageAnalysis]) -> Option<u64> {
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

    /// Some of a pending post's image stages are done, others still run: the post judged with what its
    /// images said so far, as a `verdict.update` that announces more (`images_pending: true`); the post
    /// stays pending. Nothing is sent (and nothing cached) when judging fails: the final update follows.
    fn update_pending(
        &mut self,
        flow: &mut Flow,
        job: u64,
        pending: PendingPost,
        analyses: Vec<ImageAnalysis>,
    ) -> Option<VerdictUpdate> {
        let judged = self.judge_mut().and_then(|judge| {
            judge
                .judge_with_analyses(std::slice::from_ref(&pending.post), vec![analyses])
                .map_err(|e| (ErrorCode::ModelError, e.to_string()))
        });
        let (verdict, analyses) = match judged {
            Ok(mut v) => v.remove(0),
            Err((_, detail)) => {
                log!("judging post {} with its images so far failed: {detail}", pending.post.id);
                flow.pending.insert(job, pending);
                return None;
            }
        };
        let mut out = verdict_out(verdict.clone(), false, &analyses);
        out.images_pending = Some(true);
        let update = pending.update(out, None);
        flow.pending.insert(job, PendingPost { text_verdict: verdict, ..pending });
        Some(update)
    }

    /// A pending post's images (or the VLM's findings on them) are done: judge it with them. When an image
    /// rule leaves some images to the VLM, they are queued on it and the update says more is coming
    /// (`images_pending: true`); otherwise the final verdict is cached and counted. Builds the
    /// `verdict.update`; `None` for a job no reply announced (its request failed after queueing it).
    pub(super) fn finish_pending(&mut self, flow: &mut Flow, job: u64, stage: Stage) -> Option<VerdictUpdate> {
        let mut pending = flow.pending.remove(&job)?;
        let analyses = match stage {
            Stage::Images { analyses, done: false } => return self.update_pending(flow, job, pending, analyses),
            Stage::Images { analyses, done: true } => analyses,
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
                let update = pending.update(out, None);
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
                (pending.text_verdict.clone(), Some(ReplyError { code, message: code.sentence().into(), detail }))
            }
        };
        let mut verdict = verdict_out(verdict, false, &analyses);
        verdict.images_pending = Some(false);
        Some(pending.update(verdict, error))
    }
}
