//! X (Twitter) GraphQL responses as captured by scrapers (timelines, lists, search, user tweets and media,
//! tweet detail): every `tweet_results.result` in the document is a post, in document order.
//!
//! Mapping: id = `rest_id`; text = the long-form `note_tweet` text when present, else `legacy.full_text`
//! (entities decoded); a retweet's row keeps the retweet's id and URL but takes the original's text,
//! author and media, as shown in the feed; quoted text = the quoted tweet's text; images =
//! `extended_entities.media[].media_url_https`; created time converted to RFC 3339.

use feedwarden_core::Post;
use serde_json::Value;

use super::text::{rfc3339_from_x, unescape_entities};
use super::{id_at, str_at, Record};

pub fn records(doc: &Value) -> Vec<Record> {
    let mut out = Vec::new();
    walk(doc, &mut String::new(), &mut out);
    out
}

fn walk(v: &Value, path: &mut String, out: &mut Vec<Record>) {
    match v {
        Value::Object(o) => {
            if let Some(result) = o.get("tweet_results").map(|t| t.get("result")) {
                let position = format!("{path}/tweet_results/result");
                out.push(match result {
                    Some(r) => match tweet(r) {
                        Ok(post) => Record::ok(position, post),
                        Err(why) => Record::bad(position, why),
                    },
                    None => Record::bad(position, "empty tweet_results (tweet withheld or deleted)"),
                });
                return;
            }
            for (k, x) in o {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(x, path, out);
                path.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                walk(x, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// `TweetWithVisibilityResults` wraps the tweet one level down.
fn unwrap(v: &Value) -> Result<&Value, String> {
    match v.get("__typename").and_then(Value::as_str) {
        Some("TweetWithVisibilityResults") => v.get("tweet").ok_or_else(|| "visibility wrapper without a tweet".into()),
        Some("TweetTombstone") => Err("tweet unavailable (tombstone)".into()),
        Some("TweetUnavailable") => Err("tweet unavailable".into()),
        _ => Ok(v),
    }
}

fn screen_name(t: &Value) -> Option<&str> {
    str_at(t, "/core/user_results/result/core/screen_name")
        .or_else(|| str_at(t, "/core/user_results/result/legacy/screen_name"))
}

fn full_text(t: &Value) -> Option<String> {
    str_at(t, "/note_tweet/note_tweet_results/result/text")
        .or_else(|| str_at(t, "/legacy/full_text"))
        .map(unescape_entities)
}

fn images(t: &Value) -> Vec<String> {
    let media = t.pointer("/legacy/extended_entities/media").or_else(|| t.pointer("/legacy/entities/media"));
    media
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(|x| str_at(x, "/media_url_https").map(str::to_string)).collect())
        .unwrap_or_default()
}

fn tweet(v: &Value) -> Result<Post, String> {
    let t = unwrap(v)?;
    if t.get("legacy").is_none() {
        return Err("tweet without a legacy object".into());
    }
    let id = id_at(t, "/rest_id").or_else(|| id_at(t, "/legacy/id_str")).ok_or("tweet without an id")?;
    // A retweet shows the original: its text, author and media.
    let shown = match t.pointer("/legacy/retweeted_status_result/result") {
        Some(rt) => unwrap(rt).unwrap_or(t),
        None => t,
    };
    let text = full_text(shown).ok_or("tweet without text")?;
    let quoted_text = shown.pointer("/quoted_status_result/result").and_then(|q| unwrap(q).ok()).and_then(full_text);
    let poster = screen_name(t);
    Ok(Post {
        url: Some(match poster {
            Some(name) => format!("https://x.com/{name}/status/{id}"),
            None => format!("https://x.com/i/web/status/{id}"),
        }),
        id,
        site: Some("x.com".into()),
        author: screen_name(shown).or(poster).map(str::to_string),
        author_followed: None,
        text,
        quoted_text,
        images: images(shown),
        created_at: str_at(t, "/legacy/created_at").map(rfc3339_from_x),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_all;
    use super::super::Format;

    #[test]
    fn reads_tweets_retweets_quotes_and_tombstones() {
        let (format, recs) = read_all("x-graphql-timeline.json", Format::Auto);
        assert_eq!(format, Format::XGraphql);
        assert_eq!(recs.len(), 5, "{recs:#?}");
        let p = recs[0].post.as_ref().unwrap();
        assert_eq!(p.id, "1001");
        assert_eq!(p.author.as_deref(), Some("alice"));
        assert_eq!(p.text, "Plain tweet & more");
        assert_eq!(p.created_at.as_deref(), Some("2025-01-02T03:04:05Z"));
        assert_eq!(p.url.as_deref(), Some("https://x.com/alice/status/1001"));
        assert_eq!(p.images, vec!["https://pbs.twimg.com/media/abc.jpg"]);
        // Retweet: own id, the original's text and author.
        let rt = recs[1].post.as_ref().unwrap();
        assert_eq!(rt.id, "1002");
        assert_eq!(rt.author.as_deref(), Some("carol"));
        assert_eq!(rt.text, "The original, in full, not cut at 140 characters");
        // Quote inside a visibility wrapper, with long-form note text and the old legacy screen_name.
        let q = recs[2].post.as_ref().unwrap();
        assert_eq!(q.id, "1003");
        assert_eq!(q.text, "Long note text wins over full_text");
        assert_eq!(q.quoted_text.as_deref(), Some("What was quoted"));
        assert_eq!(q.author.as_deref(), Some("dave"));
        assert_eq!(recs[3].post.as_ref().unwrap_err(), "tweet unavailable (tombstone)");
        assert!(recs[3].position.ends_with("/tweet_results/result"), "{}", recs[3].position);
        assert_eq!(recs[4].post.as_ref().unwrap_err(), "tweet without a legacy object");
    }
}
