//! The X account archive's `data/tweets.js` (`window.YTD.tweets.part0 = [{"tweet": {...}}, ...]`), or the
//! same array as plain JSON. The archive keeps the account's handle in `account.js`, not per tweet, so
//! `author` is empty and the URL is X's handle-free `https://x.com/i/web/status/<id>`.

use feedwarden_core::Post;
use serde_json::Value;

use super::text::{rfc3339_from_x, unescape_entities};
use super::{id_at, str_at, Record};

pub fn records(bytes: &[u8]) -> Vec<Record> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    // `window.YTD.tweets.part0 = [...]`: the JSON starts after the first `=`.
    let json = if bytes[start..].starts_with(b"window.YTD.") {
        match bytes.iter().position(|&b| b == b'=') {
            Some(eq) => &bytes[eq + 1..],
            None => return vec![Record::bad("document".into(), "`window.YTD…` without `=`")],
        }
    } else {
        &bytes[start..]
    };
    let doc: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => return vec![Record::bad("document".into(), format!("not valid JSON: {e}"))],
    };
    let Some(items) = doc.as_array() else {
        return vec![Record::bad("document".into(), "expected an array of tweets")];
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (t, position) = match item.get("tweet") {
                Some(t) => (t, format!("/{i}/tweet")),
                None => (item, format!("/{i}")),
            };
            match tweet(t) {
                Ok(p) => Record::ok(position, p),
                Err(why) => Record::bad(position, why),
            }
        })
        .collect()
}

fn tweet(t: &Value) -> Result<Post, String> {
    let id = id_at(t, "/id_str").or_else(|| id_at(t, "/id")).ok_or("tweet without an id")?;
    let text = str_at(t, "/full_text").or_else(|| str_at(t, "/text")).ok_or("tweet without full_text")?;
    let media = t.pointer("/extended_entities/media").or_else(|| t.pointer("/entities/media"));
    let images = media
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(|x| str_at(x, "/media_url_https").map(str::to_string)).collect())
        .unwrap_or_default();
    Ok(Post {
        url: Some(format!("https://x.com/i/web/status/{id}")),
        id,
        site: Some("x.com".into()),
        author: None,
        author_followed: None,
        text: unescape_entities(text),
        quoted_text: None,
        images,
        created_at: str_at(t, "/created_at").map(rfc3339_from_x),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_all;
    use super::super::Format;

    #[test]
    fn reads_the_archive_and_reports_a_tweet_without_text() {
        let (format, recs) = read_all("tweets.js", Format::Auto);
        assert_eq!(format, Format::XArchive);
        assert_eq!(recs.len(), 3);
        let p = recs[0].post.as_ref().unwrap();
        assert_eq!(p.id, "2001");
        assert_eq!(p.text, "Archived <tweet> & text");
        assert_eq!(p.url.as_deref(), Some("https://x.com/i/web/status/2001"));
        assert_eq!(p.created_at.as_deref(), Some("2021-06-01T12:00:00Z"));
        assert_eq!(recs[1].post.as_ref().unwrap().images, vec!["https://pbs.twimg.com/media/x.jpg"]);
        assert_eq!(recs[2].position, "/2/tweet");
        assert!(recs[2].post.is_err());
    }
}
