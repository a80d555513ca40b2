//! A source's slot: where its worker (or an offline input) puts due pictures and PCM on
//! the mixer's timeline, and where the mixing core reads them.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
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
    /// The source's gain in the mix, linear (`f32` bits): 1.0 as received, 0.0 muted.
    /// Set by Create and Update; read by the core once per audio block.
    mix_gain: Arc<AtomicU32>,
    /// RMS of the source's last mixed block before its gain, dBFS (`f32` bits).
    level: Arc<AtomicU32>,
    /// Display name drawn on its tiles; empty = none.
    pub label: String,
}

/// The level reported for silence or no audio, dBFS (RFC 6464's floor, -127 dBov).
pub const SILENT_DBFS: f32 = -127.0;

impl SourceSlot {
    /// An empty slot: no pictures, silence. A picture older than `stale_after` shows the
    /// region's placeholder (e.g. [`crate::model::DEFAULT_STALE_TIMEOUT`]).
    pub fn new(camid: &str, stale_after: Duration) -> Self {
        Self {
            camid: camid.to_owned(),
            frames: Arc::new(Mutex::new(FrameQueue::new(stale_after))),
            audio: Arc::new(Mutex::new(SampleRing::new(DEFAULT_RING_SAMPLES))),
            keyframe_wanted: Arc::new(AtomicBool::new(false)),
            mix_gain: Arc::new(AtomicU32::new(1f32.to_bits())),
            level: Arc::new(AtomicU32::new(SILENT_DBFS.to_bits())),
            label: String::new(),
        }
    }

    /// The slot with display name `label`.
    pub fn with_label(mut self, label: &str) -> Self {
        label.clone_into(&mut self.label);
        self
    }

    /// RMS level of the last mixed block, dBFS, floored at [`SILENT_DBFS`].
    pub fn level_dbfs(&self) -> f32 {
        f32::from_bits(self.level.load(Ordering::Relaxed))
    }

    /// Records the level of the block `l`/`r` just read (RMS over both channels).
    pub fn measure(&self, l: &[f32], r: &[f32]) {
        let n = (l.len() + r.len()).max(1) as f64;
        let sum: f64 = l
            .iter()
            .chain(r)
            .map(|&v| f64::from(v) * f64::from(v))
            .sum();
        let rms = (sum / n).sqrt();
        let db = if rms > 0.0 {
            (20.0 * rms.log10()).max(f64::from(SILENT_DBFS)) as f32
        } else {
            SILENT_DBFS
        };
        self.level.store(db.to_bits(), Ordering::Relaxed);
    }

    /// The gain the mix applies to this source, linear (0.0 = muted).
    pub fn gain(&self) -> f32 {
        f32::from_bits(self.mix_gain.load(Ordering::Relaxed))
    }

    /// Sets the mix gain, linear (0.0 mutes); the next audio block ramps to it.
    pub fn set_gain(&self, linear: f32) {
        self.mix_gain.store(linear.to_bits(), Ordering::Relaxed);
    }
}
