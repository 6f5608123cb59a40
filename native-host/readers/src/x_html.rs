//! Saved x.com pages (a browser's "Save page as… complete": `page.html` plus its `page_files/` folder): each
//! `<article data-testid="tweet">` becomes a post — id, permalink and time from its status link, author from
//! that link's path, text from the first `tweetText` block (emoji kept from their `alt`), the quoted post's
//! text from the second, and the local image files of its `tweetPhoto` blocks, so batch mode can judge
//! them. A small tag scanner, not a full HTML parser: enough for the DOM a browser serialises.

use std::path::{Path, PathBuf};

use feedwarden_core::Post;

use super::text::unescape_entities;
use super::Record;

/// Elements without an end tag.
const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Elements whose content is raw text up to their end tag.
const RAW_TEXT: [&str; 4] = ["script", "style", "textarea", "title"];

/// Whether `bytes` look like a saved x.com page (for format detection).
pub fn looks_like_saved_x_page(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let is_html = String::from_utf8_lossy(head).to_ascii_lowercase().contains("<html");
    is_html && memfind(bytes, b"data-testid=\"tweet\"")
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// One scanned piece of the document.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Start { name: String, attrs: Vec<(String, String)>, self_closing: bool },
    End { name: String },
    Text(&'a str),
}

/// Scan `html` into tags and text; comments, doctypes and raw-text element bodies are skipped.
fn tokens(html: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let b = html.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let end = html[i..].find('<').map_or(b.len(), |e| i + e);
            out.push(Token::Text(&html[i..end]));
            i = end;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = html[i + 4..].find("-->").map_or(b.len(), |e| i + 4 + e + 3);
            continue;
        }
        if html[i..].starts_with("<!") || html[i..].starts_with("<?") {
            i = html[i..].find('>').map_or(b.len(), |e| i + e + 1);
            continue;
        }
        let closing = b.get(i + 1) == Some(&b'/');
        let name_start = i + 1 + usize::from(closing);
        let name_len = b[name_start..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'-').count();
        if name_len == 0 {
            // A lone `<` in text.
            out.push(Token::Text(&html[i..i + 1]));
            i += 1;
            continue;
        }
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        let (attrs, self_closing, after) = attributes(html, name_start + name_len);
        i = after;
        if closing {
            out.push(Token::End { name });
            continue;
        }
        let raw = RAW_TEXT.contains(&name.as_str());
        out.push(Token::Start { name: name.clone(), attrs, self_closing });
        if raw && !self_closing {
            let close = format!("</{name}");
            let lower_rest = html[i..].to_ascii_lowercase();
            i = lower_rest.find(&close).map_or(b.len(), |e| i + e);
        }
    }
    out
}

/// Attributes from `at` to the tag's `>`: (name, decoded value) pairs, whether it ends in `/>`, and the index
/// after the `>`.
fn attributes(html: &str, mut at: usize) -> (Vec<(String, String)>, bool, usize) {
    let b = html.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while at < b.len() && (b[at].is_ascii_whitespace() || b[at] == b'/') {
            at += 1;
        }
        if at >= b.len() {
            return (attrs, false, b.len());
        }
        if b[at] == b'>' {
            return (attrs, b[at - 1] == b'/', at + 1);
        }
        let start = at;
        while at < b.len() && !b[at].is_ascii_whitespace() && !matches!(b[at], b'=' | b'>' | b'/') {
            at += 1;
        }
        let name = html[start..at].to_ascii_lowercase();
        while at < b.len() && b[at].is_ascii_whitespace() {
            at += 1;
        }
        let mut value = String::new();
        if b.get(at) == Some(&b'=') {
            at += 1;
            while at < b.len() && b[at].is_ascii_whitespace() {
                at += 1;
            }
            match b.get(at) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = html[at + 1..].find(q as char).map_or(b.len(), |e| at + 1 + e);
                    value = unescape_entities(&html[at + 1..end]);
                    at = (end + 1).min(b.len());
                }
                _ => {
                    let s = at;
                    while at < b.len() && !b[at].is_ascii_whitespace() && b[at] != b'>' {
                        at += 1;
                    }
                    value = unescape_entities(&html[s..at]);
                }
            }
        }
        if !name.is_empty() {
            attrs.push((name, value));
        }
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// What an open element means for the post being read.
#[derive(Debug, Default, Clone)]
struct Open {
    name: String,
    /// Index of the `tweetText` block this element is (0 = the post's, 1 = the quoted post's).
    text_block: Option<usize>,
    photo: bool,
    href: Option<String>,
}

/// A post being read from its `<article>`.
#[derive(Debug, Default)]
struct Draft {
    /// Stack depth of the `<article>` element.
    depth: usize,
    texts: Vec<String>,
    images: Vec<String>,
    status_url: Option<String>,
    created_at: Option<String>,
}

/// The posts of a saved x.com page; `page` locates its `_files/` folder. Articles without a status link
/// (ads, "who to follow" cards) are malformed records with the reason.
pub fn records(page: &Path, bytes: &[u8]) -> Vec<Record> {
    let html = String::from_utf8_lossy(bytes);
    let page_dir = page.parent().map(Path::to_path_buf).unwrap_or_default();
    let page_dir = std::fs::canonicalize(&page_dir).unwrap_or(page_dir);
    let stem = page.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let mut out = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut draft: Option<Draft> = None;
    let mut articles = 0usize;
    for tok in tokens(&html) {
        match tok {
            Token::Text(t) => {
                if let Some(d) = draft.as_mut() {
                    if let Some(k) = stack.iter().rev().find_map(|o| o.text_block) {
                        d.texts[k].push_str(&unescape_entities(t));
                    }
                }
            }
            Token::Start { name, attrs, self_closing } => {
                let testid = attr(&attrs, "data-testid").unwrap_or("");
                if name == "article" && testid == "tweet" && draft.is_none() {
                    draft = Some(Draft { depth: stack.len(), ..Draft::default() });
                }
                let mut open = Open { name: name.clone(), ..Open::default() };
                if let Some(d) = draft.as_mut() {
                    let in_text = stack.iter().rev().find_map(|o| o.text_block);
                    let in_photo = stack.iter().any(|o| o.photo);
                    match (name.as_str(), in_text) {
                        _ if testid == "tweetText" => {
                            d.texts.push(String::new());
                            open.text_block = Some(d.texts.len() - 1);
                        }
                        ("br", Some(k)) => d.texts[k].push('\n'),
                        // Emoji are images whose `alt` is the character.
                        ("img", Some(k)) => d.texts[k].push_str(attr(&attrs, "alt").unwrap_or("")),
                        ("img", None) if in_photo => {
                            if let Some(src) = attr(&attrs, "src").filter(|s| !s.is_empty()) {
                                d.images.push(local_image(&page_dir, stem, src));
                            }
                        }
                        ("time", _) if d.status_url.is_none() => {
                            let link = stack.iter().rev().find_map(|o| o.href.as_deref());
                            if let Some(url) = link.filter(|h| status_id(h).is_some()) {
                                d.status_url = Some(url.to_string());
                                d.created_at = attr(&attrs, "datetime").map(str::to_string);
                            }
                        }
                        _ => {}
                    }
                    open.photo = testid == "tweetPhoto";
                    if name == "a" {
                        open.href = attr(&attrs, "href").map(str::to_string);
                    }
                }
                if !self_closing && !VOID.contains(&name.as_str()) {
                    stack.push(open);
                }
            }
            Token::End { name } => {
                let Some(at) = stack.iter().rposition(|o| o.name == name) else { continue };
                stack.truncate(at);
                if draft.as_ref().is_some_and(|d| stack.len() <= d.depth) {
                    let d = draft.take().expect("checked");
                    out.push(finish(d, articles));
                    articles += 1;
                }
            }
        }
    }
    if let Some(d) = draft.take() {
        out.push(finish(d, articles));
    }
    if out.is_empty() {
        out.push(Record::bad("document".into(), "no <article data-testid=\"tweet\"> in the page"));
    }
    out
}

/// The numeric id of an `…/<handle>/status/<id>` link.
fn status_id(href: &str) -> Option<&str> {
    let (_, rest) = href.split_once("/status/")?;
    let id = rest.split(['/', '?', '#']).next()?;
    (!id.is_empty() && id.bytes().all(|c| c.is_ascii_digit())).then_some(id)
}

fn finish(d: Draft, index: usize) -> Record {
    let position = format!("article {}", index + 1);
    let Some(url) = d.status_url else {
        return Record::bad(position, "article without a status link (an ad or a recommendation card)");
    };
    let id = status_id(&url).unwrap_or_default().to_string();
    // https://x.com/<handle>/status/<id>
    let author = url.split("/status/").next().and_then(|p| p.rsplit('/').next()).map(str::to_string);
    let mut texts = d.texts.into_iter().map(|t| t.trim().to_string());
    let text = texts.next().unwrap_or_default();
    let quoted_text = texts.next().filter(|t| !t.is_empty());
    if text.is_empty() && quoted_text.is_none() && d.images.is_empty() {
        return Record::bad(position, format!("post {id} has no text and no image"));
    }
    Record::ok(
        position,
        Post {
            id,
            site: Some("x.com".into()),
            author,
            author_followed: None,
            text,
            quoted_text,
            images: d.images,
            url: Some(url),
            created_at: d.created_at,
        },
    )
}

/// An `<img src>` of the page as an absolute local path. Saved pages link `Page%20Title_files/x.jpg`; when
/// the page was renamed afterwards (`page.html` + `page_files/`), the file is looked up in
/// `<page stem>_files/` instead. Remote URLs stay as they are (the host never fetches them).
fn local_image(page_dir: &Path, stem: &str, src: &str) -> String {
    let lower = src.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("data:") {
        return src.to_string();
    }
    let decoded = feedwarden_core::text::percent_decode(src.strip_prefix("./").unwrap_or(src));
    let literal = page_dir.join(&decoded);
    let path: PathBuf = if literal.is_file() {
        literal
    } else {
        let file = Path::new(&decoded).file_name().map(PathBuf::from).unwrap_or_default();
        let renamed = page_dir.join(format!("{stem}_files")).join(file);
        if renamed.is_file() {
            renamed
        } else {
            literal
        }
    };
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html><html><head><style>[data-testid="tweet"] { color: red }</style>
<script>var a = "<article data-testid=\"tweet\">";</script></head><body>
<article role="article" data-testid="tweet"><div data-testid="User-Name"><a href="https://x.com/alice"><span>Alice</span></a>
<a href="https://x.com/alice/status/111" aria-label="5 minutes ago"><time datetime="2025-11-20T20:21:44.000Z">5m</time></a></div>
<div lang="en" data-testid="tweetText"><span>Hello &amp; welcome </span><img alt="🔥" src="x/1f525.svg"><br><span>line two</span></div>
<div data-testid="tweetPhoto"><img alt="Image" src="Saved%20Page_files/photo%201.jpg"></div>
<img alt="" src="Saved%20Page_files/avatar.jpg">
<div><div data-testid="tweetText"><span>the quoted post</span></div></div>
</article>
<article data-testid="tweet"><div data-testid="tweetText">Promoted, no link</div></article>
<article data-testid="tweet"><a href="https://x.com/bob/status/222/photo/1"><time datetime="2025-11-20T19:00:00.000Z">1h</time></a>
<div data-testid="tweetText">Bob's <!-- a comment <b> --> post</div>
<div data-testid="tweetPhoto"><img src="https://pbs.twimg.com/media/x.jpg"></div></article>
</body></html>"#;

    #[test]
    fn reads_posts_text_quotes_and_images() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("page_files")).unwrap();
        std::fs::write(dir.path().join("page_files/photo 1.jpg"), b"jpeg").unwrap();
        let page = dir.path().join("page.html");
        assert!(looks_like_saved_x_page(PAGE.as_bytes()));
        let recs = records(&page, PAGE.as_bytes());
        assert_eq!(recs.len(), 3, "{recs:?}");
        let a = recs[0].post.as_ref().unwrap();
        assert_eq!(a.id, "111");
        assert_eq!(a.author.as_deref(), Some("alice"));
        assert_eq!(a.url.as_deref(), Some("https://x.com/alice/status/111"));
        assert_eq!(a.created_at.as_deref(), Some("2025-11-20T20:21:44.000Z"));
        assert_eq!(a.text, "Hello & welcome 🔥\nline two");
        assert_eq!(a.quoted_text.as_deref(), Some("the quoted post"));
        // The page was renamed: `Saved Page_files/` is found as `page_files/`; the avatar is not a post image.
        let canonical = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(a.images, vec![canonical.join("page_files/photo 1.jpg").display().to_string()]);
        assert_eq!(recs[0].position, "article 1");
        assert!(recs[1].post.as_ref().unwrap_err().contains("status link"));
        let b = recs[2].post.as_ref().unwrap();
        assert_eq!((b.id.as_str(), b.author.as_deref()), ("222", Some("bob")));
        assert_eq!(b.text, "Bob's  post");
        assert_eq!(b.images, vec!["https://pbs.twimg.com/media/x.jpg".to_string()]);
    }

    #[test]
    fn a_page_without_posts_is_one_malformed_record() {
        let recs = records(Path::new("x.html"), b"<html><body><p>nothing</p></body></html>");
        assert_eq!(recs.len(), 1);
        assert!(recs[0].post.is_err());
        assert!(!looks_like_saved_x_page(b"<html><body><p>nothing</p></body></html>"));
    }

    #[test]
    fn scanner_survives_broken_markup() {
        for html in ["<article data-testid=\"tweet\"><a href=\"", "<<>><a b='c", "<div a=b>x</span></div", "<!--"] {
            let _ = records(Path::new("x.html"), html.as_bytes());
        }
    }
}
