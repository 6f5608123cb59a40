//! The host's message protocol (version 1) as Rust types: the one place a message or a field is declared.
//! The native host, `feedwarden classify`, batch rows and the WASM facade build their output from these
//! types, and the extension's TypeScript types are generated from them (`extension/src/shared/protocol.gen.ts`;
//! `typescript.rs` holds the generator and the test that fails when the committed file is stale).
//! `docs/protocol.md` is the human description.

mod replies;
#[cfg(test)]
mod typescript;
mod verdict;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Post;

pub use replies::{
    Accepts, CancelledReply, ErrorReply, FeedbackReply, FilteredCount, HeadInfo, HelloReply, ModelInfo, PolicyReply,
    PolicyRuleInfo, PolicySummary, ReplyError, StatsReply, StatsToday, StorageReport, ValidationReply, VerdictUpdate,
    VerdictsReply,
};
pub use verdict::{ImageError, ImageFinding, VerdictOut, VlmFinding};

pub const PROTOCOL_VERSION: u32 = 1;
/// Posts per `classify` request at most (keeps one reply under the browser's 1 MB limit).
pub const MAX_POSTS_PER_REQUEST: usize = 256;
/// The unsolicited message that carries a post's image-informed verdict after a `verdicts` reply that
/// marked it `images_pending`.
pub const VERDICT_UPDATE_TYPE: &str = "verdict.update";
/// Every request type, for `unknown-type` replies and the protocol doc check.
pub const REQUEST_TYPES: [&str; 8] =
    ["hello", "classify", "policy.get", "policy.set", "policy.validate", "feedback", "stats", "cancel"];

/// Declares a zero-sized type that serializes as one fixed string: the `type` field of a message, typed as
/// that literal in TypeScript.
macro_rules! message_type {
    ($($name:ident = $wire:literal),* $(,)?) => {$(
        #[doc = concat!("The `type` of a `", $wire, "` message.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl $name {
            pub const WIRE: &'static str = $wire;
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($wire)
            }
        }

        #[cfg(test)]
        impl ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                format!("{:?}", $wire)
            }
            fn inline(cfg: &ts_rs::Config) -> String {
                Self::name(cfg)
            }
        }
    )*};
}
pub(crate) use message_type;

/// Every failure a reply can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
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

/// Which way a reader corrected a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// "This was fine": the rule should not have fired.
    WasFine,
    /// "Hide more like this": the rule should fire on posts like this one.
    MoreLikeThis,
}

impl FeedbackKind {
    /// The wire name (also what the host's database stores).
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::WasFine => "was_fine",
            FeedbackKind::MoreLikeThis => "more_like_this",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "was_fine" => Some(FeedbackKind::WasFine),
            "more_like_this" => Some(FeedbackKind::MoreLikeThis),
            _ => None,
        }
    }
}

/// A post as the browser sends it: `id` and `text` are required and unknown fields are refused, so a typo
/// (`"txt"`) is a `bad-request`, not a post judged on an empty text. Converted to the engine's [`Post`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Post", optional_fields))]
#[serde(deny_unknown_fields)]
pub struct WirePost {
    /// The caller's id, echoed in the verdict.
    pub id: String,
    /// The post's text.
    pub text: String,
    /// Text of a quoted or reposted post, judged with `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_text: Option<String>,
    /// Host name where the post was seen (`x.com`, `old.reddit.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Author handle, with or without `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Whether the page says the reader follows the author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_followed: Option<bool>,
    /// The post's images as `data:image/…;base64,…` URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>"))]
    pub images: Vec<String>,
    /// Permalink.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Creation time as the site gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// Every request the extension sends, by `type`. `request_id` (any JSON value, at most 256 bytes as JSON) is
/// echoed in the reply.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "HostRequest"))]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Request {
    #[serde(rename = "hello")]
    Hello {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
        /// Protocol versions the client speaks.
        #[serde(default)]
        #[cfg_attr(test, ts(optional))]
        protocols: Option<Vec<u32>>,
        #[serde(default)]
        #[cfg_attr(test, ts(optional))]
        client: Option<String>,
    },
    #[serde(rename = "classify")]
    Classify {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
        posts: Vec<WirePost>,
        /// How long to wait for the posts' images before answering on their text alone (the image-informed
        /// verdict then follows as a `verdict.update`); absent → the host's default, 0 → never wait.
        #[serde(default)]
        #[cfg_attr(test, ts(optional))]
        image_budget_ms: Option<u64>,
    },
    #[serde(rename = "policy.get")]
    PolicyGet {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
    },
    #[serde(rename = "policy.set")]
    PolicySet {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
        source: String,
    },
    #[serde(rename = "policy.validate")]
    PolicyValidate {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
        source: String,
    },
    #[serde(rename = "feedback")]
    Feedback {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
        // Boxed: the largest variant otherwise.
        post: Box<WirePost>,
        /// The rule the correction is about; absent (only for `more_like_this`) means every rule.
        #[serde(default)]
        #[cfg_attr(test, ts(optional))]
        rule: Option<String>,
        kind: FeedbackKind,
        /// A key the client chose for this correction (a UUID), the same when it sends the request again:
        /// the host stores a correction once per key.
        #[serde(default)]
        #[cfg_attr(test, ts(optional))]
        idempotency_key: Option<String>,
    },
    #[serde(rename = "stats")]
    Stats {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
    },
    /// The page that sent these `classify` requests went away: the host stops the work still waiting for
    /// their posts (the VLM's queue) and sends no more `verdict.update`s for them.
    #[serde(rename = "cancel")]
    Cancel {
        #[serde(default)]
        #[cfg_attr(test, ts(optional, type = "unknown"))]
        request_id: Option<Value>,
        /// The `request_id`s of the `classify` requests whose remaining work to drop.
        #[cfg_attr(test, ts(type = "unknown[]"))]
        requests: Vec<Value>,
    },
}

impl Request {
    /// The request's `request_id`, when it had one.
    pub fn request_id(&self) -> Option<&Value> {
        match self {
            Request::Hello { request_id, .. }
            | Request::Classify { request_id, .. }
            | Request::PolicyGet { request_id }
            | Request::PolicySet { request_id, .. }
            | Request::PolicyValidate { request_id, .. }
            | Request::Feedback { request_id, .. }
            | Request::Stats { request_id }
            | Request::Cancel { request_id, .. } => request_id.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialize_as_their_wire_codes() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn feedback_kinds_round_trip() {
        for kind in [FeedbackKind::WasFine, FeedbackKind::MoreLikeThis] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(FeedbackKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn every_request_type_parses() {
        for t in REQUEST_TYPES {
            let extra = match t {
                "classify" => r#","posts":[]"#,
                "policy.set" | "policy.validate" => r#","source":"""#,
                "feedback" => r#","post":{"id":"a","text":"b"},"kind":"was_fine""#,
                "cancel" => r#","requests":[3,4]"#,
                _ => "",
            };
            let json = format!(r#"{{"type":"{t}","request_id":7{extra}}}"#);
            let request: Request = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(request.request_id(), Some(&Value::from(7)));
        }
    }
}
