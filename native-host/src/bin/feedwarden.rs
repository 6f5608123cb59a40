//! `feedwarden`: the command line. Classify JSONL feeds with the same engine as the host, and check,
//! format and test policy files.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use feedwarden_host::cli;

#[derive(Debug, Parser)]
#[command(name = "feedwarden", version, about = "On-device AI filter for social-media feeds")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Classify posts from JSONL (one {"id", "text", …} per line) into JSONL verdicts.
    Classify(cli::classify::ClassifyArgs),
    /// Check, format and test policy files.
    #[command(subcommand)]
    Policy(cli::policy::PolicyCommand),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Classify(a) => cli::classify::run(a),
        Command::Policy(c) => cli::policy::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
