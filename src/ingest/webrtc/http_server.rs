//! Connection handling of the WHIP HTTP server (HTTP/1.1, hyper), with the limits an
//! Internet-facing listener needs ([`ServerLimits`], each a `serve` flag):
//!
//! - at most `max_connections` open connections; one more is answered `503 Service
//!   Unavailable` with `Connection: close` and closed (the listener keeps accepting, so
//!   a flood cannot park clients in the kernel's backlog);
//! - `header_read_timeout`: a request head (request line and headers) not complete
//!   within it closes the connection (hyper's `header_read_timeout`; slowloris). hyper
//!   starts it whenever it waits for a head, so it also closes a fresh connection that
//!   sends nothing and a keep-alive connection between requests;
//! - `idle_timeout`: a connection with no request in progress for this long (from the
//!   accept or the end of its last response) is closed whatever hyper is doing (e.g.
//!   writing a response to a client that stopped reading it);
//! - `request_timeout`: a request (body upload, ICE gathering, answer) not answered
//!   within it gets `503` (the body read and the handler are cancelled).
//!
//! TLS is not terminated here: put a reverse proxy in front for https
//! (docs/OPERATIONS.md).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use parking_lot::Mutex;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Default of [`ServerLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default of [`ServerLimits::header_read_timeout`].
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of [`ServerLimits::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`ServerLimits::request_timeout`]; more than a WHIP POST needs (ICE
/// gathering is bounded by [`super::GATHER_TIMEOUT`], 5 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a connection checks its idle time.
const IDLE_CHECK: Duration = Duration::from_millis(250);

/// Limits of the WHIP HTTP server (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Most connections open at once (`--max-whip-connections`).
    pub max_connections: usize,
    /// Longest time to receive a request head (`--whip-header-timeout-secs`).
    pub header_read_timeout: Duration,
    /// Longest time a connection stays open without a request in progress
    /// (`--whip-idle-timeout-secs`).
    pub idle_timeout: Duration,
    /// Longest time to answer one request (`--whip-request-timeout-secs`).
    pub request_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// Serves `app` on `listener` under `limits` until the runtime ends.
pub async fn serve(listener: TcpListener, app: Router, limits: ServerLimits) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors, typically: say which resource, back off.
                tracing::warn!(error = %e, "WHIP server: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(
                %peer,
                max = limits.max_connections,
                "WHIP server: connection refused, --max-whip-connections reached"
            );
            tokio::spawn(refuse(stream));
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            connection(stream, app, limits).await;
            drop(permit);
        });
    }
}

/// Answers `503` and closes, within a second.
async fn refuse(mut stream: TcpStream) {
    let msg = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(msg).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Requests in progress on one connection, and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

/// Marks a request in progress until dropped.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(a: &Arc<Activity>) -> Self {
        a.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(a.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.0.last.lock() = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Activity {
    /// True if no request is in progress and none ended within `limit` of `now`.
    fn idle(&self, now: Instant, limit: Duration) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
            && now.saturating_duration_since(*self.last.lock()) >= limit
    }
}

async fn connection(stream: TcpStream, app: Router, limits: ServerLimits) {
    let activity = Arc::new(Activity {
        in_flight: AtomicUsize::new(0),
        last: Mutex::new(Instant::now()),
    });
    let inner = TowerToHyperService::new(app);
    let act = activity.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let busy = Busy::new(&act);
        let fut = hyper::service::Service::call(&inner, req);
        async move {
            let r = match tokio::time::timeout(limits.request_timeout, fut).await {
                Ok(r) => r,
                Err(_) => Ok(timed_out(limits.request_timeout)),
            };
            drop(busy);
            r
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    let mut tick = tokio::time::interval(IDLE_CHECK);
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "WHIP connection ended");
                }
                return;
            }
            _ = tick.tick() => {
                if activity.idle(Instant::now(), limits.idle_timeout) {
                    tracing::debug!("WHIP connection closed: idle");
                    // Dropping the connection closes the socket.
                    return;
                }
            }
        }
    }
}

fn timed_out(limit: Duration) -> Response<Body> {
    let mut r = Response::new(Body::from(format!(
        "request not answered within {limit:?} (--whip-request-timeout-secs)\n"
    )));
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}
