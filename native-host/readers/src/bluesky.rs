//! Bluesky XRPC feed JSON (`app.bsky.feed.getTimeline`, `getAuthorFeed`, `getFeed`, `getListFeed`,
//! `searchPosts`, `getPostThread`): each post view is a post.
//!
//! Mapping: id = the post's `at://` URI; author = handle; text = `record.text`; quoted text = the embedded
//! record's text (`embed.record` or `recordWithMedia`); images = `fullsize` URLs of image embeds; URL =
//! `https://bsky.app/profile/<handle>/post/<rkey>`. A repost keeps the original post's URI.

use feedwarden_core::Post;
use serde_json::Value;

use super::{str_at, Record};

pub fn records(doc: &Value) -> Vec<Record> {
    let mut out = Vec::new();
    if let Some(feed) = doc.get("feed").and_then(Value::as_array) {
        for (i, item) in feed.iter().enumerate() {
            push(item.get("post"), format!("/feed/{i}/post"), &mut out);
        }
    } else if let Some(posts) = doc.get("posts").and_then(Value::as_array) {
        for (i, p) in posts.iter().enumerate() {
            push(Some(p), format!("/posts/{i}"), &mut out);
        }
    } else if let Some(thread) = doc.get("thread") {
        thread_posts(thread, "/thread".into(), &mut out);
    } else {
        out.push(Record::bad("document".into(), "no `feed`, `posts` or `thread` array"));
    }
    out
}

fn thread_posts(node: &Value, path: String, out: &mut Vec<Record>) {
    if let Some(parent) = node.get("parent") {
        thread_posts(parent, format!("{path}/parent"), out);
    }
    push(node.get("post"), format!("{path}/post"), out);
    if let Some(replies) = node.get("replies").and_then(Value::as_array) {
        for (i, r) in replies.iter().enumerate() {
            thread_posts(r, format!("{path}/replies/{i}"), out);
        }
    }
}

fn push(post: Option<&Value>, position: String, out: &mut Vec<Record>) {
    out.push(match post.ok_or_else(|| "no post view".to_string()).and_then(post_view) {
        Ok(p) => Record::ok(position, p),
        Err(why) => Record::bad(position, why),
    });
}

fn images(embed: &Value) -> Vec<String> {
    let media = match embed.get("media") {
        Some(m) => m,
        None => embed,
    };
    media
        .get("images")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| str_at(i, "/fullsize").map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The text of an embedded (quoted) record: `record#view` has it at `record.value`,
/// `recordWithMedia#view` one level deeper.
fn quoted_text(embed: &Value) -> Option<String> {
    let rec = embed.get("record")?;
    let rec = if rec.get("record").is_some() && rec.get("value").is_none() { rec.get("record")? } else { rec };
    str_at(rec, "/value/text").map(str::to_string)
}

fn post_view(p: &Value) -> Result<Post, String> {
    if p.get("$type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.ends_with("#notFoundPost") || t.ends_with("#blockedPost"))
    {
        return Err("post not found or blocked".into());
    }
    let uri = str_at(p, "/uri").ok_or("post without a uri")?;
    let text = p.pointer("/record/text").and_then(Value::as_str).ok_or("post without record.text")?;
    let handle = str_at(p, "/author/handle");
    let rkey = uri.rsplit('/').next().unwrap_or("");
    let embed = p.get("embed");
    Ok(Post {
        id: uri.to_string(),
        site: Some("bsky.app".into()),
        author: handle.map(str::to_string),
        // The viewer block is there when the feed was fetched signed in: no `following` then means no.
        author_followed: p.pointer("/author/viewer").map(|v| v.get("following").is_some_and(Value::is_string)),
        text: text.to_string(),
        quoted_text: embed.and_then(quoted_text),
        images: embed.map(images).unwrap_or_default(),
        url: handle.map(|h| format!("https://bsky.app/profile/{h}/post/{rkey}")),
        created_at: str_at(p, "/record/createdAt").map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_all;
    use super::super::Format;

    #[test]
    fn reads_posts_quotes_images_and_reports_a_broken_item() {
        let (format, recs) = read_all("bluesky-timeline.json", Format::Auto);
        assert_eq!(format, Format::Bluesky);
        assert_eq!(recs.len(), 4);
        let p = recs[0].post.as_ref().unwrap();
        assert_eq!(p.id, "at://did:plc:aaa/app.bsky.feed.post/3kaaa");
        assert_eq!(p.author.as_deref(), Some("alice.bsky.social"));
        assert_eq!(p.url.as_deref(), Some("https://bsky.app/profile/alice.bsky.social/post/3kaaa"));
        assert_eq!(p.author_followed, Some(true));
        assert_eq!(p.images, vec!["https://cdn.bsky.app/img/feed_fullsize/plain/x@jpeg"]);
        let q = recs[1].post.as_ref().unwrap();
        assert_eq!(q.quoted_text.as_deref(), Some("the quoted post"));
        assert_eq!(q.author_followed, Some(false));
        let qm = recs[2].post.as_ref().unwrap();
        assert_eq!(qm.quoted_text.as_deref(), Some("quoted with media"));
        assert_eq!(qm.images.len(), 1);
        assert_eq!(recs[3].position, "/feed/3/post");
        assert!(recs[3].post.is_err());
    }
}
