//! A fault-injecting HTTP proxy: sits between fangops and moto and, on a seeded
//! schedule, answers a chosen share of requests with a fault instead of forwarding them.
//!
//! Faults are what AWS does to a client on a bad day: 500 InternalError, 503
//! ServiceUnavailable, a throttling error in the request's protocol (JSON
//! `ThrottlingException`, query-XML `Throttling`, S3's 503 `SlowDown`), a slow answer,
//! and a connection dropped after the request was read. The decision for the n-th
//! request depends only on the seed and n ([`FaultPlan::decide`]), so a run is
//! reproducible and a test can compute exactly which requests were faulted.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// HTTP 500 InternalError.
    InternalError,
    /// HTTP 503 ServiceUnavailable.
    Unavailable,
    /// A throttling error in the protocol of the request.
    Throttle,
    /// Forwarded, but only after [`FaultPlan::slow_by`].
    Slow,
    /// The request is read, then the connection is closed without an answer.
    Drop,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::InternalError,
        FaultKind::Unavailable,
        FaultKind::Throttle,
        FaultKind::Slow,
        FaultKind::Drop,
    ];
}

#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub seed: u64,
    /// Share of requests faulted, 0.0 to 1.0.
    pub rate: f64,
    /// The kinds to choose from, uniformly.
    pub kinds: Vec<FaultKind>,
    pub slow_by: Duration,
    /// Only requests this matches are faulted (and counted in the schedule); the rest
    /// are forwarded untouched.
    pub only: Option<Only>,
}

/// Which requests a plan applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// S3 PutObject: a PUT without an `x-amz-target` header (JSON protocols send one).
    S3Put,
}

impl Only {
    fn matches(self, parts: &hyper::http::request::Parts) -> bool {
        match self {
            Only::S3Put => {
                parts.method == hyper::Method::PUT && !parts.headers.contains_key("x-amz-target")
            }
        }
    }
}

impl FaultPlan {
    pub fn new(seed: u64, rate: f64) -> Self {
        Self {
            seed,
            rate,
            kinds: FaultKind::ALL.to_vec(),
            slow_by: Duration::from_millis(200),
            only: None,
        }
    }

    pub fn only(mut self, only: Only) -> Self {
        self.only = Some(only);
        self
    }

    pub fn kinds(mut self, kinds: &[FaultKind]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }

    /// The fault for the n-th request (0-based), if any. Pure: same seed, same answer.
    pub fn decide(&self, n: u64) -> Option<FaultKind> {
        let mut rng = fastrand::Rng::with_seed(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if self.kinds.is_empty() || rng.f64() >= self.rate {
            return None;
        }
        Some(self.kinds[rng.usize(..self.kinds.len())])
    }
}

/// Counts of what the proxy did.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub forwarded: AtomicU64,
    pub internal_error: AtomicU64,
    pub unavailable: AtomicU64,
    pub throttle: AtomicU64,
    pub slow: AtomicU64,
    pub dropped: AtomicU64,
}

impl Stats {
    fn count(&self, kind: FaultKind) {
        let counter = match kind {
            FaultKind::InternalError => &self.internal_error,
            FaultKind::Unavailable => &self.unavailable,
            FaultKind::Throttle => &self.throttle,
            FaultKind::Slow => &self.slow,
            FaultKind::Drop => &self.dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, kind: FaultKind) -> u64 {
        match kind {
            FaultKind::InternalError => &self.internal_error,
            FaultKind::Unavailable => &self.unavailable,
            FaultKind::Throttle => &self.throttle,
            FaultKind::Slow => &self.slow,
            FaultKind::Drop => &self.dropped,
        }
        .load(Ordering::Relaxed)
    }

    pub fn faults(&self) -> u64 {
        FaultKind::ALL.iter().map(|k| self.get(*k)).sum()
    }
}

struct State {
    plan: FaultPlan,
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    stats: Arc<Stats>,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    pub endpoint: String,
    pub stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The marker error that makes hyper close the connection without an answer.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injected: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream` (`http://host:port`).
    /// Must be called inside a Tokio runtime, which then runs it.
    pub async fn start(upstream: &str, plan: FaultPlan) -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("binding the fault proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("local addr"));
        let stats = Arc::new(Stats::default());
        let state = Arc::new(State {
            plan,
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            stats: stats.clone(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
                    // Errors here are the injected drops, or clients going away.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            endpoint,
            stats,
            task,
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let (parts, body) = req.into_parts();
    let fault = if state.plan.only.is_none_or(|o| o.matches(&parts)) {
        let n = state.stats.requests.fetch_add(1, Ordering::Relaxed);
        state.plan.decide(n)
    } else {
        None
    };
    // Read the whole request first: a dropped connection then looks like a server that
    // died mid-request, the case a client cannot know was not applied.
    let body = body.collect().await.map_err(|_| DropConnection)?.to_bytes();
    if let Some(kind) = fault {
        state.stats.count(kind);
    }
    match fault {
        Some(FaultKind::Drop) => return Err(DropConnection),
        Some(FaultKind::Slow) => tokio::time::sleep(state.plan.slow_by).await,
        Some(kind) => return Ok(fault_response(kind, &parts.headers)),
        None => {}
    }
    state.stats.forwarded.fetch_add(1, Ordering::Relaxed);
    Ok(forward(&state, parts, body).await)
}

async fn forward(
    state: &State,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut builder = Request::builder()
        .method(parts.method)
        .uri(format!("{}{path}", state.upstream));
    for (name, value) in &parts.headers {
        if name != hyper::header::CONNECTION && name != hyper::header::TRANSFER_ENCODING {
            builder = builder.header(name, value);
        }
    }
    let request = builder
        .body(Full::new(body))
        .expect("a copied request is valid");
    match state.client.request(request).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            parts.headers.remove(hyper::header::TRANSFER_ENCODING);
            parts.headers.remove(hyper::header::CONNECTION);
            Response::from_parts(parts, Full::new(body))
        }
        Err(e) => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Full::new(Bytes::from(format!(
                "fault proxy: upstream failed: {e}"
            ))))
            .expect("a static response is valid"),
    }
}

/// The error body AWS would send, in the protocol the request used.
fn fault_response(kind: FaultKind, headers: &hyper::HeaderMap) -> Response<Full<Bytes>> {
    let json = headers.contains_key("x-amz-target");
    let query = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (status, code, message) = match kind {
        FaultKind::InternalError => (
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        FaultKind::Unavailable => (
            503,
            "ServiceUnavailable",
            "Service is unavailable. Please try again.",
        ),
        FaultKind::Throttle if json => (400, "ThrottlingException", "Rate exceeded"),
        FaultKind::Throttle if query => (400, "Throttling", "Rate exceeded"),
        // S3 (REST-XML) throttles with 503 SlowDown.
        FaultKind::Throttle => (503, "SlowDown", "Please reduce your request rate."),
        FaultKind::Slow | FaultKind::Drop => unreachable!("not an error response"),
    };
    let (content_type, body) = if json {
        (
            "application/x-amz-json-1.0",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else if query {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
            ),
        )
    } else {
        (
            "application/xml",
            format!(
                "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
            ),
        )
    };
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .header("x-amzn-ErrorType", code)
        .body(Full::new(Bytes::from(body)))
        .expect("a static response is valid")
}

/// A trivial upstream for testing the proxy itself: answers 200 "ok" to everything.
pub async fn echo_upstream() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("binding the echo upstream");
    let endpoint = format!("http://{}", listener.local_addr().expect("local addr"));
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (endpoint, task)
}
