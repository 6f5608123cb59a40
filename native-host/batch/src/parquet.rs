//! Parquet output through the `parquet` crate's low-level column writers (no Arrow: it would triple the
//! build time). Flat schema, one row group per 64 Ki rows, uncompressed, UTF-8 strings, FLOAT scores.
//!
//! Rows come in as a stream and one row group at a time is held in memory. A Parquet file's index is its
//! footer, written last: a file cut by a crash can be neither read nor appended to. So a run spools its rows
//! as JSONL — checkpointed and resumable exactly like the JSONL output — and streams the spool into Parquet
//! once every row is judged (`pipeline::write_parquet`).

use std::fs::File;
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, FloatType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::row::{Column, Row};

/// Rows per row group: large enough for good scans, small enough to hold in memory while writing.
const ROW_GROUP: usize = 64 * 1024;

fn schema(columns: &[Column]) -> Result<Type, ParquetError> {
    let fields = columns
        .iter()
        .map(|c| {
            let (physical, logical) = match c {
                Column::Seq => (PhysicalType::INT64, None),
                c if c.is_number() => (PhysicalType::FLOAT, None),
                _ => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
            };
            let repetition = if c.required() { Repetition::REQUIRED } else { Repetition::OPTIONAL };
            Type::primitive_type_builder(&c.name(), physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Type::group_type_builder("feedwarden_batch").with_fields(fields).build()
}

/// Write `rows` to `file` with the given columns, one row group in memory at a time; returns the number of
/// rows. The first `Err` in `rows` stops the writing and is returned.
pub fn write(
    file: File,
    columns: &[Column],
    rows: impl Iterator<Item = Result<Row, ParquetError>>,
) -> Result<u64, ParquetError> {
    let props = WriterProperties::builder().set_created_by(format!("feedwarden {}", env!("CARGO_PKG_VERSION"))).build();
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema(columns)?), Arc::new(props))?;
    let mut rows = rows.peekable();
    let mut total = 0u64;
    while rows.peek().is_some() {
        let group = rows.by_ref().take(ROW_GROUP).collect::<Result<Vec<Row>, _>>()?;
        total += group.len() as u64;
        let mut rg = writer.next_row_group()?;
        for col in columns {
            let mut cw = rg.next_column()?.ok_or_else(|| ParquetError::General("schema has fewer columns".into()))?;
            match col {
                Column::Seq => {
                    let v: Vec<i64> = group.iter().map(|r| r.seq as i64).collect();
                    cw.typed::<Int64Type>().write_batch(&v, None, None)?;
                }
                c if c.is_number() => {
                    let cells: Vec<Option<f32>> = group.iter().map(|r| col.number(r)).collect();
                    let defs: Vec<i16> = cells.iter().map(|c| i16::from(c.is_some())).collect();
                    let v: Vec<f32> = cells.into_iter().flatten().collect();
                    cw.typed::<FloatType>().write_batch(&v, Some(&defs), None)?;
                }
                _ => {
                    let cells: Vec<Option<&str>> = group.iter().map(|r| col.text(r)).collect();
                    let v: Vec<ByteArray> =
                        cells.iter().flatten().map(|s| ByteArray::from(s.as_bytes().to_vec())).collect();
                    if col.required() {
                        cw.typed::<ByteArrayType>().write_batch(&v, None, None)?;
                    } else {
                        let defs: Vec<i16> = cells.iter().map(|c| i16::from(c.is_some())).collect();
                        cw.typed::<ByteArrayType>().write_batch(&v, Some(&defs), None)?;
                    }
                }
            }
            cw.close()?;
        }
        rg.close()?;
    }
    let file = writer.into_inner()?;
    file.sync_all()?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;

    use super::super::output::tests::sample_row;
    use super::*;

    #[test]
    fn writes_a_file_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        let cols = vec![
            Column::Seq,
            Column::Id,
            Column::Author,
            Column::Rule,
            Column::Score("clickbait".into()),
            Column::Score("x".into()),
        ];
        let mut second = sample_row(9);
        second.rule = None;
        let n = write(File::create(&path).unwrap(), &cols, vec![Ok(sample_row(1)), Ok(second)].into_iter()).unwrap();
        assert_eq!(n, 2);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        let rows: Vec<_> = reader.get_row_iter(None).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows[0].get_long(0).unwrap(), 1);
        assert_eq!(rows[0].get_string(1).unwrap(), "id,1");
        assert!(rows[0].get_string(2).is_err(), "author is null");
        assert_eq!(rows[0].get_string(3).unwrap(), "clickbait");
        assert_eq!(rows[1].get_long(0).unwrap(), 9);
        assert!(rows[1].get_string(3).is_err(), "rule is null");
        assert!((rows[1].get_float(4).unwrap() - 0.8123).abs() < 1e-6);
        assert!(rows[1].get_float(5).is_err(), "missing score is null");
    }

    #[test]
    fn a_bad_row_stops_the_writing_with_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![Ok(sample_row(1)), Err(ParquetError::General("spool line 2: not a row".into()))];
        let err = write(File::create(dir.path().join("out.parquet")).unwrap(), &[Column::Seq], rows.into_iter());
        assert!(err.unwrap_err().to_string().contains("spool line 2"));
    }
}
