//! Labelled data for `eval`: JSONL or CSV with a label column (through the feed readers and the column
//! map), or a TweetEval-style folder (`<split>_text.txt` + `<split>_labels.txt`, `mapping.txt` naming the
//! label ids).

use std::path::{Path, PathBuf};

use feedwarden_readers::{self as readers, ColumnMap, Format, ReadError};

/// One labelled example.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub label: String,
}

/// What was loaded, and what could not be.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub examples: Vec<Example>,
    /// Label id → name (TweetEval's `mapping.txt`).
    pub names: Vec<(String, String)>,
    /// (position, reason) of records that could not be used.
    pub malformed: Vec<(String, String)>,
}

impl Loaded {
    /// Whether `label` is one of `positive` (by id or by name).
    pub fn is_positive(&self, label: &str, positive: &[String]) -> bool {
        positive
            .iter()
            .any(|p| p == label || self.names.iter().any(|(id, name)| id == label && name.eq_ignore_ascii_case(p)))
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{text} has {texts} lines but {labels} has {labels_n}; they must pair up line by line")]
    Mismatch { text: PathBuf, texts: usize, labels: PathBuf, labels_n: usize },
    #[error("{0} is a folder without <split>_text.txt and <split>_labels.txt (TweetEval layout); pass --split or a JSONL/CSV file")]
    NotTweetEval(PathBuf),
}

/// Load `path`: a TweetEval folder (`split` picks the files) or a JSONL/CSV file with a label column.
pub fn load(path: &Path, format: Format, map: &ColumnMap, split: &str) -> Result<Loaded, DataError> {
    if path.is_dir() {
        return load_tweeteval(path, split);
    }
    let map = if map.is_mapped("label") { map.clone() } else { map.clone().with("label", "label") };
    let opened = readers::open(path, format, &map)?;
    let mut out = Loaded::default();
    for rec in opened.records {
        match (rec.post, rec.label) {
            (Ok(post), Some(label)) => out.examples.push(Example { text: post.judged_text(), label }),
            (Ok(_), None) => {
                out.malformed.push((rec.position, format!("no label in column {:?}", map.column("label"))))
            }
            (Err(why), _) => out.malformed.push((rec.position, why)),
        }
    }
    Ok(out)
}

fn read_lines(path: &Path) -> Result<Vec<String>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    Ok(text.lines().map(str::to_string).collect())
}

fn load_tweeteval(dir: &Path, split: &str) -> Result<Loaded, DataError> {
    let (tp, lp) = (dir.join(format!("{split}_text.txt")), dir.join(format!("{split}_labels.txt")));
    if !tp.is_file() || !lp.is_file() {
        return Err(DataError::NotTweetEval(dir.to_path_buf()));
    }
    let (texts, labels) = (read_lines(&tp)?, read_lines(&lp)?);
    if texts.len() != labels.len() {
        return Err(DataError::Mismatch { text: tp, texts: texts.len(), labels: lp, labels_n: labels.len() });
    }
    let names = match read_lines(&dir.join("mapping.txt")) {
        Ok(lines) => lines
            .iter()
            .filter_map(|l| l.split_once(char::is_whitespace))
            .map(|(id, name)| (id.trim().to_string(), name.trim().to_string()))
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut out = Loaded { names, ..Default::default() };
    for (i, (text, label)) in texts.into_iter().zip(labels).enumerate() {
        let label = label.trim().to_string();
        if label.is_empty() {
            out.malformed.push((format!("line {}", i + 1), "empty label".into()));
        } else {
            out.examples.push(Example { text, label });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tweeteval_layout_with_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("val_text.txt"), "a\nb\nc\n").unwrap();
        std::fs::write(dir.path().join("val_labels.txt"), "0\n1\n\n").unwrap();
        std::fs::write(dir.path().join("mapping.txt"), "0\tnot-offensive\n1\toffensive\n").unwrap();
        let l = load(dir.path(), Format::Auto, &ColumnMap::default(), "val").unwrap();
        assert_eq!(l.examples.len(), 2);
        assert_eq!(l.malformed, vec![("line 3".to_string(), "empty label".to_string())]);
        assert!(l.is_positive("1", &["offensive".into()]));
        assert!(l.is_positive("1", &["1".into()]));
        assert!(!l.is_positive("0", &["offensive".into()]));
        assert!(matches!(
            load(dir.path(), Format::Auto, &ColumnMap::default(), "train"),
            Err(DataError::NotTweetEval(_))
        ));
    }

    #[test]
    fn csv_with_a_mapped_label_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.csv");
        std::fs::write(&p, "tweet,y\nhello,1\nbye,\n").unwrap();
        let map = ColumnMap::parse(&["text=tweet,label=y".into()]).unwrap();
        let l = load(&p, Format::Auto, &map, "val").unwrap();
        assert_eq!(l.examples, vec![Example { text: "hello".into(), label: "1".into() }]);
        assert_eq!(l.malformed.len(), 1);
    }
}
