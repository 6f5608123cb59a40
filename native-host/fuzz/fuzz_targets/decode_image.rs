//! Fuzz the image decoder: any bytes give an image or a `DecodeError` with a code and a reason, within the
//! limits, never a panic (the decoder's own `catch_unwind` is bypassed by asserting it never reports one).
#![no_main]

#[path = "../../src/images/decode.rs"]
#[allow(dead_code)]
mod decode;

use decode::{decode, DecodeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast, so the fuzzer explores formats rather than big allocations.
    let limits = DecodeLimits { max_bytes: 1 << 20, max_dimension: 2048, max_pixels: 1 << 20, max_alloc: 64 << 20 };
    match decode(data, &limits) {
        Ok(img) => assert!(u64::from(img.width()) * u64::from(img.height()) <= limits.max_pixels),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            // A codec panic is caught and reported as this reason; the fuzzer must see it as a failure.
            assert!(!e.to_string().contains("the decoder failed on this file"), "a codec panicked: {e}");
        }
    }
});
