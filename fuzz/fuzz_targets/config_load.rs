//! Config file text through `Config::from_str` (TOML, validation, query compilation); only panics matter.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("/tmp/fuzz/config.toml");
        let _ = std::hint::black_box(wirewatch::config::Config::from_str(text, path));
    }
});
