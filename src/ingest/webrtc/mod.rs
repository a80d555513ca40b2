//! WebRTC ingest: WHIP (RFC 9725) sessions the daemon serves and WHEP sessions it
//! pulls, both run by the `webrtc` crate (ICE, DTLS, SRTP, SDP).
//!
//! A peer connection is only a transport: every remote track's RTP packets become
//! [`Datagram`]s on the source's ingest channel, exactly as UDP datagrams do, so they
//! go through the same jitter buffer, depacketizer and decoder
//! (the stream path of `mixer/`). The negotiated payload type is mapped to the
//! source's configured one before the hand-off. The remote's RTCP (sender reports) is
//! forwarded too, for A/V sync. Feedback (PLI/FIR) goes back over the peer connection
//! through a [`PeerLink`]; NACK and receiver reports are sent by the `webrtc` crate's
//! default interceptors.
//!
//! Codecs offered/accepted: VP8, H.264 (packetization-mode 1, constrained baseline
//! `42e01f`) and Opus — only those of the source's spec.

pub mod events;
pub mod http;
pub mod http_server;
pub mod peer;
pub mod whep;
pub mod whip;

pub use events::{ConnectionState, SourceEvents};
pub use peer::{MediaSink, PeerLink};
pub use whip::{WhipEndpointInfo, WhipServer};

use std::sync::Arc;
use std::time::Duration;

use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MediaEngine, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::{APIBuilder, API};
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType,
};
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::{RTCPFeedback, RTCRtpTransceiverInit};

use crate::ingest::udp::Datagram;
use crate::model::{SourceSpec, VideoCodec};

/// ICE: no traffic for this long marks the connection disconnected.
pub const ICE_DISCONNECTED_TIMEOUT: Duration = Duration::from_secs(3);
/// ICE: no traffic for this long marks the connection failed.
pub const ICE_FAILED_TIMEOUT: Duration = Duration::from_secs(8);
/// ICE keepalive interval.
pub const ICE_KEEPALIVE: Duration = Duration::from_secs(1);
/// Longest wait for ICE candidate gathering (we do not trickle: RFC 9725 §4.3.2
/// allows full gathering before answering).
pub const GATHER_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors of the WebRTC ingest.
#[derive(Debug, thiserror::Error)]
pub enum RtcError {
    /// The `webrtc` crate refused (bad SDP, no common codec, ICE setup...).
    #[error("webrtc: {0}")]
    WebRtc(#[from] webrtc::Error),
    /// An HTTP exchange (WHEP) failed or answered an unexpected status.
    #[error("http: {0}")]
    Http(String),
    /// A WHIP offer the `webrtc` crate would answer wrongly ([`whip::check_offer`]).
    #[error("offer: {0}")]
    Offer(String),
}

/// Daemon-wide WebRTC settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtcSettings {
    /// Also gather loopback (127.0.0.0/8, ::1) ICE candidates: for publishers on the
    /// same host (tests, a co-located SFU).
    pub include_loopback: bool,
}

/// Everything a source needs to build peer connections: where media goes, events, the
/// link for feedback.
#[derive(Clone)]
pub struct SourceRtc {
    /// The source: which codecs to negotiate, which payload types to map to.
    pub spec: SourceSpec,
    /// Where its packets go.
    pub sink: MediaSink,
    /// Its connection events.
    pub events: SourceEvents,
    /// The connection its worker sends feedback over.
    pub link: PeerLink,
    pub settings: RtcSettings,
}

fn feedback() -> Vec<RTCPFeedback> {
    ["nack", "nack pli", "ccm fir", "goog-remb"]
        .iter()
        .map(|f| {
            let (typ, parameter) = f.split_once(' ').unwrap_or((f, ""));
            RTCPFeedback {
                typ: typ.to_owned(),
                parameter: parameter.to_owned(),
            }
        })
        .collect()
}

/// Codec parameters the mixer accepts for `spec`; payload types are only defaults
/// (the offerer's win in an answer).
pub fn codecs(spec: &SourceSpec) -> Vec<(RTCRtpCodecParameters, RTPCodecType)> {
    let mut out = Vec::new();
    if let Some(v) = &spec.video {
        let (mime, fmtp, pt) = match v.codec {
            VideoCodec::Vp8 => (MIME_TYPE_VP8, String::new(), 96),
            VideoCodec::H264 => (
                MIME_TYPE_H264,
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".into(),
                102,
            ),
        };
        out.push((
            RTCRtpCodecParameters {
                capability: RTCRtpCodecCapability {
                    mime_type: mime.to_owned(),
                    clock_rate: 90_000,
                    channels: 0,
                    sdp_fmtp_line: fmtp,
                    rtcp_feedback: feedback(),
                },
                payload_type: pt,
                ..Default::default()
            },
            RTPCodecType::Video,
        ));
    }
    if spec.audio.is_some() {
        out.push((
            RTCRtpCodecParameters {
                capability: RTCRtpCodecCapability {
                    mime_type: MIME_TYPE_OPUS.to_owned(),
                    clock_rate: 48_000,
                    channels: 2,
                    sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                    rtcp_feedback: vec![],
                },
                payload_type: 111,
                ..Default::default()
            },
            RTPCodecType::Audio,
        ));
    }
    out
}

/// A new peer connection for `spec` that only knows the spec's codecs, with NACK,
/// receiver reports and TWCC interceptors. Errors: the `webrtc` crate refuses.
pub async fn new_peer_connection(
    spec: &SourceSpec,
    settings: RtcSettings,
) -> Result<Arc<RTCPeerConnection>, RtcError> {
    let api = build_api(spec, setting_engine(settings))?;
    Ok(Arc::new(
        api.new_peer_connection(RTCConfiguration::default()).await?,
    ))
}

/// The daemon's ICE settings: loopback candidates if asked, our ICE timeouts.
pub fn setting_engine(settings: RtcSettings) -> SettingEngine {
    let mut se = SettingEngine::default();
    se.set_include_loopback_candidate(settings.include_loopback);
    se.set_ice_timeouts(
        Some(ICE_DISCONNECTED_TIMEOUT),
        Some(ICE_FAILED_TIMEOUT),
        Some(ICE_KEEPALIVE),
    );
    se
}

/// The `webrtc` API peer connections of `spec` are made with: only the spec's
/// [`codecs`], the default interceptors, the given settings.
pub fn build_api(spec: &SourceSpec, se: SettingEngine) -> Result<API, RtcError> {
    let mut m = MediaEngine::default();
    for (c, kind) in codecs(spec) {
        m.register_codec(c, kind)?;
    }
    let registry = register_default_interceptors(Registry::new(), &mut m)?;
    Ok(APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(se)
        .build())
}

/// Waits for ICE gathering to complete (at most [`GATHER_TIMEOUT`]) and returns the
/// local description's SDP. Call after `set_local_description`.
/// Adds a receive-only transceiver for each medium the source has (video, then audio),
/// the same for a WHIP answer and a WHEP offer.
pub async fn add_receivers(pc: &RTCPeerConnection, spec: &SourceSpec) -> Result<(), RtcError> {
    let media = [
        (spec.video.is_some(), RTPCodecType::Video),
        (spec.audio.is_some(), RTPCodecType::Audio),
    ];
    for (wanted, kind) in media {
        if wanted {
            let init = RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                send_encodings: vec![],
            };
            pc.add_transceiver_from_kind(kind, Some(init)).await?;
        }
    }
    Ok(())
}

pub async fn gathered_sdp(pc: &RTCPeerConnection) -> Result<String, RtcError> {
    let mut done = pc.gathering_complete_promise().await;
    let _ = tokio::time::timeout(GATHER_TIMEOUT, done.recv()).await;
    pc.local_description()
        .await
        .map(|d| d.sdp)
        .ok_or_else(|| RtcError::Http("no local description".into()))
}

/// Forwards one datagram to the worker, counting a full queue as a drop.
fn forward(sink: &MediaSink, d: Datagram) -> bool {
    use crossbeam_channel::TrySendError;
    match sink.tx.try_send(d) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            crate::model::SourceCounters::inc(&sink.counters.packets_dropped);
            crate::model::SourceCounters::inc(&sink.counters.drops_queue_full);
            true
        }
        Err(TrySendError::Disconnected(_)) => false,
    }
}
