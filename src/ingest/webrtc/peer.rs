//! One peer connection of a source: remote tracks' RTP/RTCP into the source's ingest
//! channel, state changes into events, and the [`PeerLink`] feedback goes out through.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use crossbeam_channel::Sender;
use parking_lot::Mutex;
use tokio::sync::watch;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;
use webrtc::rtp_transceiver::rtp_receiver::RTCRtpReceiver;
use webrtc::track::track_remote::TrackRemote;
use webrtc_util::marshal::Marshal;

use super::{forward, ConnectionState, SourceRtc};
use crate::events::unix_ms_now;
use crate::ingest::udp::{Datagram, Medium};
use crate::model::SourceCounters;

/// The `from` address of datagrams that came over a peer connection (there is no UDP
/// peer to answer; feedback goes through the [`PeerLink`]).
pub const PEER_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// Where a source's WebRTC media goes: the worker's channel and the source's counters.
#[derive(Clone)]
pub struct MediaSink {
    /// The source worker's ingest channel (bounded; full = drop newest, counted).
    pub tx: Sender<Datagram>,
    /// Packet/byte/RTCP counters of the source.
    pub counters: Arc<SourceCounters>,
    /// Ends the reader tasks when true (or dropped).
    pub stop: watch::Receiver<bool>,
}

/// The peer connection a source currently receives on, for feedback from the worker
/// thread. Empty while no publisher is connected (feedback is then dropped).
#[derive(Clone)]
pub struct PeerLink {
    current: Arc<Mutex<Option<Arc<RTCPeerConnection>>>>,
    rt: tokio::runtime::Handle,
}

impl PeerLink {
    /// An empty link whose sends run on `rt`.
    pub fn new(rt: tokio::runtime::Handle) -> Self {
        Self {
            current: Arc::new(Mutex::new(None)),
            rt,
        }
    }

    /// The runtime sends run on.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.rt
    }

    /// Makes `pc` the connection feedback goes to; returns the previous one.
    pub fn replace(&self, pc: Option<Arc<RTCPeerConnection>>) -> Option<Arc<RTCPeerConnection>> {
        std::mem::replace(&mut *self.current.lock(), pc)
    }

    /// True if `pc` is the current connection.
    pub fn is_current(&self, pc: &Arc<RTCPeerConnection>) -> bool {
        self.current
            .lock()
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, pc))
    }

    /// Sends a compound RTCP packet (already marshalled) over the current connection
    /// (SRTCP). Returns false if there is none or `buf` does not parse. Non-blocking:
    /// the write runs on the runtime.
    pub fn send_rtcp(&self, buf: &[u8]) -> bool {
        let Some(pc) = self.current.lock().clone() else {
            return false;
        };
        let mut b = Bytes::copy_from_slice(buf);
        let Ok(pkts) = rtcp::packet::unmarshal(&mut b) else {
            return false;
        };
        self.rt.spawn(async move {
            if let Err(e) = pc.write_rtcp(&pkts).await {
                tracing::debug!(error = %e, "write_rtcp");
            }
        });
        true
    }
}

/// Hooks `pc` up to the source: its tracks feed the worker (PT mapped to the spec's),
/// its state changes become events. `on_end` runs once when the connection fails,
/// disconnects or closes, with the reason.
pub fn attach(
    pc: &Arc<RTCPeerConnection>,
    rtc: &SourceRtc,
    on_end: Arc<dyn Fn(&'static str) + Send + Sync>,
) {
    let r = rtc.clone();
    pc.on_track(Box::new(move |track, receiver, _| {
        let r = r.clone();
        Box::pin(async move {
            let medium = match track.kind() {
                RTPCodecType::Video => Medium::Video,
                _ => Medium::Audio,
            };
            let pt = match medium {
                Medium::Video => r.spec.video.map(|v| v.payload_type),
                Medium::Audio => r.spec.audio.map(|a| a.payload_type),
            };
            tracing::info!(codec = %track.codec().capability.mime_type, ssrc = track.ssrc(), "track");
            if let Some(pt) = pt {
                tokio::spawn(read_rtp(track, medium, pt, r.sink.clone()));
                tokio::spawn(read_rtcp(receiver, medium, r.sink.clone()));
            }
        })
    }));
    let events = rtc.events.clone();
    pc.on_peer_connection_state_change(Box::new(move |s| {
        match s {
            RTCPeerConnectionState::Connected => {
                events.emit(ConnectionState::Connected, "ICE and DTLS connected")
            }
            RTCPeerConnectionState::Failed => on_end("ICE failed"),
            RTCPeerConnectionState::Disconnected => on_end("ICE disconnected"),
            RTCPeerConnectionState::Closed => on_end("closed"),
            _ => {}
        }
        Box::pin(async {})
    }));
}

async fn read_rtp(track: Arc<TrackRemote>, medium: Medium, pt: u8, sink: MediaSink) {
    let mut stop = sink.stop.clone();
    let c = &sink.counters;
    loop {
        let r = tokio::select! {
            r = track.read_rtp() => r,
            _ = stop.changed() => return,
        };
        let Ok((mut pkt, _)) = r else { return };
        pkt.header.payload_type = pt;
        let Ok(data) = pkt.marshal() else { continue };
        let (pk, by) = match medium {
            Medium::Video => (&c.video_packets, &c.video_bytes),
            Medium::Audio => (&c.audio_packets, &c.audio_bytes),
        };
        pk.fetch_add(1, Ordering::Relaxed);
        by.fetch_add(data.len() as u64, Ordering::Relaxed);
        c.last_packet_unix_ms
            .store(unix_ms_now(), Ordering::Relaxed);
        let d = Datagram {
            medium,
            rtcp: false,
            data,
            from: PEER_ADDR,
            arrival: Instant::now(),
        };
        if !forward(&sink, d) {
            return;
        }
    }
}

async fn read_rtcp(receiver: Arc<RTCRtpReceiver>, medium: Medium, sink: MediaSink) {
    let mut stop = sink.stop.clone();
    loop {
        let r = tokio::select! {
            r = receiver.read_rtcp() => r,
            _ = stop.changed() => return,
        };
        let Ok((pkts, _)) = r else { return };
        let mut buf = Vec::new();
        for p in &pkts {
            let mut b = vec![0u8; p.marshal_size()];
            if p.marshal_to(&mut b).is_ok() {
                buf.extend_from_slice(&b);
            }
        }
        if buf.is_empty() {
            continue;
        }
        SourceCounters::inc(&sink.counters.rtcp_packets);
        let d = Datagram {
            medium,
            rtcp: true,
            data: Bytes::from(buf),
            from: PEER_ADDR,
            arrival: Instant::now(),
        };
        if !forward(&sink, d) {
            return;
        }
    }
}
