//! Feed readers: turn exported or captured feeds (X GraphQL and archive, saved x.com pages, Bluesky, Reddit,
//! Mastodon, generic JSONL/CSV) into [`Post`]s, detecting the format when it is not named. A record that cannot become a post
//! is returned as an error with its position, never dropped, so the caller can count and report it.

pub mod bluesky;
pub mod csv;
pub mod jsonl;
pub mod mapping;
pub mod mastodon;
pub mod reddit;
pub mod text;
pub mod x_archive;
pub mod x_graphql;
pub mod x_html;

use std::io::Read;
use std::path::{Path, PathBuf};

use feedwarden_core::Post;
use serde_json::Value;

pub use mapping::ColumnMap;

/// An input format; `Auto` detects it from the file name and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Auto,
    /// X (Twitter) GraphQL timeline, search, list, user or tweet-detail responses.
    XGraphql,
    /// X account archive `data/tweets.js` (`window.YTD.tweets.part0 = [...]`) or its plain JSON array.
    XArchive,
    /// A saved x.com page (`page.html` + `page_files/`): posts from its `<article>`s, images as local files.
    XHtml,
    /// Bluesky XRPC `app.bsky.feed.*` responses (`feed`, `posts` or `thread`).
    Bluesky,
    /// Reddit listing JSON, bare or inside a recorded cassette (`interactions[].response.body.string`).
    Reddit,
    /// Mastodon `Status` objects: an array (timelines) or one status.
    Mastodon,
    /// One JSON object per line; fields by `--map` (defaults: the post model's names).
    Jsonl,
    /// CSV with a header row; columns by `--map`.
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::XGraphql => "x-graphql",
            Format::XArchive => "x-archive",
            Format::XHtml => "x-html",
            Format::Bluesky => "bluesky",
            Format::Reddit => "reddit",
            Format::Mastodon => "mastodon",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

/// One record of an input: a post, or why it could not become one. `position` says where it is in the
/// file (`line 12` for line formats, a JSON pointer such as `/feed/3/post` for documents).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub position: String,
    pub post: Result<Post, String>,
    /// The label column, when the column map names one (for `feedwarden eval`).
    pub label: Option<String>,
}

impl Record {
    pub fn ok(position: String, post: Post) -> Self {
        Record { position, post: Ok(post), label: None }
    }

    pub fn bad(position: String, why: impl Into<String>) -> Self {
        Record { position, post: Err(why.into()), label: None }
    }
}

/// Errors that stop an input from being read at all (bad records are [`Record`]s, not errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot tell the format of {path} ({why}); name it with --format x-graphql|x-archive|x-html|bluesky|reddit|mastodon|jsonl|csv")]
    Detect { path: PathBuf, why: String },
    #[error("{path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: ::csv::Error,
    },
    #[error(
        "{path}: the column map names {column:?} for {field}, but the header has no such column (it has: {header})"
    )]
    MissingColumn { path: PathBuf, field: String, column: String, header: String },
}

/// An opened input: its resolved format and its records, in file order.
pub struct Opened {
    pub format: Format,
    pub records: Box<dyn Iterator<Item = Record> + Send>,
    /// Number of records when known up front (document formats), else an estimate from the line count.
    pub len_hint: usize,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").field("format", &self.format).field("len_hint", &self.len_hint).finish()
    }
}

/// Open `path` as `format` (or detect it). Document formats are parsed here in full; line formats stream.
pub fn open(path: &Path, format: Format, map: &ColumnMap) -> Result<Opened, ReadError> {
    let io = |source| ReadError::Io { path: path.to_path_buf(), source };
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(io)?;
    let format = if format == Format::Auto { detect(path, &bytes)? } else { format };
    let records: Vec<Record> = match format {
        Format::Jsonl => {
            let len_hint = count_lines(&bytes);
            return Ok(Opened { format, records: Box::new(jsonl::records(bytes, map.clone())), len_hint });
        }
        Format::Csv => {
            let len_hint = count_lines(&bytes).saturating_sub(1);
            let it = csv::records(path, bytes, map)?;
            return Ok(Opened { format, records: Box::new(it), len_hint });
        }
        Format::XArchive => x_archive::records(&bytes),
        Format::XHtml => x_html::records(path, &bytes),
        Format::XGraphql | Format::Bluesky | Format::Reddit | Format::Mastodon => match parse_json(&bytes) {
            Ok(v) => match format {
                Format::XGraphql => x_graphql::records(&v),
                Format::Bluesky => bluesky::records(&v),
                Format::Reddit => reddit::records(&v),
                _ => mastodon::records(&v),
            },
            Err(e) => vec![Record::bad("document".into(), format!("not valid JSON: {e}"))],
        },
        Format::Auto => unreachable!("resolved above"),
    };
    let len_hint = records.len();
    Ok(Opened { format, records: Box::new(records.into_iter()), len_hint })
}

fn parse_json(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(strip_bom(bytes))
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn count_lines(bytes: &[u8]) -> usize {
    bytes.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count()
}

/// Tell the format from the file name, then from the content.
pub fn detect(path: &Path, bytes: &[u8]) -> Result<Format, ReadError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    if name.ends_with(".csv") {
        return Ok(Format::Csv);
    }
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return Ok(Format::Jsonl);
    }
    let bytes = strip_bom(bytes);
    if x_html::looks_like_saved_x_page(bytes) {
        return Ok(Format::XHtml);
    }
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    if bytes[start..].starts_with(b"window.YTD.") {
        return Ok(Format::XArchive);
    }
    let fail = |why: &str| ReadError::Detect { path: path.to_path_buf(), why: why.to_string() };
    match serde_json::from_slice::<Value>(&bytes[start..]) {
        Ok(v) => detect_value(&v).ok_or_else(|| fail("JSON of no known feed shape")),
        Err(_) => {
            // Several JSON values, one per line: JSONL.
            let first = bytes[start..].split(|&b| b == b'\n').next().unwrap_or(&[]);
            match serde_json::from_slice::<Value>(first) {
                Ok(Value::Object(_)) => Ok(Format::Jsonl),
                _ => Err(fail("neither JSON nor JSONL, and the name does not end in .csv")),
            }
        }
    }
}

/// The format of a parsed JSON document, by its shape.
pub fn detect_value(v: &Value) -> Option<Format> {
    let first = match v {
        Value::Array(a) => a.first(),
        _ => Some(v),
    }?;
    let obj = first.as_object()?;
    if obj.get("interactions").is_some_and(Value::is_array)
        || obj.get("kind").and_then(Value::as_str) == Some("Listing")
    {
        return Some(Format::Reddit);
    }
    if obj.contains_key("data") && contains_key(v, "tweet_results", 24) {
        return Some(Format::XGraphql);
    }
    if ["feed", "posts", "thread"].iter().any(|k| obj.contains_key(*k)) && contains_at_uri(v, 8) {
        return Some(Format::Bluesky);
    }
    if obj.get("tweet").is_some_and(Value::is_object) {
        return Some(Format::XArchive);
    }
    if obj.contains_key("account") && obj.contains_key("content") {
        return Some(Format::Mastodon);
    }
    if obj.contains_key("text") {
        return Some(Format::Jsonl);
    }
    None
}

fn contains_key(v: &Value, key: &str, depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    match v {
        Value::Object(o) => o.contains_key(key) || o.values().any(|x| contains_key(x, key, depth - 1)),
        Value::Array(a) => a.iter().take(4).any(|x| contains_key(x, key, depth - 1)),
        _ => false,
    }
}

fn contains_at_uri(v: &Value, depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    match v {
        Value::Object(o) => {
            o.get("uri").and_then(Value::as_str).is_some_and(|u| u.starts_with("at://"))
                || o.values().any(|x| contains_at_uri(x, depth - 1))
        }
        Value::Array(a) => a.iter().take(4).any(|x| contains_at_uri(x, depth - 1)),
        _ => false,
    }
}

/// A string field, or `None` when absent, null or empty.
pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A string or number field as a string.
pub(crate) fn id_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The committed fixtures (written for these tests, not copied from real data).
    pub fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/feeds").join(name)
    }

    pub fn read_all(name: &str, format: Format) -> (Format, Vec<Record>) {
        let opened = open(&fixture(name), format, &ColumnMap::default()).unwrap();
        (opened.format, opened.records.collect())
    }

    #[test]
    fn detects_every_fixture_format() {
        for (name, want) in [
            ("x-graphql-timeline.json", Format::XGraphql),
            ("tweets.js", Format::XArchive),
            ("bluesky-timeline.json", Format::Bluesky),
            ("reddit-cassette.json", Format::Reddit),
            ("mastodon-statuses.json", Format::Mastodon),
            ("posts.jsonl", Format::Jsonl),
            ("posts.csv", Format::Csv),
        ] {
            let path = fixture(name);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(detect(&path, &bytes).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn unknown_json_says_how_to_name_the_format() {
        let err = detect(Path::new("x.json"), br#"{"hello": 1}"#).unwrap_err().to_string();
        assert!(err.contains("--format"), "{err}");
    }

    #[test]
    fn a_broken_document_is_one_malformed_record_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("feed.json");
        std::fs::write(&p, b"{\"feed\": [").unwrap();
        let opened = open(&p, Format::Bluesky, &ColumnMap::default()).unwrap();
        let recs: Vec<Record> = opened.records.collect();
        assert_eq!(recs.len(), 1);
        assert!(recs[0].post.as_ref().unwrap_err().contains("not valid JSON"));
    }
}
