//! Replies as frames within the browser's 1 MB limit: a `verdicts` reply or `verdict.update` that is too
//! big is trimmed step by step, anything else becomes a small `reply-too-large` error.

use super::*;

/// Serialize a frame within the browser's 1 MB limit. A `verdicts` reply or a `verdict.update` that is too
/// big first loses the bulky optional parts of its verdicts ([`trim_verdicts`]), so the verdicts themselves
/// always arrive; anything else too big is replaced by a `reply-too-large` error, itself small (see
/// [`error_reply`]).
pub(super) fn write_reply(output: &mut impl Write, reply: &Value) -> std::io::Result<()> {
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
pub(super) const TRIMMED_IMAGE_TEXT_CHARS: usize = 200;

/// Image entries kept per trimmed verdict.
pub(super) const TRIMMED_IMAGES: usize = 16;

/// Reason kept in a trimmed verdict (characters).
pub(super) const TRIMMED_REASON_CHARS: usize = 500;

/// The fields of a verdict that survive the last trimming step: what the page needs to act and explain.
pub(super) const ESSENTIAL_VERDICT_FIELDS: [&str; 7] =
    ["id", "action", "rule", "reason", "cached", "images_pending", "trimmed"];

/// How far [`trim_verdicts`] has gone, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trim {
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
pub(super) fn verdicts_mut(reply: &mut Value) -> Vec<&mut serde_json::Map<String, Value>> {
    if reply.get("verdicts").is_some() {
        return reply["verdicts"].as_array_mut().into_iter().flatten().filter_map(Value::as_object_mut).collect();
    }
    reply.get_mut("verdict").and_then(Value::as_object_mut).into_iter().collect()
}

pub(super) fn trim_verdict(v: &mut serde_json::Map<String, Value>, step: Trim) {
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
pub(super) fn trim_verdicts(reply: &Value) -> Option<Vec<u8>> {
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
