//! Loading and saving the reader's policy file: policy files read safely (regular files of bounded size
//! only, see `local_file`), relative `extends` resolved from the folder of the file that names them, the last
//! good policy kept when a new text cannot load, saves that are atomic (a crash mid-write never leaves half
//! a file) and the temporary files of interrupted saves cleaned up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use feedwarden_core::policy::limits::MAX_POLICY_BYTES;
use feedwarden_core::policy::{parse_policy, resolve, Diagnostic, EffectivePolicy, LoadedFile, Severity};

use feedwarden_models::local_file::read_regular_file;

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

/// The text of a policy file: a regular file of at most [`MAX_POLICY_BYTES`], in UTF-8.
pub fn read_policy_source(path: &Path) -> Result<String, String> {
    let bytes = read_regular_file(path, MAX_POLICY_BYTES).map_err(|e| match e {
        feedwarden_models::local_file::LocalFileError::TooLarge { path, size, .. } => {
            format!("{path} is {size} bytes; a policy file may be at most {} KiB", MAX_POLICY_BYTES / 1024)
        }
        other => other.to_string(),
    })?;
    String::from_utf8(bytes)
        .map_err(|e| format!("{} is not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
}

/// A file's identity for cycle detection: its canonical path (links and `.`/`..` resolved), or, for a file
/// that does not exist yet, its folder's canonical path joined with its name.
pub fn policy_key(path: &Path) -> String {
    let canonical = std::fs::canonicalize(path).ok().or_else(|| {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
    });
    canonical.unwrap_or_else(|| path.to_path_buf()).display().to_string()
}

/// Parse and resolve policy text. `file` is the policy's path: it names the text in diagnostics, and its
/// folder is where the text's relative `extends` start (an extended file's own `extends` start from that
/// file's folder). Without `file`, relative paths start from the working directory.
pub fn load_policy_text(source: &str, file: Option<&Path>, previous: Option<&EffectivePolicy>) -> PolicyLoad {
    let name = file.map(|p| p.display().to_string());
    let parsed = parse_policy(source, name.as_deref());
    let top_dir = file.and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let mut load = |entry: &str, from: Option<&str>| -> Result<LoadedFile, String> {
        let dir = from.and_then(|key| Path::new(key).parent()).unwrap_or(&top_dir);
        let path = dir.join(entry);
        let source = read_policy_source(&path)?;
        Ok(LoadedFile { key: policy_key(&path), source })
    };
    let resolution = resolve(&parsed, name.as_deref(), &mut load, previous);
    PolicyLoad { policy: parsed.loadable.then_some(resolution.policy), diagnostics: resolution.diagnostics }
}

/// An `unreadable` diagnostic for the policy file itself.
pub fn unreadable(path: &Path, why: &str) -> Diagnostic {
    Diagnostic::about_file(
        Severity::Error,
        "unreadable",
        Some(path.display().to_string()),
        format!("cannot read the policy file: {why}"),
    )
}

/// Read and load a policy file; an unreadable file (missing, not a regular file, too large, not UTF-8) is a
/// diagnostic, not a crash or a hang.
pub fn load_policy_file(path: &Path, previous: Option<&EffectivePolicy>) -> (Option<String>, PolicyLoad) {
    match read_policy_source(path) {
        Ok(src) => {
            let load = load_policy_text(&src, Some(path), previous);
            (Some(src), load)
        }
        Err(why) => (None, PolicyLoad { policy: None, diagnostics: vec![unreadable(path, &why)] }),
    }
}

/// Before a save replaces the policy file: a regular file there that cannot be read as a policy text (too
/// large, not UTF-8) is renamed to `<name>.unreadable` rather than overwritten, so nothing the reader wrote is
/// lost. Returns where it went. (Links, FIFOs and devices are replaced, as before.)
pub fn keep_unreadable_policy_file(path: &Path) -> std::io::Result<Option<PathBuf>> {
    let regular = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file());
    if !regular || read_policy_source(path).is_ok() {
        return Ok(None);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("policy.toml");
    let kept = path.with_file_name(format!("{name}.unreadable"));
    std::fs::rename(path, &kept)?;
    Ok(Some(kept))
}

/// The temporary file [`save_atomic`] writes next to `path` (`.policy.toml.tmp-<pid>`), without the pid.
fn temp_prefix(path: &Path) -> String {
    format!(".{}.tmp-", path.file_name().and_then(|n| n.to_str()).unwrap_or("policy"))
}

/// Write `text` to `path` atomically and durably: temp file in the same folder, fsync, rename, fsync folder.
pub fn save_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{}{}", temp_prefix(path), std::process::id()));
    crate::durable::replace_with(path, &tmp, |f| f.write_all(text.as_bytes()))
}

/// How old a save's temporary file must be before it counts as orphaned: a save takes milliseconds, and
/// another host (a second browser) may be saving right now.
pub const ORPHANED_AFTER: Duration = Duration::from_secs(60);

/// Remove the temporary files of saves that never finished (the process was killed between writing and
/// renaming): `.<name>.tmp-<pid>` next to `path`, last written more than `older_than` ago. Returns them.
pub fn remove_orphaned_temp_files(path: &Path, older_than: Duration) -> Vec<PathBuf> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let now = SystemTime::now();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix.as_str())) else { continue };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= older_than);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_policy_loads_the_defaults() {
        let load = load_policy_text(STARTER_POLICY, None, None);
        assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
        let p = load.policy.unwrap();
        assert_eq!(p.active_categories(), ["rage-bait", "manipulation", "clickbait", "engagement-bait"]);
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

    /// `shared/b.toml` extends `c.toml`: that is `shared/c.toml`, next to it (it used to be looked for next to
    /// the top policy).
    #[test]
    fn nested_relative_extends_start_from_the_extending_files_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("shared")).unwrap();
        std::fs::write(dir.path().join("shared/b.toml"), "[policy]\nname = \"b\"\nextends = [\"c.toml\"]\n").unwrap();
        std::fs::write(
            dir.path().join("shared/c.toml"),
            "[policy]\nname = \"c\"\n\n[[rule]]\nid = \"c1\"\ndescription = \"C\"\naction = \"label\"\n",
        )
        .unwrap();
        let top = dir.path().join("policy.toml");
        let load = load_policy_text("[policy]\nname = \"p\"\nextends = [\"shared/b.toml\"]\n", Some(&top), None);
        assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
        assert!(load.policy.unwrap().rule("c1").is_some());
    }

    /// Every spelling of one file, links included, is one key: a cycle through a link is found.
    #[test]
    fn keys_are_canonical_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.toml");
        std::fs::write(&a, "[policy]\nname = \"a\"\nextends = [\"./link.toml\", \"x/../a.toml\"]\n").unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("link.toml")).unwrap();
        std::fs::create_dir(dir.path().join("x")).unwrap();
        assert_eq!(policy_key(&dir.path().join("x/../link.toml")), policy_key(&a));
        assert_eq!(policy_key(&dir.path().join("new.toml")), policy_key(dir.path()) + "/new.toml");
        let (_, load) = load_policy_file(&a, None);
        let cycles = load.diagnostics.iter().filter(|d| d.code == "extends-cycle").count();
        assert_eq!(cycles, 2, "{:?}", load.diagnostics);
    }

    #[test]
    fn unreadable_files_are_diagnostics() {
        let (src, load) = load_policy_file(Path::new("/nonexistent/p.toml"), None);
        assert!(src.is_none() && load.policy.is_none());
        assert_eq!(load.diagnostics[0].code, "unreadable");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; MAX_POLICY_BYTES + 1]).unwrap();
        let latin1 = dir.path().join("latin1.toml");
        std::fs::write(&latin1, b"[policy]\nname = \"caf\xe9\"\n").unwrap();
        for (path, says) in [
            (big.as_path(), "a policy file may be at most 128 KiB"),
            (latin1.as_path(), "is not UTF-8 text"),
            (Path::new("/dev/zero"), "is a device, not a regular file"),
            (dir.path(), "is a folder, not a regular file"),
        ] {
            let (src, load) = load_policy_file(path, None);
            assert!(src.is_none(), "{}", path.display());
            assert!(load.diagnostics[0].message.contains(says), "{}", load.diagnostics[0]);
        }
    }

    #[test]
    fn an_unreadable_policy_file_is_kept_before_a_save_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        assert_eq!(keep_unreadable_policy_file(&policy).unwrap(), None);
        std::fs::write(&policy, STARTER_POLICY).unwrap();
        assert_eq!(keep_unreadable_policy_file(&policy).unwrap(), None);
        assert!(policy.exists());
        std::fs::write(&policy, b"[policy]\nname = \"caf\xe9\"\n").unwrap();
        let kept = keep_unreadable_policy_file(&policy).unwrap().unwrap();
        assert_eq!(kept, dir.path().join("policy.toml.unreadable"));
        assert_eq!(std::fs::read(&kept).unwrap(), b"[policy]\nname = \"caf\xe9\"\n");
        assert!(!policy.exists());
    }

    #[test]
    fn orphaned_temp_files_are_removed_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.toml");
        let old = dir.path().join(".policy.toml.tmp-4242");
        let fresh = dir.path().join(".policy.toml.tmp-4243");
        let other = dir.path().join(".policy.toml.tmp-notapid");
        for p in [&old, &fresh, &other] {
            std::fs::write(p, "half a save").unwrap();
        }
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&old).unwrap().set_modified(hour_ago).unwrap();
        std::fs::File::options().write(true).open(&other).unwrap().set_modified(hour_ago).unwrap();
        assert_eq!(remove_orphaned_temp_files(&policy, ORPHANED_AFTER), std::slice::from_ref(&old));
        assert!(!old.exists() && fresh.exists() && other.exists());
    }
}
