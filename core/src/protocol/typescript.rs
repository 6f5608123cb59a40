//! Generates the extension's protocol types (`extension/src/shared/protocol.gen.ts`) from the Rust types
//! with `ts-rs`, and fails when the committed file differs from what they generate. Regenerate with
//! [`REGENERATE`].

use ts_rs::{Config, TS};

use super::*;
use crate::decision::{FiredRule, Verdict, VerdictAction};
use crate::policy::{Action, Diagnostic, Severity};

/// The command that rewrites the generated file.
const REGENERATE: &str = "FEEDWARDEN_BLESS=1 cargo test -p feedwarden-core --lib protocol::typescript";
/// Where the generated file lives, from this crate's folder.
const GENERATED: &str = "../extension/src/shared/protocol.gen.ts";

/// One exported declaration, with its doc comment.
fn declare<T: TS>(cfg: &Config) -> String {
    let docs = T::docs().unwrap_or_default();
    format!("{docs}export {}\n", T::decl(cfg))
}

/// A TypeScript tuple of string literals.
fn literals<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items.into_iter().map(|s| format!("{s:?}")).collect();
    format!("[{}] as const", quoted.join(", "))
}

/// The whole generated file.
fn generate() -> String {
    // Every integer on the wire fits a JavaScript number.
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        declare::<VerdictAction>(&cfg),
        declare::<Action>(&cfg),
        declare::<FiredRule>(&cfg),
        declare::<Severity>(&cfg),
        declare::<Diagnostic>(&cfg),
        declare::<ErrorCode>(&cfg),
        declare::<FeedbackKind>(&cfg),
        declare::<WirePost>(&cfg),
        declare::<Request>(&cfg),
        declare::<ImageError>(&cfg),
        declare::<VlmFinding>(&cfg),
        declare::<ImageFinding>(&cfg),
        declare::<VerdictOut>(&cfg),
        declare::<ModelInfo>(&cfg),
        declare::<HeadInfo>(&cfg),
        declare::<PolicySummary>(&cfg),
        declare::<StorageReport>(&cfg),
        declare::<HelloReply>(&cfg),
        declare::<VerdictsReply>(&cfg),
        declare::<ReplyError>(&cfg),
        declare::<VerdictUpdate>(&cfg),
        declare::<PolicyRuleInfo>(&cfg),
        declare::<PolicyReply>(&cfg),
        declare::<ValidationReply>(&cfg),
        declare::<FeedbackReply>(&cfg),
        declare::<FilteredCount>(&cfg),
        declare::<StatsToday>(&cfg),
        declare::<Accepts>(&cfg),
        declare::<StatsReply>(&cfg),
        declare::<CancelledReply>(&cfg),
        declare::<ErrorReply>(&cfg),
    ];
    let _ = Verdict::name(&cfg); // flattened into `Verdict` (VerdictOut) above
    format!(
        "// GENERATED from the Rust protocol types (core/src/protocol/) by ts-rs: do not edit.\n\
         // Regenerate: {REGENERATE}\n\
         // The human description is docs/protocol.md.\n\n\
         {}\n\
         /** Every reply the host sends to a request (the unsolicited `verdict.update` is separate). */\n\
         export type HostReply = HelloReply | VerdictsReply | PolicyReply | ValidationReply | FeedbackReply | StatsReply | CancelledReply | ErrorReply;\n\n\
         /** Protocol version the host speaks. */\n\
         export const PROTOCOL_VERSION = {PROTOCOL_VERSION};\n\
         /** Maximum posts per `classify` request (protocol limit). */\n\
         export const MAX_POSTS_PER_REQUEST = {MAX_POSTS_PER_REQUEST};\n\
         /** Every request `type`. */\n\
         export const REQUEST_TYPES = {};\n\
         /** Every error `code`. */\n\
         export const ERROR_CODES = {};\n\
         /** The built-in categories (core/src/categories.rs): id, name, what they look for in plain words, and\n\
          * whether they are judged from `text` or `images`. */\n\
         export const BUILTIN_CATEGORIES = {} as const;\n",
        declarations.join("\n"),
        literals(REQUEST_TYPES),
        literals(ErrorCode::ALL.map(ErrorCode::as_str)),
        serde_json::to_string(&crate::categories::BUILTIN).expect("categories serialize"),
    )
}

#[test]
fn the_committed_typescript_protocol_matches_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED);
    let fresh = generate();
    if std::env::var_os("FEEDWARDEN_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write the generated TypeScript");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is out of date with the Rust protocol types (core/src/protocol/); regenerate it with\n    {REGENERATE}\n\
         and commit it",
        path.display()
    );
}
