//! Parse a policy file into its good parts plus diagnostics. Forgiving, like a filter-list parser: a broken
//! rule is reported with its line and left out, the others stay; only a broken `[policy]` header makes the
//! whole file unloadable.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::LineIndex;
use super::limits::{bound_diagnostics, MAX_DIAGNOSTICS, MAX_POLICY_BYTES};
use super::{Action, ContentKind, Diagnostic, Header, Override, PolicyFile, Rule, Sensitivity, Severity, Threshold};

use crate::categories::{builtin_category, builtin_ids};

/// A rule that could not be used, so a caller can keep its last good version.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenRule {
    /// Position among the file's `[[rule]]` tables.
    pub index: usize,
    /// Its id, when that much could be read.
    pub id: Option<String>,
    pub line: usize,
}

/// What parsing a file produced.
#[derive(Debug, Clone, Default)]
pub struct ParsedPolicy {
    /// The usable parts of the file.
    pub file: PolicyFile,
    pub diagnostics: Vec<Diagnostic>,
    pub broken_rules: Vec<BrokenRule>,
    /// False when the `[policy]` header is missing or broken: the file as a whole must not replace the
    /// last good policy.
    pub loadable: bool,
    /// 1-based line of the `extends` key (where problems with extended files are reported).
    pub extends_line: usize,
}

impl ParsedPolicy {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

const HEADER_KEYS: [&str; 7] = ["name", "version", "description", "author", "homepage", "license", "extends"];
const RULE_KEYS: [&str; 15] = [
    "id",
    "description",
    "category",
    "action",
    "threshold",
    "sensitivity",
    "enabled",
    "sites",
    "content",
    "except_authors",
    "except_followed",
    "image_description",
    "image_examples",
    "should_match",
    "should_not_match",
];
const OVERRIDE_KEYS: [&str; 8] =
    ["rule", "action", "threshold", "sensitivity", "enabled", "sites", "except_authors", "except_followed"];

/// Kind of table header found by the line scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Policy,
    Rule,
    Override,
    Other,
}

/// A table header line and the comment block directly above it.
#[derive(Debug)]
struct HeaderLine {
    section: Section,
    line: usize,
    comments: Vec<String>,
}

/// Line scan for table headers, their attached comments, and comments `fmt` would drop.
fn scan_lines(src: &str) -> (Vec<HeaderLine>, Vec<usize>) {
    let mut headers = Vec::new();
    let mut block: Vec<(usize, String)> = Vec::new();
    let mut stray = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let line_no = i + 1;
        let t = raw.trim();
        if t.starts_with('#') {
            block.push((line_no, raw.trim_end().to_string()));
            continue;
        }
        if t.starts_with('[') {
            let section = match t.split('#').next().unwrap_or("").trim() {
                "[policy]" => Section::Policy,
                "[[rule]]" => Section::Rule,
                "[[override]]" => Section::Override,
                _ => Section::Other,
            };
            headers.push(HeaderLine { section, line: line_no, comments: block.drain(..).map(|(_, c)| c).collect() });
            if has_trailing_comment(t) {
                stray.push(line_no);
            }
            continue;
        }
        stray.extend(block.drain(..).map(|(n, _)| n));
        if has_trailing_comment(t) {
            stray.push(line_no);
        }
    }
    stray.extend(block.drain(..).map(|(n, _)| n));
    (headers, stray)
}

/// True when a line has a `#` comment after some content (outside strings).
fn has_trailing_comment(line: &str) -> bool {
    let mut in_basic = false;
    let mut in_literal = false;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_basic => escaped = true,
            '"' if !in_literal => in_basic = !in_basic,
            '\'' if !in_basic => in_literal = !in_literal,
            '#' if !in_basic && !in_literal => return true,
            _ => {}
        }
    }
    false
}

struct Ctx<'s> {
    index: LineIndex<'s>,
    file: Option<String>,
    diagnostics: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn push(&mut self, severity: Severity, code: &str, offset: usize, rule: Option<&str>, message: String) {
        let (line, column) = self.index.locate(offset);
        self.push_at(severity, code, line, column, rule, message);
    }

    fn push_at(
        &mut self,
        severity: Severity,
        code: &str,
        line: usize,
        column: usize,
        rule: Option<&str>,
        message: String,
    ) {
        self.diagnostics.push(Diagnostic {
            severity,
            code: code.to_string(),
            file: self.file.clone(),
            line,
            column,
            rule: rule.map(str::to_string),
            message,
        });
    }
}

type Table<'i> = DeTable<'i>;
type Value<'i> = Spanned<DeValue<'i>>;

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn suggest(key: &str, known: &[&str]) -> String {
    match known.iter().map(|k| (edit_distance(key, k), *k)).min() {
        Some((d, k)) if d <= 2 => format!("; did you mean `{k}`?"),
        _ => format!("; known keys are {}", known.join(", ")),
    }
}

/// Reads typed fields from one table, reporting problems against `rule` and counting errors.
struct Fields<'a, 'c, 'i, 's> {
    ctx: &'c mut Ctx<'s>,
    table: &'a Table<'i>,
    rule: Option<String>,
    errors: usize,
    what: &'static str,
}

impl<'a, 'i> Fields<'a, '_, 'i, '_> {
    fn error(&mut self, offset: usize, code: &str, message: String) {
        self.errors += 1;
        let rule = self.rule.clone();
        self.ctx.push(Severity::Error, code, offset, rule.as_deref(), message);
    }

    /// A required key is absent: reported at the table's header line.
    fn missing(&mut self, header_line: usize, message: &str) {
        self.errors += 1;
        let rule = self.rule.clone();
        self.ctx.push_at(Severity::Error, "missing-key", header_line, 1, rule.as_deref(), message.to_string());
    }

    fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.table.get(key)
    }

    fn check_keys(&mut self, known: &[&str]) {
        for (k, _) in self.table.iter() {
            let name: &str = k.get_ref();
            if !known.contains(&name) {
                let msg = format!("unknown key `{name}` in {}{}", self.what, suggest(name, known));
                self.error(k.span().start, "unknown-key", msg);
            }
        }
    }

    fn string(&mut self, key: &str) -> Option<String> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                let msg = format!(
                    "`{key}` must be a string in double quotes, like {key} = \"…\"; found {}",
                    type_name(other)
                );
                self.error(v.span().start, "wrong-type", msg);
                None
            }
        }
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                let msg = format!("`{key}` must be true or false; found {}", type_name(other));
                self.error(v.span().start, "wrong-type", msg);
                None
            }
        }
    }

    fn strings(&mut self, key: &str, example: &str) -> Option<Vec<String>> {
        let v = self.get(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            let msg =
                format!("`{key}` must be a list of strings, like {key} = {example}; found {}", type_name(v.get_ref()));
            self.error(v.span().start, "wrong-type", msg);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                other => {
                    let msg =
                        format!("every entry of `{key}` must be a string in double quotes; found {}", type_name(other));
                    self.error(item.span().start, "wrong-type", msg);
                }
            }
        }
        Some(out)
    }

    fn action(&mut self, key: &str) -> Option<Action> {
        let s = self.string(key)?;
        let v = self.get(key)?;
        Action::from_name(&s).or_else(|| {
            let msg = format!("`{key}` must be one of \"hide\", \"blur\", \"label\" or \"allow\"; found \"{s}\"");
            self.error(v.span().start, "bad-value", msg);
            None
        })
    }

    /// `threshold = 0.7` or `sensitivity = "high"` (not both).
    fn threshold(&mut self) -> Option<Threshold> {
        let value = self.get("threshold");
        let sens = self.get("sensitivity");
        if let (Some(_), Some(s)) = (value, sens) {
            let msg = "give either `threshold` or `sensitivity`, not both".to_string();
            self.error(s.span().start, "conflicting-keys", msg);
            return None;
        }
        if let Some(v) = value {
            let x = match v.get_ref() {
                DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
                DeValue::Integer(i) => i.as_str().replace('_', "").parse::<f64>().ok(),
                _ => None,
            };
            return match x {
                Some(x) if (0.0..=1.0).contains(&x) => Some(Threshold::Value(x)),
                _ => {
                    let msg =
                        "`threshold` must be a number from 0 to 1 (a probability), like threshold = 0.7".to_string();
                    self.error(v.span().start, "bad-value", msg);
                    None
                }
            };
        }
        if let Some(v) = sens {
            let s = self.string("sensitivity")?;
            return Sensitivity::from_name(&s).map(Threshold::Sensitivity).or_else(|| {
                let msg = format!("`sensitivity` must be \"low\", \"medium\" or \"high\"; found \"{s}\"");
                self.error(v.span().start, "bad-value", msg);
                None
            });
        }
        None
    }

    fn sites(&mut self) -> Option<Vec<String>> {
        let sites = self.strings("sites", "[\"x.com\", \"reddit.com\"]")?;
        let span = self.get("sites").map(|v| v.span().start).unwrap_or(0);
        let mut out = Vec::with_capacity(sites.len());
        for s in sites {
            let ok = s == "*"
                || (!s.is_empty()
                    && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'));
            if ok {
                out.push(s);
            } else {
                let msg = format!(
                    "site \"{s}\" must be a lowercase host name such as \"x.com\" (no scheme, no path), or \"*\""
                );
                self.error(span, "bad-value", msg);
            }
        }
        Some(out)
    }

    fn content(&mut self) -> Option<Vec<ContentKind>> {
        let kinds = self.strings("content", "[\"text\", \"images\"]")?;
        let span = self.get("content").map(|v| v.span().start).unwrap_or(0);
        let mut out = Vec::new();
        for k in kinds {
            match ContentKind::from_name(&k) {
                Some(c) => out.push(c),
                None => {
                    let msg = format!("`content` entries must be \"text\" or \"images\"; found \"{k}\"");
                    self.error(span, "bad-value", msg);
                }
            }
        }
        Some(out)
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

fn parse_header(ctx: &mut Ctx<'_>, table: &Table<'_>, comments: Vec<String>) -> Option<Header> {
    let mut f = Fields { ctx, table, rule: None, errors: 0, what: "[policy]" };
    f.check_keys(&HEADER_KEYS);
    let name = f.string("name");
    let header = Header {
        name: name.clone().unwrap_or_default(),
        version: f.string("version"),
        description: f.string("description"),
        author: f.string("author"),
        homepage: f.string("homepage"),
        license: f.string("license"),
        extends: f.strings("extends", "[\"feedwarden:defaults\"]"),
        comments,
    };
    let errors = f.errors;
    if name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return None;
    }
    (errors == 0).then_some(header)
}

fn parse_rule(
    ctx: &mut Ctx<'_>,
    table: &Table<'_>,
    header_line: usize,
    comments: Vec<String>,
) -> Result<Rule, Option<String>> {
    let raw_id = match table.get("id").map(|v| v.get_ref()) {
        Some(DeValue::String(s)) => Some(s.to_string()),
        _ => None,
    };
    let mut f = Fields { ctx, table, rule: raw_id.clone(), errors: 0, what: "[[rule]]" };
    f.check_keys(&RULE_KEYS);
    let id = f.string("id");
    match id.as_deref() {
        None if f.get("id").is_none() => {
            f.missing(
                header_line,
                "this rule has no `id`; add a line like id = \"my-rule\" (lowercase letters, digits and dashes)",
            );
        }
        Some(id) if !is_valid_id(id) => {
            let offset = f.get("id").map(|v| v.span().start).unwrap_or(0);
            f.error(offset, "bad-value", format!("rule id \"{id}\" may only use lowercase letters, digits and dashes (at most 64), like \"mock-looks\""));
        }
        _ => {}
    }
    let description = f.string("description");
    if description.as_deref().is_some_and(|d| d.trim().is_empty()) {
        let offset = f.get("description").map(|v| v.span().start).unwrap_or(0);
        f.error(offset, "bad-value", "`description` is empty; say in words what the rule is about".into());
    }
    if f.get("description").is_none() {
        f.missing(
            header_line,
            "this rule has no `description`; say in words what it is about, like description = \"Posts that mock \
             people for their looks\"",
        );
    }
    let category = f.string("category");
    if let Some(c) = category.as_deref() {
        if builtin_category(c).is_none() {
            let offset = f.get("category").map(|v| v.span().start).unwrap_or(0);
            f.error(offset, "unknown-category", format!(
                "unknown built-in category \"{c}\"; the built-in categories are {} — or remove `category` to define your own from the description and examples",
                builtin_ids().collect::<Vec<_>>().join(", ")));
        }
    }
    let action = f.action("action");
    if action.is_none() && f.get("action").is_none() {
        f.missing(header_line, "this rule has no `action`; add action = \"hide\", \"blur\", \"label\" or \"allow\"");
    }
    let rule = Rule {
        id: id.unwrap_or_default(),
        description: description.unwrap_or_default(),
        category,
        action: action.unwrap_or(Action::Label),
        threshold: f.threshold(),
        enabled: f.boolean("enabled"),
        sites: f.sites(),
        content: f.content(),
        except_authors: f.strings("except_authors", "[\"@someone\"]"),
        except_followed: f.boolean("except_followed"),
        image_description: f.string("image_description"),
        image_examples: f.strings("image_examples", "[\"examples/spider.jpg\"]"),
        should_match: f.strings("should_match", "[\"an example post\"]").unwrap_or_default(),
        should_not_match: f.strings("should_not_match", "[\"an example post\"]").unwrap_or_default(),
        line: header_line,
        comments,
    };
    if rule.is_user_defined() && rule.content.as_ref().is_some_and(|c| c.is_empty()) {
        let offset = f.get("content").map(|v| v.span().start).unwrap_or(0);
        f.error(
            offset,
            "bad-value",
            "`content` is empty, so the rule can never apply; list \"text\" and/or \"images\"".into(),
        );
    }
    check_image_fields(&mut f, &rule);
    if f.errors > 0 {
        Err(raw_id)
    } else {
        Ok(rule)
    }
}

/// Most example images a rule may list (each is embedded when the policy loads).
pub const MAX_IMAGE_EXAMPLES: usize = 16;

/// `image_description` / `image_examples`: non-empty, examples only with a description, and a warning when
/// the rule's `content` leaves images out (the description would never be used).
fn check_image_fields(f: &mut Fields<'_, '_, '_, '_>, rule: &Rule) {
    let offset = |f: &Fields<'_, '_, '_, '_>, key: &str| f.get(key).map(|v| v.span().start).unwrap_or(0);
    if rule.image_description.as_deref().is_some_and(|d| d.trim().is_empty()) {
        let at = offset(f, "image_description");
        f.error(
            at,
            "bad-value",
            "`image_description` is empty; say what the images look like, like image_description = \"a spider\"".into(),
        );
    }
    if let Some(examples) = &rule.image_examples {
        let at = offset(f, "image_examples");
        if rule.image_description.is_none() && f.get("image_description").is_none() {
            f.error(at, "missing-key", "`image_examples` needs an `image_description` saying what they show, like image_description = \"a spider\"".into());
        }
        if examples.iter().any(|e| e.trim().is_empty()) {
            f.error(at, "bad-value", "an entry of `image_examples` is empty; give image file paths relative to this policy file, like \"examples/spider.jpg\"".into());
        }
        if examples.len() > MAX_IMAGE_EXAMPLES {
            f.error(
                at,
                "bad-value",
                format!(
                    "`image_examples` lists {} images; at most {MAX_IMAGE_EXAMPLES} are used, keep the clearest ones",
                    examples.len()
                ),
            );
        }
    }
    if (rule.image_description.is_some() || rule.image_examples.is_some()) && !rule.judges(ContentKind::Images) {
        let key = if f.get("image_description").is_some() { "image_description" } else { "image_examples" };
        let at = offset(f, key);
        let rule_id = f.rule.clone();
        f.ctx.push(Severity::Warning, "images-not-judged", at, rule_id.as_deref(), format!(
            "`{key}` has no effect because `content` leaves out images; add \"images\" to `content` (or remove `content` to judge text and images)"));
    }
}

fn parse_override(ctx: &mut Ctx<'_>, table: &Table<'_>, header_line: usize, comments: Vec<String>) -> Option<Override> {
    let mut f = Fields { ctx, table, rule: None, errors: 0, what: "[[override]]" };
    f.check_keys(&OVERRIDE_KEYS);
    let rule = f.string("rule");
    f.rule = rule.clone();
    if rule.is_none() && f.get("rule").is_none() {
        f.missing(
            header_line,
            "this override has no `rule`; name the inherited rule it changes, like rule = \"rage-bait\"",
        );
    }
    let ov = Override {
        rule: rule.unwrap_or_default(),
        action: f.get("action").and_then(|_| f.action("action")),
        threshold: f.threshold(),
        enabled: f.boolean("enabled"),
        sites: f.sites(),
        except_authors: f.strings("except_authors", "[\"@someone\"]"),
        except_followed: f.boolean("except_followed"),
        line: header_line,
        comments,
    };
    (f.errors == 0).then_some(ov)
}

fn tables<'a, 'i>(v: &'a Value<'i>) -> Option<Vec<&'a Table<'i>>> {
    match v.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .map(|i| match i.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Parse policy source. `file` names it in diagnostics. A text over [`MAX_POLICY_BYTES`] is not parsed
/// (one `policy-too-large` error); at most [`MAX_DIAGNOSTICS`] diagnostics are kept, each on one line.
pub fn parse_policy(src: &str, file: Option<&str>) -> ParsedPolicy {
    let mut ctx = Ctx { index: LineIndex::new(""), file: file.map(str::to_string), diagnostics: Vec::new() };
    if src.len() > MAX_POLICY_BYTES {
        ctx.push_at(
            Severity::Error,
            "policy-too-large",
            1,
            1,
            None,
            format!(
                "this policy is {} bytes; a policy file may be at most {} KiB (split it, or extend shared parts with `extends`)",
                src.len(),
                MAX_POLICY_BYTES / 1024
            ),
        );
        return ParsedPolicy { diagnostics: ctx.diagnostics, ..ParsedPolicy::default() };
    }
    ctx.index = LineIndex::new(src);
    let (doc, syntax_errors) = DeTable::parse_recoverable(src);
    let (headers, stray_comments) = scan_lines(src);
    let mut syntax_lines = Vec::new();
    for e in &syntax_errors {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = ctx.index.locate(offset);
        syntax_lines.push(line);
        let what = e.message().trim_end_matches('\n').replace('\n', " ");
        ctx.push_at(
            Severity::Error,
            "syntax",
            line,
            column,
            None,
            format!("TOML syntax: {what}; check the quotes, brackets, commas and `key = value` shape of this line"),
        );
    }
    let rule_headers: Vec<&HeaderLine> = headers.iter().filter(|h| h.section == Section::Rule).collect();
    let override_headers: Vec<&HeaderLine> = headers.iter().filter(|h| h.section == Section::Override).collect();
    // The line range a table owns: from its header to the next header. Both lists are sorted, so each
    // question is two binary searches (a file of many tables and many errors stays linear).
    syntax_lines.sort_unstable();
    let header_lines: Vec<usize> = headers.iter().map(|h| h.line).collect();
    let region_end = |line: usize| header_lines.get(header_lines.partition_point(|&l| l <= line)).copied();
    let region_has_syntax_error = |line: usize| {
        let first = syntax_lines.partition_point(|&l| l < line);
        syntax_lines.get(first).is_some_and(|&l| region_end(line).is_none_or(|end| l < end))
    };
    let mut rule_ids: HashSet<String> = HashSet::new();

    let mut parsed = ParsedPolicy::default();
    let root: &Table<'_> = doc.get_ref();
    let mut header = None;
    let mut seen_header = false;
    for (key, value) in root.iter() {
        let key_name: Cow<'_, str> = key.get_ref().clone();
        match key_name.as_ref() {
            "policy" => {
                seen_header = true;
                let h = headers.iter().find(|h| h.section == Section::Policy);
                let comments = h.map(|h| h.comments.clone()).unwrap_or_default();
                match value.get_ref() {
                    DeValue::Table(t) => {
                        if let Some((k, _)) = t.get_key_value("extends") {
                            parsed.extends_line = ctx.index.locate(k.span().start).0;
                        }
                        header = parse_header(&mut ctx, t, comments);
                        if header.is_none() && t.get("name").is_none() {
                            let line = h.map(|h| h.line).unwrap_or(1);
                            ctx.push_at(
                                Severity::Error,
                                "missing-key",
                                line,
                                1,
                                None,
                                "the [policy] table needs a name, like name = \"My feed rules\"".into(),
                            );
                        }
                    }
                    _ => ctx.push(
                        Severity::Error,
                        "wrong-type",
                        value.span().start,
                        None,
                        "`policy` must be a table: write [policy] on its own line, then name = \"…\"".into(),
                    ),
                }
            }
            "rule" | "override" => {
                let is_rule = key_name == "rule";
                let Some(list) = tables(value) else {
                    let msg = format!(
                        "write each {key_name} as a [[{key_name}]] table (double brackets), one after the other"
                    );
                    ctx.push(Severity::Error, "wrong-type", key.span().start, None, msg);
                    continue;
                };
                let header_lines = if is_rule { &rule_headers } else { &override_headers };
                for (i, table) in list.into_iter().enumerate() {
                    let (line, comments) =
                        header_lines.get(i).map(|h| (h.line, h.comments.clone())).unwrap_or((1, Vec::new()));
                    let broken_by_syntax = region_has_syntax_error(line);
                    if is_rule {
                        match parse_rule(&mut ctx, table, line, comments) {
                            Ok(rule) if !broken_by_syntax => {
                                if !rule_ids.insert(rule.id.clone()) {
                                    ctx.push_at(
                                        Severity::Error,
                                        "duplicate-id",
                                        line,
                                        1,
                                        Some(&rule.id),
                                        format!(
                                            "another rule above already has id \"{}\"; give each rule its own id",
                                            rule.id
                                        ),
                                    );
                                    parsed.broken_rules.push(BrokenRule { index: i, id: None, line });
                                } else {
                                    parsed.file.rules.push(rule);
                                }
                            }
                            Ok(rule) => parsed.broken_rules.push(BrokenRule { index: i, id: Some(rule.id), line }),
                            Err(id) => parsed.broken_rules.push(BrokenRule { index: i, id, line }),
                        }
                    } else if let Some(ov) = parse_override(&mut ctx, table, line, comments) {
                        if !broken_by_syntax {
                            parsed.file.overrides.push(ov);
                        }
                    }
                }
            }
            other => {
                let msg = format!("unknown section `{other}`; a policy has one [policy] table, [[rule]] tables and [[override]] tables");
                ctx.push(Severity::Error, "unknown-key", key.span().start, None, msg);
            }
        }
    }
    if !seen_header {
        ctx.push_at(
            Severity::Error,
            "missing-key",
            1,
            1,
            None,
            "a policy file starts with a [policy] table that names it, like [policy] then name = \"My feed rules\""
                .into(),
        );
    }
    let policy_line = headers.iter().find(|h| h.section == Section::Policy).map(|h| h.line);
    let header_broken = policy_line.is_some_and(region_has_syntax_error);
    parsed.loadable = header.is_some() && !header_broken;
    parsed.file.header = header.unwrap_or_default();
    for line in stray_comments {
        ctx.push_at(Severity::Warning, "comment-dropped-by-fmt", line, 1, None,
            "`policy fmt` keeps only comment lines directly above [policy], [[rule]] or [[override]]; move this comment there to keep it".into());
    }
    ctx.diagnostics.sort_by_key(|d| (d.line, d.column));
    parsed.diagnostics = bound_diagnostics(ctx.diagnostics, MAX_DIAGNOSTICS);
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[policy]
name = "Test"

[[rule]]
id = "rage"
description = "Rage-bait"
category = "rage-bait"
action = "blur"
threshold = 0.7

[[rule]]
id = "looks"
description = "Posts that mock people for their looks"
action = "hide"
sensitivity = "high"
should_match = ["lol look at his ugly face"]
"#;

    #[test]
    fn good_file_parses_without_diagnostics() {
        let p = parse_policy(GOOD, Some("t.toml"));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert!(p.loadable);
        assert_eq!(p.file.rules.len(), 2);
        assert_eq!(p.file.rules[0].line, 4);
        assert_eq!(p.file.rules[1].threshold, Some(Threshold::Sensitivity(Sensitivity::High)));
        assert!(p.file.rules[1].is_user_defined());
    }

    #[test]
    fn one_bad_rule_keeps_the_others() {
        let src = GOOD.replace("action = \"hide\"", "action = \"nuke\"");
        let p = parse_policy(&src, Some("t.toml"));
        assert!(p.loadable);
        assert_eq!(p.file.rules.len(), 1);
        assert_eq!(p.file.rules[0].id, "rage");
        let e = p.errors().next().unwrap();
        assert_eq!((e.line, e.code.as_str()), (14, "bad-value"));
        assert_eq!(e.column, 10);
        assert!(e.message.contains("\"hide\", \"blur\""), "{}", e.message);
        assert_eq!(p.broken_rules, vec![BrokenRule { index: 1, id: Some("looks".into()), line: 11 }]);
    }

    #[test]
    fn syntax_error_inside_a_rule_breaks_only_that_rule() {
        let src = GOOD.replace("threshold = 0.7", "threshold = 0.7.");
        let p = parse_policy(&src, None);
        assert!(p.loadable, "{:?}", p.diagnostics);
        assert_eq!(p.file.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["looks"]);
        assert!(p.errors().any(|e| (e.line, e.code.as_str()) == (9, "syntax")), "{:?}", p.diagnostics);
    }

    #[test]
    fn typo_in_key_is_suggested() {
        let src = GOOD.replace("threshold = 0.7", "treshold = 0.7");
        let p = parse_policy(&src, None);
        let e = p.errors().next().unwrap();
        assert_eq!(e.line, 9);
        assert!(e.message.contains("did you mean `threshold`"), "{}", e.message);
    }

    #[test]
    fn missing_header_is_not_loadable() {
        let p = parse_policy("[[rule]]\nid = \"a\"\ndescription = \"x\"\naction = \"label\"\n", None);
        assert!(!p.loadable);
        assert!(p.errors().any(|e| e.code == "missing-key" && e.line == 1));
    }

    #[test]
    fn missing_fields_point_at_the_rule_header() {
        let p = parse_policy("[policy]\nname = \"x\"\n\n[[rule]]\ndescription = \"d\"\n", None);
        let lines: Vec<(usize, &str)> = p.errors().map(|e| (e.line, e.code.as_str())).collect();
        assert_eq!(lines, [(4, "missing-key"), (4, "missing-key")]);
    }

    #[test]
    fn bad_values_are_reported() {
        for (from, to, code) in [
            ("threshold = 0.7", "threshold = 1.7", "bad-value"),
            ("threshold = 0.7", "threshold = \"high\"", "bad-value"),
            ("category = \"rage-bait\"", "category = \"rage\"", "unknown-category"),
            ("id = \"rage\"", "id = \"Rage Bait\"", "bad-value"),
            ("id = \"looks\"", "id = \"rage\"", "duplicate-id"),
            ("threshold = 0.7", "threshold = 0.7\nsensitivity = \"low\"", "conflicting-keys"),
            ("threshold = 0.7", "sites = [\"https://x.com/home\"]", "bad-value"),
            ("threshold = 0.7", "enabled = \"yes\"", "wrong-type"),
        ] {
            let p = parse_policy(&GOOD.replace(from, to), None);
            assert!(p.errors().any(|e| e.code == code), "{to}: {:?}", p.diagnostics);
            assert_eq!(p.file.rules.len(), 1, "{to}");
        }
    }

    #[test]
    fn stray_comments_are_warned_about() {
        let src = "# top\n[policy]\nname = \"x\" # trailing\n\n# about rule\n[[rule]]\nid = \"a\"\n# inside\ndescription = \"d # not a comment\"\naction = \"label\"\n";
        let p = parse_policy(src, None);
        let warn: Vec<usize> = p.diagnostics.iter().filter(|d| !d.is_error()).map(|d| d.line).collect();
        assert_eq!(warn, [3, 8]);
        assert_eq!(p.file.header.comments, ["# top"]);
        assert_eq!(p.file.rules[0].comments, ["# about rule"]);
    }

    #[test]
    fn image_fields_parse_and_are_checked() {
        let with = GOOD.replace(
            "sensitivity = \"high\"",
            "sensitivity = \"high\"\nimage_description = \"a spider\"\nimage_examples = [\"ex/a.jpg\", \"b.png\"]",
        );
        let p = parse_policy(&with, None);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let r = &p.file.rules[1];
        assert_eq!(r.image_description.as_deref(), Some("a spider"));
        assert_eq!(r.image_examples.as_deref(), Some(&["ex/a.jpg".to_string(), "b.png".to_string()][..]));

        // (replacement, code, line, column, still loads)
        let cases = [
            ("image_description = 3", "wrong-type", 16, 21, false),
            ("image_description = \"  \"", "bad-value", 16, 21, false),
            ("image_description = \"a spider\"\nimage_examples = \"a.jpg\"", "wrong-type", 17, 18, false),
            ("image_description = \"a spider\"\nimage_examples = [\"\"]", "bad-value", 17, 18, false),
            ("image_examples = [\"a.jpg\"]", "missing-key", 16, 18, false),
            ("image_description = \"a spider\"\ncontent = [\"text\"]", "images-not-judged", 16, 21, true),
            ("image_descripton = \"a spider\"", "unknown-key", 16, 1, false),
        ];
        for (extra, code, line, column, loads) in cases {
            let src = GOOD.replace("sensitivity = \"high\"", &format!("sensitivity = \"high\"\n{extra}"));
            let p = parse_policy(&src, None);
            let d =
                p.diagnostics.iter().find(|d| d.code == code).unwrap_or_else(|| panic!("{extra}: {:?}", p.diagnostics));
            assert_eq!((d.line, d.column), (line, column), "{extra}: {d:?}");
            assert_eq!(d.rule.as_deref(), Some("looks"), "{extra}");
            assert!(
                ["like", "add", "did you mean"].iter().any(|w| d.message.contains(w)),
                "no how-to-fix: {}",
                d.message
            );
            assert_eq!(p.file.rules.len(), if loads { 2 } else { 1 }, "{extra}");
        }
        let too_many: Vec<String> = (0..17).map(|i| format!("\"{i}.jpg\"")).collect();
        let src = GOOD.replace(
            "sensitivity = \"high\"",
            &format!("image_description = \"x\"\nimage_examples = [{}]", too_many.join(", ")),
        );
        assert!(parse_policy(&src, None).errors().any(|e| e.message.contains("at most 16")));
    }

    #[test]
    fn the_spiders_example_has_an_image_description_and_is_canonical() {
        let src = include_str!("../../../policies/examples/spiders.toml");
        let p = parse_policy(src, Some("spiders.toml"));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.file.rules[0].image_description.as_deref(), Some("a spider"));
        assert_eq!(super::super::format_policy(&p.file), src);
    }
}
