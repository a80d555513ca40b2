//! What a running mixer reports about itself: per-source counters and a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::events::{MixerState, OutputInfo};
use crate::model::{AudioCodec, Layout, SourceCounters, VideoCodec};

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
    /// Malformed, wrong payload type / SSRC, foreign address, queue full, decoder error,
    /// duplicate or late: the sum of the `drops_*` fields.
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
    pub pictures_oversized: u64,
    /// `packets_dropped` by cause ([`SourceCounters`]'s `drops_*`; they sum to it).
    pub drops_parse_error: u64,
    pub drops_pt_ssrc_mismatch: u64,
    pub drops_foreign_address: u64,
    pub drops_queue_full: u64,
    pub drops_decode_error: u64,
    pub drops_duplicate_or_late: u64,
    /// Last decoded picture size, pixels; 0 before the first.
    pub width: u32,
    pub height: u32,
    /// Unix ms of the last RTP packet; 0 = none.
    pub last_packet_unix_ms: i64,
    /// Gain and mute in the mixed audio.
    pub mix: crate::model::MixGain,
    /// RMS of the last mixed block (before the gain), hundredths of a dBFS; -12700 =
    /// silence / none.
    pub audio_level_centi_dbfs: i32,
}

impl SourceStats {
    /// A copy of `counters`.
    pub fn from_counters(
        c: &SourceCounters,
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
            video_packets: l(&c.video_packets),
            video_bytes: l(&c.video_bytes),
            audio_packets: l(&c.audio_packets),
            audio_bytes: l(&c.audio_bytes),
            packets_lost: l(&c.packets_lost),
            packets_dropped: l(&c.packets_dropped),
            video_frames_decoded: l(&c.video_frames_decoded),
            audio_frames_decoded: l(&c.audio_frames_decoded),
            keyframe_requests: l(&c.keyframe_requests),
            rtcp_packets: l(&c.rtcp_packets),
            audio_samples_late: l(&c.audio_samples_late),
            audio_frames_concealed: l(&c.audio_frames_concealed),
            pictures_oversized: l(&c.pictures_oversized),
            drops_parse_error: l(&c.drops_parse_error),
            drops_pt_ssrc_mismatch: l(&c.drops_pt_ssrc_mismatch),
            drops_foreign_address: l(&c.drops_foreign_address),
            drops_queue_full: l(&c.drops_queue_full),
            drops_decode_error: l(&c.drops_decode_error),
            drops_duplicate_or_late: l(&c.drops_duplicate_or_late),
            width: c.width.load(Ordering::Relaxed),
            height: c.height.load(Ordering::Relaxed),
            last_packet_unix_ms: c.last_packet_unix_ms.load(Ordering::Relaxed),
            mix: crate::model::MixGain::default(),
            audio_level_centi_dbfs: -12_700,
        }
    }
}

/// A mixer as seen from outside at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerSnapshot {
    pub state: MixerState,
    pub error_code: i32,
    pub error_message: String,
    /// The composite's output (present, unused, when the mixer writes none).
    pub output: OutputInfo,
    /// The per-participant outputs, in the order their spans started.
    pub singles: Vec<OutputInfo>,
    pub sources: Vec<SourceStats>,
    /// The layout in force.
    pub layout: Layout,
    /// The live pushes of the composite (`live_push_urls` order).
    pub live_outputs: Vec<crate::events::LiveOutputInfo>,
}
