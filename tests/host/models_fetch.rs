//! `feedwarden models fetch` against a real HTTP server on 127.0.0.1 inside the test: a transfer cut off
//! halfway is resumed with a Range request and the result is checked by sha256; a wrong checksum is refused
//! and kept aside; an unpinned file is only installed with --accept-unpinned; a refused connection gives
//! the offline message; an unknown model name lists the known ones. No internet is needed.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use feedwarden_host::cli::models::{fetch, sha256_file, Download, FetchOptions, Manifest};

/// What the server saw: (path, Range header).
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves `data` at every path. With `cut_first`, the first request without a Range gets the full
/// Content-Length but only half the bytes before the connection is closed.
fn serve(data: Vec<u8>, cut_first: bool) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut cut_done = !cut_first;
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let Some((path, range)) = read_request(&mut conn) else { continue };
            seen.lock().unwrap().push((path, range.clone()));
            let n = data.len();
            let start = range.as_deref().and_then(|r| r.strip_prefix("bytes=")).and_then(|r| r.strip_suffix('-'));
            let start: Option<usize> = start.and_then(|s| s.parse().ok());
            let _ = match start {
                Some(s) if s >= n => write!(
                    conn,
                    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{n}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
                Some(s) => write!(
                    conn,
                    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{n}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    n - 1,
                    n - s
                )
                .and_then(|()| conn.write_all(&data[s..])),
                None if !cut_done => {
                    cut_done = true;
                    write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n")
                        .and_then(|()| conn.write_all(&data[..n / 2]))
                }
                None => write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n")
                    .and_then(|()| conn.write_all(&data)),
            };
            let _ = conn.flush();
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
    });
    (base, log)
}

fn read_request(conn: &mut TcpStream) -> Option<(String, Option<String>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let path = text.split_whitespace().nth(1)?.to_string();
    let range = text.lines().find_map(|l| {
        l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("range")).map(|(_, v)| v.trim().to_string())
    });
    Some((path, range))
}

/// Deterministic bytes that do not compress or repeat.
fn payload(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    feedwarden_core::sha256_hex(bytes)
}

fn manifest(sha256: Option<String>) -> Manifest {
    Manifest {
        id: "test-model".into(),
        name: "a test file".into(),
        kind: "test".into(),
        build: None,
        status: None,
        files: Vec::new(),
        downloads: vec![Download {
            path: "test/model.bin".into(),
            url: "https://models.example/org/repo/resolve/main/model.bin".into(),
            sha256,
        }],
    }
}

fn opts(base: &str) -> FetchOptions {
    FetchOptions { base_url: Some(base.to_string()), ..Default::default() }
}

#[test]
fn a_cut_transfer_resumes_with_range_and_is_checked() {
    let data = payload(300_000);
    let (base, log) = serve(data.clone(), true);
    let dir = tempfile::tempdir().unwrap();
    let report = fetch(&manifest(Some(sha256_hex(&data))), dir.path(), &opts(&base)).unwrap();
    let dest = dir.path().join("test/model.bin");
    assert_eq!(std::fs::read(&dest).unwrap(), data, "the resumed file equals the original");
    assert_eq!(sha256_file(&dest).unwrap(), sha256_hex(&data));
    assert!(report[0].contains("installed (sha256 ok"), "{report:?}");
    assert!(!dir.path().join("test/model.bin.part").exists(), "the part file is moved into place");
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], ("/org/repo/resolve/main/model.bin".to_string(), None));
    assert_eq!(seen[1].1.as_deref(), Some("bytes=150000-"), "the second request resumes where the first stopped");

    // Installed and verified: nothing is downloaded again, unless --force.
    let report = fetch(&manifest(Some(sha256_hex(&data))), dir.path(), &opts(&base)).unwrap();
    assert!(report[0].contains("already installed (sha256 ok)"), "{report:?}");
    assert_eq!(log.lock().unwrap().len(), 2);
    let forced = FetchOptions { force: true, ..opts(&base) };
    fetch(&manifest(Some(sha256_hex(&data))), dir.path(), &forced).unwrap();
    assert_eq!(log.lock().unwrap().len(), 3);
    assert_eq!(std::fs::read(&dest).unwrap(), data);
}

#[test]
fn a_checksum_mismatch_is_refused_and_kept_aside() {
    let data = payload(10_000);
    let (base, _) = serve(data.clone(), false);
    let dir = tempfile::tempdir().unwrap();
    let wrong = "0".repeat(64);
    let err = fetch(&manifest(Some(wrong.clone())), dir.path(), &opts(&base)).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch") && err.contains(&wrong) && err.contains(&sha256_hex(&data)), "{err}");
    assert!(err.contains("NOT installed"), "{err}");
    assert!(!dir.path().join("test/model.bin").exists());
    assert_eq!(std::fs::read(dir.path().join("test/model.bin.rejected")).unwrap(), data);
}

#[test]
fn a_refused_connection_says_offline_and_how_to_copy_by_hand() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let err = fetch(&manifest(None), dir.path(), &opts(&format!("http://127.0.0.1:{port}"))).unwrap_err().to_string();
    assert!(err.contains(&format!("could not reach 127.0.0.1:{port}")), "{err}");
    assert!(err.contains("you appear to be offline") && err.contains("copy the files by hand"), "{err}");
    assert!(err.contains(&dir.path().join("test/model.bin").display().to_string()), "{err}");
}

fn feedwarden(models_dir: &Path, base: Option<&str>, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden"));
    cmd.env("FEEDWARDEN_MODELS_DIR", models_dir).args(args);
    match base {
        Some(b) => cmd.env("FEEDWARDEN_MODELS_BASE_URL", b),
        None => cmd.env_remove("FEEDWARDEN_MODELS_BASE_URL"),
    };
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_model_names_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = feedwarden(dir.path(), None, &["models", "fetch", "clip-vit-l14"]);
    assert!(!ok);
    assert!(err.contains("there is no model \"clip-vit-l14\"") && err.contains("clip-vit-b32"), "{err}");
    let (ok, out, _) = feedwarden(dir.path(), None, &["models", "list"]);
    assert!(ok);
    assert!(out.contains("missing  clip-vit-b32") && out.contains("feedwarden models fetch clip-vit-b32"), "{out}");
    assert!(out.contains("missing  all-minilm-l6-v2-int8") && out.contains("setup_models.sh"), "{out}");
}

#[test]
fn unpinned_clip_is_installed_only_when_accepted() {
    let data = payload(50_000);
    let (base, log) = serve(data.clone(), false);
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = feedwarden(dir.path(), Some(&base), &["models", "fetch", "clip-vit-b32"]);
    assert!(!ok, "{err}");
    assert!(err.contains("NOT installed") && err.contains("not pinned"), "{err}");
    assert!(err.contains(&sha256_hex(&data)), "prints the sha256 it computed: {err}");
    assert!(err.contains("--accept-unpinned"), "{err}");
    let vision = dir.path().join("clip-vit-b32/vision_model_quantized.onnx");
    assert!(!vision.exists());

    let (ok, out, err) = feedwarden(dir.path(), Some(&base), &["models", "fetch", "clip-vit-b32", "--accept-unpinned"]);
    assert!(ok, "{err}");
    assert_eq!(out.matches("NOT pinned, accepted with --accept-unpinned").count(), 2, "{out}");
    assert_eq!(std::fs::read(&vision).unwrap(), data);
    assert_eq!(std::fs::read(dir.path().join("clip-vit-b32/text_model_quantized.onnx")).unwrap(), data);
    // The vision file was already complete on disk: the second run asked for the rest and got nothing new.
    let seen = log.lock().unwrap().clone();
    let vision_requests: Vec<_> =
        seen.iter().filter(|(p, _)| p.ends_with("/onnx/vision_model_quantized.onnx")).collect();
    assert_eq!(vision_requests.len(), 2, "{seen:?}");
    assert_eq!(vision_requests[1].1.as_deref(), Some("bytes=50000-"), "{seen:?}");
    assert!(vision_requests[0].0.starts_with("/Xenova/clip-vit-base-patch32/resolve/main/"), "{seen:?}");
}

#[test]
fn doctor_lists_every_model_and_what_to_run() {
    let models = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(common::repo_root().join("policies/examples/spiders.toml")).unwrap();
    std::fs::write(home.path().join("policy.toml"), policy).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(["doctor", "--no-start"])
        .env("FEEDWARDEN_MODELS_DIR", models.path())
        .env("FEEDWARDEN_ORT_LIB", models.path().join("none.so"))
        .env("FEEDWARDEN_HOME", home.path())
        .env_remove("FEEDWARDEN_CLIP_MODEL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "the text model is missing: {text}");
    for id in [
        "feedwarden-judge-v3-int8",
        "all-minilm-l6-v2-int8",
        "onnxruntime",
        "pp-ocrv6-tiny",
        "open-nsfw",
        "clip-vit-b32",
    ] {
        assert!(text.lines().any(|l| l.contains(&format!("{id}: missing"))), "{id} not listed as missing: {text}");
    }
    assert!(text.contains("FAIL  feedwarden-judge-v3-int8: missing"), "{text}");
    assert!(
        text.contains("warn  clip-vit-b32: missing") && text.contains("run `feedwarden models fetch clip-vit-b32`"),
        "{text}"
    );
    assert!(
        text.contains("rule \"spiders\" has an image_description, but neither CLIP nor a VLM is installed"),
        "{text}"
    );

    // With the files in place (their content is not checked by doctor) CLIP is listed as present.
    for f in [
        "clip-tiny/tokenizer.json",
        "clip-vit-b32/vision_model_quantized.onnx",
        "clip-vit-b32/text_model_quantized.onnx",
    ] {
        let p = models.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(["doctor", "--no-start"])
        .env("FEEDWARDEN_MODELS_DIR", models.path())
        .env("FEEDWARDEN_HOME", home.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok    clip-vit-b32: CLIP ViT-B/32"), "{text}");
    assert!(!text.contains("neither CLIP nor a VLM is installed"), "{text}");
}
