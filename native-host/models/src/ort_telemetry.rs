//! ONNX Runtime's telemetry: switched off inside every Feedwarden program before the library loads, and the
//! files older versions left behind found for `feedwarden doctor`.
//!
//! The PyPI builds of ONNX Runtime (≥ 1.29) ship 1DS telemetry that is on by default on Linux: creating an
//! environment writes a `ProcessInfo` event and a device id under `~/.cache/Microsoft/DeveloperTools/.onnxruntime/`
//! and resolves `mobile.events.data.microsoft.com`. The session options' "telemetry off" switch does not stop
//! it; `ORT_DISABLE_TELEMETRY=1` in the process environment before the library initialises does. A browser
//! starts the host with the browser's own environment, so the programs set it themselves
//! ([`disable_before_load`]) instead of relying on the reader's shell.

use std::path::{Path, PathBuf};

/// The variable ONNX Runtime reads when it creates its environment.
pub const DISABLE_ENV: &str = "ORT_DISABLE_TELEMETRY";

/// Set `ORT_DISABLE_TELEMETRY=1` for this process, whatever the caller's environment says.
///
/// Call it first thing in `main`, while the process is still single-threaded (changing the environment
/// while other threads read it is a data race in C code). [`crate::embedder::ort_environment`] calls it
/// again right before ONNX Runtime loads, for programs that use the library without these `main`s (tests,
/// embedders); there it only writes when the value is not already `1`.
pub fn disable_before_load() {
    if std::env::var_os(DISABLE_ENV).as_deref() != Some(std::ffi::OsStr::new("1")) {
        std::env::set_var(DISABLE_ENV, "1");
    }
}

/// Whether this process has telemetry switched off (the variable is `1`).
pub fn is_disabled() -> bool {
    std::env::var_os(DISABLE_ENV).as_deref() == Some(std::ffi::OsStr::new("1"))
}

/// The folder ONNX Runtime's telemetry writes to for the user whose cache folder is `cache_home`
/// (`$XDG_CACHE_HOME`, else `~/.cache`).
pub fn telemetry_dir_in(cache_home: &Path) -> PathBuf {
    cache_home.join("Microsoft").join("DeveloperTools").join(".onnxruntime")
}

/// This user's telemetry folder, from `XDG_CACHE_HOME` or `HOME`.
pub fn telemetry_dir() -> Option<PathBuf> {
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let cache_home = nonempty("XDG_CACHE_HOME").or_else(|| nonempty("HOME").map(|h| h.join(".cache")))?;
    Some(telemetry_dir_in(&cache_home))
}

/// Files found in `dir` (the device id and the event database), sorted; empty when the folder is absent.
pub fn leftover_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_listed_from_the_cache_folder() {
        let cache = tempfile::tempdir().unwrap();
        let dir = telemetry_dir_in(cache.path());
        assert!(leftover_files(&dir).is_empty(), "no folder, nothing to report");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("deviceid"), "00000000-0000-0000-0000-000000000000").unwrap();
        std::fs::write(dir.join("onnxruntime.db"), b"SQLite format 3\0").unwrap();
        let names: Vec<String> =
            leftover_files(&dir).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["deviceid", "onnxruntime.db"]);
        assert!(dir.ends_with("Microsoft/DeveloperTools/.onnxruntime"));
    }
}
