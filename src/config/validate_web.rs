//! `[web]`: the address the web view listens on and the secret that guards it. A listener
//! beyond loopback without a token is an error: the view shows every stored story.

use toml::Spanned;

use super::raw::RawWeb;
use super::validate::Checker;
use super::validate_notifier::secret_of;
use super::{Secret, Web};

/// The web view's settings, or `None` when `[web] listen` is not set.
pub(super) fn web(c: &mut Checker, raw: &RawWeb) -> Option<Web> {
    let token = token(c, raw);
    let Some(listen) = &raw.listen else {
        if let Some(at) = raw.token_env.as_ref().or(raw.token_file.as_ref()) {
            c.error(at, "web: a token without web.listen serves nothing; add listen = \"127.0.0.1:8080\"");
        }
        return None;
    };
    let addr: std::net::SocketAddr = match listen.get_ref().trim().parse() {
        Ok(addr) => addr,
        Err(_) => {
            let msg = format!("invalid address {:?} for web.listen; write e.g. \"127.0.0.1:8080\"", listen.get_ref());
            c.error(listen, msg);
            return None;
        }
    };
    if !addr.ip().is_loopback() && token.is_none() && raw.token_env.is_none() && raw.token_file.is_none() {
        let msg = format!(
            "web.listen {:?} is reachable beyond this machine: set web.token_env or web.token_file (a bearer \
             token or basic password), or listen on a loopback address such as \"127.0.0.1:8080\"",
            listen.get_ref()
        );
        c.error(listen, msg);
        return None;
    }
    Some(Web { listen: addr, token, position: Some(c.position(listen)) })
}

/// The token named by `token_env` or `token_file` (not both). A blank one is an error that
/// shows what to write, where a notifier's is not.
fn token(c: &mut Checker, raw: &RawWeb) -> Option<Secret> {
    let blank = |v: &Spanned<String>| v.get_ref().trim().is_empty();
    match (&raw.token_env, &raw.token_file) {
        (Some(e), None) if blank(e) => {
            c.error(e, "web: token_env names no variable; write e.g. token_env = \"WIREWATCH_WEB_TOKEN\"");
            None
        }
        (None, Some(f)) if blank(f) => {
            c.error(f, "web: token_file names no file; write e.g. token_file = \"/etc/wirewatch/web-token\"");
            None
        }
        (env, file) => secret_of(c, env, file, "web", "token"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, Secret};

    fn load(web: &str) -> Result<Config, String> {
        Config::from_str(&format!("[web]\n{web}\n"), Path::new("c.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn off_by_default_and_loopback_needs_no_token() {
        assert!(Config::from_str("", Path::new("c.toml")).unwrap().web.is_none());
        let web = load("listen = \"127.0.0.1:8080\"").unwrap().web.unwrap();
        assert_eq!(web.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(web.token, None);
        assert!(load("listen = \"[::1]:8080\"").is_ok());
    }

    #[test]
    fn beyond_loopback_needs_a_token() {
        let e = load("listen = \"0.0.0.0:8080\"").unwrap_err();
        assert!(e.starts_with("c.toml:2:10: web.listen \"0.0.0.0:8080\" is reachable beyond this machine"), "{e}");
        let web = load("listen = \"0.0.0.0:8080\"\ntoken_env = \"WW_TOKEN\"").unwrap().web.unwrap();
        assert_eq!(web.token, Some(Secret::Env("WW_TOKEN".into())));
    }

    #[test]
    fn bad_values_are_located() {
        let e = load("listen = \"localhost\"").unwrap_err();
        assert!(e.contains("c.toml:2:10: invalid address \"localhost\" for web.listen"), "{e}");
        let e = load("listen = \"127.0.0.1:1\"\ntoken_env = \"A\"\ntoken_file = \"t\"").unwrap_err();
        assert!(e.contains("c.toml:4:14: web: set token_env or token_file, not both"), "{e}");
        let e = load("listen = \"127.0.0.1:1\"\ntoken_env = \" \"").unwrap_err();
        assert!(e.contains("c.toml:3:13: web: token_env names no variable"), "{e}");
        let e = load("token_env = \"A\"").unwrap_err();
        assert!(e.contains("a token without web.listen"), "{e}");
        let e = load("lissen = \"127.0.0.1:1\"").unwrap_err();
        assert!(e.contains("unknown field `lissen`"), "{e}");
    }
}
