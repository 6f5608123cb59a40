//! Fuzz the host's request handling end to end: the input is a raw stdin stream (4-byte lengths and JSON
//! bodies, cut anywhere) served by the real `Host::serve` on in-memory streams. Every whole frame must get
//! exactly one reply (besides `verdict.update`s), each a JSON object within the browser's 1 MB limit, and
//! nothing may panic or hang. The text model is loaded when `FEEDWARDEN_MODELS_DIR` (or the checkout's
//! models/build) has it; without it `classify` answers `model-unavailable` and the rest is still exercised.
//! The bounded stable stand-in runs in the test suite: tests/host/frames_fuzz.rs.
#![no_main]

use std::io::Cursor;
use std::sync::{Mutex, OnceLock};

use feedwarden_host::framing::{split_frames, Frame, MAX_REPLY_BYTES, MAX_REQUEST_BYTES};
use feedwarden_host::host::Host;
use feedwarden_host::paths::Paths;
use libfuzzer_sys::fuzz_target;

fn host() -> &'static Mutex<Host> {
    static HOST: OnceLock<Mutex<Host>> = OnceLock::new();
    HOST.get_or_init(|| {
        // Before ONNX Runtime loads: nothing leaves the machine, fuzzing included.
        std::env::set_var("ORT_DISABLE_TELEMETRY", "1");
        let mut paths = Paths::discover();
        // A data folder of the fuzzer's own (its feedback, cache and stats rows go there), never the reader's.
        paths.data_dir = std::env::temp_dir().join(format!("feedwarden-fuzz-frames-{}", std::process::id()));
        Mutex::new(Host::open(paths).expect("the host opens"))
    })
}

fuzz_target!(|data: &[u8]| {
    let (frames, _) = split_frames(data, MAX_REQUEST_BYTES);
    let mut out = Vec::new();
    let mut host = host().lock().unwrap_or_else(|e| e.into_inner());
    host.serve(Cursor::new(data.to_vec()), &mut out).expect("serving in-memory streams never fails");
    let (replies, rest) = split_frames(&out, usize::MAX);
    assert!(rest.is_empty(), "the output ends with a whole frame");
    let mut answers = 0;
    for reply in &replies {
        let Frame::Message(body) = reply else { unreachable!("no limit on reading replies") };
        assert!(body.len() <= MAX_REPLY_BYTES, "a {}-byte reply", body.len());
        let v: serde_json::Value = serde_json::from_slice(body).expect("every reply is JSON");
        assert!(v["type"].is_string(), "a reply without a type: {v}");
        if v["type"] != "verdict.update" {
            answers += 1;
        }
    }
    assert_eq!(answers, frames.len(), "one reply per whole frame");
});
