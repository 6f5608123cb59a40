//! The SQLite file: the verdict cache, the reader's feedback and daily stats. WAL mode, so a committed
//! write survives the process being killed at any moment.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Cache rows kept at most; the oldest go first.
const CACHE_MAX_ROWS: i64 = 200_000;
const SCHEMA_VERSION: i32 = 1;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("SQLite error on {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path} was written by a newer Feedwarden (schema {found}, this one knows {SCHEMA_VERSION}); upgrade Feedwarden")]
    NewerSchema { path: String, found: i32 },
}

/// Which way a reader corrected a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// "This was fine": the rule should not have fired.
    WasFine,
    /// "Hide more like this": the rule should fire on posts like this one.
    MoreLikeThis,
}

impl FeedbackKind {
    fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::WasFine => "was_fine",
            FeedbackKind::MoreLikeThis => "more_like_this",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "was_fine" => Some(FeedbackKind::WasFine),
            "more_like_this" => Some(FeedbackKind::MoreLikeThis),
            _ => None,
        }
    }
}

/// One stored correction.
#[derive(Debug, Clone)]
pub struct FeedbackRow {
    pub id: i64,
    /// The rule it is about; `None` means every rule.
    pub rule: Option<String>,
    pub kind: FeedbackKind,
    pub embedding: Vec<f32>,
}

/// Counts for the popup and `stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatsSummary {
    pub day: String,
    pub judged_today: i64,
    /// (site, category, action, count) for today's filtered posts.
    pub filtered_today: Vec<StatsRow>,
    pub feedback_total: i64,
    pub cache_rows: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatsRow {
    pub site: String,
    pub category: String,
    pub action: String,
    pub count: i64,
}

/// The open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: String,
}

fn f32s_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob_to_f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl Store {
    /// Open (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::Folder { path: dir.display().to_string(), source })?;
        }
        let err = |source| StoreError::Sqlite { path: shown.clone(), source };
        let conn = Connection::open(path).map_err(err)?;
        // WAL + synchronous=NORMAL: a committed transaction survives a crash or kill -9 of this process
        // (only an OS crash or power loss can lose the last moments), and commits stay cheap on the hot path.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(err)?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { path: shown, found: version });
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS verdict_cache (
                 key TEXT PRIMARY KEY,
                 verdict TEXT NOT NULL,
                 created INTEGER NOT NULL DEFAULT (unixepoch())
             );
             CREATE TABLE IF NOT EXISTS feedback (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 created INTEGER NOT NULL DEFAULT (unixepoch()),
                 post_id TEXT,
                 site TEXT,
                 author TEXT,
                 text TEXT NOT NULL,
                 rule TEXT,
                 kind TEXT NOT NULL,
                 embedding BLOB NOT NULL
             );
             CREATE TABLE IF NOT EXISTS stats (
                 day TEXT NOT NULL,
                 site TEXT NOT NULL,
                 category TEXT NOT NULL,
                 action TEXT NOT NULL,
                 count INTEGER NOT NULL,
                 PRIMARY KEY (day, site, category, action)
             );",
        )
        .map_err(err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(err)?;
        Ok(Store { conn, path: shown })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sqlite { path: self.path.clone(), source }
    }

    pub fn cache_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT verdict FROM verdict_cache WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(self.err())
    }

    /// Store verdicts in one transaction; trims the oldest rows now and then.
    pub fn cache_put_many(&mut self, entries: &[(String, String)]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare_cached("INSERT OR REPLACE INTO verdict_cache (key, verdict) VALUES (?1, ?2)")
                .map_err(err)?;
            for (k, v) in entries {
                stmt.execute(params![k, v]).map_err(err)?;
            }
        }
        let rowid: i64 =
            tx.query_row("SELECT IFNULL(MAX(rowid), 0) FROM verdict_cache", [], |r| r.get(0)).map_err(err)?;
        if rowid % 1000 < entries.len() as i64 {
            tx.execute("DELETE FROM verdict_cache WHERE rowid <= ?1", [rowid - CACHE_MAX_ROWS]).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    pub fn cache_clear(&self) -> Result<usize, StoreError> {
        self.conn.execute("DELETE FROM verdict_cache", []).map_err(self.err())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn feedback_add(
        &self,
        post_id: &str,
        site: Option<&str>,
        author: Option<&str>,
        text: &str,
        rule: Option<&str>,
        kind: FeedbackKind,
        embedding: &[f32],
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO feedback (post_id, site, author, text, rule, kind, embedding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![post_id, site, author, text, rule, kind.as_str(), f32s_to_blob(embedding)],
            )
            .map_err(self.err())?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn feedback_all(&self) -> Result<Vec<FeedbackRow>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT id, rule, kind, embedding FROM feedback ORDER BY id").map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let kind: String = r.get(2)?;
                let blob: Vec<u8> = r.get(3)?;
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, kind, blob))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, rule, kind, blob) = row.map_err(self.err())?;
            if let Some(kind) = FeedbackKind::parse(&kind) {
                out.push(FeedbackRow { id, rule, kind, embedding: blob_to_f32s(&blob) });
            }
        }
        Ok(out)
    }

    /// Record what happened to judged posts today: (site, category, action) per filtered post.
    pub fn stats_record(&mut self, day: &str, events: &[(String, String, String)]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO stats (day, site, category, action, count) VALUES (?1, ?2, ?3, ?4, 1)
                     ON CONFLICT (day, site, category, action) DO UPDATE SET count = count + 1",
                )
                .map_err(err)?;
            for (site, category, action) in events {
                stmt.execute(params![day, site, category, action]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    pub fn stats_summary(&self, day: &str) -> Result<StatsSummary, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT site, category, action, count FROM stats WHERE day = ?1 ORDER BY count DESC, site, category",
            )
            .map_err(self.err())?;
        let rows: Vec<StatsRow> = stmt
            .query_map([day], |r| {
                Ok(StatsRow { site: r.get(0)?, category: r.get(1)?, action: r.get(2)?, count: r.get(3)? })
            })
            .map_err(self.err())?
            .collect::<Result<_, _>>()
            .map_err(self.err())?;
        let judged_today = rows.iter().map(|r| r.count).sum();
        let count = |sql: &str| self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(self.err());
        Ok(StatsSummary {
            day: day.to_string(),
            judged_today,
            filtered_today: rows.into_iter().filter(|r| r.action != "show" && r.action != "allow").collect(),
            feedback_total: count("SELECT COUNT(*) FROM feedback")?,
            cache_rows: count("SELECT COUNT(*) FROM verdict_cache")?,
        })
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, without a date crate.
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    civil_date((secs / 86_400) as i64)
}

/// Days since 1970-01-01 → `YYYY-MM-DD`.
fn civil_date(days: i64) -> String {
    let (y, m, d) = crate::readers::text::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(20_514), "2026-03-02");
    }

    #[test]
    fn feedback_cache_and_stats_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("a/b.sqlite3")).unwrap();
        assert_eq!(s.cache_get("k").unwrap(), None);
        s.cache_put_many(&[("k".into(), "{\"v\":1}".into())]).unwrap();
        assert_eq!(s.cache_get("k").unwrap().as_deref(), Some("{\"v\":1}"));
        let id =
            s.feedback_add("p", Some("x.com"), None, "text", Some("r"), FeedbackKind::WasFine, &[0.5, -1.0]).unwrap();
        let rows = s.feedback_all().unwrap();
        assert_eq!((rows[0].id, rows[0].kind, rows[0].embedding.clone()), (id, FeedbackKind::WasFine, vec![0.5, -1.0]));
        s.stats_record("2026-01-01", &vec![("x.com".to_string(), "rage-bait".to_string(), "blur".to_string()); 2])
            .unwrap();
        let sum = s.stats_summary("2026-01-01").unwrap();
        assert_eq!(sum.filtered_today[0].count, 2);
        assert_eq!(sum.feedback_total, 1);
        drop(s);
        // Reopening keeps everything.
        let s = Store::open(&dir.path().join("a/b.sqlite3")).unwrap();
        assert_eq!(s.feedback_all().unwrap().len(), 1);
    }
}
