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
    /// Judge exported feeds (X, Bluesky, Reddit, Mastodon, JSONL, CSV) into JSONL/CSV/Parquet with a manifest.
    Batch(cli::batch::BatchArgs),
    /// Measure how well a category's scores agree with labelled data (P/R/F1, ROC-AUC, calibration, sweep).
    Eval(cli::eval::EvalArgs),
    /// OCR and NSFW on local image files: one JSON line per image (`--bench` for timings).
    Images(cli::images::ImagesArgs),
    /// The generative tier (SmolVLM): P(yes) about an image, describe it, chat, bench.
    Vlm(cli::vlm::VlmArgs),
    /// Check, format and test policy files.
    #[command(subcommand)]
    Policy(cli::policy::PolicyCommand),
    /// Register the native host with the browsers on this machine (Chrome, Chromium, Brave, Edge, Firefox).
    Install(cli::install::InstallArgs),
    /// Remove the native host's registrations.
    Uninstall(cli::install::UninstallArgs),
    /// List the known models and whether they are installed; download one (`models fetch clip-vit-b32`).
    #[command(subcommand)]
    Models(cli::models::ModelsCommand),
    /// Check the host, ONNX Runtime, model, browser registrations, data folder and SQLite; say what is wrong.
    Doctor(cli::doctor::DoctorArgs),
}

fn main() -> ExitCode {
    // First, while single-threaded: ONNX Runtime's telemetry off before anything can load it.
    feedwarden_host::ort_telemetry::disable_before_load();
    let args = Args::parse();
    let result = match args.command {
        Command::Classify(a) => cli::classify::run(a),
        Command::Batch(a) => cli::batch::run(a),
        Command::Eval(a) => cli::eval::run(a),
        Command::Images(a) => cli::images::run(a),
        Command::Vlm(a) => cli::vlm::run(a),
        Command::Policy(c) => cli::policy::run(c),
        Command::Install(a) => cli::install::run_install(a),
        Command::Uninstall(a) => cli::install::run_uninstall(a),
        Command::Doctor(a) => cli::doctor::run(a),
        Command::Models(c) => cli::models::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
