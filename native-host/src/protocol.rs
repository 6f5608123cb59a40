//! The host's message protocol (version 1), documented in `docs/protocol.md`: request types, and error
//! codes declared together with the sentence a reader sees.

use serde::Deserialize;
use serde_json::{json, Value};

use feedwarden_core::Post;

use crate::store::FeedbackKind;

pub const PROTOCOL_VERSION: u32 = 1;
/// Posts per `classify` request at most (keeps one reply under the browser's 1 MB limit).
pub const MAX_POSTS_PER_REQUEST: usize = 256;

/// Every failure a reply can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    FrameTooLarge,
    BadUtf8,
    BadJson,
    NotAnObject,
    MissingType,
    UnknownType,
    BadRequest,
    TooManyPosts,
    ModelUnavailable,
    ModelError,
    StorageError,
    ReplyTooLarge,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::FrameTooLarge,
        ErrorCode::BadUtf8,
        ErrorCode::BadJson,
        ErrorCode::NotAnObject,
        ErrorCode::MissingType,
        ErrorCode::UnknownType,
        ErrorCode::BadRequest,
        ErrorCode::TooManyPosts,
        ErrorCode::ModelUnavailable,
        ErrorCode::ModelError,
        ErrorCode::StorageError,
        ErrorCode::ReplyTooLarge,
    ];

    /// The wire code (stable; logs and the extension key on it).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FrameTooLarge => "frame-too-large",
            ErrorCode::BadUtf8 => "bad-utf8",
            ErrorCode::BadJson => "bad-json",
            ErrorCode::NotAnObject => "not-an-object",
            ErrorCode::MissingType => "missing-type",
            ErrorCode::UnknownType => "unknown-type",
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::TooManyPosts => "too-many-posts",
            ErrorCode::ModelUnavailable => "model-unavailable",
            ErrorCode::ModelError => "model-error",
            ErrorCode::StorageError => "storage-error",
            ErrorCode::ReplyTooLarge => "reply-too-large",
        }
    }

    /// One sentence for the reader; `detail` adds the specifics.
    pub fn sentence(self) -> &'static str {
        match self {
            ErrorCode::FrameTooLarge => {
                "The message was larger than the host accepts; send fewer posts or smaller images per message."
            }
            ErrorCode::BadUtf8 => "The message was not valid UTF-8 text.",
            ErrorCode::BadJson => "The message was not valid JSON.",
            ErrorCode::NotAnObject => "The message must be a JSON object with a \"type\".",
            ErrorCode::MissingType => "The message has no \"type\" field.",
            ErrorCode::UnknownType => "The host does not know this message type.",
            ErrorCode::BadRequest => "The message is missing a field or has one of the wrong type.",
            ErrorCode::TooManyPosts => "Too many posts in one message; split the batch.",
            ErrorCode::ModelUnavailable => {
                "The host cannot judge posts because its model is not installed or failed to load."
            }
            ErrorCode::ModelError => "The model failed while judging these posts.",
            ErrorCode::StorageError => "The host could not read or write its database.",
            ErrorCode::ReplyTooLarge => {
                "The reply would exceed the browser's 1 MB limit; send fewer posts per message."
            }
        }
    }
}

/// Largest `request_id` accepted, as JSON text (the extension sends small numbers): a bigger one is refused
/// with `bad-request` and not echoed, so no reply, error replies included, can outgrow the 1 MB limit by it.
pub const MAX_REQUEST_ID_BYTES: usize = 256;
/// Largest `detail` of an error reply (characters); a longer one (an echoed unknown field name, say) is cut.
pub const MAX_DETAIL_CHARS: usize = 1000;

/// The JSON size of a request id, when it is too big to echo.
pub fn oversized_request_id(id: &Value) -> Option<usize> {
    let len = serde_json::to_vec(id).map(|b| b.len()).unwrap_or(usize::MAX);
    (len > MAX_REQUEST_ID_BYTES).then_some(len)
}

/// `text` cut to at most `max` characters, with `…` when it was cut.
pub fn truncate_chars(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]).into(),
        None => text.into(),
    }
}

/// An error reply. Its size is bounded whatever the request was: a request id over
/// [`MAX_REQUEST_ID_BYTES`] is left out and the detail is cut at [`MAX_DETAIL_CHARS`].
pub fn error_reply(request_id: Option<&Value>, code: ErrorCode, detail: impl Into<String>) -> Value {
    let detail = detail.into();
    let mut v = json!({
        "type": "error",
        "code": code.as_str(),
        "message": code.sentence(),
        "detail": truncate_chars(&detail, MAX_DETAIL_CHARS),
    });
    if let Some(id) = request_id.filter(|id| oversized_request_id(id).is_none()) {
        v["request_id"] = id.clone();
    }
    v
}

/// A post as the browser sends it: `id` and `text` are required and unknown fields are refused, so a typo
/// (`"txt"`) is a `bad-request`, not a post judged on an empty text. Converted to the engine's [`Post`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WirePost {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub quoted_text: Option<String>,
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub author_followed: Option<bool>,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

impl From<WirePost> for Post {
    fn from(p: WirePost) -> Self {
        Post {
            id: p.id,
            site: p.site,
            author: p.author,
            author_followed: p.author_followed,
            text: p.text,
            quoted_text: p.quoted_text,
            images: p.images,
            url: p.url,
            created_at: p.created_at,
        }
    }
}

/// A parsed request.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Request {
    #[serde(rename = "hello")]
    Hello {
        #[serde(default)]
        request_id: Option<Value>,
        /// Protocol versions the client speaks.
        #[serde(default)]
        protocols: Option<Vec<u32>>,
        #[serde(default)]
        client: Option<String>,
    },
    #[serde(rename = "classify")]
    Classify {
        #[serde(default)]
        request_id: Option<Value>,
        posts: Vec<WirePost>,
        /// How long to wait for the posts' images before answering on their text alone (the image-informed
        /// verdict then follows as a `verdict.update`); absent → the host's default, 0 → never wait.
        #[serde(default)]
        image_budget_ms: Option<u64>,
    },
    #[serde(rename = "policy.get")]
    PolicyGet {
        #[serde(default)]
        request_id: Option<Value>,
    },
    #[serde(rename = "policy.set")]
    PolicySet {
        #[serde(default)]
        request_id: Option<Value>,
        source: String,
    },
    #[serde(rename = "policy.validate")]
    PolicyValidate {
        #[serde(default)]
        request_id: Option<Value>,
        source: String,
    },
    #[serde(rename = "feedback")]
    Feedback {
        #[serde(default)]
        request_id: Option<Value>,
        /// Boxed: the largest variant otherwise.
        post: Box<WirePost>,
        /// The rule the correction is about; absent (only for `more_like_this`) means every rule.
        #[serde(default)]
        rule: Option<String>,
        kind: FeedbackKind,
        /// A key the client chose for this correction (a UUID), the same when it sends the request again:
        /// the host stores a correction once per key.
        #[serde(default)]
        idempotency_key: Option<String>,
    },
    #[serde(rename = "stats")]
    Stats {
        #[serde(default)]
        request_id: Option<Value>,
    },
}

/// Default per-post image budget in milliseconds when neither the request nor `FEEDWARDEN_IMAGE_BUDGET_MS`
/// sets one: above the measured p95 of one image at 512 px on 2 cores (107 ms, `docs/benchmarks.md`), so a
/// typical image makes it into the first verdict and a slow one (a text-dense screenshot) follows as an update.
pub const DEFAULT_IMAGE_BUDGET_MS: u64 = 150;
/// Environment variable that sets the host's default image budget (milliseconds).
pub const IMAGE_BUDGET_ENV: &str = "FEEDWARDEN_IMAGE_BUDGET_MS";
/// The unsolicited message that carries a post's image-informed verdict after a `verdicts` reply that
/// marked it `images_pending`.
pub const VERDICT_UPDATE_TYPE: &str = "verdict.update";

/// Every request type, for `unknown-type` replies and the protocol doc check.
pub const REQUEST_TYPES: [&str; 7] =
    ["hello", "classify", "policy.get", "policy.set", "policy.validate", "feedback", "stats"];
