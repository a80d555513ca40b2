//! Harnesses for WHIP/WHEP HTTP requests and SDP negotiation.

use super::*;

/// Bearer token of the WHIP endpoint in [`whip_offer`] (the shape of the daemon's:
/// 32 hex digits).
pub const WHIP_TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// A WHIP POST to an existing endpoint, as the daemon handles it before the offer
/// reaches a peer connection. Input: the `Content-Type` header value, a newline, the
/// `Authorization` header value, a newline, then the body (see [`encode_whip_post`]). A
/// missing line or a value hyper would refuse (control characters) is a missing header.
///
/// Runs [`whip::authorized`] with [`WHIP_TOKEN`], [`whip::offer_from_request`]
/// (content type, size, UTF-8) and the `webrtc` crate's SDP parse
/// ([`RTCSessionDescription::offer`], the `sdp` crate's unmarshal, the first thing
/// `set_remote_description` does). Checks: only the exact token authorizes (never a
/// different one); an accepted body is `application/sdp`, within
/// [`whip::MAX_OFFER_BYTES`] and returned unchanged.
///
/// Returns whether the offer got through our checks and parsed as SDP.
pub fn whip_offer(data: &[u8]) -> bool {
    let (content_type, rest) = split_line(data);
    let (authorization, body) = split_line(rest);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::AUTHORIZATION, authorization),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
            headers.insert(name, v);
        }
    }
    let authorized = whip::authorized(WHIP_TOKEN, &headers);
    let auth = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    if authorized {
        let auth = auth.expect("authorized without a header");
        assert!(auth.starts_with(b"Bearer "), "authorized: {auth:?}");
        assert!(
            auth.windows(WHIP_TOKEN.len())
                .any(|w| w == WHIP_TOKEN.as_bytes()),
            "authorized without the token"
        );
    }
    assert!(
        !whip::authorized("ffffffffffffffffffffffffffffffff", &headers) || !authorized,
        "two tokens authorize the same request"
    );
    if !authorized {
        return false;
    }
    let offer = match whip::offer_from_request(&headers, body) {
        Ok(offer) => offer,
        Err(whip::OfferRejection::TooLarge) => {
            assert!(body.len() > whip::MAX_OFFER_BYTES);
            return false;
        }
        Err(_) => return false,
    };
    let ct = headers[header::CONTENT_TYPE].to_str().expect("checked");
    assert!(ct.trim().starts_with("application/sdp"), "accepted {ct:?}");
    assert!(
        body.len() <= whip::MAX_OFFER_BYTES,
        "oversized body accepted"
    );
    assert_eq!(offer.as_bytes(), body, "offer changed");
    RTCSessionDescription::offer(offer).is_ok()
}

/// The first line of `data` (without the `\n`) and the rest; no line if there is no
/// newline (then the rest is empty).
fn split_line(data: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, &[]),
    }
}

/// Input of [`whip_offer`]: a POST with these header values and body.
pub fn encode_whip_post(content_type: &str, authorization: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{content_type}\n{authorization}\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// Base URL a WHEP `Location` is resolved against in [`sdp_negotiate`].
pub const WHEP_URL: &str = "http://127.0.0.1:8889/whep/cam1";

/// Source specs of [`sdp_negotiate`], by bits 1..=2 of its mode byte: what the
/// peer connection offers/accepts.
fn negotiate_spec(mode: u8) -> SourceSpec {
    use crate::model::{AudioCodec, RtpStreamSpec};
    let video = |codec| {
        Some(RtpStreamSpec {
            codec,
            payload_type: 96,
            ssrc: None,
        })
    };
    let audio = Some(RtpStreamSpec {
        codec: AudioCodec::Opus,
        payload_type: 111,
        ssrc: None,
    });
    let (video, audio) = match (mode >> 1) & 3 {
        0 => (video(VideoCodec::Vp8), audio),
        1 => (video(VideoCodec::H264), audio),
        2 => (video(VideoCodec::Vp8), None),
        _ => (None, audio),
    };
    SourceSpec {
        camid: "fuzz".to_owned(),
        video,
        audio,
        transport: Default::default(),
        ..Default::default()
    }
}

/// Runtime of [`sdp_negotiate`], made once: the `webrtc` crate is async.
fn negotiate_runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// The daemon's peer-connection settings without any network: no mDNS, no interface
/// to gather candidates on (and no STUN/TURN servers), so no socket is opened.
fn offline_api(spec: &SourceSpec) -> webrtc::api::API {
    let mut se = rtc::setting_engine(rtc::RtcSettings::default());
    se.set_ice_multicast_dns_mode(webrtc::ice::mdns::MulticastDnsMode::Disabled);
    se.set_interface_filter(Box::new(|_| false));
    se.set_ip_filter(Box::new(|_| false));
    rtc::build_api(spec, se).expect("API for the fixed specs")
}

/// A peer connection configuration with one DTLS certificate made once (a new
/// connection would otherwise generate an ECDSA key each time).
fn offline_config() -> RTCConfiguration {
    static CERT: OnceLock<RTCCertificate> = OnceLock::new();
    let cert = CERT.get_or_init(|| {
        let dtls = webrtc::dtls::crypto::Certificate::generate_self_signed(vec![
            "cloudmixer-fuzz".to_owned()
        ])
        .expect("self-signed certificate");
        let expires = std::time::SystemTime::now() + Duration::from_secs(365 * 24 * 3600);
        RTCCertificate::from_existing(dtls, expires)
    });
    RTCConfiguration {
        certificates: vec![cert.clone()],
        ..Default::default()
    }
}

/// Remote SDP through a real `webrtc` peer connection built like the daemon's
/// (same codecs and interceptors, [`rtc::setting_engine`]) but offline (no mDNS, no
/// interface to gather on: no socket is opened). Byte 0 is the mode: bit 0 clear:
/// WHIP, the rest is a publisher's offer, answered by [`whip::apply_offer`] on a
/// connection with the spec's receivers, as [`whip`] does; bit 0 set: WHEP, the rest
/// is a `Location` header value, a newline and the server's answer (bytes as received:
/// converted lossily like the client does), resolved by [`http::resolve`] against
/// [`WHEP_URL`] and applied by [`whep::apply_answer`] after [`whep::set_offer`]. Bits
/// 1..=2: the source's codecs (VP8+Opus, H.264+Opus, VP8, Opus).
///
/// What runs is everything the daemon does with the SDP before ICE connects: the `sdp`
/// crate's parse, the signalling state machine, codec matching
/// (`update_from_remote_description`), transceiver/mid matching, ICE credentials and
/// candidates, DTLS fingerprint and role, and for WHIP the answer's generation.
/// Checks: an accepted offer gets an answer that parses as SDP with one media section
/// per offered one (RFC 3264 §6); a resolved `Location` is an absolute URL.
///
/// Returns whether the remote description was accepted.
pub fn sdp_negotiate(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    let spec = negotiate_spec(mode);
    if mode & 1 == 0 {
        // The daemon refuses a body that is not UTF-8 before any SDP parsing.
        let Ok(offer) = std::str::from_utf8(rest) else {
            return false;
        };
        negotiate_runtime().block_on(whip_negotiate(&spec, offer.to_owned()))
    } else {
        let (location, body) = match split_line(rest) {
            (Some(l), b) => (Some(l), b),
            (None, _) => (None, rest),
        };
        // The client only reads a `Location` hyper accepted and that is visible ASCII.
        if let Some(l) = location
            .and_then(|l| HeaderValue::from_bytes(l).ok())
            .and_then(|v| v.to_str().ok().map(str::to_owned))
        {
            let base: Uri = WHEP_URL.parse().expect("valid URL");
            let url = http::resolve(&base, &l);
            assert!(url.contains("://"), "{l:?} resolved to {url:?}");
        }
        let answer = String::from_utf8_lossy(body).into_owned();
        negotiate_runtime().block_on(whep_negotiate(&spec, answer))
    }
}

async fn whip_negotiate(spec: &SourceSpec, offer: String) -> bool {
    let pc = offline_api(spec)
        .new_peer_connection(offline_config())
        .await
        .expect("peer connection");
    rtc::add_receivers(&pc, spec).await.expect("receivers");
    let accepted = whip::apply_offer(&pc, offer.clone()).await.is_ok();
    if accepted {
        let answer = pc
            .local_description()
            .await
            .expect("answer set as the local description");
        let answer = RTCSessionDescription::answer(answer.sdp).expect("our answer parses");
        let parsed_answer = answer.unmarshal().expect("our answer parses");
        let parsed_offer = RTCSessionDescription::offer(offer)
            .and_then(|o| o.unmarshal())
            .expect("an accepted offer parses");
        assert_eq!(
            parsed_answer.media_descriptions.len(),
            parsed_offer.media_descriptions.len(),
            "answer and offer differ in media sections"
        );
    }
    let _ = pc.close().await;
    accepted
}

async fn whep_negotiate(spec: &SourceSpec, answer: String) -> bool {
    let pc = offline_api(spec)
        .new_peer_connection(offline_config())
        .await
        .expect("peer connection");
    whep::set_offer(&pc, spec).await.expect("our own offer");
    let accepted = whep::apply_answer(&pc, answer).await.is_ok();
    if accepted {
        assert!(pc.remote_description().await.is_some());
    }
    let _ = pc.close().await;
    accepted
}
