//! Fuzz smoke run of the host's request path, in the normal test suite: a few thousand frames mutated from
//! valid requests (seeded xorshift, so every run tries the same inputs) go through the real `Host::serve`,
//! in-process on in-memory streams, with the real model. Every frame must get exactly one reply (besides the
//! `verdict.update`s), each a JSON object within the browser's 1 MB limit, and nothing may panic. The long
//! run is the cargo-fuzz target `native-host/fuzz/fuzz_targets/frames.rs` (`native-host/fuzz/run.sh frames`).

mod common;

use std::io::Cursor;

use common::{models_dir, Rng};
use feedwarden_host::framing::{split_frames, Frame, MAX_REPLY_BYTES};
use feedwarden_host::host::Host;
use feedwarden_host::paths::Paths;
use serde_json::{json, Value};

/// Frames per run: enough to reach every request type's error paths many times, small enough for CI.
const FRAMES: usize = 3000;
const SEED: u64 = 0x5eed_f00d_cafe_0001;

/// A 1×1 PNG: small enough to keep image work cheap, valid enough to reach the decoder and the models.
const PNG_1X1: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

fn seeds() -> Vec<Vec<u8>> {
    let post = json!({"id": "p1", "text": "These idiots want to destroy everything you love!", "site": "x.com",
                      "author": "@a", "author_followed": false, "quoted_text": "quoted", "url": "https://x.com/a/1",
                      "created_at": "2026-01-01T00:00:00Z"});
    let with_image = json!({"id": "p2", "text": "look", "images": [PNG_1X1, "https://x.com/i.jpg", "/etc/passwd"]});
    [
        json!({"type": "hello", "request_id": 1, "protocols": [1], "client": "fuzz"}),
        json!({"type": "classify", "request_id": 2, "posts": [post.clone(), {"id": "p3", "text": ""}]}),
        json!({"type": "classify", "request_id": "3", "posts": [with_image], "image_budget_ms": 0}),
        json!({"type": "policy.get", "request_id": 4}),
        json!({"type": "policy.validate", "request_id": 5,
               "source": "[policy]\nname = \"x\"\n[[rule]]\nid = \"cats\"\ndescription = \"Cats\"\naction = \"label\"\n"}),
        json!({"type": "feedback", "request_id": 6, "post": post, "rule": "rage-bait", "kind": "was_fine",
               "idempotency_key": "k-1"}),
        json!({"type": "stats", "request_id": 7}),
    ]
    .iter()
    .map(|v| serde_json::to_vec(v).unwrap())
    .collect()
}

/// Tokens that tend to reach new paths when spliced into JSON.
const INTERESTING: [&str; 16] = [
    "\"\"",
    "0",
    "-1",
    "1e309",
    "null",
    "[]",
    "{}",
    "true",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "18446744073709551616",
    "\"type\"",
    "\"posts\"",
    "[{}]",
    "{\"id\":\"x\",\"text\":\"y\"}",
    "\"hello\"",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(2) {
        let at = rng.below(b.len() + 1);
        match rng.below(8) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => b.insert(at, rng.next() as u8),
            2 if at < b.len() => {
                let end = (at + 1 + rng.below(16)).min(b.len());
                b.drain(at..end);
            }
            3 if at < b.len() => {
                let end = (at + 1 + rng.below(32)).min(b.len());
                let piece = b[at..end].to_vec();
                b.splice(at..at, piece).for_each(drop);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                b.splice(at..at, other[from..end].iter().copied()).for_each(drop);
            }
            5 => b.splice(at..at, INTERESTING[rng.below(INTERESTING.len())].bytes()).for_each(drop),
            6 => b.truncate(at),
            _ => {
                // A long string where a short one was: request ids, ids, texts and keys all get one.
                let len = if rng.below(64) == 0 { 1_500_000 } else { 1 + rng.below(5_000) };
                let long = format!("\"{}\"", "w".repeat(len));
                b.splice(at..at, long.bytes()).for_each(drop);
            }
        }
    }
    b
}

#[test]
fn mutated_frames_each_get_one_bounded_reply() {
    let Some(models) = models_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    let paths = Paths {
        data_dir: home.path().to_path_buf(),
        ort_library: models.join("onnxruntime/libonnxruntime.so"),
        models_dir: models,
    };
    let mut host = Host::open(paths).expect("the host opens");
    let seeds = seeds();
    let mut rng = Rng(SEED);
    let mut input = Vec::new();
    for _ in 0..FRAMES {
        let body = mutate(&mut rng, &seeds);
        input.extend((body.len() as u32).to_ne_bytes());
        input.extend(body);
    }
    // One frame over the 8 MiB request limit (drained and refused), then a last valid one.
    let big = vec![b' '; 8 * 1024 * 1024 + 1];
    input.extend((big.len() as u32).to_ne_bytes());
    input.extend(big);
    let hello = br#"{"type":"hello","request_id":"last"}"#;
    input.extend((hello.len() as u32).to_ne_bytes());
    input.extend(hello);
    let sent = FRAMES + 2;

    let mut output = Vec::new();
    host.serve(Cursor::new(input), &mut output).expect("serving in-memory streams never fails");

    let (frames, rest) = split_frames(&output, usize::MAX);
    assert!(rest.is_empty(), "the output ends with a whole frame");
    let mut replies = Vec::new();
    let mut updates = 0;
    for frame in frames {
        let Frame::Message(body) = frame else { unreachable!("no limit on reading") };
        assert!(body.len() <= MAX_REPLY_BYTES, "a frame of {} bytes", body.len());
        let v: Value = serde_json::from_slice(&body).expect("every frame is JSON");
        let kind = v["type"].as_str().expect("every frame has a type").to_string();
        if kind == "verdict.update" {
            updates += 1;
        } else {
            replies.push(v);
        }
    }
    let errors = replies.iter().filter(|r| r["type"] == "error").count();
    eprintln!(
        "frames fuzzed: {sent}; replies: {} ({errors} errors, {} answers), verdict updates: {updates}",
        replies.len(),
        replies.len() - errors
    );
    assert_eq!(replies.len(), sent, "one reply per frame");
    assert_eq!(replies[sent - 2]["code"], "frame-too-large");
    assert_eq!(replies[sent - 1]["type"], "hello");
    assert_eq!(replies[sent - 1]["request_id"], "last");
    // The mutations reached past the parser: some requests were answered, not only refused.
    assert!(replies.len() - errors > FRAMES / 20, "only {} of {} frames were answered", replies.len() - errors, sent);
}
