//! Canonical story links: one spelling per article, whatever tracking a feed adds.

/// Query parameters that only track where a click came from. Exact names, plus every name
/// starting with `utm_`.
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ocid",
    "cmpid",
    "icid",
    "_ga",
    "_gl",
    "ref_src",
    "ref_url",
    "at_medium",
    "at_campaign",
    "xtor",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
    "sr_share",
    "s_cid",
    "smid",
];

fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// The canonical form of a story link: `https` for `http`, lower-case host (the URL parser
/// already lower-cases scheme and host and drops default ports), no fragment, no tracking
/// parameters, the other parameters sorted. `None` for what is not an absolute http(s) URL.
pub fn canonical_url(link: &str) -> Option<String> {
    let mut url = url::Url::parse(link.trim()).ok()?;
    match url.scheme() {
        "https" => {}
        "http" => url.set_scheme("https").ok()?,
        _ => return None,
    }
    url.host_str()?;
    if url.port() == Some(443) {
        url.set_port(None).ok()?;
    }
    url.set_fragment(None);
    let mut params: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| !is_tracking(k)).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    params.sort();
    if params.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(params);
    }
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_tracking_fragments_and_scheme_differences() {
        let c = |s| canonical_url(s).unwrap();
        assert_eq!(c("HTTP://Example.ORG:80/a/b?utm_source=rss&id=7&utm_medium=x#top"), "https://example.org/a/b?id=7");
        assert_eq!(c("https://example.org/a?b=2&a=1&fbclid=xyz"), "https://example.org/a?a=1&b=2");
        assert_eq!(c("https://example.org:443/a"), "https://example.org/a");
        assert_eq!(c("https://example.org/a?gclid=1"), "https://example.org/a");
        assert_ne!(c("https://example.org/a"), c("https://example.org/A"), "paths are case-sensitive");
        assert_eq!(canonical_url("tag:example.org,2026:story-1"), None);
        assert_eq!(canonical_url("not a url"), None);
    }
}
