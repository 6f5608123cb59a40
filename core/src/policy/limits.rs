//! Limits that keep any policy text, however hostile (a shared file, a fuzzer's output), from exhausting
//! whoever loads it: bounded bytes read, files followed, rules kept and diagnostics reported. Documented for
//! users in `policies/README.md` ("Limits").

use std::borrow::Cow;

use super::{Diagnostic, Severity};

/// Largest policy file, in bytes (the reader's own and every file it extends). A long hand-written policy is
/// a few KiB; the limit also keeps the host's `policy` reply, which carries the text, under the browser's
/// 1 MB message limit.
pub const MAX_POLICY_BYTES: usize = 128 * 1024;

/// Deepest chain of `extends` (a file that extends a file that extends …).
pub const MAX_EXTENDS_DEPTH: usize = 8;

/// Most distinct files one policy may pull in through `extends`, at every depth together.
pub const MAX_EXTENDED_FILES: usize = 32;

/// Most `extends` entries followed while resolving one policy, at every depth together (a file extended
/// twice counts twice, even though it is read and resolved only once).
pub const MAX_EXTENDS_FOLLOWED: usize = 64;

/// Most rules after inheritance; rules past it are left out with an error.
pub const MAX_RULES: usize = 500;

/// Most diagnostics kept for one file or one resolution; the rest are counted in a last one.
pub const MAX_DIAGNOSTICS: usize = 200;

/// Longest diagnostic message, in characters (values quoted from the file are cut to fit).
pub const MAX_MESSAGE_CHARS: usize = 400;

/// `s` on one line: control characters (newlines, tabs, escapes) and line separators are written as escapes
/// (`\n`, `\u{1b}`), so a diagnostic stays one `file:line:col: …` line whatever text it quotes.
pub fn one_line(s: &str) -> Cow<'_, str> {
    let needs_escape = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` on one line and at most `max` characters (the cut is marked with `…`).
pub fn one_line_capped(s: &str, max: usize) -> String {
    let line = one_line(s);
    match line.char_indices().nth(max) {
        None => line.into_owned(),
        Some((cut, _)) => {
            let keep = line[..cut].char_indices().nth(max.saturating_sub(1)).map_or(cut, |(i, _)| i);
            format!("{}…", &line[..keep])
        }
    }
}

/// Keep at most `max` diagnostics (in their order), each on one line with a capped message; when some are
/// left out, a last warning says how many (`too-many-diagnostics`) and where the first of them was.
pub fn bound_diagnostics(diagnostics: Vec<Diagnostic>, max: usize) -> Vec<Diagnostic> {
    let total = diagnostics.len();
    let mut iter = diagnostics.into_iter();
    let mut out: Vec<Diagnostic> = iter
        .by_ref()
        .take(max)
        .map(|mut d| {
            d.message = one_line_capped(&d.message, MAX_MESSAGE_CHARS);
            d.file = d.file.map(|f| one_line_capped(&f, MAX_MESSAGE_CHARS));
            d.rule = d.rule.map(|r| one_line_capped(&r, 64));
            d
        })
        .collect();
    if let Some(first_left_out) = iter.next() {
        let file = first_left_out.file.map(|f| one_line_capped(&f, MAX_MESSAGE_CHARS));
        out.push(Diagnostic {
            severity: Severity::Warning,
            code: "too-many-diagnostics".into(),
            file,
            line: first_left_out.line,
            column: first_left_out.column,
            rule: None,
            message: format!(
                "{} more problems from here on are not listed (at most {max} are); fix the ones above and check again",
                total - max
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(message: &str, line: usize) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: "x".into(),
            file: Some("a\nb.toml".into()),
            line,
            column: 1,
            rule: None,
            message: message.into(),
        }
    }

    #[test]
    fn one_line_escapes_control_characters_only() {
        assert_eq!(one_line("plain é ✓"), "plain é ✓");
        assert_eq!(one_line("a\nb\r\tc\u{1b}[31m\u{2028}"), "a\\nb\\r\\tc\\u{1b}[31m\\u{2028}");
        assert_eq!(one_line_capped("abcdef", 4), "abc…");
        assert_eq!(one_line_capped("abcd", 4), "abcd");
        assert_eq!(one_line_capped("ééééé", 3), "éé…");
    }

    #[test]
    fn bounding_keeps_the_first_and_counts_the_rest() {
        let many: Vec<Diagnostic> = (1..=10).map(|i| diag(&"x\n".repeat(1000), i)).collect();
        let out = bound_diagnostics(many, 3);
        assert_eq!(out.len(), 4);
        assert!(out[..3].iter().all(|d| d.message.chars().count() <= MAX_MESSAGE_CHARS && !d.message.contains('\n')));
        assert!(out.iter().all(|d| !d.file.as_deref().unwrap_or("").contains('\n')));
        let last = &out[3];
        assert_eq!((last.code.as_str(), last.line), ("too-many-diagnostics", 4));
        assert!(last.message.starts_with("7 more problems"), "{}", last.message);
        assert_eq!(bound_diagnostics(vec![diag("a", 1)], 3).len(), 1);
    }
}
