//! Generic CSV with a header row: columns found by name through the column map. Rows with the wrong
//! number of fields or invalid UTF-8 become malformed records with their line number.

use std::path::Path;

use feedwarden_core::Post;

use super::mapping::{split_images, ColumnMap};
use super::{ReadError, Record};

/// Records of a CSV document, lazily. Errors only when the header itself is unreadable or lacks a column
/// the map names explicitly.
pub fn records(path: &Path, bytes: Vec<u8>, map: &ColumnMap) -> Result<impl Iterator<Item = Record> + Send, ReadError> {
    let mut reader = ::csv::ReaderBuilder::new().flexible(false).from_reader(std::io::Cursor::new(bytes));
    let header = reader
        .headers()
        .map_err(|source| ReadError::Csv { path: path.to_path_buf(), source })?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect::<Vec<_>>();
    let col = |field: &str| header.iter().position(|h| h == map.column(field));
    for field in super::mapping::FIELDS {
        if map.is_mapped(field) && col(field).is_none() {
            return Err(ReadError::MissingColumn {
                path: path.to_path_buf(),
                field: field.to_string(),
                column: map.column(field).to_string(),
                header: header.join(", "),
            });
        }
    }
    let Some(text) = col("text") else {
        return Err(ReadError::MissingColumn {
            path: path.to_path_buf(),
            field: "text".into(),
            column: map.column("text").to_string(),
            header: header.join(", "),
        });
    };
    let cols = Columns {
        text,
        id: col("id"),
        author: col("author"),
        created_at: col("created_at"),
        quoted_text: col("quoted_text"),
        images: col("images"),
        url: col("url"),
        site: col("site"),
        author_followed: col("author_followed"),
        label: if map.is_mapped("label") { col("label") } else { None },
    };
    let mut rows = reader.into_byte_records();
    let mut row_no = 0usize;
    Ok(std::iter::from_fn(move || {
        let next = rows.next()?;
        row_no += 1;
        Some(match next {
            Ok(rec) => {
                let line = rec.position().map(|p| p.line()).unwrap_or(row_no as u64 + 1);
                cols.record(&rec, line, row_no)
            }
            Err(e) => {
                let line = e.position().map(|p| p.line().to_string()).unwrap_or_else(|| "?".into());
                Record::bad(format!("line {line}"), e.to_string())
            }
        })
    }))
}

struct Columns {
    text: usize,
    id: Option<usize>,
    author: Option<usize>,
    created_at: Option<usize>,
    quoted_text: Option<usize>,
    images: Option<usize>,
    url: Option<usize>,
    site: Option<usize>,
    author_followed: Option<usize>,
    label: Option<usize>,
}

impl Columns {
    fn record(&self, rec: &::csv::ByteRecord, line: u64, row_no: usize) -> Record {
        let position = format!("line {line}");
        let cell = |i: Option<usize>| -> Result<Option<String>, String> {
            match i.and_then(|i| rec.get(i)) {
                None => Ok(None),
                Some(b) => std::str::from_utf8(b)
                    .map(|s| Some(s.to_string()).filter(|s| !s.is_empty()))
                    .map_err(|_| "not valid UTF-8".to_string()),
            }
        };
        let build = || -> Result<(Post, Option<String>), String> {
            let text = cell(Some(self.text))?.unwrap_or_default();
            let post = Post {
                // No id column: the data row number keeps rows traceable to the input.
                id: cell(self.id)?.unwrap_or_else(|| row_no.to_string()),
                site: cell(self.site)?,
                author: cell(self.author)?,
                author_followed: cell(self.author_followed)?.and_then(|s| s.parse().ok()),
                text,
                quoted_text: cell(self.quoted_text)?,
                images: cell(self.images)?.map(|s| split_images(&s)).unwrap_or_default(),
                url: cell(self.url)?,
                created_at: cell(self.created_at)?,
            };
            Ok((post, cell(self.label)?))
        };
        match build() {
            Ok((post, label)) => Record { position, post: Ok(post), label },
            Err(why) => Record::bad(position, why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, read_all};
    use super::super::{open, Format};
    use super::*;

    #[test]
    fn reads_rows_and_reports_ragged_ones() {
        let (_, recs) = read_all("posts.csv", Format::Auto);
        let ok: Vec<&Post> = recs.iter().filter_map(|r| r.post.as_ref().ok()).collect();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[0].id, "c1");
        assert_eq!(ok[1].text, "Quoted, with a comma\nand a newline");
        assert_eq!(ok[2].images, vec!["a.png", "b.png"]);
        let bad: Vec<&Record> = recs.iter().filter(|r| r.post.is_err()).collect();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].position, "line 5");
    }

    #[test]
    fn a_mapped_column_missing_from_the_header_is_an_error() {
        let map = ColumnMap::parse(&["text=body".into()]).unwrap();
        let err = open(&fixture("posts.csv"), Format::Csv, &map).unwrap_err().to_string();
        assert!(err.contains("\"body\"") && err.contains("it has: id, text"), "{err}");
    }
}
