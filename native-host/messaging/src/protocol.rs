//! The host's side of the message protocol (version 1, `docs/protocol.md`): the limits and helpers the host
//! applies. The messages themselves (requests, replies, verdicts, error codes) are declared once, in
//! `feedwarden_core::protocol`, and re-exported here.

use serde_json::Value;

pub use feedwarden_core::protocol::*;

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
pub fn error_reply(request_id: Option<&Value>, code: ErrorCode, detail: impl Into<String>) -> ErrorReply {
    let detail = detail.into();
    ErrorReply {
        kind: Default::default(),
        request_id: request_id.filter(|id| oversized_request_id(id).is_none()).cloned(),
        code,
        message: code.sentence().to_string(),
        detail: truncate_chars(&detail, MAX_DETAIL_CHARS).into_owned(),
    }
}

/// Default per-post image budget in milliseconds when neither the request nor `FEEDWARDEN_IMAGE_BUDGET_MS`
/// sets one: above the measured p95 of one image at 512 px on 2 cores (107 ms, `docs/benchmarks.md`), so a
/// typical image makes it into the first verdict and a slow one (a text-dense screenshot) follows as an update.
pub const DEFAULT_IMAGE_BUDGET_MS: u64 = 150;
/// Environment variable that sets the host's default image budget (milliseconds).
pub const IMAGE_BUDGET_ENV: &str = "FEEDWARDEN_IMAGE_BUDGET_MS";
