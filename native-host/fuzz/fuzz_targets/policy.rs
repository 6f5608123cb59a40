//! Fuzz the policy parser and resolver: any bytes, read as a small folder of policy files that extend each
//! other, parse and resolve within every limit, never panic, and format stably
//! (`feedwarden_core::policy::fuzz::check_input` says what is checked; the test suite runs the same checks on
//! a few thousand seeded mutations).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = feedwarden_core::policy::fuzz::check_input(data) {
        panic!("{why}");
    }
});
