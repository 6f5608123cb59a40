//! What a policy fuzzer checks on every input, shared by the cargo-fuzz target `policy`
//! (`native-host/fuzz`, the long run) and the seeded smoke run in this module's tests (part of the normal
//! test suite). One input is a small folder of policy files; it is parsed and resolved with `extends`
//! followed between them, and the result must keep every limit of [`super::limits`], never panic, and
//! format stably.

use super::limits::{MAX_DIAGNOSTICS, MAX_EXTENDED_FILES, MAX_MESSAGE_CHARS, MAX_RULES};
use super::{format_policy, parse_policy, resolve, LoadedFile};

/// Separates the files of one input: the policy first, then the files of [`FILE_NAMES`] after it.
pub const FILE_SEPARATOR: &str = "\n%%file%%\n";

/// Where the files of one input live: the policy, then files it can extend (`a.toml`, `sub/b.toml`, and
/// `sub/c.toml`, which can reach the others as `../a.toml` or `/p/policy.toml`).
pub const FILE_NAMES: [&str; 4] = ["/p/policy.toml", "/p/a.toml", "/p/sub/b.toml", "/p/sub/c.toml"];

/// An in-memory folder of policy files: `extends` entries are taken relative to the extending file's
/// folder and normalised (`.`, `..`, repeated `/`), as the host's canonical paths are, so every spelling of
/// one file has one key. Counts its reads.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    files: Vec<(String, String)>,
    /// How many times a file was asked for.
    pub reads: usize,
}

impl MemoryFiles {
    /// The files of `input`, split at [`FILE_SEPARATOR`] and named by [`FILE_NAMES`] (extra parts are
    /// ignored).
    pub fn from_input(input: &str) -> Self {
        let files = input.split(FILE_SEPARATOR).zip(FILE_NAMES).map(|(src, name)| (name.to_string(), src.to_string()));
        MemoryFiles { files: files.collect(), reads: 0 }
    }

    /// A folder with these `(path, source)` files (absolute paths).
    pub fn new(files: &[(&str, &str)]) -> Self {
        MemoryFiles { files: files.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect(), reads: 0 }
    }

    /// The policy's source (the first file).
    pub fn top(&self) -> &str {
        self.files.first().map_or("", |(_, s)| s.as_str())
    }

    /// The loader: `name` from the file keyed `from` (`None`: the first file).
    pub fn load(&mut self, name: &str, from: Option<&str>) -> Result<LoadedFile, String> {
        self.reads += 1;
        let from = from.or_else(|| self.files.first().map(|(n, _)| n.as_str())).unwrap_or("/p/policy.toml");
        let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
        let joined = if name.starts_with('/') { name.to_string() } else { format!("{dir}/{name}") };
        let key = normalise(&joined);
        match self.files.iter().find(|(n, _)| *n == key) {
            Some((_, src)) => Ok(LoadedFile { key, source: src.clone() }),
            None => Err(format!("{key}: no such file")),
        }
    }
}

/// `/a/./b//../c` → `/a/c` (lexically; `..` at the root stays at the root).
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Parse and resolve one input (see [`MemoryFiles::from_input`]; bytes that are not UTF-8 are read
/// lossily) and check what must hold for any text: at most [`MAX_RULES`] rules with distinct ids, at most
/// [`MAX_DIAGNOSTICS`] diagnostics (and one counting the rest), each displayed on one line with a bounded
/// message, at most [`MAX_EXTENDED_FILES`] file reads, and a text that parses cleanly formats to a text that
/// parses cleanly to the same canonical form. Returns the first broken rule; a panic is the caller's to see.
pub fn check_input(input: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    let mut files = MemoryFiles::from_input(&text);
    let top = files.top().to_string();
    let parsed = parse_policy(&top, Some(FILE_NAMES[0]));
    let resolution = resolve(&parsed, Some(FILE_NAMES[0]), &mut |n: &str, f: Option<&str>| files.load(n, f), None);
    let rules = &resolution.policy.rules;
    if rules.len() > MAX_RULES {
        return Err(format!("{} rules, over the limit of {MAX_RULES}", rules.len()));
    }
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err("two rules share an id".into());
    }
    if resolution.diagnostics.len() > MAX_DIAGNOSTICS + 1 {
        return Err(format!("{} diagnostics, over the limit of {MAX_DIAGNOSTICS}", resolution.diagnostics.len()));
    }
    for d in &resolution.diagnostics {
        let shown = d.to_string();
        if shown.contains(['\n', '\r']) {
            return Err(format!("a diagnostic spans lines: {shown:?}"));
        }
        if d.message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(format!("a diagnostic message has {} characters", d.message.chars().count()));
        }
        if d.line == 0 || d.column == 0 {
            return Err(format!("a diagnostic has no position: {shown}"));
        }
    }
    if files.reads > MAX_EXTENDED_FILES {
        return Err(format!("{} file reads, over the limit of {MAX_EXTENDED_FILES}", files.reads));
    }
    if parsed.loadable && !parsed.has_errors() {
        let formatted = format_policy(&parsed.file);
        let again = parse_policy(&formatted, None);
        if again.has_errors() || !again.loadable {
            let first = again.errors().next().map(ToString::to_string).unwrap_or_default();
            return Err(format!("the formatted text does not parse cleanly: {first}\n--- formatted:\n{formatted}"));
        }
        let twice = format_policy(&again.file);
        if twice != formatted {
            return Err(format!("formatting is not stable:\n--- once:\n{formatted}\n--- twice:\n{twice}"));
        }
        if again.file.rules.len() != parsed.file.rules.len()
            || again.file.overrides.len() != parsed.file.overrides.len()
        {
            return Err("formatting changed the number of rules or overrides".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
