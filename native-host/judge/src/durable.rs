//! Durable files: replace a file atomically (written to a temporary file in the same folder, fsynced, renamed
//! over the target, the folder fsynced), so a crash leaves the old file or the new one, never half of one;
//! and a file's sha256. The policy file, batch checkpoints, manifests and outputs and fetched models all go
//! through here.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Write `tmp` with `write`, fsync it and move it over `path` ([`install`]). `tmp` must be in `path`'s
/// folder (a rename across file systems is not atomic); it is removed when writing fails.
pub fn replace_with(
    path: &Path,
    tmp: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let written = (|| {
        let mut f = File::create(tmp)?;
        write(&mut f)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    install(tmp, path)
}

/// [`replace_with`] writing `bytes`, through `<path>.tmp`.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    replace_with(path, Path::new(&tmp), |f| f.write_all(bytes))
}

/// Move a finished, fsynced file `from` over `to` (same folder) and fsync the folder so the rename lasts.
pub fn install(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::rename(from, to)?;
    let dir = to.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // A folder that cannot be opened for fsync (some file systems) does not undo the rename.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        replace(&p, b"one").unwrap();
        replace(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no .tmp left");
        // A failed write keeps the old file and removes its temporary.
        let tmp = dir.path().join("out.json.part");
        let e = replace_with(&p, &tmp, |_| Err(std::io::Error::other("disk full"))).unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(!tmp.exists());
        assert_eq!(
            sha256_file(&p).unwrap(),
            "3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3",
            "sha256(\"two\")"
        );
    }
}
