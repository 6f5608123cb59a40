//! Resolve a parsed policy into the rules that run: follow `extends` (shipped policies and files),
//! replace inherited rules of the same id, apply `[[override]]`s, and keep the last good version of a rule
//! that is broken in the new text.

use serde::Serialize;

use super::{Diagnostic, ParsedPolicy, Rule, Severity};

/// Policies compiled into every build, usable as `extends = ["feedwarden:<name>"]`.
pub const BUILTIN_POLICIES: [(&str, &str); 2] = [
    ("defaults", include_str!("../../../policies/defaults.toml")),
    ("strict", include_str!("../../../policies/strict.toml")),
];

/// The prefix that names a shipped policy in `extends`.
pub const BUILTIN_PREFIX: &str = "feedwarden:";

/// Source of a shipped policy by its `extends` name (`feedwarden:defaults`).
pub fn builtin_policy_source(name: &str) -> Option<&'static str> {
    let short = name.strip_prefix(BUILTIN_PREFIX)?;
    BUILTIN_POLICIES.iter().find(|(n, _)| *n == short).map(|(_, src)| *src)
}

/// The rules that run, after inheritance, and a hash that changes whenever any of them does.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EffectivePolicy {
    pub name: String,
    pub version: Option<String>,
    /// Every rule, in precedence order for ties (inherited first), disabled ones included.
    pub rules: Vec<Rule>,
    /// SHA-256 of the rules' canonical JSON: part of every verdict cache key.
    pub hash: String,
}

impl EffectivePolicy {
    /// Build from rules directly (computes the hash).
    pub fn from_rules(name: &str, version: Option<String>, rules: Vec<Rule>) -> Self {
        let json = serde_json::to_vec(&rules).expect("rules serialize");
        let hash = crate::sha256_hex(&json);
        EffectivePolicy { name: name.to_string(), version, rules, hash }
    }

    pub fn enabled_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.is_enabled())
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Category ids the enabled rules need scores for, each once, in rule order.
    pub fn active_categories(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in self.enabled_rules() {
            if !out.contains(&r.category_id()) {
                out.push(r.category_id());
            }
        }
        out
    }
}

/// What resolving produced.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub policy: EffectivePolicy,
    /// Diagnostics of this file and of every file it extends.
    pub diagnostics: Vec<Diagnostic>,
}

const MAX_EXTENDS_DEPTH: usize = 8;

fn diag(
    file: Option<&str>,
    line: usize,
    rule: Option<&str>,
    severity: Severity,
    code: &str,
    message: String,
) -> Diagnostic {
    Diagnostic {
        severity,
        code: code.to_string(),
        file: file.map(str::to_string),
        line,
        column: 1,
        rule: rule.map(str::to_string),
        message,
    }
}

/// Resolve `parsed` (from the file called `file`). `load` returns the text of a non-built-in `extends`
/// entry (the host reads it relative to the extending file; the browser has none). `previous` is the
/// policy that was active before this text, whose rules stand in for broken ones.
pub fn resolve(
    parsed: &ParsedPolicy,
    file: Option<&str>,
    load: &mut dyn FnMut(&str) -> Result<String, String>,
    previous: Option<&EffectivePolicy>,
) -> Resolution {
    let mut diagnostics = parsed.diagnostics.clone();
    let mut stack = vec![file.unwrap_or("<policy>").to_string()];
    let mut rules = Vec::new();
    for name in parsed.file.header.extends.iter().flatten() {
        let base = load_base(name, file, parsed.extends_line.max(1), load, &mut stack, &mut diagnostics);
        merge(&mut rules, base);
    }
    // Own rules in file order, with last good versions standing in for broken ones.
    let mut ordered: Vec<(usize, Rule)> = parsed.file.rules.iter().map(|r| (r.line, r.clone())).collect();
    for broken in &parsed.broken_rules {
        let kept = broken.id.as_deref().and_then(|id| previous.and_then(|p| p.rule(id)));
        if let Some(rule) = kept {
            diagnostics.push(diag(
                file,
                broken.line,
                Some(&rule.id),
                Severity::Warning,
                "kept-last-good",
                format!("rule \"{}\" has errors, so its last good version stays active until you fix them", rule.id),
            ));
            ordered.push((broken.line, rule.clone()));
        }
    }
    ordered.sort_by_key(|(line, _)| *line);
    let ordered: Vec<Rule> = ordered.into_iter().map(|(_, r)| r).collect();
    merge(&mut rules, ordered);
    apply_overrides(parsed, file, &mut rules, &mut diagnostics);
    let header = &parsed.file.header;
    Resolution { policy: EffectivePolicy::from_rules(&header.name, header.version.clone(), rules), diagnostics }
}

/// Append `new` rules; a rule whose id is already present replaces it in place.
fn merge(rules: &mut Vec<Rule>, new: Vec<Rule>) {
    for r in new {
        match rules.iter_mut().find(|x| x.id == r.id) {
            Some(slot) => *slot = r,
            None => rules.push(r),
        }
    }
}

fn load_base(
    name: &str,
    from: Option<&str>,
    line: usize,
    load: &mut dyn FnMut(&str) -> Result<String, String>,
    stack: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Rule> {
    let mut fail = |code: &str, message: String| {
        diagnostics.push(diag(from, line, None, Severity::Error, code, message));
        Vec::new()
    };
    if stack.iter().any(|s| s == name) || stack.len() > MAX_EXTENDS_DEPTH {
        return fail(
            "extends-cycle",
            format!(
                "\"{name}\" extends itself (chain: {} → {name}); remove one of the `extends` entries",
                stack.join(" → ")
            ),
        );
    }
    let source = match builtin_policy_source(name) {
        Some(src) => src.to_string(),
        None if name.starts_with(BUILTIN_PREFIX) => {
            let known: Vec<String> = BUILTIN_POLICIES.iter().map(|(n, _)| format!("{BUILTIN_PREFIX}{n}")).collect();
            return fail(
                "extends-not-found",
                format!("there is no shipped policy \"{name}\"; shipped policies are {}", known.join(", ")),
            );
        }
        None => match load(name) {
            Ok(src) => src,
            Err(why) => {
                return fail(
                    "extends-not-found",
                    format!("cannot read extended policy \"{name}\": {why}; check the path (relative to this file)"),
                )
            }
        },
    };
    let parsed = super::parse_policy(&source, Some(name));
    diagnostics.extend(parsed.diagnostics.iter().cloned());
    stack.push(name.to_string());
    let mut rules = Vec::new();
    for base in parsed.file.header.extends.iter().flatten() {
        let inherited = load_base(base, Some(name), parsed.extends_line.max(1), load, stack, diagnostics);
        merge(&mut rules, inherited);
    }
    stack.pop();
    merge(&mut rules, parsed.file.rules.clone());
    apply_overrides(&parsed, Some(name), &mut rules, diagnostics);
    rules
}

fn apply_overrides(parsed: &ParsedPolicy, file: Option<&str>, rules: &mut [Rule], diagnostics: &mut Vec<Diagnostic>) {
    for ov in &parsed.file.overrides {
        let Some(rule) = rules.iter_mut().find(|r| r.id == ov.rule) else {
            let known: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
            diagnostics.push(diag(
                file,
                ov.line,
                Some(&ov.rule),
                Severity::Warning,
                "unknown-rule",
                format!(
                    "override names rule \"{}\", which no extended policy defines (known: {}); it has no effect",
                    ov.rule,
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
            ));
            continue;
        };
        if let Some(a) = ov.action {
            rule.action = a;
        }
        if ov.threshold.is_some() {
            rule.threshold = ov.threshold;
        }
        if ov.enabled.is_some() {
            rule.enabled = ov.enabled;
        }
        if ov.sites.is_some() {
            rule.sites = ov.sites.clone();
        }
        if let Some(extra) = &ov.except_authors {
            rule.except_authors.get_or_insert_with(Vec::new).extend(extra.iter().cloned());
        }
        if ov.except_followed.is_some() {
            rule.except_followed = ov.except_followed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_policy, Action, Threshold};
    use super::*;

    fn no_files(_: &str) -> Result<String, String> {
        Err("no files in this test".into())
    }

    #[test]
    fn shipped_policies_parse_cleanly() {
        for (name, src) in BUILTIN_POLICIES {
            let p = parse_policy(src, Some(name));
            assert!(p.diagnostics.is_empty(), "{name}: {:?}", p.diagnostics);
            assert_eq!(super::super::format_policy(&p.file), src, "{name} is not in canonical form");
        }
    }

    #[test]
    fn override_changes_an_inherited_threshold() {
        let src = "[policy]\nname = \"mine\"\nextends = [\"feedwarden:defaults\"]\n\n[[override]]\nrule = \"rage-bait\"\nthreshold = 0.9\naction = \"hide\"\n";
        let r = resolve(&parse_policy(src, None), None, &mut no_files, None);
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        let rage = r.policy.rule("rage-bait").unwrap();
        assert_eq!(rage.threshold, Some(Threshold::Value(0.9)));
        assert_eq!(rage.action, Action::Hide);
        assert!(r.policy.rule("clickbait").is_some());
    }

    #[test]
    fn own_rule_replaces_inherited_one_and_hash_changes() {
        let base = "[policy]\nname = \"mine\"\nextends = [\"feedwarden:defaults\"]\n";
        let a = resolve(&parse_policy(base, None), None, &mut no_files, None);
        let src = format!(
            "{base}\n[[rule]]\nid = \"rage-bait\"\ndescription = \"x\"\ncategory = \"rage-bait\"\naction = \"label\"\n"
        );
        let b = resolve(&parse_policy(&src, None), None, &mut no_files, None);
        assert_eq!(b.policy.rule("rage-bait").unwrap().action, Action::Label);
        assert_eq!(a.policy.rules.len(), b.policy.rules.len());
        assert_ne!(a.policy.hash, b.policy.hash);
    }

    #[test]
    fn broken_rule_keeps_last_good_version() {
        let good = "[policy]\nname = \"p\"\n\n[[rule]]\nid = \"a\"\ndescription = \"A\"\naction = \"blur\"\n\n[[rule]]\nid = \"b\"\ndescription = \"B\"\naction = \"label\"\n";
        let prev = resolve(&parse_policy(good, None), None, &mut no_files, None).policy;
        let bad = good.replace("action = \"blur\"", "action = \"blurr\"");
        let r = resolve(&parse_policy(&bad, None), None, &mut no_files, Some(&prev));
        let ids: Vec<&str> = r.policy.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(r.policy.rule("a").unwrap().action, Action::Blur);
        assert!(r.diagnostics.iter().any(|d| d.code == "kept-last-good" && d.line == 4));
        // Without a previous policy the broken rule is simply absent.
        let r = resolve(&parse_policy(&bad, None), None, &mut no_files, None);
        assert_eq!(r.policy.rules.len(), 1);
    }

    #[test]
    fn extends_errors_are_reported() {
        let src = "[policy]\nname = \"p\"\nextends = [\"feedwarden:nope\", \"missing.toml\"]\n\n[[override]]\nrule = \"ghost\"\nenabled = false\n";
        let r = resolve(&parse_policy(src, Some("p.toml")), Some("p.toml"), &mut no_files, None);
        let codes: Vec<(&str, usize)> = r.diagnostics.iter().map(|d| (d.code.as_str(), d.line)).collect();
        assert_eq!(codes, [("extends-not-found", 3), ("extends-not-found", 3), ("unknown-rule", 5)]);
    }

    #[test]
    fn cycles_are_detected() {
        let mut load = |name: &str| -> Result<String, String> {
            Ok(format!("[policy]\nname = \"{name}\"\nextends = [\"a.toml\"]\n"))
        };
        let src = "[policy]\nname = \"p\"\nextends = [\"a.toml\"]\n";
        let r = resolve(&parse_policy(src, Some("p.toml")), Some("p.toml"), &mut load, None);
        assert!(r.diagnostics.iter().any(|d| d.code == "extends-cycle"), "{:?}", r.diagnostics);
    }
}
