//! Feed bytes through `feed::parse` exactly as the poller calls it (prepare, feed-rs, html-to-text, stories).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(feed) = wirewatch::feed::parse(data, Some("https://example.org/feed")) {
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let mut n = len(&feed.title).wrapping_add(feed.refresh.map_or(0, |d| d.as_secs() as usize));
        for s in &feed.stories {
            n = n.wrapping_add(s.key.len() + len(&s.url) + s.title.len() + s.body.len() + s.author.len());
            n = n.wrapping_add(s.categories.iter().map(String::len).sum::<usize>());
            n = n.wrapping_add(s.published.map_or(0, |p| p.timestamp() as usize));
            n = n.wrapping_add(len(&s.canon_url) + len(&s.fingerprint));
        }
        std::hint::black_box(n);
    }
});
