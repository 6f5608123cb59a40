//! `feedwarden policy check|fmt|test`: diagnostics with file:line:column, the canonical formatter, and a
//! policy's own examples run as tests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use feedwarden_core::policy::{format_policy, parse_policy};

use super::output::{out, outln};
use crate::policy_store::{load_policy_file, save_atomic};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Report every problem in policy files (and the files they extend); exit 1 on errors.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Rewrite policy files in canonical form (`-` reads stdin, writes stdout).
    Fmt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only report files that are not canonical (exit 1); change nothing.
        #[arg(long)]
        check: bool,
    },
    /// Run each rule's should_match / should_not_match examples through the real model; exit 1 when any
    /// example would be misjudged.
    Test {
        file: PathBuf,
        /// Show passing examples too.
        #[arg(short, long)]
        verbose: bool,
    },
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { files } => check(&files),
        PolicyCommand::Fmt { files, check } => fmt(&files, check),
        PolicyCommand::Test { file, verbose } => test(&file, verbose),
    }
}

fn check(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in files {
        let (_, load) = load_policy_file(file, None);
        for d in &load.diagnostics {
            outln!("{d}");
        }
        let errors = load.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = load.diagnostics.len() - errors;
        match &load.policy {
            Some(p) if errors == 0 => outln!(
                "{}: ok, {} rule(s) active{}",
                file.display(),
                p.enabled_rules().count(),
                if warnings > 0 { format!(", {warnings} warning(s)") } else { String::new() }
            ),
            Some(p) => {
                failed = true;
                outln!(
                    "{}: {errors} error(s), {warnings} warning(s); the {} rule(s) without errors still load",
                    file.display(),
                    p.enabled_rules().count()
                );
            }
            None => {
                failed = true;
                outln!("{}: {errors} error(s); this file cannot be loaded", file.display());
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn fmt(files: &[PathBuf], check_only: bool) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in files {
        let stdin = file.as_os_str() == "-";
        let src = if stdin {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
        };
        let parsed = parse_policy(&src, Some(&file.display().to_string()));
        if parsed.has_errors() || !parsed.loadable {
            for d in &parsed.diagnostics {
                eprintln!("{d}");
            }
            eprintln!(
                "{}: not formatted: fix the errors first (formatting would drop the broken parts)",
                file.display()
            );
            failed = true;
            continue;
        }
        for d in parsed.diagnostics.iter().filter(|d| d.code == "comment-dropped-by-fmt") {
            eprintln!("{d}");
        }
        let formatted = format_policy(&parsed.file);
        if stdin {
            out!("{formatted}");
        } else if formatted != src {
            if check_only {
                outln!("{}: not in canonical form (run `feedwarden policy fmt {}`)", file.display(), file.display());
                failed = true;
            } else {
                save_atomic(file, &formatted).with_context(|| format!("cannot write {}", file.display()))?;
                outln!("{}: formatted", file.display());
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn test(file: &Path, verbose: bool) -> anyhow::Result<ExitCode> {
    let (_, load) = load_policy_file(file, None);
    for d in &load.diagnostics {
        eprintln!("{d}");
    }
    let policy = load.policy.with_context(|| format!("{} cannot be loaded (see the errors above)", file.display()))?;
    let mut judge = super::load_judge(&crate::paths::Paths::discover(), policy, 0)?;
    let results = judge.test_examples()?;
    let failed = results.iter().filter(|r| !r.passed).count();
    let mut current = "";
    for r in &results {
        if r.rule != current {
            current = &r.rule;
            outln!("rule \"{}\"", r.rule);
        }
        if !r.passed || verbose {
            let mark = if r.passed { "ok  " } else { "FAIL" };
            let want = if r.expected_match { "should match    " } else { "should not match" };
            let cmp = if r.score >= r.threshold { "≥" } else { "<" };
            outln!(
                "  {mark} {want}  score {:.2} {cmp} {:.2}  \"{}\"",
                r.score,
                r.threshold,
                feedwarden_core::text::ellipsize(&r.text, 70)
            );
        }
    }
    outln!("{} example(s), {} passed, {failed} misjudged", results.len(), results.len() - failed);
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
