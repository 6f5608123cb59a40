//! Where a post's image bytes come from: `data:` URLs (what the extension sends), local files (batch mode
//! only) or remote URLs, which the host never fetches (it opens no sockets).

use std::path::{Path, PathBuf};

use base64::Engine;

/// One entry of a post's `images`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// Encoded image bytes carried in the message.
    Data(Vec<u8>),
    /// A local file (batch mode).
    File(PathBuf),
    /// A URL the host does not fetch; the image is not judged.
    Remote(String),
}

/// Why an image reference could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("the data: URL is not base64 (`data:image/…;base64,…`)")]
    NotBase64,
    #[error("the data: URL's base64 is invalid: {0}")]
    BadBase64(String),
    #[error("the image is over {limit} bytes")]
    TooManyBytes { limit: usize },
    #[error("local image files are only read in batch mode")]
    FilesNotAllowed,
    #[error("could not read {path}: {message}")]
    Read { path: PathBuf, message: String },
}

impl SourceError {
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::NotBase64 | SourceError::BadBase64(_) => "image-bad-data-url",
            SourceError::TooManyBytes { .. } => "image-too-many-bytes",
            SourceError::FilesNotAllowed => "image-file-refused",
            SourceError::Read { .. } => "image-unreadable",
        }
    }
}

/// Resolve one `images` entry. Relative paths are taken from `base_dir` (the feed file's folder); files are
/// only accepted when `base_dir` is given (batch mode), never from the browser.
pub fn parse_image_ref(entry: &str, base_dir: Option<&Path>, max_bytes: usize) -> Result<ImageRef, SourceError> {
    let entry = entry.trim();
    if let Some(rest) = entry.strip_prefix("data:") {
        let (meta, payload) = rest.split_once(',').ok_or(SourceError::NotBase64)?;
        if !meta.ends_with(";base64") {
            return Err(SourceError::NotBase64);
        }
        // Check the size before allocating: base64 carries 3 bytes per 4 characters.
        if payload.len() / 4 * 3 > max_bytes + 3 {
            return Err(SourceError::TooManyBytes { limit: max_bytes });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload.trim())
            .map_err(|e| SourceError::BadBase64(e.to_string()))?;
        return Ok(ImageRef::Data(bytes));
    }
    let lower = entry.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("blob:") {
        return Ok(ImageRef::Remote(entry.to_string()));
    }
    let Some(base) = base_dir else {
        return Err(SourceError::FilesNotAllowed);
    };
    let path = entry.strip_prefix("file://").unwrap_or(entry);
    let path = feedwarden_core::text::percent_decode(path);
    let p = Path::new(&path);
    Ok(ImageRef::File(if p.is_absolute() { p.to_path_buf() } else { base.join(p) }))
}

/// Read a local image with a size cap (the file is not read past `max_bytes`).
pub fn read_file(path: &Path, max_bytes: usize) -> Result<Vec<u8>, SourceError> {
    use std::io::Read;
    let read_err = |e: std::io::Error| SourceError::Read { path: path.to_path_buf(), message: e.to_string() };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(max_bytes as u64 + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() > max_bytes {
        return Err(SourceError::TooManyBytes { limit: max_bytes });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_files_and_remote() {
        let r = parse_image_ref("data:image/png;base64,aGVsbG8=", None, 100).unwrap();
        assert_eq!(r, ImageRef::Data(b"hello".to_vec()));
        assert_eq!(parse_image_ref("data:image/png,hello", None, 100).unwrap_err().code(), "image-bad-data-url");
        assert_eq!(parse_image_ref("data:image/png;base64,!!!", None, 100).unwrap_err().code(), "image-bad-data-url");
        assert_eq!(
            parse_image_ref(&format!("data:image/png;base64,{}", "A".repeat(400)), None, 100).unwrap_err().code(),
            "image-too-many-bytes"
        );
        assert!(matches!(parse_image_ref("https://x.com/a.jpg", None, 100).unwrap(), ImageRef::Remote(_)));
        assert_eq!(parse_image_ref("/etc/passwd", None, 100).unwrap_err().code(), "image-file-refused");
        assert_eq!(
            parse_image_ref("a_files/b%20c.jpg", Some(Path::new("/d")), 100).unwrap(),
            ImageRef::File(PathBuf::from("/d/a_files/b c.jpg"))
        );
        // A `%` before a multi-byte character, or at the end, is kept (no panic on a char boundary).
        assert_eq!(feedwarden_core::text::percent_decode("a%é%2"), "a%é%2");
        assert_eq!(feedwarden_core::text::percent_decode("%41%zz"), "A%zz");
    }
}
