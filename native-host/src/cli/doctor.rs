//! `feedwarden doctor`: check the whole chain the browser depends on (host program, ONNX Runtime, every
//! model the manifests know and what to run for a missing one, host manifests, data folder, SQLite, policy) and start the host the way a browser does; say in words
//! what is wrong and what to run.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Args;

use super::install::{
    default_host_path, home_dir, manifest_path, read_registrations, registrations_path, Browser, Registration,
    CHROMIUM_EXTENSION_ID, GECKO_ID,
};
use super::output::outln;
use crate::framing::{read_frame, write_frame, Frame, MAX_REPLY_BYTES};
use crate::images::image_rules::{has_image_part, CLIP_MODEL_ENV, CLIP_VIT_B32, FETCH_HINT};
use crate::images::vlm_stage::{vlm_choice, FETCH_HINT as VLM_FETCH_HINT, SMOLVLM_256M, VLM_MODEL_ENV};
use crate::ort_telemetry;
use crate::paths::Paths;
use crate::policy_store::load_policy_file;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Also check this Chromium-family profile (started with --user-data-dir).
    #[arg(long, value_name = "DIR")]
    pub user_data_dir: Option<std::path::PathBuf>,
    /// Skip starting the host (loading the model takes a moment).
    #[arg(long)]
    pub no_start: bool,
}

#[derive(Default)]
struct Report {
    problems: usize,
    warnings: usize,
}

impl Report {
    fn ok(&mut self, what: &str) {
        outln!("  ok    {what}");
    }
    fn warn(&mut self, what: &str) {
        self.warnings += 1;
        outln!("  warn  {what}");
    }
    fn fail(&mut self, what: &str) {
        self.problems += 1;
        outln!("  FAIL  {what}");
    }
}

impl std::fmt::Debug for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Report({} problems)", self.problems)
    }
}

/// Models the host cannot run without; every other model only enables a part (images, CLIP).
const REQUIRED_MODELS: [&str; 2] = [crate::embedder::MODEL_ID, "onnxruntime"];

pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let mut r = Report::default();
    let paths = Paths::discover();

    outln!("Host program");
    let host = default_host_path()?;
    if host.is_file() {
        r.ok(&format!("{}", host.display()));
    } else {
        r.fail(&format!("{} is missing: build it with `cargo build --release` (or ./setup.sh)", host.display()));
    }

    outln!("Models in {} (from the manifests; `feedwarden models list`)", paths.models_dir.display());
    for m in super::models::manifests() {
        let missing = m.missing_files(&paths.models_dir);
        // ONNX Runtime may live elsewhere (FEEDWARDEN_ORT_LIB).
        let present = missing.is_empty() || (m.id == "onnxruntime" && paths.ort_library.is_file());
        let required = REQUIRED_MODELS.contains(&m.id.as_str());
        if present {
            let at = if m.id == "onnxruntime" { paths.ort_library.display().to_string() } else { m.name.clone() };
            r.ok(&format!("{}: {at}", m.id));
        } else if required {
            r.fail(&format!(
                "{}: missing {} — {} (or set FEEDWARDEN_MODELS_DIR{})",
                m.id,
                missing.join(", "),
                m.how_to_get(),
                if m.id == "onnxruntime" { " / FEEDWARDEN_ORT_LIB" } else { "" }
            ));
        } else {
            let part = match m.id.as_str() {
                CLIP_VIT_B32 => "images are not compared with image descriptions",
                SMOLVLM_256M => "no VLM answers for images CLIP is unsure of, nor describes them",
                _ => "optional",
            };
            r.warn(&format!("{}: missing {} ({part}) — {}", m.id, missing.join(", "), m.how_to_get()));
        }
    }
    if let Ok(choice) = std::env::var(CLIP_MODEL_ENV) {
        r.warn(&format!("{CLIP_MODEL_ENV}={choice} is set: the host uses that CLIP (tiny = random test weights)"));
    }
    match vlm_choice(paths.ort_library.clone(), &paths.models_dir) {
        Ok((id, _)) => r.ok(&format!("VLM for image rules: {id} (loaded when an image rule needs it)")),
        Err(why) => r.warn(&format!("VLM for image rules: none — {why}")),
    }
    if let Ok(choice) = std::env::var(VLM_MODEL_ENV) {
        r.warn(&format!("{VLM_MODEL_ENV}={choice} is set: the host uses that VLM (tiny = random test weights)"));
    }

    match crate::images::ocr::OcrModel::from_env().map(|m| (m.id(), paths.models_dir.join(m.id()).is_dir())) {
        Ok((id, true)) => r.ok(&format!("OCR in use: {id} (FEEDWARDEN_OCR_MODEL)")),
        Ok((id, false)) => r.warn(&format!("OCR in use: {id}, not installed — run models/scripts/setup_models.sh")),
        Err(e) => r.fail(&e),
    }
    check_telemetry(&mut r);
    outln!("Browser registrations");
    let home = home_dir()?;
    let registered = check_registrations(&mut r, &home, &paths.data_dir, args.user_data_dir.as_deref());
    if registered == 0 {
        r.fail("the host is not registered with any browser: run `feedwarden install`");
    }

    outln!("Data folder");
    let data = &paths.data_dir;
    if data.is_dir() {
        r.ok(&format!("{}", data.display()));
    } else {
        r.warn(&format!("{} does not exist yet (the host creates it on first start)", data.display()));
    }
    let db = paths.database();
    if db.exists() {
        match crate::store::Store::check(&db) {
            Ok(n) => r.ok(&format!("SQLite {} ({n} feedback rows)", db.display())),
            Err(e) => r.fail(&format!(
                "SQLite {} cannot be used: {e}. The host still judges posts, but without its cache, and cannot \
                 store feedback: {}",
                db.display(),
                database_fix(&e)
            )),
        }
    } else {
        r.warn(&format!("{} does not exist yet (created on first start)", db.display()));
    }
    let policy = paths.policy_file();
    if policy.exists() {
        let (_, load) = load_policy_file(&policy, None);
        let errors: Vec<_> = load.diagnostics.iter().filter(|d| d.is_error()).collect();
        match (&load.policy, errors.is_empty()) {
            (Some(p), true) => {
                r.ok(&format!("policy {} ({} rules)", policy.display(), p.rules.len()));
                let clip_present = super::models::find_manifest(CLIP_VIT_B32)
                    .is_ok_and(|m| m.missing_files(&paths.models_dir).is_empty())
                    || vlm_choice(paths.ort_library.clone(), &paths.models_dir).is_ok();
                for rule in p.enabled_rules().filter(|r| has_image_part(r)).filter(|_| !clip_present) {
                    r.warn(&format!(
                        "rule \"{}\" has an image_description, but neither CLIP nor a VLM is installed: its images \
                         are not judged (its text is); run `{FETCH_HINT}` (or `{VLM_FETCH_HINT}`)",
                        rule.id
                    ));
                }
            }
            (Some(_), false) => r.warn(&format!(
                "policy {} has {} error(s), those rules are left out: {}; see `feedwarden policy check {}`",
                policy.display(),
                errors.len(),
                errors[0],
                policy.display()
            )),
            (None, _) => r.fail(&format!(
                "policy {} cannot be loaded; fix it (`feedwarden policy check {}`) or delete it to use the defaults",
                policy.display(),
                policy.display()
            )),
        }
    } else {
        r.ok("no policy.toml yet: the shipped defaults apply");
    }

    if !args.no_start && host.is_file() {
        outln!("Starting the host as a browser would");
        match start_host(&host) {
            Ok(line) => r.ok(&line),
            Err(e) => r.fail(&e),
        }
    }

    outln!();
    if r.problems == 0 {
        outln!(
            "All good{}.",
            if r.warnings > 0 { format!(" ({} warning(s) above)", r.warnings) } else { String::new() }
        );
        Ok(ExitCode::SUCCESS)
    } else {
        outln!("{} problem(s) found; the lines marked FAIL say what to do.", r.problems);
        Ok(ExitCode::from(1))
    }
}

/// ONNX Runtime's telemetry: off in this program (set before the library loads), and no files left by older
/// versions of Feedwarden (or other programs built on ONNX Runtime) that ran with it on.
fn check_telemetry(r: &mut Report) {
    outln!("Privacy");
    if ort_telemetry::is_disabled() {
        r.ok(&format!(
            "ONNX Runtime telemetry is off ({}=1 is set by the host and the CLI)",
            ort_telemetry::DISABLE_ENV
        ));
    } else {
        r.fail(&format!("ONNX Runtime telemetry is not switched off ({} is not 1)", ort_telemetry::DISABLE_ENV));
    }
    let Some(dir) = ort_telemetry::telemetry_dir() else { return };
    let files = ort_telemetry::leftover_files(&dir);
    if !files.is_empty() {
        let names: Vec<String> =
            files.iter().map(|f| f.file_name().unwrap_or_default().to_string_lossy().into_owned()).collect();
        r.warn(&format!(
            "ONNX Runtime telemetry files found in {} ({}): written by an older Feedwarden or another program \
             that ran ONNX Runtime with telemetry on (this version writes none); remove them with `rm -r '{}'`",
            dir.display(),
            names.join(", "),
            dir.display()
        ));
    }
}

/// Check the host manifests in every browser's user-level folder, in the profile given with `--user-data-dir`,
/// and every registration `feedwarden install` recorded in the data folder (so profiles registered with
/// `--user-data-dir` are found without the flag). Returns how many manifests exist.
fn check_registrations(r: &mut Report, home: &Path, data_dir: &Path, user_data_dir: Option<&Path>) -> usize {
    let recorded = read_registrations(data_dir).unwrap_or_else(|e| {
        r.warn(&format!("{e}; run `feedwarden install` again to rewrite it"));
        Vec::new()
    });
    let mut targets: Vec<(Browser, std::path::PathBuf, Option<&Registration>)> =
        Browser::ALL.iter().map(|b| (*b, manifest_path(*b, home, None), None)).collect();
    if let Some(d) = user_data_dir {
        targets.push((Browser::Chromium, manifest_path(Browser::Chromium, home, Some(d)), None));
    }
    for reg in &recorded {
        let b = reg.browser().unwrap_or(Browser::Chromium);
        match targets.iter_mut().find(|(_, p, _)| *p == reg.manifest) {
            Some(t) => t.2 = Some(reg),
            None => targets.push((b, reg.manifest.clone(), Some(reg))),
        }
    }
    // A browser registered in a profile of its own is not "installed but not registered".
    let registered_somewhere: Vec<Browser> =
        targets.iter().filter(|(_, p, _)| p.exists()).map(|(b, _, _)| *b).collect();
    let mut registered = 0;
    for (b, path, reg) in targets {
        if !path.exists() {
            if let Some(reg) = reg {
                r.warn(&format!(
                    "{}: {} was registered (recorded in {}) but is gone: run `{}` (or `feedwarden uninstall` to \
                     forget it)",
                    b.name(),
                    path.display(),
                    registrations_path(data_dir).display(),
                    reg.install_command()
                ));
            } else if b.present(home) && path == manifest_path(b, home, None) && !registered_somewhere.contains(&b) {
                r.warn(&format!(
                    "{}: installed but the host is not registered: run `feedwarden install --browser {}`",
                    b.name(),
                    b.name().to_lowercase()
                ));
            }
            continue;
        }
        registered += 1;
        let profile = reg
            .and_then(|x| x.user_data_dir.as_deref())
            .map(|d| format!(", for the profile started with --user-data-dir={}", d.display()))
            .unwrap_or_default();
        match check_manifest(b, &path) {
            Ok(note) => r.ok(&format!("{}: {} ({note}{profile})", b.name(), path.display())),
            Err(e) => r.fail(&format!(
                "{}: {}: {e}; run `{}` again",
                b.name(),
                path.display(),
                reg.map(Registration::install_command).unwrap_or_else(|| "feedwarden install".into())
            )),
        }
    }
    registered
}

fn check_manifest(b: Browser, path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let m: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))?;
    let host = m["path"].as_str().ok_or("it has no `path`")?;
    if !Path::new(host).is_file() {
        return Err(format!("it points at {host}, which does not exist"));
    }
    if b.is_firefox() {
        let ok = m["allowed_extensions"].as_array().is_some_and(|a| a.iter().any(|x| x == GECKO_ID));
        if !ok {
            return Err(format!("`allowed_extensions` does not list {GECKO_ID}"));
        }
    } else {
        let want = format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/");
        let ok = m["allowed_origins"].as_array().is_some_and(|a| a.iter().any(|x| x == want.as_str()));
        if !ok {
            return Err(format!("`allowed_origins` does not list {want}"));
        }
    }
    Ok(format!("→ {host}"))
}

/// What to do about a database `Store::check` refused.
fn database_fix(problem: &str) -> &'static str {
    if problem.contains("read-only") || problem.contains("readonly") {
        "make the file and its folder writable by you"
    } else if problem.contains("locked") || problem.contains("busy") {
        "another program holds it (another feedwarden-host?); close it and try again"
    } else if problem.contains("newer Feedwarden") {
        "upgrade Feedwarden"
    } else {
        "move it aside (your feedback is in it) and the host starts a fresh one"
    }
}

/// Spawn the host with the origin argument a browser passes, say hello, and read the answer.
fn start_host(host: &Path) -> Result<String, String> {
    let t0 = Instant::now();
    let mut child = Command::new(host)
        .arg(format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", host.display()))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let hello = br#"{"type":"hello","request_id":1,"protocols":[1],"client":"feedwarden-doctor"}"#;
    write_frame(&mut stdin, hello).map_err(|e| format!("the host did not accept a message: {e}"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_frame(&mut stdout, MAX_REPLY_BYTES));
    });
    let reply = rx.recv_timeout(Duration::from_secs(30));
    drop(stdin);
    let _ = child.kill();
    let out = child.wait_with_output().ok();
    let stderr = out.map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string()).unwrap_or_default();
    let body = match reply {
        Ok(Ok(Frame::Message(b))) => b,
        Ok(Ok(_)) | Ok(Err(_)) => return Err(format!("the host exited without answering: {stderr}")),
        Err(_) => return Err("the host did not answer within 30 s".to_string()),
    };
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("the host answered garbage: {e}"))?;
    if v["ready"] == true {
        super::output::flush();
        Ok(format!(
            "{} {} answered in {} ms, model ready on {}",
            v["host"].as_str().unwrap_or("host"),
            v["version"].as_str().unwrap_or(""),
            t0.elapsed().as_millis(),
            v["provider"].as_str().unwrap_or("?")
        ))
    } else {
        Err(format!("the host runs but its model is not ready: {}", v["error"].as_str().unwrap_or("unknown error")))
    }
}
