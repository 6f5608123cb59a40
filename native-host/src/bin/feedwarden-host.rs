//! `feedwarden-host`: the native-messaging host the browser extension starts. Browsers pass the caller's
//! origin (and on Windows a window handle) as arguments; stdin/stdout carry framed JSON.

use std::process::ExitCode;

use feedwarden_host::host::Host;
use feedwarden_host::paths::Paths;

fn main() -> ExitCode {
    // First, while single-threaded: ONNX Runtime's telemetry off before anything can load it.
    feedwarden_host::ort_telemetry::disable_before_load();
    let paths = Paths::discover();
    let mut host = match Host::open(paths) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("feedwarden-host: cannot start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let stdout = feedwarden_host::framing::protocol_stdout();
    match host.serve(std::io::stdin(), &mut stdout.lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedwarden-host: stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
