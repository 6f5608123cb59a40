//! The canonical text form of a policy: `feedwarden policy fmt` writes it, and shipped policies are kept
//! in it, so `format(parse(x)) == x` for them. Comment lines directly above a table header are kept.

use std::fmt::Write;

use super::{Header, Override, PolicyFile, Rule, Threshold};

/// A TOML basic string with the escapes TOML requires.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn inline_list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn number(x: f64) -> String {
    let s = format!("{x}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

struct Out(String);

impl Out {
    fn comments(&mut self, comments: &[String]) {
        for c in comments {
            self.0.push_str(c.trim());
            self.0.push('\n');
        }
    }
    fn string(&mut self, key: &str, v: Option<&str>) {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{key} = {}", quote(v));
        }
    }
    fn boolean(&mut self, key: &str, v: Option<bool>) {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{key} = {v}");
        }
    }
    fn list(&mut self, key: &str, v: Option<&[String]>) {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{key} = {}", inline_list(v));
        }
    }
    /// Example posts are long: one per line.
    fn examples(&mut self, key: &str, v: &[String]) {
        if v.is_empty() {
            return;
        }
        let _ = writeln!(self.0, "{key} = [");
        for item in v {
            let _ = writeln!(self.0, "    {},", quote(item));
        }
        self.0.push_str("]\n");
    }
    fn threshold(&mut self, t: Option<Threshold>) {
        match t {
            Some(Threshold::Value(x)) => {
                let _ = writeln!(self.0, "threshold = {}", number(x));
            }
            Some(Threshold::Sensitivity(s)) => self.string("sensitivity", Some(s.as_str())),
            None => {}
        }
    }
}

fn header(out: &mut Out, h: &Header) {
    out.comments(&h.comments);
    out.0.push_str("[policy]\n");
    out.string("name", Some(&h.name));
    out.string("version", h.version.as_deref());
    out.string("description", h.description.as_deref());
    out.string("author", h.author.as_deref());
    out.string("homepage", h.homepage.as_deref());
    out.string("license", h.license.as_deref());
    out.list("extends", h.extends.as_deref());
}

fn rule(out: &mut Out, r: &Rule) {
    out.comments(&r.comments);
    out.0.push_str("[[rule]]\n");
    out.string("id", Some(&r.id));
    out.string("description", Some(&r.description));
    out.string("image_description", r.image_description.as_deref());
    out.list("image_examples", r.image_examples.as_deref());
    out.string("category", r.category.as_deref());
    out.string("action", Some(r.action.as_str()));
    out.threshold(r.threshold);
    out.boolean("enabled", r.enabled);
    out.list("sites", r.sites.as_deref());
    let content: Option<Vec<String>> = r.content.as_ref().map(|c| c.iter().map(|k| k.as_str().to_string()).collect());
    out.list("content", content.as_deref());
    out.list("except_authors", r.except_authors.as_deref());
    out.boolean("except_followed", r.except_followed);
    out.examples("should_match", &r.should_match);
    out.examples("should_not_match", &r.should_not_match);
}

fn override_table(out: &mut Out, o: &Override) {
    out.comments(&o.comments);
    out.0.push_str("[[override]]\n");
    out.string("rule", Some(&o.rule));
    out.string("action", o.action.map(|a| a.as_str()));
    out.threshold(o.threshold);
    out.boolean("enabled", o.enabled);
    out.list("sites", o.sites.as_deref());
    out.list("except_authors", o.except_authors.as_deref());
    out.boolean("except_followed", o.except_followed);
}

/// Write a policy in canonical form: `[policy]`, then rules, then overrides, one blank line between tables.
pub fn format_policy(p: &PolicyFile) -> String {
    let mut out = Out(String::new());
    header(&mut out, &p.header);
    for r in &p.rules {
        out.0.push('\n');
        rule(&mut out, r);
    }
    for o in &p.overrides {
        out.0.push('\n');
        override_table(&mut out, o);
    }
    out.0
}

#[cfg(test)]
mod tests {
    use super::super::parse_policy;
    use super::*;

    #[test]
    fn format_round_trips_and_escapes() {
        let src = r#"# Shared list
[policy]
name = "Round \"trip\""
extends = ["feedwarden:defaults"]

# Why this rule
[[rule]]
id = "looks"
description = "Mocking looks \\ appearance"
image_description = "a \"before\" photo"
image_examples = ["ex/one.jpg", "two.png"]
action = "hide"
threshold = 1.0
enabled = false
sites = ["x.com", "*"]
content = ["text", "images"]
except_authors = ["@me"]
except_followed = true
should_match = [
    "lol\nugly",
]
should_not_match = [
    "nice haircut",
]

[[override]]
rule = "rage-bait"
sensitivity = "low"
"#;
        let parsed = parse_policy(src, None);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        assert_eq!(format_policy(&parsed.file), src);
    }

    #[test]
    fn messy_input_becomes_canonical() {
        let src = "[[rule]]\naction='blur'\nid='a'\ndescription='d'\nthreshold=0.50\n[policy]\nname='n'\n";
        let parsed = parse_policy(src, None);
        let out = format_policy(&parsed.file);
        assert_eq!(
            out,
            "[policy]\nname = \"n\"\n\n[[rule]]\nid = \"a\"\ndescription = \"d\"\naction = \"blur\"\nthreshold = 0.5\n"
        );
        assert_eq!(format_policy(&parse_policy(&out, None).file), out);
    }
}
