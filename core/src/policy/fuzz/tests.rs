//! The bounded policy fuzz run of the normal test suite: the shipped policies and a few hostile inputs,
//! mutated a few thousand times with a seeded generator, each checked by [`check_input`]. The long run is
//! the cargo-fuzz target (`native-host/fuzz/run.sh policy 600`).

use super::*;
use crate::policy::limits::{MAX_POLICY_BYTES, MAX_RULES};
use crate::policy::BUILTIN_POLICIES;

/// Inputs tried per run (each is parsed, resolved and formatted).
const INPUTS: usize = 3_000;

/// xorshift64: reproducible mutations without a dependency (seed must not be 0).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments the mutator inserts: policy syntax, path spellings and characters that break lines or strings.
const TOKENS: &[&str] = &[
    "[policy]\nname = \"x\"\n",
    "\n[[rule]]\nid = \"r\"\ndescription = \"d\"\naction = \"hide\"\n",
    "\n[[override]]\nrule = \"rage-bait\"\nenabled = false\n",
    "extends = [\"a.toml\", \"./a.toml\", \"sub/b.toml\"]\n",
    "extends = [\"../a.toml\", \"/p/policy.toml\", \"c.toml\", \"./c.toml\"]\n",
    "extends = [\"feedwarden:defaults\", \"feedwarden:strict\", \"feedwarden:nope\"]\n",
    FILE_SEPARATOR,
    "image_description = \"a spider\"\nimage_examples = [\"../x.jpg\", \"/dev/zero\"]\n",
    "threshold = 0.5\n",
    "sensitivity = \"high\"\n",
    "sites = [\"x.com\", \"*\"]\n",
    "should_match = [\"a\\nb\", \"\"\"\nmulti\n\"\"\"]\n",
    "\"\"\"",
    "'''",
    "\"",
    "[",
    "]",
    "[[",
    "{",
    "}",
    "=",
    "#",
    ",",
    "\n",
    "\r\n",
    "\u{0}",
    "\u{1b}[31m",
    "\u{2028}",
    "\\u0000",
    "\\n",
    "é",
    "a = [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]\n",
    "x.y.z.w = 1\n",
    "1e400",
    "-0.0",
    "nan",
];

/// Inputs the mutator starts from.
fn seeds() -> Vec<String> {
    let mut seeds: Vec<String> = BUILTIN_POLICIES.iter().map(|(_, src)| src.to_string()).collect();
    seeds.extend(
        [
            include_str!("../../../../policies/examples/mock-looks.toml"),
            include_str!("../../../../policies/examples/my-tweaks.toml"),
            include_str!("../../../../policies/examples/spiders.toml"),
        ]
        .map(str::to_string),
    );
    let sep = FILE_SEPARATOR;
    // Four files extending each other under several spellings, in a cycle.
    seeds.push(format!(
        "[policy]\nname = \"p\"\nextends = [\"a.toml\", \"sub/b.toml\", \"./a.toml\"]\n\n[[override]]\nrule = \"b1\"\naction = \"hide\"\n\
         {sep}[policy]\nname = \"a\"\nextends = [\"sub/c.toml\", \"feedwarden:defaults\"]\n\n[[rule]]\nid = \"a1\"\ndescription = \"A\"\naction = \"label\"\n\
         {sep}[policy]\nname = \"b\"\nextends = [\"c.toml\"]\n\n[[rule]]\nid = \"b1\"\ndescription = \"B\"\naction = \"blur\"\n\
         {sep}[policy]\nname = \"c\"\nextends = [\"../a.toml\", \"/p/policy.toml\", \"..//sub/./c.toml\"]\n"
    ));
    // One file that extends itself under ten spellings.
    let spellings: Vec<String> = (0..10).map(|i| format!("\"{}a.toml\"", "./".repeat(i))).collect();
    seeds.push(format!(
        "[policy]\nname = \"p\"\nextends = [\"a.toml\"]\n{sep}[policy]\nname = \"a\"\nextends = [{}]\n",
        spellings.join(", ")
    ));
    // Many rules and overrides of rules that do not exist.
    let mut many = String::from("[policy]\nname = \"many\"\nextends = [\"a.toml\"]\n");
    for i in 0..300 {
        many.push_str(&format!("\n[[override]]\nrule = \"ghost-{i}\"\nenabled = false\n"));
    }
    many.push_str(sep);
    many.push_str("[policy]\nname = \"a\"\n");
    for i in 0..MAX_RULES + 20 {
        many.push_str(&format!("[[rule]]\nid = \"r{i}\"\ndescription = \"d\"\naction = \"label\"\n"));
    }
    seeds.push(many);
    // Deep nesting, long lines, a flood of broken tables, and a text just over the size limit.
    seeds.push(format!("[policy]\nname = \"deep\"\nx = {}1{}\n", "[".repeat(20_000), "]".repeat(20_000)));
    seeds.push(format!("[policy]\nname = \"{}\"\n", "n\\n".repeat(5_000)));
    seeds.push("[[rule]]\n".repeat(1_000));
    seeds.push(format!("[policy]\nname = \"big\"\n{}", "# padding\n".repeat(MAX_POLICY_BYTES / 10 + 1)));
    seeds
}

/// One to eight random edits: insert a token, delete or duplicate a range, flip a byte, splice another
/// seed in. Edits land on character boundaries, so the text stays UTF-8 apart from deliberate byte flips.
fn mutate(rng: &mut Rng, seeds: &[String]) -> Vec<u8> {
    let mut text = seeds[rng.below(seeds.len())].clone().into_bytes();
    for _ in 0..=rng.below(8) {
        let at = rng.below(text.len() + 1);
        match rng.below(6) {
            0 | 1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                text.splice(at..at, token.bytes());
            }
            2 if !text.is_empty() => {
                let end = (at + rng.below(64)).min(text.len());
                text.drain(at.min(end)..end);
            }
            3 if !text.is_empty() => {
                let end = (at + rng.below(256)).min(text.len());
                let copy = text[at.min(end)..end].to_vec();
                text.splice(at..at, copy);
            }
            4 if !text.is_empty() => {
                let i = rng.below(text.len());
                text[i] ^= 1 << rng.below(8);
            }
            _ => {
                let other = seeds[rng.below(seeds.len())].as_bytes();
                let from = rng.below(other.len());
                let end = (from + rng.below(512)).min(other.len());
                text.splice(at..at, other[from..end].iter().copied());
            }
        }
    }
    text
}

#[test]
fn seeded_policy_fuzz_keeps_every_limit() {
    let seeds = seeds();
    let mut rng = Rng(0x5eed_f00d_cafe_d00d);
    let (mut tried, mut over_size, mut failures) = (0usize, 0usize, Vec::new());
    let inputs = seeds.iter().map(|s| s.clone().into_bytes()).chain((0..INPUTS).map(|_| mutate(&mut rng, &seeds)));
    for input in inputs {
        tried += 1;
        over_size += usize::from(input.len() > MAX_POLICY_BYTES);
        match std::panic::catch_unwind(|| check_input(&input)) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push(format!("{why}\n--- input: {:?}", String::from_utf8_lossy(&input))),
            Err(_) => failures.push(format!("panicked\n--- input: {:?}", String::from_utf8_lossy(&input))),
        }
    }
    eprintln!("policy fuzz smoke: {tried} inputs ({over_size} over the size limit), {} failures", failures.len());
    assert!(failures.is_empty(), "{} of {tried} inputs broke a rule; first:\n{}", failures.len(), failures[0]);
}

#[test]
fn memory_files_normalise_every_spelling() {
    let mut files = MemoryFiles::from_input(&format!("top{FILE_SEPARATOR}a{FILE_SEPARATOR}b{FILE_SEPARATOR}c"));
    for (name, from, key) in [
        ("a.toml", None, "/p/a.toml"),
        ("././a.toml", None, "/p/a.toml"),
        ("c.toml", Some("/p/sub/b.toml"), "/p/sub/c.toml"),
        ("../a.toml", Some("/p/sub/c.toml"), "/p/a.toml"),
        ("..//sub/./c.toml", Some("/p/sub/c.toml"), "/p/sub/c.toml"),
        ("/p/policy.toml", Some("/p/sub/c.toml"), "/p/policy.toml"),
    ] {
        assert_eq!(files.load(name, from).unwrap().key, key, "{name} from {from:?}");
    }
    assert!(files.load("nope.toml", None).is_err());
    assert_eq!(files.reads, 7);
}
