//! Live per-source counters, written lock-free by the ingest and decode threads and
//! read by the mixer's snapshots (`mixer::stats`) and metrics.
//!
//! `packets_dropped` is the total of the `drops_*` counters (each site increments both);
//! `pictures_oversized` is counted apart and not in `packets_dropped`.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

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
    /// Video access units refused before decoding because they claimed a picture above
    /// the daemon's `max_picture_pixels` (`media::picture_size`).
    pub pictures_oversized: AtomicU64,
    /// Datagrams dropped because they did not parse as RTP/RTCP (RFC 3550 section 5/6)
    /// or their payload did not depacketize.
    pub drops_parse_error: AtomicU64,
    /// RTP packets dropped because their payload type or SSRC did not match the
    /// source's configuration (or the SSRC it latched to).
    pub drops_pt_ssrc_mismatch: AtomicU64,
    /// Datagrams dropped because they came from an address other than the one the
    /// stream latched to (symmetric RTP).
    pub drops_foreign_address: AtomicU64,
    /// Datagrams dropped because the ingest queue was full.
    pub drops_queue_full: AtomicU64,
    /// Access units the decoder refused.
    pub drops_decode_error: AtomicU64,
    /// RTP packets the jitter buffer refused: a duplicate of one it holds, or later than
    /// its window (their time was already played out).
    pub drops_duplicate_or_late: AtomicU64,
    pub width: AtomicU32,
    pub height: AtomicU32,
    pub last_packet_unix_ms: AtomicI64,
}

impl SourceCounters {
    /// Adds one to a counter.
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}
