//! Privacy: the host opens no network connection and writes nothing outside its data folder, third-party
//! libraries included (ONNX Runtime's telemetry is on by default in its PyPI builds).
//!
//! The host is started as a browser starts it: a plain environment (no `ORT_DISABLE_TELEMETRY`, no
//! `FEEDWARDEN_*`), a fresh `HOME`, its default data folder. Under `strace -f` it judges text and an image,
//! stores feedback, takes a new policy, then idles past the point where ONNX Runtime's telemetry would have
//! resolved its upload host (~20 s). Any network syscall (an inet/inet6 socket, a DNS packet, a connect) or
//! any file created or written outside the data folder fails the test. A positive control runs ONNX
//! Runtime the old way (Python `onnxruntime` with its default telemetry) under the same harness and must be
//! caught.

mod common;
#[path = "common/render.rs"]
mod render;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{repo_root, HostProc};
use serde_json::json;

/// Longer than ONNX Runtime's telemetry takes to resolve its upload host after start (~20 s measured).
const IDLE: Duration = Duration::from_secs(32);

const RAGE: &str = "These idiots in parliament are destroying our country. Share if you're furious!!!";

/// What a traced run did that it must not.
#[derive(Debug, Default)]
struct Findings {
    network: Vec<String>,
    writes_outside: Vec<String>,
}

impl Findings {
    fn is_clean(&self) -> bool {
        self.network.is_empty() && self.writes_outside.is_empty()
    }
}

/// File syscalls that create, write, move or delete.
fn is_write(line: &str) -> bool {
    let call = line.split_once('(').map(|(head, _)| head.rsplit(' ').next().unwrap_or(head)).unwrap_or("");
    match call {
        "open" | "openat" | "openat2" => {
            ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"].iter().any(|f| line.contains(f))
        }
        "creat" | "mkdir" | "mkdirat" | "rename" | "renameat" | "renameat2" | "unlink" | "unlinkat" | "link"
        | "linkat" | "symlink" | "symlinkat" | "truncate" | "rmdir" | "mknod" | "mknodat" => true,
        _ => false,
    }
}

/// The quoted paths of a strace line, made absolute against `cwd`.
fn quoted_paths(line: &str, cwd: &Path) -> Vec<PathBuf> {
    line.split('"').skip(1).step_by(2).map(|p| cwd.join(p)).collect()
}

/// Read an `strace -f -e trace=%network,%file` log: every network syscall, and every write outside `allowed`.
fn analyse(trace: &Path, cwd: &Path, allowed: &[&Path]) -> Findings {
    let text = std::fs::read_to_string(trace).expect("strace wrote its log");
    let network_calls = [
        "socket(",
        "connect(",
        "sendto(",
        "sendmsg(",
        "sendmmsg(",
        "bind(",
        "recvfrom(",
        "recvmsg(",
        "getsockname(",
        "socketpair(",
        "accept(",
        "accept4(",
        "listen(",
    ];
    let mut f = Findings::default();
    for line in text.lines().filter(|l| !l.contains("+++") && !l.contains("---")) {
        let body = line.split_once(' ').map_or(line, |(_, rest)| rest).trim_start();
        if network_calls.iter().any(|c| body.starts_with(c)) {
            f.network.push(line.to_string());
        } else if is_write(body) {
            // Creating the data folder creates its parents too (`~/.local`, `~/.local/share`).
            let mkdir = body.starts_with("mkdir");
            let outside = quoted_paths(body, cwd).into_iter().any(|p| {
                !allowed.iter().any(|a| p.starts_with(a) || (mkdir && a.starts_with(&p)))
                    && !p.starts_with("/dev/null")
                    && !p.starts_with("/proc/self")
            });
            if outside && !body.contains("= -1 ENOENT") {
                f.writes_outside.push(line.to_string());
            }
        }
    }
    f
}

/// Every file under `home` that is not inside `allowed`.
fn files_outside(home: &Path, allowed: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.starts_with(allowed) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// `strace` recording network and file syscalls of `program` and its threads into `trace`, started in a
/// plain environment (PATH, LANG and a fresh HOME only), as a browser would start a native host.
fn traced(trace: &Path, home: &Path, cwd: &Path, program: &Path) -> Command {
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=%network,%file", "-o"])
        .arg(trace)
        .arg(program)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LANG", "C.UTF-8")
        .env("HOME", home)
        .current_dir(cwd);
    cmd
}

fn strace_available() -> bool {
    if Command::new("strace").arg("-V").stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
        return true;
    }
    if std::env::var("FEEDWARDEN_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!("strace is required for the privacy test; ./setup.sh installs it");
    }
    eprintln!("SKIPPED: strace not installed");
    false
}

/// The models venv's Python when it has `onnxruntime` (models/scripts/setup_models.sh creates it).
fn python_with_onnxruntime() -> Option<PathBuf> {
    let py = repo_root().join(".cache/venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('onnxruntime') is None)"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    if std::env::var("FEEDWARDEN_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!("{} with onnxruntime is required for the privacy test's control; run ./setup.sh", py.display());
    }
    eprintln!("SKIPPED: no Python with onnxruntime for the positive control");
    None
}

/// The old behaviour, under the same harness: ONNX Runtime with its default telemetry, one session, idle.
fn run_control(py: &Path, model: &Path) -> Findings {
    let dir = tempfile::tempdir().unwrap();
    let (home, cwd, trace) = (dir.path().join("home"), dir.path().join("cwd"), dir.path().join("trace.txt"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let script = format!(
        "import time, onnxruntime as ort\n\
         ort.InferenceSession({:?}, providers=['CPUExecutionProvider'])\n\
         time.sleep({})\n",
        model.display().to_string(),
        IDLE.as_secs()
    );
    let status = traced(&trace, &home, &cwd, py).args(["-c", &script]).status().expect("run the control");
    assert!(status.success(), "the control program failed");
    let mut f = analyse(&trace, &cwd, &[]);
    f.writes_outside.extend(files_outside(&home, &home.join("nothing")).iter().map(|p| p.display().to_string()));
    f
}

#[test]
fn host_opens_no_network_connection_and_writes_only_its_data_folder() {
    let Some(models) = render::image_models() else { return };
    if !strace_available() {
        return;
    }
    let control_python = python_with_onnxruntime();
    // The control runs at the same time as the host (both idle for `IDLE`).
    let control_model = models.join("all-minilm-l6-v2/model.int8.onnx");
    let control = control_python.map(|py| std::thread::spawn(move || run_control(&py, &control_model)));

    let dir = tempfile::tempdir().unwrap();
    let (home, cwd, trace) = (dir.path().join("home"), dir.path().join("cwd"), dir.path().join("trace.txt"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    // Where the host keeps its data when nothing says otherwise (as under a browser).
    let data = home.join(".local/share/feedwarden");
    let host_program = PathBuf::from(env!("CARGO_BIN_EXE_feedwarden-host"));
    let mut h = HostProc::spawn_plain(traced(&trace, &home, &cwd, &host_program), &data);

    assert_eq!(h.request(json!({"type": "hello"}))["ready"], true);
    let image = render::text_image_data_url(&["They want you ANGRY.", "Share before they delete it"]);
    let r = h.request(json!({"type": "classify", "request_id": 1, "image_budget_ms": 600_000, "posts": [
        {"id": "1", "text": RAGE, "site": "x.com"},
        {"id": "2", "text": "Lovely walk by the river this morning.", "images": [image]},
    ]}));
    assert_eq!(r["type"], "verdicts", "{r}");
    assert!(r["verdicts"][1].get("images").is_some(), "the image was judged: {r}");
    let fb = h.request(
        json!({"type": "feedback", "post": {"id": "1", "text": RAGE}, "kind": "was_fine", "rule": "rage-bait"}),
    );
    assert_eq!(fb["stored"], true, "{fb}");
    let policy = "[policy]\nname = \"Mine\"\nextends = [\"feedwarden:defaults\"]\n\n[[override]]\nrule = \"clickbait\"\nthreshold = 0.9\n";
    let set = h.request(json!({"type": "policy.set", "source": policy}));
    assert_eq!(set["applied"], true, "{set}");
    assert_eq!(h.request(json!({"type": "stats"}))["type"], "stats");
    std::thread::sleep(IDLE);
    assert_eq!(h.request(json!({"type": "hello"}))["ready"], true, "the host still answers after idling");
    let (status, _) = h.finish();
    assert!(status.success());

    let mut host = analyse(&trace, &cwd, &[&data]);
    host.writes_outside.extend(files_outside(&home, &data).iter().map(|p| p.display().to_string()));
    assert!(data.join("feedwarden.sqlite3").is_file(), "the host used its default data folder {}", data.display());

    if let Some(control) = control {
        let control = control.join().expect("control thread");
        eprintln!(
            "positive control (ONNX Runtime with default telemetry): {} network syscalls, {} writes outside",
            control.network.len(),
            control.writes_outside.len()
        );
        assert!(
            !control.network.is_empty() && !control.writes_outside.is_empty(),
            "the harness must catch ONNX Runtime's default telemetry (network and files): {control:?}"
        );
    }
    assert!(
        host.is_clean(),
        "the host made network syscalls:\n{}\nand wrote outside {}:\n{}",
        host.network.join("\n"),
        data.display(),
        host.writes_outside.join("\n")
    );
}

#[test]
fn analyser_flags_dns_sockets_and_stray_files() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.txt");
    std::fs::write(
        &trace,
        "12 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 5\n\
         12 sendto(5, \"\\x12\\x34\"..., 52, MSG_NOSIGNAL, NULL, 0) = 52\n\
         13 openat(AT_FDCWD, \"/home/u/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid\", O_WRONLY|O_CREAT, 0600) = 6\n\
         13 openat(AT_FDCWD, \"/data/feedwarden.sqlite3\", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 7\n\
         13 openat(AT_FDCWD, \"/usr/lib/libm.so.6\", O_RDONLY|O_CLOEXEC) = 8\n\
         13 openat(AT_FDCWD, \"rel.txt\", O_WRONLY|O_CREAT, 0644) = 9\n\
         13 mkdir(\"/\", 0777) = -1 EEXIST (File exists)\n\
         13 mkdir(\"/other\", 0777) = 0\n\
         14 +++ exited with 0 +++\n",
    )
    .unwrap();
    let f = analyse(&trace, Path::new("/cwd"), &[Path::new("/data")]);
    assert_eq!(f.network.len(), 2, "{f:?}");
    assert_eq!(f.writes_outside.len(), 3, "{f:?}");
    assert!(f.writes_outside[0].contains("deviceid") && f.writes_outside[1].contains("rel.txt"));
    assert!(f.writes_outside[2].contains("/other"), "a parent of the data folder may be created, nothing else");
}

/// The CLI too: `feedwarden classify` (it loads the same ONNX Runtime) in a plain environment writes only
/// its output and makes no network syscall. It exits within seconds, before any DNS would be sent, so the
/// check that matters here is the telemetry files (written at start when telemetry is on).
#[test]
fn cli_classify_writes_only_its_output() {
    let Some(_models) = common::models_dir() else { return };
    if !strace_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (home, cwd, trace) = (dir.path().join("home"), dir.path().join("cwd"), dir.path().join("trace.txt"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let out = cwd.join("verdicts.jsonl");
    let cli = PathBuf::from(env!("CARGO_BIN_EXE_feedwarden"));
    let status = traced(&trace, &home, &cwd, &cli)
        .arg("classify")
        .arg(repo_root().join("examples/feed.jsonl"))
        .arg("-o")
        .arg(&out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::read_to_string(&out).unwrap().lines().count() > 0);
    let f = analyse(&trace, &cwd, &[&out]);
    let stray = files_outside(&home, &home.join("nothing"));
    assert!(f.is_clean() && stray.is_empty(), "{f:?} {stray:?}");
}
