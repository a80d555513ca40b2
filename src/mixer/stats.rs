//! What a running mixer reports about itself: per-source counters and a snapshot.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

use crate::events::{MixerState, OutputInfo};
use crate::layout::Layout;
use crate::mixer::spec::{AudioCodec, VideoCodec};

/// Where a source sends: UDP ports bound for it (RTCP = RTP + 1; 0 = none), or its
/// WHIP endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePorts {
    pub video_rtp: u16,
    pub video_rtcp: u16,
    pub audio_rtp: u16,
    pub audio_rtcp: u16,
    /// WHIP sources: the URL publishers POST their offer to; empty otherwise.
    pub whip_url: String,
    /// WHIP sources: the bearer token publishers must send; empty otherwise.
    pub whip_token: String,
}

/// Counters of one source, a copy taken at snapshot time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStats {
    pub camid: String,
    /// "rtp", "whip" or "whep".
    pub transport: String,
    /// WebRTC sources: the last connection state; None for RTP or before any.
    pub connection: Option<crate::events::SourceConnectionState>,
    pub ports: SourcePorts,
    pub video_codec: Option<VideoCodec>,
    pub audio_codec: Option<AudioCodec>,
    pub video_packets: u64,
    pub video_bytes: u64,
    pub audio_packets: u64,
    pub audio_bytes: u64,
    /// Sequence numbers skipped as lost by the jitter buffer.
    pub packets_lost: u64,
    /// Malformed, wrong payload type / SSRC, or dropped because a queue was full.
    pub packets_dropped: u64,
    pub video_frames_decoded: u64,
    pub audio_frames_decoded: u64,
    /// PLI/FIR sent to the sender.
    pub keyframe_requests: u64,
    /// RTCP packets received (sender reports, SDES, BYE...).
    pub rtcp_packets: u64,
    /// Decoded audio samples (per channel, 48 kHz) that arrived after their time was
    /// mixed and were dropped.
    pub audio_samples_late: u64,
    /// Lost audio packets replaced by Opus packet loss concealment (20 ms frames, counted
    /// in `audio_frames_decoded` too).
    pub audio_frames_concealed: u64,
    /// Last decoded picture size, pixels; 0 before the first.
    pub width: u32,
    pub height: u32,
    /// Unix ms of the last RTP packet; 0 = none.
    pub last_packet_unix_ms: i64,
}

/// Live counters of one source, updated lock-free by the ingest and decode threads.
#[derive(Debug, Default)]
pub struct SourceCounters {
    pub video_packets: AtomicU64,
    pub video_bytes: AtomicU64,
    pub audio_packets: AtomicU64,
    pub audio_bytes: AtomicU64,
    pub packets_lost: AtomicU64,
    pub packets_dropped: AtomicU64,
    pub video_frames_decoded: AtomicU64,
    pub audio_frames_decoded: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub rtcp_packets: AtomicU64,
    pub audio_samples_late: AtomicU64,
    pub audio_frames_concealed: AtomicU64,
    pub width: AtomicU32,
    pub height: AtomicU32,
    pub last_packet_unix_ms: AtomicI64,
}

impl SourceCounters {
    /// Adds one to a counter.
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counters.
    pub fn snapshot(
        &self,
        camid: &str,
        ports: SourcePorts,
        video_codec: Option<VideoCodec>,
        audio_codec: Option<AudioCodec>,
    ) -> SourceStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SourceStats {
            camid: camid.to_owned(),
            transport: String::new(),
            connection: None,
            ports,
            video_codec,
            audio_codec,
            video_packets: l(&self.video_packets),
            video_bytes: l(&self.video_bytes),
            audio_packets: l(&self.audio_packets),
            audio_bytes: l(&self.audio_bytes),
            packets_lost: l(&self.packets_lost),
            packets_dropped: l(&self.packets_dropped),
            video_frames_decoded: l(&self.video_frames_decoded),
            audio_frames_decoded: l(&self.audio_frames_decoded),
            keyframe_requests: l(&self.keyframe_requests),
            rtcp_packets: l(&self.rtcp_packets),
            audio_samples_late: l(&self.audio_samples_late),
            audio_frames_concealed: l(&self.audio_frames_concealed),
            width: self.width.load(Ordering::Relaxed),
            height: self.height.load(Ordering::Relaxed),
            last_packet_unix_ms: self.last_packet_unix_ms.load(Ordering::Relaxed),
        }
    }
}

/// A mixer as seen from outside at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerSnapshot {
    pub state: MixerState,
    pub error_code: i32,
    pub error_message: String,
    pub output: OutputInfo,
    pub sources: Vec<SourceStats>,
    /// The layout in force.
    pub layout: Layout,
}
