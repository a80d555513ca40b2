//! The daemon's WHIP server (RFC 9725): one endpoint per WHIP source, on one HTTP
//! listener shared by every mixer.
//!
//! - `POST /whip/{endpoint}` with `Content-Type: application/sdp` and
//!   `Authorization: Bearer <token>` (§4.2, §4.5): `201 Created`, the SDP answer, and
//!   `Location: /whip/{endpoint}/{session}`. A new POST replaces the endpoint's current
//!   session (one publisher per source). No token or a wrong one: `401`; not SDP: `415`;
//!   a body over [`MAX_OFFER_BYTES`]: `413`; not UTF-8, not SDP or an offer without a
//!   usable codec: `400`; unknown endpoint: `404`. The checks before the offer reaches
//!   the `webrtc` crate are [`authorized`] and [`offer_from_request`].
//! - `DELETE` on the session URL ends it (§4.3): the participant leaves; its tile shows
//!   the placeholder once its last picture goes stale, and the file continues.
//! - `PATCH` (trickle ICE / ICE restart, §4.4) answers `405`: candidates are gathered
//!   completely before the answer is sent.
//! - `OPTIONS` answers CORS preflights, so browser pages on other origins can publish.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::post;
use axum::Router;
use parking_lot::Mutex;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::sdp::SessionDescription;

use super::http_server::{self, ServerLimits};
use super::{
    add_receivers, gathered_sdp, new_peer_connection, peer, ConnectionState, RtcError, SourceRtc,
};

/// The URL and bearer token of one source's WHIP endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhipEndpointInfo {
    /// Absolute URL publishers POST their offer to.
    pub url: String,
    /// Publishers send `Authorization: Bearer <token>`.
    pub token: String,
}

/// Largest WHIP POST body (SDP offer) accepted, bytes; larger ones get `413`. Real
/// offers are a few KiB (Chromium with audio and video and a dozen candidates: about
/// 5 KiB). Enforced by the router while the body is read (before the token is checked)
/// and again by [`offer_from_request`].
pub const MAX_OFFER_BYTES: usize = 64 * 1024;

/// Why a WHIP POST is refused before its offer reaches the `webrtc` crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferRejection {
    /// No `Authorization: Bearer` header with the endpoint's token: `401`.
    Unauthorized,
    /// `Content-Type` is not `application/sdp`: `415`.
    NotSdp,
    /// Body over [`MAX_OFFER_BYTES`]: `413`.
    TooLarge,
    /// Body not UTF-8: `400`.
    NotUtf8,
}

impl OfferRejection {
    fn response(self) -> Response<Body> {
        match self {
            OfferRejection::Unauthorized => {
                let mut r = reply(StatusCode::UNAUTHORIZED, "bearer token required\n");
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            OfferRejection::NotSdp => reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/sdp\n",
            ),
            OfferRejection::TooLarge => reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("SDP offer over {MAX_OFFER_BYTES} bytes\n"),
            ),
            OfferRejection::NotUtf8 => reply(StatusCode::BAD_REQUEST, "SDP offer is not UTF-8\n"),
        }
    }
}

struct Endpoint {
    token: String,
    rtc: SourceRtc,
    /// The current session's id.
    session: Mutex<Option<String>>,
}

struct Inner {
    endpoints: Mutex<HashMap<String, Arc<Endpoint>>>,
    base_url: String,
}

/// Handle to the WHIP HTTP server; cheap to clone.
#[derive(Clone)]
pub struct WhipServer {
    inner: Arc<Inner>,
    local: SocketAddr,
}

/// Keeps a source's endpoint registered; dropping it removes the endpoint and closes
/// its session.
pub struct WhipRegistration {
    server: WhipServer,
    id: String,
}

impl Drop for WhipRegistration {
    fn drop(&mut self) {
        let ep = self.server.inner.endpoints.lock().remove(&self.id);
        if let Some(ep) = ep {
            if let Some(pc) = ep.rtc.link.replace(None) {
                ep.rtc.link.runtime().spawn(async move {
                    let _ = pc.close().await;
                });
            }
        }
    }
}

impl WhipServer {
    /// Binds `addr` and serves WHIP on the current tokio runtime under `limits`
    /// (connection cap, timeouts: [`super::http_server`]), over TLS if `tls`.
    /// `public_base` is the URL prefix returned to clients (e.g.
    /// `https://mixer.example.com` behind a TLS proxy); empty: from the bound address
    /// (`http://<addr>`, or `https://<addr>` with `tls`). Errors: the address cannot be
    /// bound.
    pub async fn bind(
        addr: SocketAddr,
        public_base: &str,
        limits: ServerLimits,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<WhipServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = if public_base.is_empty() {
            let scheme = if tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{local}")
        } else {
            public_base.trim_end_matches('/').to_owned()
        };
        let server = WhipServer {
            inner: Arc::new(Inner {
                endpoints: Mutex::new(HashMap::new()),
                base_url,
            }),
            local,
        };
        let app = Router::new()
            .route("/whip/:id", post(post_offer).options(preflight))
            .route(
                "/whip/:id/:session",
                axum::routing::delete(delete_session)
                    .patch(patch_session)
                    .options(preflight),
            )
            .layer(DefaultBodyLimit::max(MAX_OFFER_BYTES))
            .with_state(server.inner.clone());
        tokio::spawn(http_server::serve(listener, app, limits, tls));
        tracing::info!("WHIP listening on {local}");
        Ok(server)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Registers an endpoint for a source with a fresh random id and token.
    pub fn register(&self, rtc: SourceRtc) -> (WhipEndpointInfo, WhipRegistration) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let info = WhipEndpointInfo {
            url: format!("{}/whip/{id}", self.inner.base_url),
            token: token.clone(),
        };
        let ep = Endpoint {
            token,
            rtc,
            session: Mutex::new(None),
        };
        self.inner.endpoints.lock().insert(id.clone(), Arc::new(ep));
        (
            info,
            WhipRegistration {
                server: self.clone(),
                id,
            },
        )
    }
}

fn reply(status: StatusCode, body: impl Into<Body>) -> Response<Body> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location, ETag"),
    );
    r
}

/// True if `headers` carry `Authorization: Bearer <token>` (RFC 9725 §4.5). The
/// comparison takes the same time whatever the bytes (`subtle`); only the length may
/// show, and every endpoint token has the same length (32 hex digits).
pub fn authorized(token: &str, headers: &HeaderMap) -> bool {
    use subtle::ConstantTimeEq;
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| bool::from(t.trim().as_bytes().ct_eq(token.as_bytes())))
}

/// The SDP offer of an authorized WHIP POST: `Content-Type: application/sdp` (`415`
/// otherwise), at most [`MAX_OFFER_BYTES`] (`413`), UTF-8 (`400`). Sans-IO: also the
/// entry of the `whip_offer` fuzz target.
pub fn offer_from_request(headers: &HeaderMap, body: &[u8]) -> Result<String, OfferRejection> {
    let is_sdp = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/sdp"));
    if !is_sdp {
        return Err(OfferRejection::NotSdp);
    }
    if body.len() > MAX_OFFER_BYTES {
        return Err(OfferRejection::TooLarge);
    }
    String::from_utf8(body.to_vec()).map_err(|_| OfferRejection::NotUtf8)
}

fn find(
    inner: &Inner,
    id: &str,
    headers: &HeaderMap,
) -> Result<Arc<Endpoint>, Box<Response<Body>>> {
    let ep = inner
        .endpoints
        .lock()
        .get(id)
        .cloned()
        .ok_or_else(|| Box::new(reply(StatusCode::NOT_FOUND, "no such WHIP endpoint\n")))?;
    if !authorized(&ep.token, headers) {
        return Err(Box::new(OfferRejection::Unauthorized.response()));
    }
    Ok(ep)
}

async fn preflight() -> Response<Body> {
    let mut r = reply(StatusCode::NO_CONTENT, Body::empty());
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, DELETE, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type"),
    );
    r
}

async fn post_offer(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let ep = match find(&inner, &id, &headers) {
        Ok(ep) => ep,
        Err(r) => return *r,
    };
    let offer = match offer_from_request(&headers, &body) {
        Ok(offer) => offer,
        Err(rejection) => return rejection.response(),
    };
    match accept(&ep, offer).await {
        Ok(_) if !inner.endpoints.lock().contains_key(&id) => {
            // The source was removed while we answered.
            if let Some(pc) = ep.rtc.link.replace(None) {
                let _ = pc.close().await;
            }
            reply(StatusCode::NOT_FOUND, "no such WHIP endpoint\n")
        }
        Ok((session, answer)) => {
            let mut r = reply(StatusCode::CREATED, answer);
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/sdp"),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("{}/whip/{id}/{session}", inner.base_url))
            {
                h.insert(header::LOCATION, v);
            }
            r
        }
        Err(e) => reply(StatusCode::BAD_REQUEST, format!("{e}\n")),
    }
}

/// Answers `offer` on a new peer connection that replaces the endpoint's session.
async fn accept(ep: &Arc<Endpoint>, offer: String) -> Result<(String, String), RtcError> {
    let rtc = &ep.rtc;
    let pc = new_peer_connection(&rtc.spec, rtc.settings).await?;
    add_receivers(&pc, &rtc.spec).await?;
    let weak: Weak<RTCPeerConnection> = Arc::downgrade(&pc);
    let (link, events) = (rtc.link.clone(), rtc.events.clone());
    peer::attach(
        &pc,
        rtc,
        Arc::new(move |reason| {
            if let Some(pc) = weak.upgrade() {
                if link.is_current(&pc) {
                    link.replace(None);
                    events.emit(ConnectionState::Disconnected, reason);
                }
            }
        }),
    );
    let answer = async {
        apply_offer(&pc, offer).await?;
        gathered_sdp(&pc).await
    }
    .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let _ = pc.close().await;
            return Err(e);
        }
    };
    let session = uuid::Uuid::new_v4().simple().to_string();
    *ep.session.lock() = Some(session.clone());
    if let Some(old) = rtc.link.replace(Some(pc)) {
        rtc.events.emit(
            ConnectionState::Disconnected,
            "replaced by a new WHIP session",
        );
        let _ = old.close().await;
    }
    Ok((session, answer))
}

/// Sets a publisher's `offer` as the remote description of `pc`, creates the answer
/// and sets it as the local one (which starts ICE gathering). Errors: not SDP, refused
/// by [`check_offer`], or by the `webrtc` crate (no fingerprint or ICE credentials,
/// ...).
pub async fn apply_offer(pc: &RTCPeerConnection, offer: String) -> Result<(), RtcError> {
    let offer = RTCSessionDescription::offer(offer)?;
    check_offer(&offer.unmarshal()?)?;
    pc.set_remote_description(offer).await?;
    let answer = pc.create_answer(None).await?;
    pc.set_local_description(answer).await?;
    Ok(())
}

/// Refuses an offer with a media section the `webrtc` crate would leave out of its
/// answer: one without an `a=mid` value, of a kind other than audio, video or application, or an
/// audio/video one without a direction attribute (the crate does not apply RFC 8866's
/// default `sendrecv`). The answer would have fewer media sections than the offer
/// (RFC 3264 §6 wants the same number) and no publisher could apply it; JSEP offers
/// (browsers, GStreamer, OBS) always carry all three. Found by the `sdp_negotiate`
/// fuzz target (docs/FUZZING.md).
pub fn check_offer(offer: &SessionDescription) -> Result<(), RtcError> {
    for (i, m) in offer.media_descriptions.iter().enumerate() {
        let kind = m.media_name.media.as_str();
        let refuse = |why: &str| {
            Err(RtcError::Offer(format!(
                "media section {i} ({kind}): {why}"
            )))
        };
        // The crate reads the first `a=mid` only, and skips the section if it has no value.
        let mid = m.attributes.iter().find(|a| a.key == "mid");
        if mid
            .and_then(|a| a.value.as_deref())
            .is_none_or(str::is_empty)
        {
            return refuse("no a=mid value");
        }
        match kind {
            "application" => {}
            "audio" | "video" => {
                let direction = ["sendrecv", "sendonly", "recvonly", "inactive"];
                if !m
                    .attributes
                    .iter()
                    .any(|a| direction.contains(&a.key.as_str()))
                {
                    return refuse("no direction attribute");
                }
            }
            _ => return refuse("not audio, video or application"),
        }
    }
    Ok(())
}

async fn delete_session(
    State(inner): State<Arc<Inner>>,
    Path((id, session)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    let ep = match find(&inner, &id, &headers) {
        Ok(ep) => ep,
        Err(r) => return *r,
    };
    let current = {
        let mut s = ep.session.lock();
        if s.as_deref() == Some(session.as_str()) {
            s.take()
        } else {
            None
        }
    };
    if current.is_none() {
        return reply(StatusCode::NOT_FOUND, "no such WHIP session\n");
    }
    if let Some(pc) = ep.rtc.link.replace(None) {
        ep.rtc
            .events
            .emit(ConnectionState::Disconnected, "WHIP DELETE");
        let _ = pc.close().await;
    }
    reply(StatusCode::OK, Body::empty())
}

async fn patch_session() -> Response<Body> {
    let mut r = reply(
        StatusCode::METHOD_NOT_ALLOWED,
        "trickle ICE and ICE restarts are not supported\n",
    );
    r.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_static("POST, DELETE, OPTIONS"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str, authorization: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        h.insert(header::AUTHORIZATION, authorization.parse().unwrap());
        h
    }

    #[test]
    fn checks_the_request_before_the_offer() {
        let h = headers("application/sdp", "Bearer abc ");
        assert!(authorized("abc", &h));
        assert!(!authorized("abd", &h));
        assert!(!authorized(
            "abc",
            &headers("application/sdp", "bearer abc")
        ));
        assert_eq!(offer_from_request(&h, b"v=0\r\n"), Ok("v=0\r\n".to_owned()));
        let charset = headers("application/sdp; charset=utf-8", "");
        assert!(offer_from_request(&charset, b"v=0\r\n").is_ok());
        let text = headers("text/plain", "");
        assert_eq!(
            offer_from_request(&text, b"v=0"),
            Err(OfferRejection::NotSdp)
        );
        assert_eq!(
            offer_from_request(&HeaderMap::new(), b"v=0"),
            Err(OfferRejection::NotSdp)
        );
        let big = vec![b'a'; MAX_OFFER_BYTES + 1];
        assert_eq!(offer_from_request(&h, &big), Err(OfferRejection::TooLarge));
        assert!(offer_from_request(&h, &big[1..]).is_ok());
        assert_eq!(
            offer_from_request(&h, b"v=0\r\n\xff"),
            Err(OfferRejection::NotUtf8)
        );
    }

    fn parse(sdp: &str) -> SessionDescription {
        RTCSessionDescription::offer(sdp.to_owned())
            .and_then(|d| d.unmarshal())
            .expect("SDP")
    }

    #[test]
    fn refuses_offers_the_crate_would_answer_without_a_section() {
        let gst = include_str!("../../../tests/data/sdp/gst_vp8_offer.sdp");
        assert!(check_offer(&parse(gst)).is_ok());
        let chromium = include_str!("../../../tests/data/sdp/chromium_vp8_offer.sdp");
        assert!(check_offer(&parse(chromium)).is_ok());
        let err = |sdp: &str| check_offer(&parse(sdp)).unwrap_err().to_string();
        assert!(err(&gst.replace("a=mid:audio1\r\n", "")).contains("1 (audio): no a=mid"));
        assert!(err(&gst.replace("a=mid:audio1", "a=mid")).contains("1 (audio): no a=mid"));
        assert!(err(&gst.replace("a=mid:audio1", "a=mid:")).contains("1 (audio): no a=mid"));
        assert!(err(&gst.replace("a=sendonly", "a=sendonly2")).contains("no direction"));
        assert!(err(&gst.replace("m=audio", "m=text")).contains("not audio, video"));
    }
}
