//! The SQLite file: the verdict cache, the reader's feedback and daily stats. WAL mode, so a committed
//! write survives the process being killed at any moment.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

/// Cache rows kept at most; the oldest go first.
const CACHE_MAX_ROWS: i64 = 200_000;
/// 2: `feedback.idempotency_key` (unique), so a request the extension re-sends after a disconnect is stored once.
const SCHEMA_VERSION: i32 = 2;
/// How long opening waits for another program's write lock before calling the database locked.
const OPEN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// Longest idempotency key accepted (a UUID is 36 characters).
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

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

/// Which way a reader corrected a verdict (the protocol's type; stored by its wire name).
pub use feedwarden_core::protocol::FeedbackKind;

/// One stored correction.
#[derive(Debug, Clone)]
pub struct FeedbackRow {
    pub id: i64,
    /// The site it was given on; it only affects posts from that site (`None`: every site).
    pub site: Option<String>,
    /// The rule it is about; `None` means every rule.
    pub rule: Option<String>,
    pub kind: FeedbackKind,
    pub embedding: Vec<f32>,
}

/// A correction to store ([`Store::feedback_add`]).
#[derive(Debug, Clone, Copy)]
pub struct NewFeedback<'a> {
    pub post_id: &'a str,
    pub site: Option<&'a str>,
    pub author: Option<&'a str>,
    pub text: &'a str,
    pub rule: Option<&'a str>,
    pub kind: FeedbackKind,
    pub embedding: &'a [f32],
    /// A key the client chose for this correction (a UUID): the same key again is the same correction.
    pub idempotency_key: Option<&'a str>,
}

/// Counts for the popup and `stats` (the protocol's `StatsToday`), one entry per (site, category, action).
pub use feedwarden_core::protocol::{FilteredCount as StatsRow, StatsToday as StatsSummary};

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

/// Bring an older database up to [`SCHEMA_VERSION`] (a no-op on a current one).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_key =
        conn.prepare("SELECT 1 FROM pragma_table_info('feedback') WHERE name = 'idempotency_key'")?.exists([])?;
    if !has_key {
        conn.execute_batch("ALTER TABLE feedback ADD COLUMN idempotency_key TEXT")?;
    }
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS feedback_idempotency_key ON feedback (idempotency_key)
         WHERE idempotency_key IS NOT NULL",
    )
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
        // Another program holding the write lock for long (a transaction left open) makes the database
        // unusable: find out now, not on the first verdict. Another host's short transactions are waited out.
        conn.busy_timeout(OPEN_LOCK_WAIT).map_err(err)?;
        conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").map_err(err)?;
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
                 embedding BLOB NOT NULL,
                 idempotency_key TEXT
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
        migrate(&conn).map_err(err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(err)?;
        Ok(Store { conn, path: shown })
    }

    /// Whether the database at `path` can be used, without creating or changing anything: for `doctor`.
    /// `Ok` carries the number of feedback rows.
    pub fn check(path: &Path) -> Result<i64, String> {
        use rusqlite::OpenFlags;
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| e.to_string())?;
        conn.busy_timeout(std::time::Duration::from_millis(500)).map_err(|e| e.to_string())?;
        let integrity: String =
            conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| format!("it is corrupt ({e})"))?;
        if integrity != "ok" {
            return Err(format!("it is corrupt ({integrity})"));
        }
        if conn.is_readonly("main").unwrap_or(true) {
            return Err("it is read-only (check the file's and the folder's permissions)".into());
        }
        // Take the write lock and give it back at once: another program holding it shows here.
        conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").map_err(|e| format!("it cannot be written: {e}"))?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| e.to_string())?;
        if version > SCHEMA_VERSION {
            return Err(format!("it was written by a newer Feedwarden (schema {version}); upgrade Feedwarden"));
        }
        conn.query_row("SELECT count(*) FROM feedback", [], |row| row.get(0)).map_err(|e| e.to_string())
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

    /// Store one correction and return its id. With an `idempotency_key` already stored (the same request
    /// sent again, e.g. re-sent after the host restarted), nothing is stored and the first row's id is
    /// returned with `true`.
    pub fn feedback_add(&self, fb: &NewFeedback<'_>) -> Result<(i64, bool), StoreError> {
        let inserted = self
            .conn
            .execute(
                "INSERT INTO feedback (post_id, site, author, text, rule, kind, embedding, idempotency_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                params![
                    fb.post_id,
                    fb.site,
                    fb.author,
                    fb.text,
                    fb.rule,
                    fb.kind.as_str(),
                    f32s_to_blob(fb.embedding),
                    fb.idempotency_key
                ],
            )
            .map_err(self.err())?;
        if inserted == 1 {
            return Ok((self.conn.last_insert_rowid(), false));
        }
        let id = self
            .conn
            .query_row("SELECT id FROM feedback WHERE idempotency_key = ?1", [fb.idempotency_key], |r| r.get(0))
            .map_err(self.err())?;
        Ok((id, true))
    }

    pub fn feedback_all(&self) -> Result<Vec<FeedbackRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, site, rule, kind, embedding FROM feedback ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let kind: String = r.get(3)?;
                let blob: Vec<u8> = r.get(4)?;
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?, kind, blob))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, site, rule, kind, blob) = row.map_err(self.err())?;
            if let Some(kind) = FeedbackKind::parse(&kind) {
                out.push(FeedbackRow { id, site, rule, kind, embedding: blob_to_f32s(&blob) });
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
    let (y, m, d) = feedwarden_readers::text::civil_from_days(days);
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
        let fb = NewFeedback {
            post_id: "p",
            site: Some("x.com"),
            author: None,
            text: "text",
            rule: Some("r"),
            kind: FeedbackKind::WasFine,
            embedding: &[0.5, -1.0],
            idempotency_key: Some("k1"),
        };
        let (id, duplicate) = s.feedback_add(&fb).unwrap();
        assert!(!duplicate);
        // The same key again (a re-sent request) is the same row; no key, or another key, is a new one.
        assert_eq!(s.feedback_add(&fb).unwrap(), (id, true));
        let rows = s.feedback_all().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].site.as_deref(), Some("x.com"));
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
        assert_eq!(Store::check(&dir.path().join("a/b.sqlite3")), Ok(1));
    }

    /// A database from schema 1 (no idempotency keys) gets the column and keeps its rows.
    #[test]
    fn schema_1_databases_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created INTEGER NOT NULL DEFAULT (unixepoch()),
                 post_id TEXT, site TEXT, author TEXT, text TEXT NOT NULL, rule TEXT, kind TEXT NOT NULL,
                 embedding BLOB NOT NULL);
             INSERT INTO feedback (post_id, text, kind, embedding) VALUES ('p', 't', 'was_fine', x'0000803f');
             PRAGMA user_version = 1;",
        )
        .unwrap();
        drop(old);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.feedback_all().unwrap()[0].embedding, vec![1.0]);
        let fb = NewFeedback {
            post_id: "q",
            site: None,
            author: None,
            text: "u",
            rule: None,
            kind: FeedbackKind::MoreLikeThis,
            embedding: &[1.0],
            idempotency_key: Some("k"),
        };
        let (id, _) = s.feedback_add(&fb).unwrap();
        assert_eq!(s.feedback_add(&fb).unwrap(), (id, true));
        assert_eq!(s.feedback_all().unwrap().len(), 2);
    }

    #[test]
    fn check_reports_corrupt_and_read_only_databases() {
        let dir = tempfile::tempdir().unwrap();
        let corrupt = dir.path().join("corrupt.sqlite3");
        std::fs::write(&corrupt, vec![0x5a; 8192]).unwrap();
        assert!(Store::check(&corrupt).unwrap_err().contains("corrupt"), "{:?}", Store::check(&corrupt));
        assert!(Store::open(&corrupt).is_err());
    }
}
