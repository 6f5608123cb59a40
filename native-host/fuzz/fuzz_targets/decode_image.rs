//! Fuzz the image decoder: any bytes give an image or a `DecodeError`, within the limits, never a panic.
#![no_main]

use feedwarden_host::images::{decode, DecodeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast, so the fuzzer explores formats rather than big allocations.
    let limits = DecodeLimits { max_bytes: 1 << 20, max_dimension: 2048, max_pixels: 1 << 20, max_alloc: 64 << 20 };
    if let Ok(img) = decode(data, &limits) {
        assert!(u64::from(img.width()) * u64::from(img.height()) <= limits.max_pixels);
    }
});
