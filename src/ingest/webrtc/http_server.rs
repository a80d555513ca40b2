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
//! TLS (optional, `serve --whip-tls-cert/--whip-tls-key`, [`tls_acceptor`]) is
//! terminated here with rustls; the handshake must finish within `header_read_timeout`
//! too. Without it, put a reverse proxy in front for https (docs/OPERATIONS.md).

use std::path::Path;
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
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

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

/// The WHIP server's TLS from PEM files (RFC 7468): `cert` a certificate chain (leaf
/// first), `key` its private key (PKCS#8, PKCS#1 or SEC1). TLS 1.2 and 1.3 (rustls' safe
/// defaults, ring provider), ALPN `http/1.1`. Errors name the flag and the file, never
/// the key's content: unreadable, no certificate, no key, or a key that does not match.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
    let named =
        |flag: &str, p: &Path, e: &dyn std::fmt::Display| format!("{flag} {}: {e}", p.display());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| named("--whip-tls-cert", cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| named("--whip-tls-cert", cert, &e))?;
    if certs.is_empty() {
        return Err(named("--whip-tls-cert", cert, &"no PEM certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| named("--whip-tls-key", key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("WHIP TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("--whip-tls-cert/--whip-tls-key: {e}"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

/// Serves `app` on `listener` under `limits` until the runtime ends; over TLS if `tls`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    tls: Option<TlsAcceptor>,
) {
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
        let (app, tls) = (app.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => connection(stream, app, limits).await,
                Some(acceptor) => {
                    let handshake = acceptor.accept(stream);
                    match tokio::time::timeout(limits.header_read_timeout, handshake).await {
                        Ok(Ok(s)) => connection(s, app, limits).await,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "WHIP TLS handshake failed")
                        }
                        Err(_) => tracing::debug!(%peer, "WHIP TLS handshake timed out"),
                    }
                }
            }
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

async fn connection<S>(stream: S, app: Router, limits: ServerLimits)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
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
