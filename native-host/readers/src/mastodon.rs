//! Mastodon `Status` JSON: an array (home, public, account or tag timelines) or a single status.
//!
//! Mapping: id = `id`; author = `account.acct`; text = the content as plain text (a content warning comes
//! first, on its own line); a boost shows the boosted status's text, author and media; quoted text = a
//! quote's status content (Mastodon 4.4+); images = image attachments' URLs; site = the URL's host.

use feedwarden_core::Post;
use serde_json::Value;

use super::text::html_to_text;
use super::{id_at, str_at, Record};

pub fn records(doc: &Value) -> Vec<Record> {
    let one = |v: &Value, position: String| match status(v) {
        Ok(p) => Record::ok(position, p),
        Err(why) => Record::bad(position, why),
    };
    match doc {
        Value::Array(a) => a.iter().enumerate().map(|(i, s)| one(s, format!("/{i}"))).collect(),
        _ => vec![one(doc, String::new())],
    }
}

fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next()?.to_string()).filter(|h| !h.is_empty())
}

fn content(s: &Value) -> Option<String> {
    let body = html_to_text(s.get("content")?.as_str()?);
    Some(match str_at(s, "/spoiler_text") {
        Some(cw) => format!("{cw}\n{body}"),
        None => body,
    })
}

fn status(v: &Value) -> Result<Post, String> {
    if !v.is_object() {
        return Err("not a status object".into());
    }
    let id = id_at(v, "/id").ok_or("status without an id")?;
    let shown = v.get("reblog").filter(|r| r.is_object()).unwrap_or(v);
    let text = content(shown).ok_or("status without content")?;
    let quoted = shown
        .pointer("/quote/quoted_status")
        .or_else(|| shown.pointer("/quote/status"))
        .filter(|q| q.is_object())
        .and_then(content);
    let images = shown
        .get("media_attachments")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|m| matches!(m.get("type").and_then(Value::as_str), Some("image" | "gifv")))
                .filter_map(|m| str_at(m, "/url").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let url = str_at(v, "/url").or_else(|| str_at(v, "/uri")).map(str::to_string);
    Ok(Post {
        id,
        site: url.as_deref().and_then(host),
        author: str_at(shown, "/account/acct").map(str::to_string),
        author_followed: None,
        text,
        quoted_text: quoted,
        images,
        url,
        created_at: str_at(v, "/created_at").map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_all;
    use super::super::Format;

    #[test]
    fn reads_statuses_boosts_and_content_warnings() {
        let (format, recs) = read_all("mastodon-statuses.json", Format::Auto);
        assert_eq!(format, Format::Mastodon);
        assert_eq!(recs.len(), 3);
        let p = recs[0].post.as_ref().unwrap();
        assert_eq!(p.id, "109");
        assert_eq!(p.site.as_deref(), Some("mastodon.example"));
        assert_eq!(p.author.as_deref(), Some("alice"));
        assert_eq!(p.text, "CW: politics\nFirst paragraph & more\n\nSecond");
        assert_eq!(p.images, vec!["https://files.mastodon.example/a.png"]);
        let boost = recs[1].post.as_ref().unwrap();
        assert_eq!(boost.id, "110");
        assert_eq!(boost.author.as_deref(), Some("bob@other.example"));
        assert_eq!(boost.text, "Boosted text");
        assert_eq!(boost.quoted_text.as_deref(), Some("quoted status"));
        assert_eq!(recs[2].position, "/2");
        assert!(recs[2].post.is_err());
    }
}
