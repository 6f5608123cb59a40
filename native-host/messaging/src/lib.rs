//! Feedwarden's native-messaging host: `framing` reads and writes the browser's length-prefixed frames (and
//! is the only code that writes to stdout), `protocol` the requests and replies (their types live in
//! `feedwarden_core::protocol`), `host` the service itself — the request loop, its threads, judging with the
//! image budget, the policy lifecycle and the reader's feedback.

pub mod framing;
pub mod host;
pub mod protocol;
