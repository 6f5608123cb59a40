//! Resumable output: rows are appended to the data file, and a sidecar checkpoint (`<out>.progress.json`)
//! records how many blocks are done and how long the file was — written only after the rows are fsynced,
//! and replaced atomically (temp file, fsync, rename). On restart the data file is cut back to that length
//! (dropping any partial trailing row) and the run continues at the next block: a run killed at any point
//! and restarted loses and duplicates nothing.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What the checkpoint file holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Hash of everything the output depends on (inputs, model, policy, options): a checkpoint of another
    /// run is never resumed.
    pub fingerprint: String,
    /// Blocks below this one are written.
    pub next_block: u64,
    /// Rows written so far.
    pub rows: u64,
    /// Durable length of the data file.
    pub bytes: u64,
}

/// Why an output cannot be opened for this run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is a checkpoint of a run with other inputs, policy, model or options; rerun with --fresh to start over (the output is overwritten)")]
    Mismatch { path: PathBuf },
    #[error("{path} is unreadable ({why}); rerun with --fresh to start over")]
    BadCheckpoint { path: PathBuf, why: String },
    #[error("{path} is shorter ({len} bytes) than its checkpoint says ({bytes}); it was changed outside feedwarden: rerun with --fresh")]
    Truncated { path: PathBuf, len: u64, bytes: u64 },
    #[error("{path} already exists and has no checkpoint to resume from; rerun with --fresh to overwrite it, or choose another -o")]
    Exists { path: PathBuf },
}

/// The sidecar checkpoint path of an output.
pub fn progress_path(output: &Path) -> PathBuf {
    sidecar(output, ".progress.json")
}

/// `<output><suffix>` next to the output.
pub fn sidecar(output: &Path, suffix: &str) -> PathBuf {
    let mut s = output.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// An output file being appended to, with its checkpoint.
#[derive(Debug)]
pub struct DurableOutput {
    file: File,
    path: PathBuf,
    progress: PathBuf,
    checkpoint: Checkpoint,
}

impl DurableOutput {
    /// Open `data` for this run: resume from its checkpoint, or start it (writing `header`) when there is
    /// none or `fresh` is set. Returns the output and where the run starts.
    pub fn open(
        data: &Path,
        progress: &Path,
        fingerprint: &str,
        fresh: bool,
        header: &[u8],
    ) -> Result<(Self, Checkpoint), ResumeError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ResumeError::Io { path, source }
        };
        if !fresh && progress.exists() {
            let text = std::fs::read(progress).map_err(io(progress))?;
            let cp: Checkpoint = serde_json::from_slice(&text)
                .map_err(|e| ResumeError::BadCheckpoint { path: progress.to_path_buf(), why: e.to_string() })?;
            if cp.fingerprint != fingerprint {
                return Err(ResumeError::Mismatch { path: progress.to_path_buf() });
            }
            let mut file = OpenOptions::new().read(true).write(true).open(data).map_err(io(data))?;
            let len = file.metadata().map_err(io(data))?.len();
            if len < cp.bytes {
                return Err(ResumeError::Truncated { path: data.to_path_buf(), len, bytes: cp.bytes });
            }
            // Rows after the checkpoint (possibly a partial one) are written again.
            file.set_len(cp.bytes).map_err(io(data))?;
            file.seek(SeekFrom::End(0)).map_err(io(data))?;
            let out = DurableOutput {
                file,
                path: data.to_path_buf(),
                progress: progress.to_path_buf(),
                checkpoint: cp.clone(),
            };
            return Ok((out, cp));
        }
        if !fresh && std::fs::metadata(data).is_ok_and(|m| m.len() > 0) {
            return Err(ResumeError::Exists { path: data.to_path_buf() });
        }
        let mut file = File::create(data).map_err(io(data))?;
        file.write_all(header).map_err(io(data))?;
        let cp = Checkpoint { fingerprint: fingerprint.to_string(), next_block: 0, rows: 0, bytes: 0 };
        let mut out =
            DurableOutput { file, path: data.to_path_buf(), progress: progress.to_path_buf(), checkpoint: cp };
        out.commit(0, 0)?;
        let start = out.checkpoint.clone();
        Ok((out, start))
    }

    pub fn append(&mut self, bytes: &[u8]) -> Result<(), ResumeError> {
        let path = self.path.clone();
        self.file.write_all(bytes).map_err(|source| ResumeError::Io { path, source })
    }

    /// Make everything appended so far durable, then record it in the checkpoint.
    pub fn commit(&mut self, next_block: u64, rows: u64) -> Result<(), ResumeError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ResumeError::Io { path, source }
        };
        self.file.sync_data().map_err(io(&self.path))?;
        let bytes = self.file.stream_position().map_err(io(&self.path))?;
        self.checkpoint = Checkpoint { fingerprint: self.checkpoint.fingerprint.clone(), next_block, rows, bytes };
        write_atomic(&self.progress, &serde_json::to_vec(&self.checkpoint).expect("checkpoint serializes"))
            .map_err(io(&self.progress))
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The run is complete: drop the checkpoint.
    pub fn finish(self) -> Result<(), ResumeError> {
        std::fs::remove_file(&self.progress).map_err(|source| ResumeError::Io { path: self.progress.clone(), source })
    }
}

/// Replace `path` atomically (`feedwarden_judge::durable`), through its `.tmp` sidecar.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    feedwarden_judge::durable::replace_with(path, &sidecar(path, ".tmp"), |f| f.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_cuts_the_partial_tail_and_continues() {
        let dir = tempfile::tempdir().unwrap();
        let (data, progress) = (dir.path().join("out.csv"), dir.path().join("out.csv.progress.json"));
        let (mut out, start) = DurableOutput::open(&data, &progress, "fp", false, b"h\n").unwrap();
        assert_eq!(start.next_block, 0);
        out.append(b"row1\n").unwrap();
        out.commit(1, 1).unwrap();
        out.append(b"row2 partial").unwrap(); // killed before the commit
        drop(out);
        let (mut out, start) = DurableOutput::open(&data, &progress, "fp", false, b"h\n").unwrap();
        assert_eq!((start.next_block, start.rows), (1, 1));
        out.append(b"row2\n").unwrap();
        out.commit(2, 2).unwrap();
        out.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&data).unwrap(), "h\nrow1\nrow2\n");
        assert!(!progress.exists());
    }

    #[test]
    fn refuses_other_runs_and_finished_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let (data, progress) = (dir.path().join("o.jsonl"), dir.path().join("o.p"));
        let (out, _) = DurableOutput::open(&data, &progress, "a", false, b"").unwrap();
        drop(out);
        std::fs::write(&data, b"x\n").unwrap();
        assert!(matches!(DurableOutput::open(&data, &progress, "b", false, b""), Err(ResumeError::Mismatch { .. })));
        std::fs::remove_file(&progress).unwrap();
        assert!(matches!(DurableOutput::open(&data, &progress, "a", false, b""), Err(ResumeError::Exists { .. })));
        let (_, start) = DurableOutput::open(&data, &progress, "a", true, b"").unwrap();
        assert_eq!(start.rows, 0);
        assert_eq!(std::fs::read(&data).unwrap(), b"");
    }
}
