//! Text normalisation shared by cache keys, author matching and model input.

/// Collapse runs of whitespace to one space (keeping single newlines as paragraph breaks), drop zero-width
/// and control characters, and trim. Two posts that differ only in such noise share a cache entry.
pub fn normalize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    let mut pending_newline = false;
    for ch in input.chars() {
        match ch {
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => continue,
            '\n' | '\r' => pending_newline = true,
            c if c.is_whitespace() => pending_space = true,
            c if c.is_control() => continue,
            c => {
                if !out.is_empty() {
                    if pending_newline {
                        out.push('\n');
                    } else if pending_space {
                        out.push(' ');
                    }
                }
                pending_space = false;
                pending_newline = false;
                out.push(c);
            }
        }
    }
    out
}

/// Append `extra` (normalised) to `text` as a new paragraph; empty parts add nothing. How quoted text and
/// text read from images join a post's own text.
pub fn append_paragraph(text: &mut String, extra: &str) {
    let extra = normalize(extra);
    if extra.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&extra);
}

/// `@Some_User` → `some_user`: how author handles are compared.
pub fn normalize_handle(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

/// Shorten `text` to at most `max_chars` characters for one-line explanations, marking the cut with `…`.
pub fn ellipsize(text: &str, max_chars: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max_chars).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

/// `%20`-style escapes, as saved web pages write their `_files/` links. A `%` not followed by two hex digits
/// stays as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_collapses_noise() {
        assert_eq!(normalize("  hello \t\u{200B}world  "), "hello world");
        assert_eq!(normalize("a\r\n\r\n  b"), "a\nb");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("x\u{0007}y"), "xy");
    }

    #[test]
    fn append_paragraph_skips_empty_parts() {
        let mut s = String::new();
        append_paragraph(&mut s, "  a  b ");
        append_paragraph(&mut s, " \u{200B} ");
        append_paragraph(&mut s, "c");
        assert_eq!(s, "a b\nc");
    }

    #[test]
    fn handles_compare_case_insensitively() {
        assert_eq!(normalize_handle(" @NYTimes"), "nytimes");
        assert_eq!(normalize_handle("bob"), "bob");
    }

    #[test]
    fn ellipsize_marks_the_cut() {
        assert_eq!(ellipsize("abcdef", 3), "abc…");
        assert_eq!(ellipsize("abc", 3), "abc");
    }
}
