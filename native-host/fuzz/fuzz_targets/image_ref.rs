//! Fuzz what the host does with an `images` entry from the browser: data: URLs are decoded, files refused.
#![no_main]

#[path = "../../src/images/source.rs"]
#[allow(dead_code)]
mod source;

use libfuzzer_sys::fuzz_target;
use source::{parse_image_ref, ImageRef};

fuzz_target!(|entry: &str| {
    if let Ok(ImageRef::File(p)) = parse_image_ref(entry, None, 1 << 20) {
        panic!("the host must never read a local file: {}", p.display());
    }
});
