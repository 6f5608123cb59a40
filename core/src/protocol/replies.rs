//! Every reply the host writes, by `type`. Each carries the `request_id` of the request it answers (when
//! there was one); the host sets it in one place, after building the reply.

use serde::Serialize;
use serde_json::Value;

use super::{message_type, ErrorCode, VerdictOut};
use crate::policy::{Action, Diagnostic};

message_type! {
    HelloType = "hello",
    VerdictsType = "verdicts",
    VerdictUpdateType = "verdict.update",
    PolicyType = "policy",
    ValidationType = "policy.validation",
    FeedbackType = "feedback",
    StatsType = "stats",
    CancelledType = "cancelled",
    ErrorType = "error",
}

/// `error`: the request could not be answered.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ErrorReply {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    pub code: ErrorCode,
    /// One sentence for the reader ([`ErrorCode::sentence`]).
    pub message: String,
    /// Specifics for logs.
    pub detail: String,
}

/// A model the host has (or lacks), with the execution provider that actually runs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ModelInfo {
    pub id: String,
    /// `text-encoder`, `ocr`, `nsfw`, `clip`, `vlm`.
    pub kind: String,
    /// `CPU` or `CUDA`; `null` when the model is not loaded.
    pub provider: Option<String>,
    pub path: String,
    /// Why it is not loaded, with what to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<String>,
    /// `false` for a model that is installed but loaded only when a rule needs it (CLIP).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub loaded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub note: Option<String>,
}

/// A built-in category head.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HeadInfo {
    pub id: String,
    pub name: String,
    /// Validation figures from the model card.
    #[cfg_attr(test, ts(type = "unknown"))]
    pub validation: Value,
}

/// The active policy in brief.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicySummary {
    pub name: String,
    pub hash: String,
    /// How many rules it has.
    pub rules: u32,
}

/// Whether the SQLite database can be used.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct StorageReport {
    pub ok: bool,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What does not work because of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

/// `hello`: what the host is and what it can do.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HelloReply {
    #[serde(rename = "type")]
    pub kind: HelloType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    pub protocol: u32,
    pub host: String,
    pub version: String,
    /// Whether posts can be judged (the text model loaded).
    pub ready: bool,
    /// Why not, with what to run.
    pub error: Option<String>,
    pub provider: String,
    pub models: Vec<ModelInfo>,
    pub heads: Vec<HeadInfo>,
    pub policy: PolicySummary,
    pub data_dir: String,
    pub storage: StorageReport,
    pub uptime_ms: u64,
    /// What the host takes in, so a client sends what will be used (and no images when none would be).
    pub accepts: Accepts,
}

/// `hello.accepts`: the inputs the host judges and their limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Accepts {
    /// Whether posts' `images` are looked at: some image model is loaded or installed for the policy (OCR,
    /// NSFW, or CLIP / the VLM for rules with an `image_description`). When `false`, send no images.
    pub images: bool,
    /// Image formats decoded (`jpeg`, `png`, `webp`, `gif` — its first frame).
    pub image_formats: Vec<String>,
    /// Encoded bytes per image at most; larger images are refused (`image-too-many-bytes`).
    pub image_max_bytes: u64,
    /// Pixels a side at most (`image-too-large` beyond).
    pub image_max_dimension: u32,
    /// Pixels in all at most (`image-too-large` beyond).
    pub image_max_pixels: u64,
    /// Characters of a post's text that are judged; the rest is not read.
    pub text_max_chars: u32,
    /// Posts in one `classify` request at most (`too-many-posts` beyond).
    pub posts_per_request: u32,
}

/// `verdicts`: the answer to `classify`, one verdict per post, in order.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VerdictsReply {
    #[serde(rename = "type")]
    pub kind: VerdictsType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    pub verdicts: Vec<VerdictOut>,
    pub elapsed_ms: f64,
}

/// Why judging a post with its images failed (a `verdict.update`'s `error`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReplyError {
    pub code: ErrorCode,
    pub message: String,
    pub detail: String,
}

/// `verdict.update`: written after the `verdicts` reply whose verdict had `images_pending: true`, each time
/// one of that post's image stages is done (OCR, NSFW, CLIP: the faster ones' findings never wait for a slow
/// one) and once its images are judged. `request_id` is the classify request's; `verdict.id` is the post's
/// id. An update that still says `images_pending: true` announces one more (a slower image stage is still
/// running, or the VLM is looking at the images).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VerdictUpdate {
    #[serde(rename = "type")]
    pub kind: VerdictUpdateType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    pub verdict: VerdictOut,
    /// Judging the post with its images failed: `verdict` is the text-only verdict again, with `images`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub error: Option<ReplyError>,
    /// From the start of the classify request to this update.
    pub elapsed_ms: f64,
}

/// One rule of the active policy.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicyRuleInfo {
    pub id: String,
    pub category: String,
    pub action: Action,
    pub threshold: f64,
    pub enabled: bool,
    pub user_defined: bool,
}

/// `policy`: the answer to `policy.get` and `policy.set`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PolicyReply {
    #[serde(rename = "type")]
    pub kind: PolicyType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    /// Whether the text is the active policy (`false`: `policy.set` could not load it; nothing changed).
    pub applied: bool,
    /// The policy file's own text.
    pub source: String,
    pub name: String,
    pub hash: String,
    pub rules: Vec<PolicyRuleInfo>,
    pub diagnostics: Vec<Diagnostic>,
    pub path: String,
}

/// `policy.validation`: the answer to `policy.validate` (nothing applied).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ValidationReply {
    #[serde(rename = "type")]
    pub kind: ValidationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    pub loadable: bool,
    pub diagnostics: Vec<Diagnostic>,
}

/// `feedback`: the correction is stored (once per idempotency key).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FeedbackReply {
    #[serde(rename = "type")]
    pub kind: FeedbackType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    pub stored: bool,
    pub feedback_id: i64,
    /// The same idempotency key was stored before: nothing new was stored.
    pub duplicate: bool,
}

/// Today's filtered posts for one site, category and action.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FilteredCount {
    pub site: String,
    pub category: String,
    #[cfg_attr(test, ts(as = "crate::VerdictAction"))]
    pub action: String,
    pub count: i64,
}

/// Today's statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StatsToday {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub judged_today: i64,
    pub filtered_today: Vec<FilteredCount>,
    pub feedback_total: i64,
    pub cache_rows: i64,
}

/// `cancelled`: the answer to `cancel`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CancelledReply {
    #[serde(rename = "type")]
    pub kind: CancelledType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    /// Posts whose pending work was dropped (no `verdict.update` will come for them).
    pub posts: u32,
}

/// `stats`: what was judged and filtered today.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StatsReply {
    #[serde(rename = "type")]
    pub kind: StatsType,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "unknown"))]
    pub request_id: Option<Value>,
    pub today: StatsToday,
    pub requests: u64,
    pub uptime_ms: u64,
}
