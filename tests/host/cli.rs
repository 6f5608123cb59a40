//! Black-box tests of the `feedwarden` CLI: classify JSONL with the real model, the policy commands
//! on shipped and broken policy files, and `install` / `doctor` / `uninstall` in a throw-away home.

mod common;
#[path = "common/render.rs"]
mod render;

use std::process::{Command, Output};

use serde_json::Value;

fn feedwarden(args: &[&str], models: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden"));
    cmd.args(args).current_dir(common::repo_root());
    if let Some(m) = models {
        cmd.env("FEEDWARDEN_MODELS_DIR", m);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn classify_bundled_example_writes_one_verdict_per_post() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.jsonl");
    let o = feedwarden(&["classify", "examples/feed.jsonl", "-o", out.to_str().unwrap(), "-q"], Some(&models));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let input = std::fs::read_to_string(common::repo_root().join("examples/feed.jsonl")).unwrap();
    let ids: Vec<String> =
        input.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_string()).collect();
    let verdicts: Vec<Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(verdicts.iter().map(|v| v["id"].as_str().unwrap()).collect::<Vec<_>>(), ids);
    for v in &verdicts {
        assert_eq!(v["scores"].as_object().unwrap().len(), 4, "{v}");
        assert!(v.get("rule").is_some() && v["reason"].is_string() && v["action"].is_string());
    }
    // The bundled feed holds both kinds: something is filtered and something is shown.
    assert!(verdicts.iter().any(|v| v["action"] == "show"));
    assert!(verdicts.iter().any(|v| v["action"] != "show"), "{verdicts:?}");
}

/// `classify` judges a post's images as the host does: the text read from an image joins the judged text,
/// and the line carries the protocol's verdict with an `images` array (the old CLI ignored `images`).
#[test]
fn classify_judges_a_posts_images_like_the_host() {
    let Some(models) = render::image_models() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let rage = render::text_image_data_url(&[
        "They want you ANGRY.",
        "Share if you're sick of these",
        "traitors destroying our country!",
    ]);
    let posts = [
        serde_json::json!({"id": "meme", "text": "seen downtown", "images": [rage]}),
        serde_json::json!({"id": "broken", "text": "seen downtown", "images": ["data:image/png;base64,iVBORw0KGgo="]}),
        serde_json::json!({"id": "plain", "text": "seen downtown"}),
    ];
    let lines: Vec<String> = posts.iter().map(Value::to_string).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let o = feedwarden(&["classify", input.to_str().unwrap(), "-q"], Some(&models));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let verdicts: Vec<Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(verdicts.len(), 3, "{verdicts:?}");

    let meme = &verdicts[0];
    let images = meme["images"].as_array().unwrap_or_else(|| panic!("no images in {meme}"));
    assert_eq!(images.len(), 1, "{meme}");
    assert!(images[0]["text"].as_str().unwrap().to_lowercase().contains("angry"), "{meme}");
    assert_eq!(images[0]["sha256"].as_str().unwrap().len(), 64, "{meme}");
    assert!(images[0]["nsfw"].is_number() && images[0]["error"].is_null() && images[0]["clip"] == false, "{meme}");
    // Rage-bait only in the image: the image's text decided, and the reason quotes it.
    assert_eq!(meme["rule"], "rage-bait", "{meme}");
    assert!(meme["reason"].as_str().unwrap().contains("text in the image"), "{meme}");
    assert!(meme["fired"].is_array(), "{meme}");

    let broken = &verdicts[1];
    assert_eq!(broken["images"][0]["error"]["code"], "image-corrupt", "{broken}");
    assert_eq!(broken["action"], verdicts[2]["action"], "a broken image leaves the text verdict: {broken}");
    assert!(verdicts[2].get("images").is_none(), "{}", verdicts[2]);
}

#[test]
fn classify_reports_malformed_lines_and_keeps_going() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"1\",\"text\":\"hello\"}\nnot json\n{\"text\":\"no id\"}\n{\"id\":\"2\",\"text\":\"bye\"}\n",
    )
    .unwrap();
    let o = feedwarden(&["classify", input.to_str().unwrap(), "-q"], Some(&models));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("in.jsonl:2:") && err.contains("in.jsonl:3:"), "{err}");
    let ids: Vec<String> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["1", "2"]);
}

#[test]
fn classify_without_models_says_what_to_run() {
    let empty = tempfile::tempdir().unwrap();
    let o = feedwarden(&["classify", "examples/feed.jsonl", "-q"], Some(empty.path()));
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("ONNX Runtime not found") && err.contains("./setup.sh"), "{err}");
}

#[test]
fn policy_check_points_at_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.toml");
    std::fs::write(&f, "[policy]\nname = \"p\"\n\n[[rule]]\nid = \"a\"\ndescription = \"A\"\naction = \"label\"\ntreshold = 0.5\n\n[[rule]]\nid = \"b\"\ndescription = \"B\"\naction = \"hide\"\n").unwrap();
    let o = feedwarden(&["policy", "check", f.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out.contains(&format!("{}:8:1: error[unknown-key]", f.display())), "{out}");
    assert!(out.contains("did you mean `threshold`"), "{out}");
    assert!(out.contains("the 1 rule(s) without errors still load"), "{out}");
}

#[test]
fn shipped_policies_check_clean_and_are_canonical() {
    let mut files = vec!["policies/defaults.toml".to_string(), "policies/strict.toml".to_string()];
    for e in std::fs::read_dir(common::repo_root().join("policies/examples")).unwrap() {
        files.push(format!("policies/examples/{}", e.unwrap().file_name().to_string_lossy()));
    }
    let args: Vec<&str> = ["policy", "check"].into_iter().chain(files.iter().map(String::as_str)).collect();
    let o = feedwarden(&args, None);
    assert!(o.status.success(), "{}", text(&o.stdout));
    assert!(!text(&o.stdout).contains("warning"), "{}", text(&o.stdout));
    let args: Vec<&str> = ["policy", "fmt", "--check"].into_iter().chain(files.iter().map(String::as_str)).collect();
    let o = feedwarden(&args, None);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}

#[test]
fn policy_fmt_rewrites_to_canonical_form_and_refuses_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.toml");
    std::fs::write(&f, "[policy]\nname='p'\n[[rule]]\naction='blur'\nid='a'\ndescription='A'\n").unwrap();
    let o = feedwarden(&["policy", "fmt", f.to_str().unwrap()], None);
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "[policy]\nname = \"p\"\n\n[[rule]]\nid = \"a\"\ndescription = \"A\"\naction = \"blur\"\n"
    );
    std::fs::write(&f, "[policy]\nname='p'\n[[rule]]\nid='a'\n").unwrap();
    let o = feedwarden(&["policy", "fmt", f.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("fix the errors first"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "[policy]\nname='p'\n[[rule]]\nid='a'\n");
}

/// Every shipped policy's own examples pass with the real model: the policies are tested like code.
#[test]
fn shipped_policy_examples_pass() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let mut files = vec!["policies/defaults.toml".to_string()];
    for e in std::fs::read_dir(common::repo_root().join("policies/examples")).unwrap() {
        files.push(format!("policies/examples/{}", e.unwrap().file_name().to_string_lossy()));
    }
    for f in files {
        let o = feedwarden(&["policy", "test", &f], Some(&models));
        assert!(o.status.success(), "{f}:\n{}{}", text(&o.stdout), text(&o.stderr));
        assert!(text(&o.stdout).contains(", 0 misjudged"));
    }
}

#[test]
fn policy_test_reports_misjudged_examples() {
    let Some(models) = common::models_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.toml");
    std::fs::write(&f, "[policy]\nname = \"p\"\n\n[[rule]]\nid = \"spiders\"\ndescription = \"Posts about spiders\"\naction = \"blur\"\nthreshold = 0.5\nshould_match = [\n    \"the quarterly budget report is due on friday\",\n]\nshould_not_match = [\n    \"a giant hairy spider crawled over my pillow\",\n]\n").unwrap();
    let o = feedwarden(&["policy", "test", f.to_str().unwrap()], Some(&models));
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(out.contains("FAIL should not match") && out.contains("giant hairy spider"), "{out}");
    assert!(out.contains("FAIL should match"), "{out}");
}

/// Keep the protocol document from drifting: every request type and error code is in docs/protocol.md.
#[test]
fn protocol_doc_matches_the_code() {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/protocol.md")).unwrap();
    for t in feedwarden_host::protocol::REQUEST_TYPES {
        assert!(doc.contains(&format!("### `{t}`")), "docs/protocol.md lacks a section for `{t}`");
    }
    for c in feedwarden_host::protocol::ErrorCode::ALL {
        assert!(doc.contains(&format!("| `{}` |", c.as_str())), "docs/protocol.md lacks error code `{}`", c.as_str());
    }
    assert!(doc.contains(&format!("version {}", feedwarden_host::protocol::PROTOCOL_VERSION)));
}

/// `feedwarden` with a throw-away HOME and data folder (`FEEDWARDEN_HOME`), nothing else of the user's.
fn in_home(home: &std::path::Path, args: &[&str], path_var: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwarden"));
    cmd.args(args)
        .current_dir(common::repo_root())
        .env("HOME", home)
        .env("FEEDWARDEN_HOME", home.join("data"))
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME");
    if let Some(p) = path_var {
        cmd.env("PATH", p);
    }
    cmd.output().unwrap()
}

fn install_into_profile(home: &std::path::Path, profile: &std::path::Path) -> Output {
    let host = env!("CARGO_BIN_EXE_feedwarden-host");
    let out = in_home(
        home,
        &["install", "--browser", "chromium", "--user-data-dir", profile.to_str().unwrap(), "--host-path", host],
        None,
    );
    assert!(out.status.success(), "install failed: {}{}", text(&out.stdout), text(&out.stderr));
    out
}

#[test]
fn doctor_finds_a_registration_made_with_user_data_dir_without_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("profile");
    install_into_profile(tmp.path(), &profile);
    let manifest = profile.join("NativeMessagingHosts/org.feedwarden.host.json");
    assert!(manifest.is_file());
    let out = in_home(tmp.path(), &["doctor", "--no-start"], None);
    let report = text(&out.stdout);
    let line = report.lines().find(|l| l.contains(&manifest.display().to_string())).unwrap_or_else(|| {
        panic!("doctor does not mention {}:\n{report}", manifest.display());
    });
    assert!(line.trim_start().starts_with("ok"), "{line}");
    assert!(line.contains("--user-data-dir"), "says which profile: {line}");
    assert!(!report.contains("not registered with any browser"), "{report}");
    assert!(!report.contains("Chromium: installed but the host is not registered"), "{report}");
}

#[test]
fn doctor_warns_when_a_recorded_registration_is_gone_and_uninstall_forgets_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("profile-a"), tmp.path().join("profile-b"));
    install_into_profile(tmp.path(), &a);
    install_into_profile(tmp.path(), &b);
    std::fs::remove_dir_all(&a).unwrap(); // the profile was deleted
    let report = text(&in_home(tmp.path(), &["doctor", "--no-start"], None).stdout);
    let gone = report.lines().find(|l| l.contains(&a.display().to_string())).expect(&report);
    assert!(gone.trim_start().starts_with("warn"), "{gone}");
    assert!(gone.contains(&format!("--user-data-dir '{}'", a.display())), "says how to register it again: {gone}");
    assert!(
        report.lines().any(|l| l.trim_start().starts_with("ok") && l.contains(&b.display().to_string())),
        "{report}"
    );
    // `uninstall` without flags removes what install recorded, and forgets it.
    let out = in_home(tmp.path(), &["uninstall", "--browser", "chromium"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!b.join("NativeMessagingHosts/org.feedwarden.host.json").exists());
    let report = text(&in_home(tmp.path(), &["doctor", "--no-start"], None).stdout);
    assert!(!report.contains("profile-a") && !report.contains("profile-b"), "{report}");
    assert!(report.contains("not registered with any browser"), "{report}");
}

#[test]
fn install_says_where_feedwarden_is_and_how_to_put_it_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_feedwarden")).unwrap();
    let host = env!("CARGO_BIN_EXE_feedwarden-host");
    let args = ["install", "--browser", "chromium", "--user-data-dir", "", "--host-path", host];
    let profile = tmp.path().join("profile");
    let args: Vec<&str> = args.iter().map(|a| if a.is_empty() { profile.to_str().unwrap() } else { a }).collect();
    let out = in_home(tmp.path(), &args, Some("/usr/bin:/bin"));
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(said.contains(&exe.display().to_string()), "names the binary: {said}");
    assert!(said.contains("not on PATH"), "{said}");
    assert!(said.contains(&format!("export PATH=\"{}:$PATH\"", exe.parent().unwrap().display())), "{said}");
    assert!(said.contains("--user-data-dir="), "tells to start the browser with the profile: {said}");
    assert!(said.contains("FEEDWARDEN_HOME is set"), "the browser must have FEEDWARDEN_HOME too: {said}");
    // With its folder on PATH it says so instead.
    let on_path = format!("{}:/usr/bin:/bin", exe.parent().unwrap().display());
    let said = text(&in_home(tmp.path(), &args, Some(&on_path)).stdout);
    assert!(said.contains("(on PATH)") && !said.contains("not on PATH"), "{said}");
}
