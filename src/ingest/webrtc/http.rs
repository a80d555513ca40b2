//! A minimal HTTP/1.1 client for WHEP (`http://` URLs only): POST an SDP offer, DELETE
//! a session.

use std::time::Duration;

use axum::http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use super::RtcError;

/// Limit of one whole HTTP exchange.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest response body read, bytes: an SDP answer is a few KB (the same limit as a
/// WHIP offer, [`super::whip::MAX_OFFER_BYTES`]); a server sending more gets an error,
/// not our memory.
pub const MAX_RESPONSE_BYTES: usize = super::whip::MAX_OFFER_BYTES;

/// A response: status, `Location` header, body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

/// Sends `method` to `url` with an optional SDP body and bearer token.
/// Errors: not an `http://` URL, connection/timeout failure, a response body over
/// [`MAX_RESPONSE_BYTES`].
pub async fn request(
    method: Method,
    url: &str,
    token: &str,
    sdp: Option<String>,
) -> Result<HttpResponse, RtcError> {
    tokio::time::timeout(HTTP_TIMEOUT, request_inner(method, url, token, sdp))
        .await
        .map_err(|_| RtcError::Http(format!("{url}: timed out after {HTTP_TIMEOUT:?}")))?
}

async fn request_inner(
    method: Method,
    url: &str,
    token: &str,
    sdp: Option<String>,
) -> Result<HttpResponse, RtcError> {
    let err = |e: &dyn std::fmt::Display| RtcError::Http(format!("{url}: {e}"));
    let uri: Uri = url.parse().map_err(|e| err(&e))?;
    if uri.scheme_str() != Some("http") {
        return Err(err(&"only http:// URLs are supported"));
    }
    let host = uri.host().ok_or_else(|| err(&"no host"))?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| err(&e))?;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| err(&e))?;
    tokio::spawn(conn);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, format!("{host}:{port}"));
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
    let auth = base.authority().map_or("", |a| a.as_str());
    if location.starts_with('/') {
        return format!("http://{auth}{location}");
    }
    let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
    format!("http://{auth}{dir}/{location}")
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

    #[tokio::test]
    async fn a_response_body_over_the_limit_is_an_error() {
        let ok = request(Method::POST, &server(1000).await, "", Some("o".into())).await;
        assert_eq!(ok.expect("small answer").body.len(), 1000);
        let big = server(MAX_RESPONSE_BYTES + 1).await;
        let e = request(Method::POST, &big, "", Some("o".into()))
            .await
            .expect_err("over the limit");
        assert!(e.to_string().contains("response body"), "{e}");
    }
}
