//! The web view's one secret: a bearer token, or the password of HTTP basic authentication
//! (any user name), so both scripts and browsers can present it.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::Site;

/// Lets a request through when no token is configured or it carries the token.
pub(super) async fn require(State(site): State<Site>, request: Request, next: Next) -> Response {
    match &site.token {
        Some(token) if !presented(request.headers()).is_some_and(|p| same(&p, token)) => {
            let mut refused = (
                StatusCode::UNAUTHORIZED,
                "a token is required: Authorization: Bearer TOKEN, or basic \
                                                           authentication with the token as password\n",
            )
                .into_response();
            let challenge = HeaderValue::from_static("Basic realm=\"wirewatch\", charset=\"UTF-8\"");
            refused.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
            refused
        }
        _ => next.run(request).await,
    }
}

/// The secret a request presents: a bearer token, or a basic password.
fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        return text.split_once(':').map(|(_, password)| password.to_string());
    }
    None
}

/// Compares digests, so the time taken says nothing about how much of the token was right.
fn same(presented: &str, token: &str) -> bool {
    Sha256::digest(presented.as_bytes()) == Sha256::digest(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_and_basic_both_carry_the_token() {
        assert_eq!(presented(&with("Bearer s3cret")).as_deref(), Some("s3cret"));
        // "analyst:s3cret"
        assert_eq!(presented(&with("Basic YW5hbHlzdDpzM2NyZXQ=")).as_deref(), Some("s3cret"));
        assert_eq!(presented(&with("Digest abc")), None);
        assert_eq!(presented(&HeaderMap::new()), None);
        assert!(same("s3cret", "s3cret") && !same("s3cre", "s3cret"));
    }
}
