//! Reddit listing JSON (`/hot`, `/r/<sub>/new`, a comments page's array of two listings), bare or inside a
//! recorded HTTP cassette (`interactions[].response.body.string`, as betamax/vcrpy record them).
//!
//! Mapping: id = the fullname (`t3_…` for links, `t1_…` for comments); text = title, a blank line and the
//! self text (links) or the body (comments); images = the preview's source URLs, or the link itself when
//! it points at an image; URL = `https://www.reddit.com` + permalink; created = `created_utc` in RFC 3339.

use feedwarden_core::Post;
use serde_json::Value;

use super::text::{rfc3339_from_unix, unescape_entities};
use super::{id_at, str_at, Record};

pub fn records(doc: &Value) -> Vec<Record> {
    let mut out = Vec::new();
    if let Some(interactions) = doc.get("interactions").and_then(Value::as_array) {
        for (i, it) in interactions.iter().enumerate() {
            let Some(body) = it.pointer("/response/body/string").and_then(Value::as_str) else { continue };
            let base = format!("/interactions/{i}/response/body/string");
            // Other recorded calls (the OAuth token, …) are not listings: only JSON with listings counts.
            match serde_json::from_str::<Value>(body) {
                Ok(v) if is_listing(&v) => listing_or_array(&v, &base, &mut out),
                Ok(_) => {}
                Err(e) if body.trim_start().starts_with('{') || body.trim_start().starts_with('[') => {
                    out.push(Record::bad(base, format!("recorded body is not valid JSON: {e}")))
                }
                Err(_) => {}
            }
        }
    } else {
        listing_or_array(doc, "", &mut out);
    }
    out
}

fn is_listing(v: &Value) -> bool {
    let first = match v {
        Value::Array(a) => a.first(),
        _ => Some(v),
    };
    first.and_then(|x| x.get("kind")).and_then(Value::as_str) == Some("Listing")
}

fn listing_or_array(v: &Value, base: &str, out: &mut Vec<Record>) {
    match v {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, l)| listing(l, &format!("{base}/{i}"), out)),
        _ => listing(v, base, out),
    }
}

fn listing(v: &Value, base: &str, out: &mut Vec<Record>) {
    let Some(children) = v.pointer("/data/children").and_then(Value::as_array) else {
        out.push(Record::bad(base.to_string(), "listing without data.children"));
        return;
    };
    for (i, child) in children.iter().enumerate() {
        let position = format!("{base}/data/children/{i}");
        let kind = child.get("kind").and_then(Value::as_str).unwrap_or("");
        // `more` stubs are pagination, not posts.
        if kind == "more" {
            continue;
        }
        out.push(match thing(kind, child.get("data").unwrap_or(&Value::Null)) {
            Ok(p) => Record::ok(position.clone(), p),
            Err(why) => Record::bad(position.clone(), why),
        });
        // Comment replies nest another listing.
        if let Some(replies) = child.pointer("/data/replies").filter(|r| r.is_object()) {
            listing(replies, &format!("{position}/data/replies"), out);
        }
    }
}

fn thing(kind: &str, d: &Value) -> Result<Post, String> {
    let id =
        id_at(d, "/name").or_else(|| id_at(d, "/id").map(|id| format!("{kind}_{id}"))).ok_or("thing without an id")?;
    let text = match kind {
        "t3" => {
            let title = str_at(d, "/title").ok_or("link without a title")?;
            match str_at(d, "/selftext") {
                Some(body) => format!("{title}\n\n{body}"),
                None => title.to_string(),
            }
        }
        "t1" => str_at(d, "/body").ok_or("comment without a body")?.to_string(),
        other => return Err(format!("unsupported thing kind {other:?}")),
    };
    let mut images: Vec<String> = d
        .pointer("/preview/images")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| str_at(i, "/source/url")).map(unescape_entities).collect())
        .unwrap_or_default();
    if images.is_empty() {
        if let Some(url) = str_at(d, "/url").filter(|u| is_image_url(u)) {
            images.push(url.to_string());
        }
    }
    Ok(Post {
        id,
        site: Some("reddit.com".into()),
        author: str_at(d, "/author").map(str::to_string),
        author_followed: None,
        text,
        quoted_text: None,
        images,
        url: str_at(d, "/permalink").map(|p| format!("https://www.reddit.com{p}")),
        created_at: d.get("created_utc").and_then(Value::as_f64).and_then(rfc3339_from_unix),
    })
}

fn is_image_url(u: &str) -> bool {
    let path = u.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp"].iter().any(|e| path.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_all;
    use super::super::Format;

    #[test]
    fn reads_the_listing_inside_a_cassette() {
        let (format, recs) = read_all("reddit-cassette.json", Format::Auto);
        assert_eq!(format, Format::Reddit);
        assert_eq!(recs.len(), 4, "{recs:#?}");
        let link = recs[0].post.as_ref().unwrap();
        assert_eq!(link.id, "t3_abc");
        assert_eq!(link.text, "A title\n\nSome self text");
        assert_eq!(link.url.as_deref(), Some("https://www.reddit.com/r/test/comments/abc/a_title/"));
        assert_eq!(link.created_at.as_deref(), Some("2016-03-01T02:08:45Z"));
        assert_eq!(link.images, vec!["https://i.redditmedia.com/pic.jpg?s=1&t=2"]);
        let img = recs[1].post.as_ref().unwrap();
        assert_eq!(img.images, vec!["http://i.imgur.com/x.jpg"]);
        assert!(recs[2].post.is_err(), "a link without a title");
        assert_eq!(recs[2].position, "/interactions/1/response/body/string/data/children/2");
        let comment = recs[3].post.as_ref().unwrap();
        assert_eq!(comment.id, "t1_c1");
        assert_eq!(comment.text, "a comment");
    }
}
