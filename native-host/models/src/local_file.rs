//! Reading a local file whose path came from someone else (a shared policy's `extends` or `image_examples`):
//! regular files only, never more than a limit. A FIFO, a device such as `/dev/zero` or `/dev/stdin` (the
//! host's own protocol stream), a socket or a folder is refused before a byte is read, and opening never
//! blocks (a FIFO with no writer would hang `open` itself).

use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalFileError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path} is {kind}, not a regular file")]
    NotRegular { path: String, kind: &'static str },
    #[error("{path} is {size} bytes; the limit is {limit}")]
    TooLarge { path: String, size: u64, limit: usize },
}

/// What a file's type is, in words.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Open `path` for reading without blocking (a FIFO's `open` waits for a writer otherwise).
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The bytes of `path`, a regular file (links are followed) of at most `max_bytes`. The type is checked
/// before opening and again on the opened file (the path may have been swapped in between), and the read
/// stops after `max_bytes + 1` bytes whatever the file claims.
pub fn read_regular_file(path: &Path, max_bytes: usize) -> Result<Vec<u8>, LocalFileError> {
    let shown = || path.display().to_string();
    let io = |e: std::io::Error| LocalFileError::Io { path: shown(), message: e.to_string() };
    let check = |meta: &std::fs::Metadata| -> Result<(), LocalFileError> {
        if !meta.is_file() {
            return Err(LocalFileError::NotRegular { path: shown(), kind: kind_of(meta.file_type()) });
        }
        if meta.len() > max_bytes as u64 {
            return Err(LocalFileError::TooLarge { path: shown(), size: meta.len(), limit: max_bytes });
        }
        Ok(())
    };
    check(&std::fs::metadata(path).map_err(io)?)?;
    let file = open_nonblocking(path).map_err(io)?;
    check(&file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    file.take(max_bytes as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() > max_bytes {
        return Err(LocalFileError::TooLarge { path: shown(), size: bytes.len() as u64, limit: max_bytes });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "hello").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), b"hello");
        assert!(matches!(read_regular_file(&path, 4), Err(LocalFileError::TooLarge { size: 5, limit: 4, .. })));
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(read_regular_file(&link, 5).unwrap(), b"hello");
        assert!(matches!(read_regular_file(&dir.path().join("nope"), 5), Err(LocalFileError::Io { .. })));
    }

    #[test]
    fn devices_folders_and_fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // No writer: opening it for reading would block forever without O_NONBLOCK and the type check.
        for (path, kind) in [
            (fifo.as_path(), "a named pipe (FIFO)"),
            (Path::new("/dev/zero"), "a device"),
            (Path::new("/dev/null"), "a device"),
            (dir.path(), "a folder"),
        ] {
            match read_regular_file(path, 1 << 20) {
                Err(LocalFileError::NotRegular { kind: k, .. }) => assert_eq!(k, kind, "{}", path.display()),
                other => panic!("{}: {other:?}", path.display()),
            }
        }
        let e = read_regular_file(&fifo, 10).unwrap_err().to_string();
        assert!(e.ends_with("fifo is a named pipe (FIFO), not a regular file"), "{e}");
    }
}
