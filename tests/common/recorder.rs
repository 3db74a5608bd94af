//! The far end of webhooks and chat APIs: a loopback HTTP server that records every request
//! (any method, any path) and answers with the statuses and bodies it is told to, in turn.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
pub struct Recorder {
    answers: Mutex<VecDeque<(u16, String)>>,
    seen: Mutex<Vec<Seen>>,
}

impl Recorder {
    /// A recorder on an ephemeral loopback port answering `answers` (status, body) in turn,
    /// then 200 with `{"ok":true}`; returns its root URL, `http://127.0.0.1:PORT`.
    pub async fn start(answers: &[(u16, &str)]) -> (String, Arc<Recorder>) {
        let answers = answers.iter().map(|&(code, body)| (code, body.to_string())).collect();
        let recorder = Arc::new(Recorder { answers: Mutex::new(answers), ..Default::default() });
        let app = axum::Router::new().fallback(record).with_state(Arc::clone(&recorder));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, recorder)
    }

    /// Every request so far, in the order they came.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(
    State(recorder): State<Arc<Recorder>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    recorder.seen.lock().unwrap().push(Seen { method, path: uri.path().to_string(), headers, body });
    let (code, text) = recorder.answers.lock().unwrap().pop_front().unwrap_or((200, "{\"ok\":true}".to_string()));
    (StatusCode::from_u16(code).unwrap(), text)
}
