//! Text through `text::html_to_text` and `text::fold`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    std::hint::black_box(wirewatch::text::html_to_text(&s));
    std::hint::black_box(wirewatch::text::fold(&s));
});
