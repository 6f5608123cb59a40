//! Output encodings: JSONL (one object per row, nested scores) and CSV (flat columns) are appended block by
//! block; Parquet is streamed once at the end from a JSONL spool (see [`super::parquet`] for why).

use std::path::Path;

use super::row::{Column, Row};

/// What `-o` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Jsonl,
    Csv,
    Parquet,
}

impl OutputFormat {
    /// From the output's extension (`.csv`, `.parquet`/`.pq`, anything else JSONL).
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => OutputFormat::Csv,
            Some("parquet" | "pq") => OutputFormat::Parquet,
            _ => OutputFormat::Jsonl,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Csv => "csv",
            OutputFormat::Parquet => "parquet",
        }
    }
}

/// Rows as JSONL bytes.
pub fn jsonl(rows: &[Row]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 400);
    for row in rows {
        serde_json::to_writer(&mut out, row).expect("rows serialize");
        out.push(b'\n');
    }
    out
}

/// The CSV header line.
pub fn csv_header(columns: &[Column]) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(columns.iter().map(Column::name)).expect("writing to memory");
    w.into_inner().expect("writing to memory")
}

/// Rows as CSV bytes (no header).
pub fn csv(columns: &[Column], rows: &[Row]) -> Vec<u8> {
    let mut w = ::csv::WriterBuilder::new().has_headers(false).from_writer(Vec::with_capacity(rows.len() * 300));
    for row in rows {
        let cells = columns.iter().map(|c| match c {
            Column::Seq => row.seq.to_string(),
            c if c.is_number() => c.number(row).map(|x| x.to_string()).unwrap_or_default(),
            _ => c.text(row).unwrap_or("").to_string(),
        });
        w.write_record(cells).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;

    pub(crate) fn sample_row(seq: u64) -> Row {
        Row {
            seq,
            source: "feed.json".into(),
            id: format!("id,{seq}"),
            site: Some("x.com".into()),
            author: None,
            created_at: None,
            url: None,
            text: None,
            action: "label".into(),
            rule: Some("clickbait".into()),
            reason: "Clickbait (0.81 ≥ 0.70)".into(),
            scores: BTreeMap::from([("clickbait".to_string(), 0.8123)]),
            sub_labels: BTreeMap::new(),
            image_text: None,
            nsfw_max: None,
            image_errors: None,
            image_scores: BTreeMap::new(),
            image_descriptions: None,
        }
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(OutputFormat::from_path(Path::new("a/b.CSV")), OutputFormat::Csv);
        assert_eq!(OutputFormat::from_path(Path::new("b.parquet")), OutputFormat::Parquet);
        assert_eq!(OutputFormat::from_path(Path::new("b.out")), OutputFormat::Jsonl);
    }

    #[test]
    fn csv_quotes_and_leaves_missing_scores_empty() {
        let cols = vec![Column::Seq, Column::Id, Column::Author, Column::Score("clickbait".into())];
        let cols2 = [cols.clone(), vec![Column::Score("rage-bait".into())]].concat();
        assert_eq!(String::from_utf8(csv_header(&cols2)).unwrap(), "seq,id,author,score_clickbait,score_rage-bait\n");
        assert_eq!(String::from_utf8(csv(&cols2, &[sample_row(3)])).unwrap(), "3,\"id,3\",,0.8123,\n");
    }

    #[test]
    fn jsonl_round_trips() {
        let bytes = jsonl(&[sample_row(1), sample_row(2)]);
        let back: Vec<Row> = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(back, vec![sample_row(1), sample_row(2)]);
    }
}
