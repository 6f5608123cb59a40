//! Small text and time conversions the readers share: HTML to plain text, entity unescaping, and source
//! timestamps (Unix seconds, X's `Thu Aug 06 21:12:23 +0000 2026`) to RFC 3339.

/// Decode the HTML entities that appear in feed text (`&amp;`, `&lt;`, `&#39;`, `&#x1F600;`, …).
pub fn unescape_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[..rest.len().min(12)].find(';');
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML (Mastodon's `content`) to plain text: tags dropped, `<br>` as a line break, paragraphs as blank
/// lines, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('>') else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let tag = rest[i + 1..i + end].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
        match name {
            "br" => out.push('\n'),
            "p" if tag.starts_with('/') => out.push_str("\n\n"),
            _ => {}
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    unescape_entities(out.trim_end())
}

/// Days since 1970-01-01 to (year, month, day) (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Unix seconds (Reddit's `created_utc`) as RFC 3339 UTC, whole seconds.
pub fn rfc3339_from_unix(secs: f64) -> Option<String> {
    if !secs.is_finite() {
        return None;
    }
    let s = secs.floor() as i64;
    let (y, m, d) = civil_from_days(s.div_euclid(86_400));
    let t = s.rem_euclid(86_400);
    Some(format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", t / 3600, t % 3600 / 60, t % 60))
}

/// X's legacy timestamp `Thu Aug 06 21:12:23 +0000 2026` as RFC 3339; other strings are returned as given.
pub fn rfc3339_from_x(s: &str) -> String {
    let parts: Vec<&str> = s.split_whitespace().collect();
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if let [_, mon, day, time, off, year] = parts[..] {
        if let (Some(m), Ok(d), true, true) = (
            MONTHS.iter().position(|x| *x == mon),
            day.parse::<u32>(),
            time.len() == 8,
            off.len() == 5 && (off.starts_with('+') || off.starts_with('-')),
        ) {
            let zone = if &off[1..] == "0000" { "Z".to_string() } else { format!("{}:{}", &off[..3], &off[3..]) };
            return format!("{year}-{:02}-{d:02}T{time}{zone}", m + 1);
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(unescape_entities("a &amp; b &lt;3 &#39;x&#x27; &bogus; & end"), "a & b <3 'x' &bogus; & end");
    }

    #[test]
    fn html_becomes_paragraphs() {
        let html = "<p>Hello <a href=\"x\">@<span>bob</span></a> &amp; co</p><p>line<br/>two</p>";
        assert_eq!(html_to_text(html), "Hello @bob & co\n\nline\ntwo");
    }

    #[test]
    fn timestamps_convert() {
        assert_eq!(rfc3339_from_unix(0.0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix(1_456_798_125.0).unwrap(), "2016-03-01T02:08:45Z");
        assert_eq!(rfc3339_from_unix(951_782_400.0).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_from_x("Thu Aug 06 21:12:23 +0000 2026"), "2026-08-06T21:12:23Z");
        assert_eq!(rfc3339_from_x("Thu Aug 06 21:12:23 -0530 2026"), "2026-08-06T21:12:23-05:30");
        assert_eq!(rfc3339_from_x("yesterday"), "yesterday");
    }
}
