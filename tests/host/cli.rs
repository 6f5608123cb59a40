//! Black-box tests of the `feedwarden` CLI: classify JSONL with the real model, and the policy commands
//! on shipped and broken policy files.

mod common;

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
        assert_eq!(v["scores"].as_object().unwrap().len(), 3, "{v}");
        assert!(v.get("rule").is_some() && v["reason"].is_string() && v["action"].is_string());
    }
    // The bundled feed holds both kinds: something is filtered and something is shown.
    assert!(verdicts.iter().any(|v| v["action"] == "show"));
    assert!(verdicts.iter().any(|v| v["action"] != "show"), "{verdicts:?}");
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
