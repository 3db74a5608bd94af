//! The lenient second pass: its rewrite (entity repair, end-tag matching, text types) on any
//! bytes, then `feed::parse` on the input and on what the rewrite wrote. Only panics and hangs
//! count.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(rewritten) = wirewatch::feed::lenient_rewrite(data) else { return };
    let before = wirewatch::feed::parse(data, None).map(|f| f.stories.len());
    let after = wirewatch::feed::parse(&rewritten, None).map(|f| f.stories.len());
    std::hint::black_box((before.ok(), after.ok()));
});
