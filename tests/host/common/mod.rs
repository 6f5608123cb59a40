//! Shared helpers for the black-box tests: locate the models, spawn the real host, speak framed JSON.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The models folder, or `None` (and a note on stderr) when the models are not set up. With
/// `FEEDWARDEN_REQUIRE_MODELS=1` (set by the test command and CI) a missing model fails the test instead.
pub fn models_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FEEDWARDEN_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("models/build"));
    if dir.join("feedwarden-judge/model.int8.onnx").is_file() && dir.join("onnxruntime").is_dir() {
        return Some(dir);
    }
    if std::env::var("FEEDWARDEN_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!("models are missing in {}; run ./setup.sh", dir.display());
    }
    eprintln!("SKIPPED: models not found in {}; run ./setup.sh to enable this test", dir.display());
    None
}

/// The captured feeds of `../shared/data/feeds` (or `$FEEDWARDEN_SHARED_DATA/feeds`), or `None` with a note on
/// stderr when they are absent: tests on them skip cleanly.
pub fn shared_feeds() -> Option<PathBuf> {
    let data = std::env::var_os("FEEDWARDEN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"));
    let feeds = data.join("feeds");
    if feeds.is_dir() {
        return Some(feeds);
    }
    eprintln!("SKIPPED: {} not found; set FEEDWARDEN_SHARED_DATA to run this test", feeds.display());
    None
}

/// [`models_dir`] when it also holds every file of `need` (paths relative to it), with the same skip / fail
/// rule: `what` names them in the message.
pub fn models_with(need: &[&str], what: &str) -> Option<PathBuf> {
    let dir = models_dir()?;
    if need.iter().all(|f| dir.join(f).is_file()) {
        return Some(dir);
    }
    if std::env::var("FEEDWARDEN_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!("{what} are missing in {}; run models/scripts/setup_models.sh", dir.display());
    }
    eprintln!("SKIPPED: {what} not found in {}; run models/scripts/setup_models.sh", dir.display());
    None
}

/// xorshift64: reproducible noise and mutations for the image tests, without a dependency. The seed must not
/// be 0.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// In [0, 1), in steps of 1/10,000.
    pub fn unit(&mut self) -> f32 {
        (self.next() % 10_000) as f32 / 10_000.0
    }

    /// In [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn write_frame(w: &mut impl Write, body: &[u8]) {
    w.write_all(&(body.len() as u32).to_ne_bytes()).unwrap();
    w.write_all(body).unwrap();
    w.flush().unwrap();
}

pub fn read_frame(r: &mut impl Read) -> Option<Value> {
    let mut len = [0u8; 4];
    if r.read_exact(&mut len).is_err() {
        return None;
    }
    let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
    r.read_exact(&mut body).expect("a whole frame");
    Some(serde_json::from_slice(&body).expect("the host only writes JSON frames"))
}

/// A running `feedwarden-host` with its own data folder.
pub struct HostProc {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: ChildStdout,
    pub home: PathBuf,
}

impl HostProc {
    pub fn spawn(home: &Path, models: &Path) -> Self {
        Self::spawn_with(Command::new(env!("CARGO_BIN_EXE_feedwarden-host")), home, models)
    }

    pub fn spawn_with(mut cmd: Command, home: &Path, models: &Path) -> Self {
        cmd.env("FEEDWARDEN_HOME", home).env("FEEDWARDEN_MODELS_DIR", models).env_remove("FEEDWARDEN_ORT_LIB");
        Self::spawn_plain(cmd, home)
    }

    /// Start `cmd` as it is (its environment untouched, e.g. a plain one as a browser gives); `home` is the
    /// data folder it is expected to use.
    pub fn spawn_plain(mut cmd: Command, home: &Path) -> Self {
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn the host");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        HostProc { child, stdin, stdout, home: home.to_path_buf() }
    }

    pub fn send_raw(&mut self, body: &[u8]) {
        write_frame(self.stdin.as_mut().unwrap(), body);
    }

    pub fn request(&mut self, v: Value) -> Value {
        self.send_raw(&serde_json::to_vec(&v).unwrap());
        self.read()
    }

    pub fn read(&mut self) -> Value {
        read_frame(&mut self.stdout).expect("host replied")
    }

    /// Close stdin and wait; returns the exit status and any bytes left on stdout.
    pub fn finish(mut self) -> (std::process::ExitStatus, Vec<u8>) {
        drop(self.stdin.take());
        let mut rest = Vec::new();
        self.stdout.read_to_end(&mut rest).unwrap();
        (self.child.wait().unwrap(), rest)
    }
}

impl Drop for HostProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
