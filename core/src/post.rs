//! The post model: what a site adapter or a feed reader extracts from one post, whatever the site.

use serde::{Deserialize, Serialize};

/// One post as the engine sees it. Only `id` and `text` are required on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Post {
    /// Caller's id, echoed back in the verdict.
    pub id: String,
    /// Site the post was seen on, as a host name (`x.com`, `reddit.com`, `bsky.app`).
    pub site: Option<String>,
    /// Author handle, with or without a leading `@`.
    pub author: Option<String>,
    /// Whether the page says the reader follows the author (`None` when the page does not say).
    pub author_followed: Option<bool>,
    /// The post's own text.
    pub text: String,
    /// Text of a quoted or reposted post, judged together with `text`.
    pub quoted_text: Option<String>,
    /// Image URLs or local paths (not judged yet: the text decides).
    pub images: Vec<String>,
    /// Permalink.
    pub url: Option<String>,
    /// Creation time as the source gives it (RFC 3339 preferred).
    pub created_at: Option<String>,
}

impl Post {
    /// The text the models judge: the post's text followed by the quoted text, whitespace-normalised.
    pub fn judged_text(&self) -> String {
        let mut s = crate::text::normalize(&self.text);
        if let Some(q) = self.quoted_text.as_deref() {
            crate::text::append_paragraph(&mut s, q);
        }
        s
    }

    /// The author handle without `@`, lowercased, for comparisons with `except_authors`.
    pub fn normalized_author(&self) -> Option<String> {
        self.author.as_deref().map(crate::text::normalize_handle)
    }
}
