//! Feed bytes through `feed::parse` exactly as the poller calls it (prepare, feed-rs, html-to-text, stories).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(feed) = wirewatch::feed::parse(data, Some("https://example.org/feed")) {
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let mut n = len(&feed.title).wrapping_add(feed.refresh.map_or(0, |d| d.as_secs() as usize));
        n = n.wrapping_add(feed.skipped()).wrapping_add(feed.repairs.iter().map(|r| r.to_string().len()).sum());
        for s in &feed.stories {
            n = n.wrapping_add(s.key.len() + len(&s.url) + s.title.len() + s.body.len() + s.author.len());
            n = n.wrapping_add(s.categories.iter().map(String::len).sum::<usize>());
            n = n.wrapping_add(s.published.map_or(0, |p| p.timestamp() as usize));
            n = n.wrapping_add(s.canon_key().unwrap_or(0) as usize).wrapping_add(s.text_key().unwrap_or(0) as usize);
        }
        std::hint::black_box(n);
    }
});
