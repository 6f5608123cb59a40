//! Black-box tests of what a shared or broken policy can do to the real host and CLI: files named by
//! `extends` or `image_examples` that are devices, FIFOs or the host's own stdin; many spellings of one file;
//! a broken file at start-up (its text must reach the editor); relative paths; replies that must fit the
//! browser's 1 MB limit; interrupted saves; one-line diagnostics; and the CLI's exit status. Each test
//! guards the host with a watchdog: a host that hangs is killed and the test fails instead of hanging.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::Duration;

use common::HostProc;
use feedwarden_host::framing::MAX_REPLY_BYTES;
use serde_json::{json, Value};

/// How long a host may take to answer before the watchdog kills it (a hang, not a speed check: a healthy
/// host answers in well under a second even on a busy machine).
const HANG: Duration = Duration::from_secs(120);

/// Kills the process `pid` (one this test started) unless dropped first.
struct Watchdog(Option<mpsc::Sender<()>>);

impl Watchdog {
    fn guard(pid: u32) -> Self {
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(HANG) {
                eprintln!("watchdog: the host (pid {pid}) hung; killing it");
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        });
        Watchdog(Some(tx))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A host with no models (policy handling needs none), or with the real ones and the tiny CLIP.
fn spawn(home: &Path, with_models: bool) -> Option<(HostProc, Watchdog)> {
    let models = if with_models {
        common::models_with(&["clip-tiny/vision_model.onnx", "clip-tiny/text_model.onnx"], "the CLIP test assets")?
    } else {
        home.join("no-models")
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden-host"));
    cmd.env("FEEDWARDEN_CLIP_MODEL", "tiny");
    let h = HostProc::spawn_with(cmd, home, &models);
    let dog = Watchdog::guard(h.child.id());
    Some((h, dog))
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

fn diagnostics(r: &Value) -> Vec<Value> {
    r["diagnostics"].as_array().unwrap_or_else(|| panic!("no diagnostics in {r}")).clone()
}

fn has(r: &Value, code: &str, says: &str) -> bool {
    diagnostics(r).iter().any(|d| d["code"] == code && d["message"].as_str().unwrap_or("").contains(says))
}

/// `extends` naming the host's own stdin, a FIFO or /dev/zero: each is refused with a diagnostic, and a
/// policy saved with such an entry does not stop the next start. (They used to make the host read its own
/// protocol stream, block forever, or fill memory — on every start, once saved.)
#[test]
fn extends_naming_devices_and_fifos_cannot_hang_the_host() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("shared.toml");
    mkfifo(&fifo);
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    for target in ["/dev/stdin", fifo.to_str().unwrap(), "/dev/zero", "/proc/self/fd/0"] {
        let src = format!("[policy]\nname = \"shared\"\nextends = [\"feedwarden:defaults\", \"{target}\"]\n");
        let r = h.request(json!({"type": "policy.validate", "source": src}));
        assert_eq!(r["type"], "policy.validation", "{r}");
        assert!(has(&r, "extends-not-found", "not a regular file"), "{target}: {r}");
        let d = &diagnostics(&r)[0];
        assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(3), Some(1)), "{d}");
    }
    // Saved: the last entry is left out, the rest applies.
    let src = "[policy]\nname = \"shared\"\nextends = [\"feedwarden:defaults\", \"shared.toml\"]\n";
    let r = h.request(json!({"type": "policy.set", "source": src}));
    assert_eq!(r["applied"], true, "{r}");
    assert!(has(&r, "extends-not-found", "a named pipe (FIFO), not a regular file"), "{r}");
    drop(h);
    // Every later start still answers.
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    let r = h.request(json!({"type": "hello"}));
    assert_eq!(r["type"], "hello", "{r}");
    let r = h.request(json!({"type": "policy.get"}));
    assert_eq!(r["source"], src);
    assert!(r["rules"].as_array().unwrap().iter().any(|r| r["id"] == "rage-bait"), "{r}");
}

/// A policy file that is itself a FIFO or a device, or too large, still lets the host start and answer.
#[test]
fn a_policy_file_that_is_a_fifo_or_too_large_does_not_stop_the_host() {
    let home = tempfile::tempdir().unwrap();
    mkfifo(&home.path().join("policy.toml"));
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    assert_eq!(h.request(json!({"type": "hello"}))["type"], "hello");
    let r = h.request(json!({"type": "policy.get"}));
    assert!(has(&r, "unreadable", "not a regular file"), "{r}");
    assert_eq!(r["source"], "");
    drop(h);
    std::fs::remove_file(home.path().join("policy.toml")).unwrap();
    let big = format!("[policy]\nname = \"big\"\n{}", "# padding\n".repeat(20_000));
    std::fs::write(home.path().join("policy.toml"), &big).unwrap();
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    let r = h.request(json!({"type": "policy.get"}));
    assert!(has(&r, "unreadable", "at most 128 KiB"), "{r}");
    // Saving from the (empty) editor does not lose the big file: it is kept next to the new one.
    let r = h.request(json!({"type": "policy.set", "source": "[policy]\nname = \"new\"\n"}));
    assert_eq!(r["applied"], true, "{r}");
    assert_eq!(std::fs::read_to_string(home.path().join("policy.toml.unreadable")).unwrap(), big);
    // A text over the limit is refused before anything is saved.
    let r = h.request(json!({"type": "policy.set", "source": big}));
    assert_eq!(r["applied"], false, "{r}");
    assert!(has(&r, "policy-too-large", "at most 128 KiB"), "{r}");
    assert_eq!(std::fs::read_to_string(home.path().join("policy.toml")).unwrap(), "[policy]\nname = \"new\"\n");
}

/// Ten spellings of one file (`a.toml`, `./a.toml`, `././a.toml`, …) used to be followed ten ways at every
/// level of `extends`: 10^8 reads, and a host that never answered `hello` again.
#[test]
fn ten_spellings_of_one_file_do_not_stop_the_host() {
    let home = tempfile::tempdir().unwrap();
    let spellings: Vec<String> = (0..10).map(|i| format!("\"{}a.toml\"", "./".repeat(i))).collect();
    std::fs::write(
        home.path().join("a.toml"),
        format!("[policy]\nname = \"a\"\nextends = [{}]\n", spellings.join(", ")),
    )
    .unwrap();
    std::fs::write(home.path().join("policy.toml"), "[policy]\nname = \"p\"\nextends = [\"a.toml\"]\n").unwrap();
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    assert_eq!(h.request(json!({"type": "hello"}))["type"], "hello");
    let r = h.request(json!({"type": "policy.get"}));
    let cycles = diagnostics(&r).iter().filter(|d| d["code"] == "extends-cycle").count();
    assert_eq!(cycles, 10, "{r}");
}

/// A broken policy.toml at start-up: the editor gets the file's own text with its diagnostics, not the
/// starter policy (which Save would then have written over the reader's file).
#[test]
fn policy_get_returns_the_files_own_text_when_it_cannot_load() {
    let home = tempfile::tempdir().unwrap();
    let broken = "# my carefully written rules\n[policy\nname = \"mine\"\n";
    std::fs::write(home.path().join("policy.toml"), broken).unwrap();
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    let r = h.request(json!({"type": "policy.get"}));
    assert_eq!(r["source"], broken, "{r}");
    assert!(has(&r, "syntax", "TOML syntax"), "{r}");
    assert!(has(&r, "policy-not-active", "the shipped defaults run"), "{r}");
    assert!(r["rules"].as_array().unwrap().iter().any(|r| r["id"] == "rage-bait"), "the defaults run: {r}");
    assert_eq!(std::fs::read_to_string(home.path().join("policy.toml")).unwrap(), broken);
}

/// `policy.validate` and `policy.set` resolve relative paths the same way: from the data folder (where
/// policy.toml lives) for the policy, from an extended file's own folder for its `extends`. Validate used to
/// resolve from the host's working directory, and nested entries from the top file's folder.
#[test]
fn validate_and_set_resolve_relative_paths_from_the_data_folder() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join("shared")).unwrap();
    std::fs::write(home.path().join("shared/team.toml"), "[policy]\nname = \"team\"\nextends = [\"base.toml\"]\n")
        .unwrap();
    std::fs::write(
        home.path().join("shared/base.toml"),
        "[policy]\nname = \"base\"\n\n[[rule]]\nid = \"spiders\"\ndescription = \"Spiders\"\naction = \"blur\"\n",
    )
    .unwrap();
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    let src = "[policy]\nname = \"mine\"\nextends = [\"shared/team.toml\"]\n";
    let r = h.request(json!({"type": "policy.validate", "source": src}));
    assert_eq!((r["loadable"].as_bool(), diagnostics(&r).len()), (Some(true), 0), "{r}");
    let r = h.request(json!({"type": "policy.set", "source": src}));
    assert_eq!(r["applied"], true);
    assert!(diagnostics(&r).is_empty(), "{r}");
    assert_eq!(r["rules"][0]["id"], "spiders", "{r}");
}

/// A policy whose reply would have been over 1 MB (a big text and thousands of warnings) used to be saved
/// and applied and then answered with `reply-too-large`, after which every `policy.get` failed too.
#[test]
fn policy_replies_always_fit_and_policy_get_works_after_any_set() {
    let home = tempfile::tempdir().unwrap();
    let rules: String = (0..500)
        .map(|i| format!("[[rule]]\nid = \"rule-with-a-long-name-{i}\"\ndescription = \"d\"\naction = \"label\"\n"))
        .collect();
    std::fs::write(home.path().join("base.toml"), format!("[policy]\nname = \"base\"\n{rules}")).unwrap();
    let mut src = String::from("[policy]\nname = \"big\"\nextends = [\"base.toml\"]\n");
    let mut i = 0;
    while src.len() < 100 * 1024 {
        src.push_str(&format!("\n[[override]]\nrule = \"ghost-{i}\"\nenabled = false\n"));
        i += 1;
    }
    // A region of control characters: each becomes six bytes of JSON.
    src.push_str(&format!("\n[[rule]]\n# {}\n", "\u{1}".repeat(24 * 1024)));
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    for kind in ["policy.validate", "policy.set"] {
        h.send_raw(&serde_json::to_vec(&json!({"type": kind, "source": src})).unwrap());
        let r = h.read();
        assert_ne!(r["type"], "error", "{kind}: {}", r["code"]);
        assert!(serde_json::to_vec(&r).unwrap().len() <= MAX_REPLY_BYTES);
        assert!(diagnostics(&r).len() <= 51, "{kind}: {} diagnostics", diagnostics(&r).len());
    }
    let r = h.request(json!({"type": "policy.get"}));
    assert_eq!(r["type"], "policy", "{}", r["code"]);
    assert_eq!(r["source"], src);
    assert_eq!(r["rules"].as_array().unwrap().len(), 500);
}

/// A save interrupted by `kill -9` leaves `.policy.toml.tmp-<pid>`; the next start removes it (a fresh one,
/// maybe another host's save in progress, stays).
#[test]
fn orphaned_temp_files_are_removed_at_start() {
    let home = tempfile::tempdir().unwrap();
    let orphan = home.path().join(".policy.toml.tmp-999999");
    let fresh = home.path().join(".policy.toml.tmp-999998");
    std::fs::write(&orphan, "half a policy").unwrap();
    std::fs::write(&fresh, "a save in progress").unwrap();
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&orphan).unwrap().set_modified(hour_ago).unwrap();
    let Some((mut h, _dog)) = spawn(home.path(), false) else { return };
    assert_eq!(h.request(json!({"type": "hello"}))["type"], "hello");
    assert!(!orphan.exists(), "the orphaned temporary file is still there");
    assert!(fresh.exists());
}

/// Example images are read like `extends` files: a FIFO or the host's stdin is refused, not opened.
#[test]
fn image_examples_naming_fifos_cannot_hang_the_host() {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("spider.jpg");
    mkfifo(&fifo);
    let Some((mut h, _dog)) = spawn(home.path(), true) else { return };
    let src = "[policy]\nname = \"p\"\n\n[[rule]]\nid = \"spiders\"\ndescription = \"Spiders\"\naction = \"blur\"\nimage_description = \"a spider\"\nimage_examples = [\"spider.jpg\", \"/dev/stdin\"]\n";
    let r = h.request(json!({"type": "policy.set", "source": src}));
    assert_eq!(r["applied"], true, "{r}");
    let refused = diagnostics(&r)
        .iter()
        .filter(|d| {
            d["code"] == "image-example-unreadable" && d["message"].as_str().unwrap().contains("not a regular file")
        })
        .count();
    assert_eq!(refused, 2, "{r}");
    assert_eq!(h.request(json!({"type": "hello"}))["type"], "hello");
}

fn feedwarden(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(args)
        .current_dir(dir)
        .env("FEEDWARDEN_MODELS_DIR", dir.join("no-models"))
        .output()
        .unwrap()
}

/// A value with a newline in it used to print a diagnostic over two lines (the second could pass for a
/// diagnostic of another file); now every problem is one `file:line:col: …` line.
#[test]
fn diagnostics_print_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let src = "[policy]\nname = \"p\"\n\n[[rule]]\nid = \"a\"\ndescription = \"A\"\naction = \"hi\\nother.toml:1:1: error[fake]: de\"\n\n[\"odd\\nkey\"]\nx = 1\n";
    std::fs::write(dir.path().join("p.toml"), src).unwrap();
    let o = feedwarden(&["policy", "check", "p.toml"], dir.path());
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "two problems and the summary:\n{out}");
    assert!(lines[0].starts_with("p.toml:7:10: error[bad-value]: ") && lines[0].contains("\\nother.toml"), "{out}");
    assert!(lines[1].starts_with("p.toml:9:2: error[unknown-key]: ") && lines[1].contains("odd\\nkey"), "{out}");
}

/// `feedwarden classify` and `batch` with a policy whose rules fail to load stop with exit status 2 before
/// judging anything (they used to run on with fewer rules and exit 0); `--keep-going` runs anyway.
#[test]
fn classify_and_batch_stop_on_policy_errors_unless_told_to_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let policy = "[policy]\nname = \"p\"\nextends = [\"feedwarden:defaults\"]\n\n[[rule]]\nid = \"spiders\"\ndescription = \"Spiders\"\naction = \"blurr\"\n";
    std::fs::write(dir.path().join("p.toml"), policy).unwrap();
    std::fs::write(dir.path().join("posts.jsonl"), "{\"id\": \"1\", \"text\": \"a calm post\"}\n").unwrap();
    for args in [
        &["classify", "posts.jsonl", "-p", "p.toml", "-o", "out.jsonl", "-q"][..],
        &["batch", "posts.jsonl", "-p", "p.toml", "-o", "out.jsonl"][..],
    ] {
        let o = feedwarden(args, dir.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("p.toml:8:10: error[bad-value]"), "{err}");
        assert!(err.contains("has 1 error(s)") && err.contains("--keep-going"), "{err}");
        assert!(!dir.path().join("out.jsonl").exists(), "{args:?} judged posts anyway");
    }
    let Some(models) = common::models_dir() else { return };
    let o = Command::new(env!("CARGO_BIN_EXE_feedwarden"))
        .args(["classify", "posts.jsonl", "-p", "p.toml", "-o", "out.jsonl", "-q", "--keep-going"])
        .current_dir(dir.path())
        .env("FEEDWARDEN_MODELS_DIR", &models)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap().lines().count(), 1);
}
