//! A source's slot: where its worker (or an offline input) puts due pictures and PCM on
//! the mixer's timeline, and where the mixing core reads them.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::audio::ring::DEFAULT_RING_SAMPLES;
use crate::audio::SampleRing;
use crate::mixer::frame_queue::FrameQueue;

/// What a source shares with the core: its due pictures and its PCM on the timeline.
#[derive(Clone)]
pub struct SourceSlot {
    pub camid: String,
    pub frames: Arc<Mutex<FrameQueue>>,
    pub audio: Arc<Mutex<SampleRing>>,
    /// Set by the mixer when a keyframe is wanted now (the source became visible);
    /// the source's worker sends a PLI and clears it.
    pub keyframe_wanted: Arc<AtomicBool>,
}

impl SourceSlot {
    /// An empty slot: no pictures, silence. A picture older than `stale_after` shows the
    /// region's placeholder (e.g. [`crate::model::DEFAULT_STALE_TIMEOUT`]).
    pub fn new(camid: &str, stale_after: Duration) -> Self {
        Self {
            camid: camid.to_owned(),
            frames: Arc::new(Mutex::new(FrameQueue::new(stale_after))),
            audio: Arc::new(Mutex::new(SampleRing::new(DEFAULT_RING_SAMPLES))),
            keyframe_wanted: Arc::new(AtomicBool::new(false)),
        }
    }
}
