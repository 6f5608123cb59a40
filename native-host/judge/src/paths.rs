//! Where things live: the data folder (SQLite, the reader's policy), the models folder and the ONNX Runtime
//! library. Each can be set by an environment variable; otherwise sane per-user defaults apply.

use std::path::{Path, PathBuf};

/// Folder for the reader's data: `feedwarden.sqlite3` and `policy.toml`.
pub const ENV_HOME: &str = "FEEDWARDEN_HOME";
/// Folder holding `all-minilm-l6-v2/` (and `onnxruntime/` unless `FEEDWARDEN_ORT_LIB` is set).
pub const ENV_MODELS_DIR: &str = "FEEDWARDEN_MODELS_DIR";
/// Path of `libonnxruntime.so` (`.dylib`, `.dll`).
pub const ENV_ORT_LIB: &str = "FEEDWARDEN_ORT_LIB";

/// Resolved locations.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub ort_library: PathBuf,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn default_data_dir() -> PathBuf {
    if let Some(x) = env_path("XDG_DATA_HOME") {
        return x.join("feedwarden");
    }
    match env_path("HOME") {
        Some(home) if cfg!(target_os = "macos") => home.join("Library/Application Support/Feedwarden"),
        Some(home) => home.join(".local/share/feedwarden"),
        None => PathBuf::from(".feedwarden"),
    }
}

/// Models folders tried in order when `FEEDWARDEN_MODELS_DIR` is unset: next to the binary (an installed
/// bundle), the checkout's `models/build` (the binary in `target/<profile>/`), then the data folder.
fn candidate_models_dirs(data_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        out.push(exe_dir.join("models"));
        for up in exe_dir.ancestors().skip(1).take(3) {
            out.push(up.join("models/build"));
        }
    }
    out.push(data_dir.join("models"));
    out
}

fn ort_library_name() -> &'static str {
    if cfg!(target_os = "windows") {
        "onnxruntime.dll"
    } else if cfg!(target_os = "macos") {
        "libonnxruntime.dylib"
    } else {
        "libonnxruntime.so"
    }
}

impl Paths {
    /// Resolve from the environment.
    pub fn discover() -> Self {
        let data_dir = env_path(ENV_HOME).unwrap_or_else(default_data_dir);
        let models_dir = env_path(ENV_MODELS_DIR).unwrap_or_else(|| {
            let candidates = candidate_models_dirs(&data_dir);
            candidates
                .iter()
                .find(|d| d.join(feedwarden_models::embedder::MODEL_DIR).is_dir())
                .cloned()
                .unwrap_or_else(|| data_dir.join("models"))
        });
        let ort_library =
            env_path(ENV_ORT_LIB).unwrap_or_else(|| models_dir.join("onnxruntime").join(ort_library_name()));
        Paths { data_dir, models_dir, ort_library }
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("feedwarden.sqlite3")
    }

    pub fn policy_file(&self) -> PathBuf {
        self.data_dir.join("policy.toml")
    }
}
