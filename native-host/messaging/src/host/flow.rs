//! The concurrent part of a serving session: the frame reader, the image thread and the VLM thread, the
//! events they send to the main loop, and the posts whose image or VLM verdicts are still to come (`cancel`
//! forgets those of a page that went away).

use super::*;

/// What the main loop waits for: the next frame from the browser, or one post's finished image analyses.
#[derive(Debug)]
pub(super) enum Event {
    Frame(std::io::Result<Frame>),
    /// One post's images as far as they are analysed: sent each time an image stage (or CLIP's image side)
    /// has looked at all of them, `done` on the last one, so a fast stage's findings need not wait for a
    /// slow one's.
    Images {
        job: u64,
        analyses: Vec<ImageAnalysis>,
        done: bool,
    },
    /// The VLM answered for some of a post's images (image index → finding); also sent for a job that left
    /// the VLM's queue unanswered, with findings that say why.
    VlmDone {
        job: u64,
        findings: Vec<(usize, VlmFinding)>,
    },
}

/// What came for a pending post: its image analyses (all stages `done`, or so far), or the VLM's findings.
#[derive(Debug)]
pub(super) enum Stage {
    Images { analyses: Vec<ImageAnalysis>, done: bool },
    Vlm(Vec<(usize, VlmFinding)>),
}

/// Frames read ahead of the main loop at most (the reader thread blocks beyond that).
pub(super) const EVENT_QUEUE: usize = 16;

/// One post's images, for the image thread.
#[derive(Debug)]
pub(super) struct ImageJob {
    pub(super) job: u64,
    pub(super) entries: Vec<String>,
    /// CLIP's image encoder when the active policy has image descriptions: the images' CLIP embeddings are
    /// computed with their analyses (inside the image budget). `None`: no CLIP work at all.
    pub(super) clip: Option<SharedVision>,
}

/// A post answered on its text alone whose image-informed verdict is still to come.
#[derive(Debug)]
pub(super) struct PendingPost {
    pub(super) request_id: Option<Value>,
    pub(super) post: Post,
    /// The verdict sent so far (the update falls back to it if judging fails).
    pub(super) text_verdict: Verdict,
    pub(super) received: Instant,
    /// The images' analyses, while the VLM looks at them (empty while the image thread does).
    pub(super) analyses: Vec<ImageAnalysis>,
}

impl PendingPost {
    /// The `verdict.update` that sends `verdict` for this post (`elapsed_ms` from the start of its `classify`).
    pub(super) fn update(&self, verdict: VerdictOut, error: Option<ReplyError>) -> VerdictUpdate {
        VerdictUpdate {
            kind: Default::default(),
            request_id: self.request_id.clone(),
            verdict,
            error,
            elapsed_ms: self.received.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

/// The concurrent part of a serving session: events from the frame reader and the image thread, jobs sent to
/// the image thread and the posts whose images are still being judged.
#[derive(Debug)]
pub(super) struct Flow {
    pub(super) events: Receiver<Event>,
    /// Events taken off the queue while `classify` waited for its own images, handled next, in order.
    pub(super) deferred: VecDeque<Event>,
    pub(super) jobs: Option<Sender<ImageJob>>,
    pub(super) worker: Option<JoinHandle<()>>,
    /// The VLM's queue and worker, when a VLM is installed.
    pub(super) vlm: Option<Arc<VlmQueue>>,
    pub(super) vlm_worker: Option<JoinHandle<()>>,
    pub(super) next_job: u64,
    pub(super) pending: HashMap<u64, PendingPost>,
    pub(super) input_open: bool,
}

impl Flow {
    pub(super) fn next_event(&mut self) -> Option<Event> {
        self.deferred.pop_front().or_else(|| self.events.recv().ok())
    }

    /// A job id no other image or VLM job has had (a pending post is keyed by it).
    fn new_job(&mut self) -> u64 {
        self.next_job += 1;
        self.next_job - 1
    }

    /// Wait until `deadline` for the image thread to finish these jobs: for each job heard from, its images'
    /// analyses as far as they got and whether they are done. Other events met meanwhile are kept, in order,
    /// for the main loop.
    pub(super) fn wait_for(
        &mut self,
        mut jobs: Vec<u64>,
        deadline: Instant,
    ) -> HashMap<u64, (Vec<ImageAnalysis>, bool)> {
        let mut heard = HashMap::new();
        while !jobs.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Images { job, analyses, done }) if jobs.contains(&job) => {
                    if done {
                        jobs.retain(|&j| j != job);
                    }
                    heard.insert(job, (analyses, done));
                }
                Ok(other) => self.deferred.push_back(other),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        heard
    }

    /// Queue one post's images on the image thread; `None` when there is no image thread.
    pub(super) fn submit(&mut self, entries: &[String], clip: Option<&SharedVision>) -> Option<u64> {
        let jobs = self.jobs.clone()?;
        let job = self.new_job();
        jobs.send(ImageJob { job, entries: entries.to_vec(), clip: clip.cloned() }).ok()?;
        Some(job)
    }

    /// Queue one post's images on the VLM; a post pushed out of the full queue is finished without it.
    pub(super) fn submit_vlm(&mut self, images: Vec<VlmImage>, budget: Duration) -> Option<u64> {
        let queue = self.vlm.clone().filter(|_| self.input_open)?;
        let job = self.new_job();
        if let Some(dropped) = queue.push(VlmJob { job, images, budget }) {
            self.deferred.push_back(unanswered(dropped, "newer posts' images came first (the VLM's queue was full)"));
        }
        Some(job)
    }

    /// No more requests will come: no new jobs; the image thread finishes the queued ones and stops; the
    /// posts waiting for the VLM are finished without it (nobody will see them), but the one it is on.
    pub(super) fn close_input(&mut self) {
        self.input_open = false;
        self.jobs = None;
        if let Some(queue) = &self.vlm {
            for job in queue.drain() {
                self.deferred.push_back(unanswered(job, "the browser closed the connection"));
            }
        }
    }

    pub(super) fn stop_worker(&mut self) {
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
pub(super) fn unanswered(job: VlmJob, why: &str) -> Event {
    let model = "";
    let findings = job.images.iter().map(|i| (i.index, vlm_stage::not_answered(model, why))).collect();
    Event::VlmDone { job: job.job, findings }
}

/// The VLM thread: loads the model on the first job (the host pays its memory only once an image needs it)
/// and answers the newest post's images first, within the post's budget.
pub(super) fn spawn_vlm_worker(
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
pub(super) fn spawn_frame_reader<R: Read + Send + 'static>(mut input: R, events: SyncSender<Event>) {
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
/// CLIP's image encoder (shared with the judge, which embeds the policy's example images with it). Each
/// stage's findings are sent as soon as it has looked at all the post's images (`Event::Images`).
pub(super) fn spawn_image_worker(
    mut analyzer: ImageAnalyzer,
    jobs: Receiver<ImageJob>,
    events: SyncSender<Event>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("images".into())
        .spawn(move || {
            for ImageJob { job, entries, clip } in jobs {
                let mut sent_done = false;
                let mut receiver_gone = false;
                // A bug in a decoder or model wrapper costs this post's images, not the thread (and every
                // later post's images).
                let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    analyzer.analyse_post(&entries, None, clip.as_ref(), |analyses, done| {
                        sent_done = done;
                        receiver_gone |= events.send(Event::Images { job, analyses: analyses.to_vec(), done }).is_err();
                    })
                }));
                if analysed.is_err() && !sent_done {
                    let failed = ImageAnalysis {
                        error: Some(("model-error".into(), "the image analysis failed unexpectedly".into())),
                        ..Default::default()
                    };
                    let analyses = vec![failed; entries.len()];
                    receiver_gone |= events.send(Event::Images { job, analyses, done: true }).is_err();
                }
                if receiver_gone {
                    return;
                }
            }
        })
        .expect("the image thread starts")
}

/// `cancel`: forget the posts of these `classify` requests that still wait for images or the VLM (no update
/// will be written for them) and take their jobs off the VLM's queue. Work already running finishes and is
/// dropped.
pub(super) fn cancel(flow: &mut Flow, requests: &[Value]) -> CancelledReply {
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
