//! Loading and saving the reader's policy file: extends resolved relative to the file, the last good policy
//! kept when a new text cannot load, and saves that are atomic (a crash mid-write never leaves half a file).

use std::io::Write;
use std::path::{Path, PathBuf};

use feedwarden_core::policy::{parse_policy, resolve, Diagnostic, EffectivePolicy};

/// The policy a reader starts with: the shipped defaults, ready to be overridden.
pub const STARTER_POLICY: &str = "# Your Feedwarden policy. See policies/README.md for the format.
[policy]
name = \"My feed\"
extends = [\"feedwarden:defaults\"]
";

/// Result of trying a policy text.
#[derive(Debug, Clone)]
pub struct PolicyLoad {
    /// The policy to run, when the text can replace the active one.
    pub policy: Option<EffectivePolicy>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse and resolve policy text. `file` is its path (for diagnostics and relative `extends`).
pub fn load_policy_text(source: &str, file: Option<&Path>, previous: Option<&EffectivePolicy>) -> PolicyLoad {
    let name = file.map(|p| p.display().to_string());
    let parsed = parse_policy(source, name.as_deref());
    let base_dir = file.and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let mut load = |rel: &str| -> Result<String, String> {
        let path = base_dir.join(rel);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let resolution = resolve(&parsed, name.as_deref(), &mut load, previous);
    PolicyLoad { policy: parsed.loadable.then_some(resolution.policy), diagnostics: resolution.diagnostics }
}

/// Read and load a policy file; an unreadable file is a diagnostic, not a crash.
pub fn load_policy_file(path: &Path, previous: Option<&EffectivePolicy>) -> (Option<String>, PolicyLoad) {
    match std::fs::read_to_string(path) {
        Ok(src) => {
            let load = load_policy_text(&src, Some(path), previous);
            (Some(src), load)
        }
        Err(e) => (
            None,
            PolicyLoad {
                policy: None,
                diagnostics: vec![Diagnostic {
                    severity: feedwarden_core::Severity::Error,
                    code: "unreadable".into(),
                    file: Some(path.display().to_string()),
                    line: 1,
                    column: 1,
                    rule: None,
                    message: format!("cannot read the policy file: {e}"),
                }],
            },
        ),
    }
}

/// Write `text` to `path` atomically and durably: temp file in the same folder, fsync, rename, fsync folder.
pub fn save_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("policy"),
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_policy_loads_the_defaults() {
        let load = load_policy_text(STARTER_POLICY, None, None);
        assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
        let p = load.policy.unwrap();
        assert_eq!(p.active_categories(), ["rage-bait", "manipulation", "clickbait"]);
    }

    #[test]
    fn relative_extends_and_atomic_save() {
        let dir = tempfile::tempdir().unwrap();
        save_atomic(
            &dir.path().join("base.toml"),
            "[policy]\nname = \"b\"\n\n[[rule]]\nid = \"x\"\ndescription = \"spiders\"\naction = \"blur\"\n",
        )
        .unwrap();
        let mine = dir.path().join("mine.toml");
        save_atomic(&mine, "[policy]\nname = \"m\"\nextends = [\"base.toml\"]\n").unwrap();
        let (_, load) = load_policy_file(&mine, None);
        assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
        assert!(load.policy.unwrap().rule("x").is_some());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn unreadable_file_is_a_diagnostic() {
        let (src, load) = load_policy_file(Path::new("/nonexistent/p.toml"), None);
        assert!(src.is_none() && load.policy.is_none());
        assert_eq!(load.diagnostics[0].code, "unreadable");
    }
}
