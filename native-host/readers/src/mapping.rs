//! The column map of the generic readers (`--map text=body,id=tweet_id,…`): which column or JSON field
//! holds each field of the post model, plus an optional label column for evaluation.

use std::collections::BTreeMap;

/// Post fields a column can be mapped to.
pub const FIELDS: [&str; 10] =
    ["id", "text", "author", "created_at", "quoted_text", "images", "url", "site", "author_followed", "label"];

/// Field → column (CSV header name, or a JSON field; `a.b` reaches into nested objects). Unmapped fields
/// use their own name as the column, except `label`, which is read only when mapped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ColumnMap {
    pub columns: BTreeMap<String, String>,
}

/// A bad `--map` argument.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapError {
    #[error("--map entry {0:?} is not FIELD=COLUMN")]
    Syntax(String),
    #[error("--map names unknown field {0:?}; fields are: id, text, author, created_at, quoted_text, images, url, site, author_followed, label")]
    UnknownField(String),
}

impl ColumnMap {
    /// Parse `text=body,id=tweet_id` (repeatable; later entries win).
    pub fn parse(specs: &[String]) -> Result<Self, MapError> {
        let mut map = ColumnMap::default();
        for spec in specs {
            for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (field, column) = entry.split_once('=').ok_or_else(|| MapError::Syntax(entry.to_string()))?;
                let (field, column) = (field.trim(), column.trim());
                if column.is_empty() {
                    return Err(MapError::Syntax(entry.to_string()));
                }
                if !FIELDS.contains(&field) {
                    return Err(MapError::UnknownField(field.to_string()));
                }
                map.columns.insert(field.to_string(), column.to_string());
            }
        }
        Ok(map)
    }

    /// The column that holds `field`.
    pub fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns.get(field).map(String::as_str).unwrap_or(field)
    }

    /// Whether the user named a column for `field`.
    pub fn is_mapped(&self, field: &str) -> bool {
        self.columns.contains_key(field)
    }

    pub fn with(mut self, field: &str, column: &str) -> Self {
        self.columns.insert(field.to_string(), column.to_string());
        self
    }
}

/// Split a cell that lists images: JSON-free separators are whitespace and `|`.
pub fn split_images(cell: &str) -> Vec<String> {
    cell.split(|c: char| c.is_whitespace() || c == '|').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_defaults() {
        let m = ColumnMap::parse(&["text=body, id=tweet_id".into(), "label=y".into()]).unwrap();
        assert_eq!(m.column("text"), "body");
        assert_eq!(m.column("id"), "tweet_id");
        assert_eq!(m.column("author"), "author");
        assert!(m.is_mapped("label"));
    }

    #[test]
    fn rejects_bad_entries() {
        assert_eq!(ColumnMap::parse(&["text".into()]), Err(MapError::Syntax("text".into())));
        assert_eq!(ColumnMap::parse(&["body=x".into()]), Err(MapError::UnknownField("body".into())));
    }

    #[test]
    fn images_split() {
        assert_eq!(split_images("a.jpg | b.png c.gif"), vec!["a.jpg", "b.png", "c.gif"]);
    }
}
