//! Resolve a parsed policy into the rules that run: follow `extends` (shipped policies and files),
//! replace inherited rules of the same id, apply `[[override]]`s, and keep the last good version of a rule
//! that is broken in the new text.

use std::collections::HashMap;

use serde::Serialize;

use super::limits::{
    bound_diagnostics, MAX_DIAGNOSTICS, MAX_EXTENDED_FILES, MAX_EXTENDS_DEPTH, MAX_EXTENDS_FOLLOWED, MAX_RULES,
};
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
    /// Diagnostics of this file and of every file it extends (at most [`MAX_DIAGNOSTICS`] and a count of
    /// the rest).
    pub diagnostics: Vec<Diagnostic>,
}

/// A file an `extends` entry named, as the caller's loader read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedFile {
    /// The file's identity, its canonical path: every spelling of one file (`a.toml`, `./a.toml`, a link)
    /// gives the same key, so cycles are found and each file is resolved once. Diagnostics name the file by
    /// it, and relative `extends` and `image_examples` inside the file are taken from its folder.
    pub key: String,
    pub source: String,
}

/// Reads what an `extends` entry names: called with the entry and the key of the file it is written in
/// (`None` for the policy being resolved, whose folder the caller knows). The host reads files (regular files
/// of at most [`MAX_POLICY_BYTES`]); the browser has none.
pub type Loader<'a> = dyn FnMut(&str, Option<&str>) -> Result<LoadedFile, String> + 'a;

/// A loader with no files: every path in `extends` is reported as unreadable (shipped policies still load).
pub fn no_files(name: &str, _from: Option<&str>) -> Result<LoadedFile, String> {
    Err(format!("\"{name}\" is a file, and only shipped policies (feedwarden:…) can be extended here"))
}

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

/// Resolve `parsed` (from the file called `file`). `load` reads non-built-in `extends` entries (see
/// [`Loader`]). `previous` is the policy that was active before this text, whose rules stand in for broken
/// ones. Whatever the files say, the work is bounded by the limits in [`super::limits`].
pub fn resolve(
    parsed: &ParsedPolicy,
    file: Option<&str>,
    load: &mut Loader<'_>,
    previous: Option<&EffectivePolicy>,
) -> Resolution {
    let mut resolver = Resolver {
        load,
        stack: vec![file.unwrap_or("<policy>").to_string()],
        resolved: HashMap::new(),
        spellings: HashMap::new(),
        files_read: 0,
        followed: 0,
        diagnostics: parsed.diagnostics.clone(),
    };
    let mut rules = resolver.inherited(parsed, file, None);
    // Own rules in file order, with last good versions standing in for broken ones.
    let mut ordered: Vec<(usize, Rule)> = parsed.file.rules.iter().map(|r| (r.line, r.clone())).collect();
    for broken in &parsed.broken_rules {
        let kept = broken.id.as_deref().and_then(|id| previous.and_then(|p| p.rule(id)));
        if let Some(rule) = kept {
            resolver.diagnostics.push(diag(
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
    rules.merge(ordered.into_iter().map(|(_, r)| r), file, &mut resolver.diagnostics);
    apply_overrides(parsed, file, &mut rules, &mut resolver.diagnostics);
    let header = &parsed.file.header;
    Resolution {
        policy: EffectivePolicy::from_rules(&header.name, header.version.clone(), rules.rules),
        diagnostics: bound_diagnostics(resolver.diagnostics, MAX_DIAGNOSTICS),
    }
}

/// Rules by id, in precedence order, at most [`MAX_RULES`].
#[derive(Debug, Clone, Default)]
struct RuleSet {
    rules: Vec<Rule>,
    index: HashMap<String, usize>,
}

impl RuleSet {
    /// Append `new` rules; a rule whose id is already present replaces it in place. Rules past
    /// [`MAX_RULES`] are left out with one error, reported in `file` at the first one's line.
    fn merge(&mut self, new: impl IntoIterator<Item = Rule>, file: Option<&str>, diagnostics: &mut Vec<Diagnostic>) {
        let mut left_out: Option<(usize, usize)> = None;
        for r in new {
            if let Some(&i) = self.index.get(&r.id) {
                self.rules[i] = r;
            } else if self.rules.len() < MAX_RULES {
                self.index.insert(r.id.clone(), self.rules.len());
                self.rules.push(r);
            } else {
                let (_, n) = left_out.get_or_insert((r.line, 0));
                *n += 1;
            }
        }
        if let Some((line, n)) = left_out {
            diagnostics.push(diag(
                file,
                line.max(1),
                None,
                Severity::Error,
                "too-many-rules",
                format!(
                    "a policy may have at most {MAX_RULES} rules, inherited ones included; {n} rule(s) from here on are left out"
                ),
            ));
        }
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Rule> {
        self.index.get(id).map(|&i| &mut self.rules[i])
    }
}

/// The state of one resolution: the chain of files being resolved (for cycles), the files resolved so far
/// (each is read and resolved once, however often it is extended) and the budgets spent.
struct Resolver<'l, 'a> {
    load: &'l mut Loader<'a>,
    /// Keys of the files being resolved, outermost first.
    stack: Vec<String>,
    /// Key → the file's rules after its own inheritance.
    resolved: HashMap<String, RuleSet>,
    /// (key of the extending file, entry as written) → key of the file it named: a spelling met again is
    /// not read again.
    spellings: HashMap<(Option<String>, String), String>,
    files_read: usize,
    followed: usize,
    diagnostics: Vec<Diagnostic>,
}

impl Resolver<'_, '_> {
    /// The rules `parsed` inherits through its `extends` (`file` names it in diagnostics; `key` is its
    /// identity for the loader, `None` for the policy being resolved).
    fn inherited(&mut self, parsed: &ParsedPolicy, file: Option<&str>, key: Option<&str>) -> RuleSet {
        let line = parsed.extends_line.max(1);
        let mut rules = RuleSet::default();
        let mut seen: Vec<&str> = Vec::new();
        for name in parsed.file.header.extends.iter().flatten() {
            if seen.contains(&name.as_str()) {
                self.diagnostics.push(diag(
                    file,
                    line,
                    None,
                    Severity::Warning,
                    "extends-duplicate",
                    format!("\"{name}\" is listed twice in `extends`; the second entry changes nothing, remove it"),
                ));
                continue;
            }
            seen.push(name);
            if let Some(base) = self.base(name, file, key, line) {
                rules.merge(base.rules, file, &mut self.diagnostics);
            }
        }
        rules
    }

    fn fail(&mut self, file: Option<&str>, line: usize, code: &str, message: String) -> Option<RuleSet> {
        self.diagnostics.push(diag(file, line, None, Severity::Error, code, message));
        None
    }

    /// The rules of the policy `name` names (written in `file`, whose key is `from`), resolved.
    fn base(&mut self, name: &str, file: Option<&str>, from: Option<&str>, line: usize) -> Option<RuleSet> {
        self.followed += 1;
        if self.followed > MAX_EXTENDS_FOLLOWED {
            return self.fail(
                file,
                line,
                "extends-limit",
                format!(
                    "\"{name}\" is left out: resolving this policy follows more than {MAX_EXTENDS_FOLLOWED} `extends` entries in all; extend fewer policies"
                ),
            );
        }
        if self.stack.len() > MAX_EXTENDS_DEPTH {
            let chain = self.chain();
            return self.fail(
                file,
                line,
                "extends-too-deep",
                format!(
                    "\"{name}\" is left out: `extends` chains may be at most {MAX_EXTENDS_DEPTH} files deep ({chain} → {name}); extend the policy you need directly"
                ),
            );
        }
        let (key, source) = match builtin_policy_source(name) {
            Some(src) => (name.to_string(), src.to_string()),
            None if name.starts_with(BUILTIN_PREFIX) => {
                let known: Vec<String> = BUILTIN_POLICIES.iter().map(|(n, _)| format!("{BUILTIN_PREFIX}{n}")).collect();
                return self.fail(
                    file,
                    line,
                    "extends-not-found",
                    format!("there is no shipped policy \"{name}\"; shipped policies are {}", known.join(", ")),
                );
            }
            None => {
                let spelling = (from.map(str::to_string), name.to_string());
                match self.spellings.get(&spelling).cloned() {
                    // Read before under this spelling from the same file: being resolved, or done.
                    Some(key) if self.stack.contains(&key) => return self.cycle(name, &key, file, line),
                    Some(key) if self.resolved.contains_key(&key) => return self.resolved.get(&key).cloned(),
                    _ => {
                        if self.files_read >= MAX_EXTENDED_FILES {
                            return self.fail(
                                file,
                                line,
                                "extends-limit",
                                format!(
                                    "\"{name}\" is left out: a policy may read at most {MAX_EXTENDED_FILES} files through `extends`"
                                ),
                            );
                        }
                        self.files_read += 1;
                        match (self.load)(name, from) {
                            Ok(loaded) => {
                                self.spellings.insert(spelling, loaded.key.clone());
                                (loaded.key, loaded.source)
                            }
                            Err(why) => {
                                return self.fail(
                                    file,
                                    line,
                                    "extends-not-found",
                                    format!(
                                        "cannot read extended policy \"{name}\": {why}; check the path (relative to this file)"
                                    ),
                                )
                            }
                        }
                    }
                }
            }
        };
        if self.stack.contains(&key) {
            return self.cycle(name, &key, file, line);
        }
        if let Some(done) = self.resolved.get(&key) {
            return Some(done.clone());
        }
        let mut parsed = super::parse_policy(&source, Some(&key));
        drop(source);
        if !key.starts_with(BUILTIN_PREFIX) {
            relative_to_file(&mut parsed.file.rules, &key);
        }
        self.diagnostics.append(&mut parsed.diagnostics);
        self.stack.push(key.clone());
        let mut rules = self.inherited(&parsed, Some(&key), Some(&key));
        self.stack.pop();
        rules.merge(parsed.file.rules.iter().cloned(), Some(&key), &mut self.diagnostics);
        apply_overrides(&parsed, Some(&key), &mut rules, &mut self.diagnostics);
        self.resolved.insert(key, rules.clone());
        Some(rules)
    }

    fn cycle(&mut self, name: &str, key: &str, file: Option<&str>, line: usize) -> Option<RuleSet> {
        let chain = self.chain();
        self.fail(
            file,
            line,
            "extends-cycle",
            format!("\"{name}\" extends itself (chain: {chain} → {key}); remove one of the `extends` entries"),
        )
    }

    fn chain(&self) -> String {
        self.stack.join(" → ")
    }
}

/// Make the relative `image_examples` of an extended file's rules relative to that file's folder (they are
/// written relative to it; the caller reads them relative to the top policy's folder, or as absolute paths).
fn relative_to_file(rules: &mut [Rule], key: &str) {
    let Some(dir) = std::path::Path::new(key).parent() else { return };
    for rule in rules {
        for example in rule.image_examples.iter_mut().flatten() {
            if std::path::Path::new(example.as_str()).is_relative() {
                *example = dir.join(example.as_str()).display().to_string();
            }
        }
    }
}

/// Ids listed in an `unknown-rule` warning at most (the rest are counted): the list must not grow with the
/// product of rules and overrides.
const KNOWN_IDS_LISTED: usize = 10;

fn apply_overrides(parsed: &ParsedPolicy, file: Option<&str>, rules: &mut RuleSet, diagnostics: &mut Vec<Diagnostic>) {
    for ov in &parsed.file.overrides {
        let Some(rule) = rules.get_mut(&ov.rule) else {
            let known = known_ids(&rules.rules);
            diagnostics.push(diag(
                file,
                ov.line,
                Some(&ov.rule),
                Severity::Warning,
                "unknown-rule",
                format!(
                    "override names rule \"{}\", which no extended policy defines (known: {known}); it has no effect",
                    ov.rule,
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

/// "a, b, c" — at most [`KNOWN_IDS_LISTED`] ids, then how many more.
fn known_ids(rules: &[Rule]) -> String {
    if rules.is_empty() {
        return "none".to_string();
    }
    let listed: Vec<&str> = rules.iter().take(KNOWN_IDS_LISTED).map(|r| r.id.as_str()).collect();
    match rules.len().saturating_sub(KNOWN_IDS_LISTED) {
        0 => listed.join(", "),
        more => format!("{} and {more} more", listed.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_policy, Action, Threshold};
    use super::*;

    use crate::policy::fuzz::MemoryFiles;
    use crate::policy::limits::MAX_DIAGNOSTICS;

    /// Resolve the first of `files` with the others readable through `extends`; also returns the reads.
    fn resolve_files(files: &[(&str, &str)]) -> (Resolution, usize) {
        let mut folder = MemoryFiles::new(files);
        let (name, src) = files[0];
        let parsed = parse_policy(src, Some(name));
        let r = resolve(&parsed, Some(name), &mut |n: &str, f: Option<&str>| folder.load(n, f), None);
        (r, folder.reads)
    }

    fn rule_src(id: &str) -> String {
        format!("\n[[rule]]\nid = \"{id}\"\ndescription = \"{id}\"\naction = \"label\"\n")
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
        let (r, _) = resolve_files(&[
            ("/p/policy.toml", "[policy]\nname = \"p\"\nextends = [\"a.toml\"]\n"),
            ("/p/a.toml", "[policy]\nname = \"a\"\nextends = [\"a.toml\"]\n"),
        ]);
        assert!(r.diagnostics.iter().any(|d| d.code == "extends-cycle"), "{:?}", r.diagnostics);
    }

    /// Cycles are found by the file, not by how its path is spelled: ten spellings of one file used to be
    /// followed ten ways at every level, 10^8 reads (the host never started).
    #[test]
    fn spellings_of_one_file_are_one_file() {
        let spellings: Vec<String> = (0..10).map(|i| format!("\"{}a.toml\"", "./".repeat(i))).collect();
        let a = format!("[policy]\nname = \"a\"\nextends = [{}]\n{}", spellings.join(", "), rule_src("a1"));
        let files = [("/p/policy.toml", "[policy]\nname = \"p\"\nextends = [\"a.toml\"]\n"), ("/p/a.toml", &a)];
        let mut folder = MemoryFiles::new(&files);
        let parsed = parse_policy(files[0].1, Some(files[0].0));
        let mut load = |n: &str, f: Option<&str>| {
            assert!(folder.reads < 1_000, "the resolver reads the same file over and over");
            folder.load(n, f)
        };
        let r = resolve(&parsed, Some(files[0].0), &mut load, None);
        assert!(folder.reads <= 11, "{} reads", folder.reads);
        assert_eq!(r.policy.rules.len(), 1);
        let cycles = r.diagnostics.iter().filter(|d| d.code == "extends-cycle").count();
        assert_eq!(cycles, 10, "{:?}", r.diagnostics);
    }

    /// A file extended from many places is read and resolved once, and its problems are reported once.
    #[test]
    fn a_file_extended_twice_is_read_once() {
        let common = format!("[policy]\nname = \"common\"\n{}\n[[rule]]\nid = \"bad\"\n", rule_src("c1"));
        let (r, reads) = resolve_files(&[
            ("/p/policy.toml", "[policy]\nname = \"p\"\nextends = [\"a.toml\", \"b.toml\", \"common.toml\"]\n"),
            ("/p/a.toml", "[policy]\nname = \"a\"\nextends = [\"common.toml\"]\n"),
            ("/p/b.toml", "[policy]\nname = \"b\"\nextends = [\"./common.toml\"]\n"),
            ("/p/common.toml", &common),
        ]);
        assert_eq!(reads, 5, "each entry of each file once (common.toml three times, from three files)");
        assert_eq!(r.policy.rules.len(), 1);
        let missing = r.diagnostics.iter().filter(|d| d.code == "missing-key").count();
        assert_eq!(missing, 2, "common.toml's problems once: {:?}", r.diagnostics);
        assert!(r.diagnostics.iter().all(|d| d.file.as_deref() == Some("/p/common.toml")), "{:?}", r.diagnostics);
    }

    /// A relative `extends` inside an extended file is taken from that file's folder (it used to be taken
    /// from the top policy's folder).
    #[test]
    fn nested_relative_extends_start_from_the_extending_file() {
        let c = format!("[policy]\nname = \"c\"\n{}", rule_src("c1"));
        let b = "[policy]\nname = \"b\"\nextends = [\"c.toml\"]\n\n[[rule]]\nid = \"b1\"\ndescription = \"B\"\naction = \"blur\"\nimage_description = \"x\"\nimage_examples = [\"ex/b.jpg\", \"/abs/b.jpg\"]\n";
        let (r, _) = resolve_files(&[
            ("/p/policy.toml", "[policy]\nname = \"p\"\nextends = [\"shared/b.toml\"]\n"),
            ("/p/shared/b.toml", b),
            ("/p/shared/c.toml", &c),
        ]);
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        let ids: Vec<&str> = r.policy.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["c1", "b1"]);
        // Example images of an extended file are relative to it too.
        let examples = r.policy.rule("b1").unwrap().image_examples.clone().unwrap();
        assert_eq!(examples, ["/p/shared/ex/b.jpg", "/abs/b.jpg"]);
    }

    #[test]
    fn chains_deeper_than_the_limit_are_cut() {
        let names: Vec<String> = (0..=MAX_EXTENDS_DEPTH + 2).map(|i| format!("/p/f{i}.toml")).collect();
        let sources: Vec<String> = (0..names.len())
            .map(|i| {
                let next = names.get(i + 1).map(|n| format!("extends = [\"{n}\"]\n")).unwrap_or_default();
                format!("[policy]\nname = \"f{i}\"\n{next}{}", rule_src(&format!("r{i}")))
            })
            .collect();
        let files: Vec<(&str, &str)> =
            names.iter().map(String::as_str).zip(sources.iter().map(String::as_str)).collect();
        let (r, _) = resolve_files(&files);
        let deep: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.code == "extends-too-deep").collect();
        assert_eq!(deep.len(), 1, "{:?}", r.diagnostics);
        assert!(deep[0].message.contains(&format!("at most {MAX_EXTENDS_DEPTH}")), "{}", deep[0].message);
        assert_eq!(r.policy.rules.len(), MAX_EXTENDS_DEPTH + 1);
    }

    #[test]
    fn rules_past_the_limit_are_left_out_with_an_error() {
        let many: String = (0..MAX_RULES + 20).map(|i| rule_src(&format!("r{i}"))).collect();
        let base = format!("[policy]\nname = \"base\"\n{many}");
        let (r, _) = resolve_files(&[
            ("/p/policy.toml", &format!("[policy]\nname = \"p\"\nextends = [\"base.toml\"]\n{}", rule_src("mine"))),
            ("/p/base.toml", &base),
        ]);
        assert_eq!(r.policy.rules.len(), MAX_RULES);
        let too_many: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.code == "too-many-rules").collect();
        assert_eq!(too_many.len(), 2, "base's 20 extra rules and the policy's own: {:?}", too_many);
        assert!(too_many[0].is_error() && too_many[0].message.contains("20 rule(s)"), "{}", too_many[0].message);
    }

    /// An override of an unknown rule used to list every known id: 4,000 rules and 4,000 overrides made
    /// 108 MB of warnings. Now the list is capped and so is the number of diagnostics.
    #[test]
    fn unknown_rule_warnings_stay_small() {
        let many: String = (0..MAX_RULES).map(|i| rule_src(&format!("rule-number-{i}"))).collect();
        let base = format!("[policy]\nname = \"base\"\n{many}");
        let overrides: String =
            (0..2_000).map(|i| format!("\n[[override]]\nrule = \"ghost-{i}\"\nenabled = false\n")).collect();
        let top = format!("[policy]\nname = \"p\"\nextends = [\"base.toml\"]\n{overrides}");
        let (r, _) = resolve_files(&[("/p/policy.toml", &top), ("/p/base.toml", &base)]);
        let bytes: usize = r.diagnostics.iter().map(|d| d.message.len()).sum();
        assert!(bytes < 200_000, "{bytes} bytes of diagnostics");
        assert_eq!(r.diagnostics.len(), MAX_DIAGNOSTICS + 1);
        let first = &r.diagnostics[0];
        assert_eq!(first.code, "unknown-rule");
        assert!(
            first.message.contains("rule-number-0, ") && first.message.contains(" and 490 more"),
            "{}",
            first.message
        );
        assert_eq!(r.diagnostics.last().unwrap().code, "too-many-diagnostics");
    }
}
