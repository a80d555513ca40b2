//! Live per-source counters, written lock-free by the ingest and decode threads and
//! read by the mixer's snapshots (`mixer::stats`) and metrics.

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
