//! A minimal HTTP/1.1 client for WHEP (`http://` and `https://` URLs): POST an SDP
//! offer, DELETE a session.
//!
//! What it guards, for a URL that comes from the control API:
//! - **Where it connects**: the host is resolved and only an address the daemon's
//!   `--whep-allow` list allows ([`WhepAllow`]) is connected to, every time (the POST
//!   URL and a server-chosen session URL alike); the check and the connection use the
//!   same address, so a DNS answer that changes in between does not get around it.
//!   Redirects (3xx) are not followed.
//! - **Who gets the token**: `Authorization: Bearer` is sent only to the origin (RFC
//!   6454 §4: scheme, host, port) of the configured URL. A `Location` on another origin
//!   gets its DELETE without it.
//! - **https**: rustls with the ring provider (as tonic's TLS), server certificate
//!   checked against [`WhepClient`]'s roots (`--whep-ca-file`, default the system
//!   bundle) and the URL's host.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio_rustls::rustls::{self, pki_types::ServerName, ClientConfig, RootCertStore};

use super::RtcError;
use crate::ingest::allow::WhepAllow;

/// Limit of one whole HTTP exchange.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body read, bytes: an SDP answer is a few KB (the same limit as a
/// WHIP offer, [`super::whip::MAX_OFFER_BYTES`]); a server sending more gets an error,
/// not our memory.
pub const MAX_RESPONSE_BYTES: usize = super::whip::MAX_OFFER_BYTES;
/// Where the system's CA bundle is read from when no `--whep-ca-file` is given
/// (Debian/Ubuntu `ca-certificates`).
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A response: status, `Location` header (made absolute), body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

/// What every WHEP exchange of the daemon is checked against: the allow-list and the
/// TLS roots. Cheap to clone.
#[derive(Debug, Clone)]
pub struct WhepClient {
    /// Hosts and networks a WHEP URL may point at.
    pub allow: Arc<WhepAllow>,
    /// CA certificates an https server's certificate must chain to (empty: every https
    /// URL fails).
    pub roots: Arc<RootCertStore>,
}

impl Default for WhepClient {
    /// Public hosts only, no https roots.
    fn default() -> Self {
        Self {
            allow: Arc::default(),
            roots: Arc::new(RootCertStore::empty()),
        }
    }
}

impl WhepClient {
    /// Roots from a PEM file (`--whep-ca-file`), else from [`SYSTEM_CA_BUNDLE`] if it
    /// exists (else none). Errors: the given file cannot be read or holds no usable
    /// certificate.
    pub fn load_roots(ca_file: Option<&std::path::Path>) -> Result<RootCertStore, String> {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let (path, required) = match ca_file {
            Some(p) => (p.to_path_buf(), true),
            None => (std::path::PathBuf::from(SYSTEM_CA_BUNDLE), false),
        };
        let mut roots = RootCertStore::empty();
        let pem = match std::fs::read(&path) {
            Ok(b) => b,
            Err(_) if !required => return Ok(roots),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .filter_map(Result::ok)
            .collect();
        let (added, _ignored) = roots.add_parsable_certificates(certs);
        if added == 0 && required {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
        Ok(roots)
    }
}

/// Scheme, host and port of a URL (RFC 6454 §4), lower-cased, default ports filled in.
fn origin(uri: &Uri) -> Option<(String, String, u16)> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    Some((scheme, host, port))
}

/// True if `a` and `b` have the same origin (so `b` may get `a`'s bearer token).
pub fn same_origin(a: &str, b: &str) -> bool {
    match (a.parse::<Uri>(), b.parse::<Uri>()) {
        (Ok(a), Ok(b)) => origin(&a).is_some_and(|o| Some(o) == origin(&b)),
        _ => false,
    }
}

/// Sends `method` to `url` with an optional SDP body; the bearer `token` is sent only
/// if `url` has the origin of `configured` (the source's WHEP URL). Errors: not an
/// `http(s)://` URL, a host `client.allow` refuses, connection/TLS/timeout failure, a
/// response body over [`MAX_RESPONSE_BYTES`].
pub async fn request(
    client: &WhepClient,
    method: Method,
    (configured, url): (&str, &str),
    token: &str,
    sdp: Option<String>,
) -> Result<HttpResponse, RtcError> {
    let token = if same_origin(configured, url) {
        token
    } else {
        ""
    };
    tokio::time::timeout(HTTP_TIMEOUT, request_inner(client, method, url, token, sdp))
        .await
        .map_err(|_| RtcError::Http(format!("{url}: timed out after {HTTP_TIMEOUT:?}")))?
}

/// `url`'s host as written (lower case, IPv6 in brackets), as resolvable (no brackets),
/// and port. Errors: not an `http(s)://` URL with a host.
fn target(url: &str) -> Result<(String, String, u16), String> {
    let uri: Uri = url.parse().map_err(|e| format!("{e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("only http:// and https:// URLs are supported".into());
    }
    let (_, host, port) = origin(&uri).ok_or("not an absolute URL")?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((host, bare, port))
}

/// The addresses of `url`'s host that `allow` allows, resolved now (the first one is
/// connected to). Errors: not an `http(s)://` URL with a host, no address, none allowed.
pub async fn allowed_addrs(allow: &WhepAllow, url: &str) -> Result<Vec<SocketAddr>, String> {
    let (host, bare, port) = target(url)?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|e| format!("{host}: {e}"))?
        .collect();
    allow.check(&host, &addrs)
}

/// [`allowed_addrs`] with the blocking system resolver, for Create's check (run on the
/// blocking pool).
pub fn allowed_addrs_blocking(allow: &WhepAllow, url: &str) -> Result<Vec<SocketAddr>, String> {
    use std::net::ToSocketAddrs;
    let (host, bare, port) = target(url)?;
    let addrs: Vec<SocketAddr> = (bare.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}: {e}"))?
        .collect();
    allow.check(&host, &addrs)
}

/// A byte stream hyper can run HTTP/1.1 over (TCP, or TLS over TCP).
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Io for T {}

async fn request_inner(
    client: &WhepClient,
    method: Method,
    url: &str,
    token: &str,
    sdp: Option<String>,
) -> Result<HttpResponse, RtcError> {
    let err = |e: &dyn std::fmt::Display| RtcError::Http(format!("{url}: {e}"));
    let uri: Uri = url.parse().map_err(|e| err(&e))?;
    let addrs = allowed_addrs(&client.allow, url)
        .await
        .map_err(|e| err(&e))?;
    let tcp = tokio::net::TcpStream::connect(addrs[0])
        .await
        .map_err(|e| err(&e))?;
    let host = uri.host().ok_or_else(|| err(&"no host"))?.to_owned();
    let stream: Box<dyn Io> = if uri.scheme_str() == Some("https") {
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| err(&e))?
                .with_root_certificates(client.roots.clone())
                .with_no_client_auth();
        let name = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let name = ServerName::try_from(name).map_err(|e| err(&e))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| err(&format!("TLS: {e}")))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| err(&e))?;
    tokio::spawn(conn);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let authority = uri.authority().map_or(host.clone(), |a| a.to_string());
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, authority);
    if !token.is_empty() {
        b = b.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match sdp {
        Some(s) => {
            b = b
                .header(header::CONTENT_TYPE, "application/sdp")
                .header(header::ACCEPT, "application/sdp");
            s
        }
        None => String::new(),
    };
    let req = b
        .body(Full::new(bytes::Bytes::from(body)))
        .map_err(|e| err(&e))?;
    let resp = send.send_request(req).await.map_err(|e| err(&e))?;
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| resolve(&uri, l));
    let body = http_body_util::Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| err(&format!("response body: {e} ({MAX_RESPONSE_BYTES} bytes)")))?
        .to_bytes();
    Ok(HttpResponse {
        status,
        location,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// `location` made absolute against `base` (RFC 9110 §10.2.2 allows relative ones).
pub fn resolve(base: &Uri, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let auth = base.authority().map_or("", |a| a.as_str());
    if location.starts_with("//") {
        return format!("{scheme}:{location}");
    }
    if location.starts_with('/') {
        return format!("{scheme}://{auth}{location}");
    }
    let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
    format!("{scheme}://{auth}{dir}/{location}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_locations() {
        let base: Uri = "http://h:1/whep/endpoint".parse().unwrap();
        assert_eq!(resolve(&base, "/s/1"), "http://h:1/s/1");
        assert_eq!(resolve(&base, "s/1"), "http://h:1/whep/s/1");
        assert_eq!(resolve(&base, "http://x/y"), "http://x/y");
        assert_eq!(resolve(&base, "//x:2/y"), "http://x:2/y");
        let tls: Uri = "https://h/whep".parse().unwrap();
        assert_eq!(resolve(&tls, "/s/1"), "https://h/s/1");
    }

    #[test]
    fn origins() {
        let c = "http://sfu.example:8080/whep/cam";
        assert!(same_origin(c, "http://SFU.example:8080/session/1"));
        assert!(same_origin("https://h/whep", "https://h:443/s"));
        assert!(same_origin("http://h/whep", "http://h:80/s"));
        for other in [
            "http://sfu.example:8081/s",
            "https://sfu.example:8080/s",
            "http://evil.example:8080/s",
            "http://sfu.example.evil:8080/s",
            "/relative",
            "not a url",
        ] {
            assert!(!same_origin(c, other), "{other}");
        }
    }

    /// Everything local is allowed in these tests.
    fn local() -> WhepClient {
        WhepClient {
            allow: Arc::new("127.0.0.0/8,::1".parse().unwrap()),
            roots: Arc::new(RootCertStore::empty()),
        }
    }

    /// A server answering with `len` bytes of body.
    async fn server(len: usize) -> String {
        let app = axum::Router::new().route(
            "/whep",
            axum::routing::post(move || async move { "v".repeat(len) }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/whep", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await });
        url
    }

    async fn post(c: &WhepClient, url: &str) -> Result<HttpResponse, RtcError> {
        request(c, Method::POST, (url, url), "", Some("o".into())).await
    }

    #[tokio::test]
    async fn a_response_body_over_the_limit_is_an_error() {
        let ok = post(&local(), &server(1000).await).await;
        assert_eq!(ok.expect("small answer").body.len(), 1000);
        let big = server(MAX_RESPONSE_BYTES + 1).await;
        let e = post(&local(), &big).await.expect_err("over the limit");
        assert!(e.to_string().contains("response body"), "{e}");
    }

    #[tokio::test]
    async fn a_host_outside_the_allow_list_is_not_connected_to() {
        let url = server(10).await;
        // The default list: public addresses only.
        let e = post(&WhepClient::default(), &url).await.unwrap_err();
        assert!(e.to_string().contains("--whep-allow"), "{e}");
        assert!(e.to_string().contains("loopback"), "{e}");
        let meta = "http://169.254.169.254/latest/meta-data/";
        let e = post(&local(), meta).await.unwrap_err();
        assert!(e.to_string().contains("link-local"), "{e}");
    }

    /// An https server (rustls) with a certificate for 127.0.0.1 signed by a fresh CA,
    /// answering `201` with the request's `Authorization` header as the body; its URL
    /// and the CA certificate.
    async fn tls_server() -> (String, rustls::pki_types::CertificateDer<'static>) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/whep", l.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = l.accept().await {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let svc = hyper::service::service_fn(|req: Request<hyper::body::Incoming>| {
                    let auth = req
                        .headers()
                        .get(header::AUTHORIZATION)
                        .map_or("none".to_owned(), |v| v.to_str().unwrap().to_owned());
                    async move {
                        let mut r = axum::http::Response::new(Full::new(bytes::Bytes::from(auth)));
                        *r.status_mut() = StatusCode::CREATED;
                        Ok::<_, std::convert::Infallible>(r)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc),
                );
            }
        });
        (url, ca.der().clone())
    }

    #[tokio::test]
    async fn https_with_a_trusted_certificate_and_only_then() {
        let (url, ca) = tls_server().await;
        let mut roots = RootCertStore::empty();
        roots.add(ca).unwrap();
        let trusted = WhepClient {
            roots: Arc::new(roots),
            ..local()
        };
        let r = request(
            &trusted,
            Method::POST,
            (&url, &url),
            "tok",
            Some("o".into()),
        )
        .await
        .expect("https POST");
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body, "Bearer tok");
        // Without the CA: the handshake fails, nothing is sent.
        let e = post(&local(), &url).await.unwrap_err();
        assert!(e.to_string().contains("TLS"), "{e}");
        // Another origin (http, same host and port) gets no token.
        let plain = url.replacen("https://", "http://", 1);
        assert!(!same_origin(&url, &plain));
    }
}
