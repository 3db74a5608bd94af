//! Properties of canonical story links: idempotent, blind to tracking, never merging paths.

use proptest::prelude::*;
use wirewatch::dedupe::canonical_url;

fn segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_~-]{1,8}"
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[a-z]{1,5}", "[a-zA-Z0-9]{0,5}"), 0..4)
}

fn tracking() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop::sample::select(vec!["utm_source", "utm_campaign", "fbclid", "gclid", "mc_cid", "ocid", "cmpid"]);
    prop::collection::vec((name.prop_map(str::to_string), "[a-z0-9]{1,6}"), 0..3)
}

fn url(scheme: &str, host: &str, path: &[String], params: &[(String, String)], fragment: &str) -> String {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let q = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
    format!("{scheme}://{host}/{}{q}{fragment}", path.join("/"))
}

proptest! {
    #[test]
    fn canonical_links_are_idempotent_and_ignore_tracking_scheme_and_fragments(
        host in prop::sample::select(vec!["example.org", "News.Example.COM", "a.example.net:8080"]),
        path in prop::collection::vec(segment(), 0..4),
        params in params(),
        noise in tracking(),
        fragment in prop::sample::select(vec!["", "#top", "#comments"]),
    ) {
        let plain = canonical_url(&url("https", host, &path, &params, "")).unwrap();
        let again = canonical_url(&plain);
        prop_assert_eq!(again.as_deref(), Some(plain.as_str()));
        let mut tracked = params.clone();
        tracked.extend(noise);
        tracked.reverse();
        let noisy = canonical_url(&url("http", host, &path, &tracked, fragment)).unwrap();
        prop_assert_eq!(noisy, plain);
    }

    #[test]
    fn different_paths_never_merge(
        a in prop::collection::vec(segment(), 1..4),
        b in prop::collection::vec(segment(), 1..4),
        params in params(),
    ) {
        prop_assume!(a != b);
        let ca = canonical_url(&url("https", "example.org", &a, &params, "")).unwrap();
        let cb = canonical_url(&url("https", "example.org", &b, &params, "")).unwrap();
        prop_assert_ne!(ca, cb);
    }
}
