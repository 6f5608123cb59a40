//! Policy diagnostics: a code for logs and tools, a position, and one sentence that says how to fix it.

use serde::{Deserialize, Serialize};

use super::limits::one_line;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule (or file) it points at is not active.
    Error,
    /// Everything still works, but something is probably not what the author meant.
    Warning,
}

/// One problem found in a policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine-readable code, e.g. `unknown-key`.
    pub code: String,
    /// File the problem is in, when known (extended files are reported with their own name).
    pub file: Option<String>,
    /// 1-based line and column (characters).
    pub line: usize,
    pub column: usize,
    /// Id of the rule the problem belongs to, when known.
    pub rule: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Diagnostic {
    /// A problem with a whole file (or policy) rather than one of its lines: reported at line 1, column 1.
    pub fn about_file(severity: Severity, code: &str, file: Option<String>, message: String) -> Self {
        Diagnostic { severity, code: code.into(), file, line: 1, column: 1, rule: None, message }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // One line whatever the fields quote (a value with a newline must not start a fake diagnostic).
        let file = one_line(self.file.as_deref().unwrap_or("<policy>"));
        write!(f, "{file}:{}:{}: {sev}[{}]: {}", self.line, self.column, one_line(&self.code), one_line(&self.message))
    }
}

/// Byte offset → 1-based (line, column) with columns counted in characters.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { src, starts }
    }

    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self.src.get(start..offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_whatever_the_message_quotes() {
        let d = Diagnostic {
            severity: Severity::Error,
            code: "bad-value".into(),
            file: Some("p\n.toml".into()),
            line: 3,
            column: 9,
            rule: None,
            message: "found \"x\nother.toml:1:1: error[fake]: y\"".into(),
        };
        let shown = d.to_string();
        assert!(!shown.contains('\n'), "{shown}");
        assert_eq!(shown, "p\\n.toml:3:9: error[bad-value]: found \"x\\nother.toml:1:1: error[fake]: y\"");
    }

    #[test]
    fn locate_counts_lines_and_characters() {
        let idx = LineIndex::new("ab\nçd\n\nx");
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(idx.locate(3), (2, 1));
        assert_eq!(idx.locate(5), (2, 2)); // after the 2-byte 'ç'
        assert_eq!(idx.locate(7), (3, 1));
        assert_eq!(idx.locate(8), (4, 1));
        assert_eq!(idx.locate(99), (4, 2));
    }
}
