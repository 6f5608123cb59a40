//! The CLI's one output writer: every result a `feedwarden` command prints (verdict lines, reports,
//! listings, formatted policies) goes to stdout through here, so stdout is opened in one place of the CLI
//! (the workspace's `clippy.toml` refuses `std::io::stdout` elsewhere, and `clippy::print_stdout` refuses
//! `print!`). Diagnostics and progress go to stderr.
#![allow(clippy::disallowed_methods)]

use std::io::Write;

/// Stdout as a writer (for JSONL and CSV streams; wrap it in a `BufWriter`).
pub fn stdout() -> std::io::Stdout {
    std::io::stdout()
}

/// Write formatted text to stdout, failing as `print!` does when stdout is gone (the [`out!`] and [`outln!`]
/// macros call this).
pub fn write_fmt(args: std::fmt::Arguments<'_>) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        panic!("failed printing to stdout: {e}");
    }
}

/// Flush what was written (before a slow step, so the reader sees the lines above it).
pub fn flush() {
    let _ = std::io::stdout().flush();
}

/// `print!` for the CLI's results.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write_fmt(format_args!($($arg)*)) };
}

/// `println!` for the CLI's results.
macro_rules! outln {
    () => { $crate::cli::output::write_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::output::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};
