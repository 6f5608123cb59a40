//! Fuzz what the host does with an `images` entry from the browser: data: URLs are decoded, files refused.
#![no_main]

use feedwarden_host::images::source::{parse_image_ref, ImageRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|entry: &str| {
    if let Ok(ImageRef::File(p)) = parse_image_ref(entry, None, 1 << 20) {
        panic!("the host must never read a local file: {}", p.display());
    }
});
