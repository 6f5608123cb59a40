//! Generic JSONL: one JSON object per line, fields found through the column map (dotted paths reach into
//! nested objects). Streams line by line.

use feedwarden_core::Post;
use serde_json::Value;

use super::mapping::ColumnMap;
use super::Record;

/// Records of a JSONL document, lazily, one per non-blank line.
pub fn records(bytes: Vec<u8>, map: ColumnMap) -> impl Iterator<Item = Record> + Send {
    let mut start = 0usize;
    let mut line_no = 0usize;
    std::iter::from_fn(move || loop {
        if start >= bytes.len() {
            return None;
        }
        let end = bytes[start..].iter().position(|&b| b == b'\n').map(|p| start + p).unwrap_or(bytes.len());
        let line = &bytes[start..end];
        start = end + 1;
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Some(record(line, line_no, &map));
    })
}

fn record(line: &[u8], line_no: usize, map: &ColumnMap) -> Record {
    let position = format!("line {line_no}");
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return Record::bad(position, format!("not valid JSON: {e}")),
    };
    if !value.is_object() {
        return Record::bad(position, "not a JSON object");
    }
    let mut rec = match post_from_value(&value, map, line_no) {
        Ok(post) => Record::ok(position, post),
        Err(why) => Record::bad(position, why),
    };
    if map.is_mapped("label") {
        rec.label = field(&value, map.column("label")).and_then(scalar);
    }
    rec
}

/// `a.b.c` in nested objects; a key that itself contains dots is tried first.
pub(crate) fn field<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(x) = v.get(path) {
        return Some(x);
    }
    path.split('.').try_fold(v, |cur, key| cur.get(key))
}

/// Strings, numbers and booleans as text; `None` for null, arrays and objects.
pub(crate) fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn post_from_value(v: &Value, map: &ColumnMap, line_no: usize) -> Result<Post, String> {
    let text_col = map.column("text");
    let text = match field(v, text_col) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => {
            return Err(format!("no \"{text_col}\" field (the text; map it with --map text=FIELD)"))
        }
        Some(_) => return Err(format!("\"{text_col}\" is not a string")),
    };
    let id = match field(v, map.column("id")) {
        Some(x) => scalar(x)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("\"{}\" is empty or not a string/number", map.column("id")))?,
        None if map.is_mapped("id") => return Err(format!("no \"{}\" field (the id)", map.column("id"))),
        // No id at all: the line number keeps rows traceable to the input.
        None => line_no.to_string(),
    };
    let opt = |f: &str| field(v, map.column(f)).and_then(scalar).filter(|s| !s.is_empty());
    let images = match field(v, map.column("images")) {
        Some(Value::Array(a)) => a.iter().filter_map(scalar).collect(),
        Some(Value::String(s)) => super::mapping::split_images(s),
        _ => Vec::new(),
    };
    let author_followed = match field(v, map.column("author_followed")) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Ok(Post {
        id,
        site: opt("site"),
        author: opt("author"),
        author_followed,
        text,
        quoted_text: opt("quoted_text"),
        images,
        url: opt("url"),
        created_at: opt("created_at"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_all;
    use super::super::Format;
    use super::*;

    #[test]
    fn reads_posts_and_reports_bad_lines_by_number() {
        let (_, recs) = read_all("posts.jsonl", Format::Jsonl);
        let ok: Vec<&Post> = recs.iter().filter_map(|r| r.post.as_ref().ok()).collect();
        let bad: Vec<(&str, &String)> =
            recs.iter().filter_map(|r| r.post.as_ref().err().map(|e| (r.position.as_str(), e))).collect();
        assert_eq!(ok.len(), 5);
        assert_eq!(ok[0].id, "p1");
        assert_eq!(ok[0].images, vec!["https://img.example/a.jpg"]);
        assert_eq!(ok[1].id, "42", "numeric ids become strings");
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!(bad[0].0, "line 5");
        assert!(bad[0].1.contains("not valid JSON"));
        assert_eq!(bad[1].0, "line 7");
        assert!(bad[1].1.contains("\"text\""));
    }

    #[test]
    fn map_reaches_nested_fields_and_labels() {
        let map = ColumnMap::parse(&["text=body.content,id=meta.id,label=y".into()]).unwrap();
        let lines = b"{\"body\":{\"content\":\"hi\"},\"meta\":{\"id\":7},\"y\":1}\n\n{\"body\":{}}\n".to_vec();
        let recs: Vec<Record> = records(lines, map).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].post.as_ref().unwrap().id, "7");
        assert_eq!(recs[0].label.as_deref(), Some("1"));
        assert_eq!(recs[1].position, "line 3");
        assert!(recs[1].post.is_err());
    }
}
