//! The web view served by `wirewatch run` when `[web] listen` is set: alerts, stories, watches,
//! feeds, "try a query", and Atom feeds of alerts.
//!
//! It is read-only: every request opens the database with [`Store::open_read_only`] on the
//! blocking pool and never writes, never takes a turn at the write lock and never sends an
//! alert. Pages are rendered on the server (maud escapes every value) and work without
//! JavaScript. When a token is configured, every path asks for it (bearer, or basic with any
//! user name).

mod alerts;
mod atom;
mod auth;
mod chart;
mod feeds;
mod layout;
mod story;
mod try_query;
mod watch;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tracing::{info, warn};

use crate::config::{Config, ConfigError, ConfigErrors};
use crate::matcher::Matcher;
use crate::store::{Store, StoreError};

/// What every handler shares.
#[derive(Clone)]
pub struct Site {
    config: Arc<Config>,
    token: Option<Arc<str>>,
    /// One watch per known entity, compiled on first use (the watch page's co-occurring
    /// entities).
    entities: Arc<OnceLock<Option<Matcher>>>,
}

impl Site {
    /// The site for `config`, reading the web token now: a token that cannot be read is a
    /// config error naming `[web]`'s line.
    pub fn new(config: Arc<Config>) -> Result<Site, ConfigErrors> {
        let token = read_token(&config)?;
        Ok(Site { config, token, entities: Arc::default() })
    }

    /// Runs `read` on a read-only connection, on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Site, &Store) -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        let site = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = Store::open_read_only(&site.config.storage.path)?;
            read(&site, &store)
        })
        .await
        .map_err(|e| PageError::Internal(format!("the page's reader stopped: {e}")))?
    }
}

/// The web view's token, read from where `[web]` names it (none: no token asked for).
pub fn read_token(config: &Config) -> Result<Option<Arc<str>>, ConfigErrors> {
    let Some(web) = &config.web else { return Ok(None) };
    let Some(secret) = &web.token else { return Ok(None) };
    let token = secret.read().map_err(|e| ConfigError {
        file: config.source.clone(),
        position: web.position,
        message: format!("web: {e}"),
    })?;
    Ok(Some(Arc::from(token)))
}

/// The router of every page and feed, behind the token check.
pub fn router(site: Site) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route("/", get(alerts::page))
        .route("/alerts.atom", get(atom::alerts))
        .route("/story/{id}", get(story::page))
        .route("/watch/{name}", get(watch::page_or_feed))
        .route("/feeds", get(feeds::page))
        .route("/try", get(try_query::page))
        .route("/style.css", get(layout::style))
        .layer(axum::middleware::from_fn_with_state(site.clone(), auth::require))
        .with_state(site)
}

/// Serves the web view on `listen` until the task is aborted.
pub async fn serve(listen: SocketAddr, site: Site) {
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            warn!(%listen, error = %e, "cannot listen for the web view; running without it");
            return;
        }
    };
    info!(%listen, "serving the web view");
    if let Err(e) = axum::serve(listener, router(site)).await {
        warn!(error = %e, "the web view stopped");
    }
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("cannot read the database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = match &self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Store(StoreError::Missing { .. }) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Store(_) | PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            warn!(error = %self, "web page failed");
        }
        let title = status.canonical_reason().unwrap_or("Error");
        let body = layout::frame(title, maud::html! { h1 { (title) } p.error { (self.to_string()) } });
        (status, Html(body.into_string())).into_response()
    }
}

/// A duration from a query string (`24h`, `7d`), or `default` when absent or empty.
fn duration_param(value: Option<&str>, name: &str, default: &str) -> Result<std::time::Duration, PageError> {
    let text = value.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(default);
    humantime::parse_duration(text)
        .map_err(|_| PageError::BadRequest(format!("{name}: {text:?} is not a duration; write e.g. 24h, 7d or 30d")))
}
