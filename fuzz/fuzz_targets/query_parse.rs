//! Watch query text through the matcher's query parser, `wirewatch::matcher::query::parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        let _ = std::hint::black_box(wirewatch::matcher::query::parse(query));
    }
});
