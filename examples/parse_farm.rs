//! Parse speed on a directory of feed files, through `feed::parse` as the poller calls it:
//! `cargo run --release --example parse_farm -- DIR [ROUNDS]`. Reads every file into memory
//! first, then parses them all ROUNDS times (default 5) and prints each round's time, the
//! fastest, and the stories found. Used with the loopback feed farm of `../shared/bench`
//! (`gen.py --n 1000 --out DIR`); see README, "Performance".

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: parse_farm DIR [ROUNDS]");
    let rounds: usize = args.next().map_or(5, |r| r.parse().expect("ROUNDS is a number"));
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("a readable directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                format!("http://127.0.0.1:18080/feeds/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mut best = f64::MAX;
    let mut stories = 0;
    for round in 1..=rounds {
        let started = Instant::now();
        stories = 0;
        for (url, body) in &files {
            if let Ok(feed) = wirewatch::feed::parse(body, Some(url)) {
                stories += feed.stories.len();
            }
        }
        let secs = started.elapsed().as_secs_f64();
        best = best.min(secs);
        println!("round {round}: {secs:.3} s");
    }
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!("{} files, {mib:.1} MiB, {stories} stories; fastest {best:.3} s ({:.1} MiB/s)", files.len(), mib / best);
}
