//! One mixer: lifecycle, threads and the tick loop.
//!
//! [`LiveMixer::start`] receives RTP on UDP ports it allocates and records on the wall
//! clock; [`offline`] runs the same [`core::MixCore`] from media files on a virtual clock,
//! as fast as the CPU allows.

pub mod audio_stage;
pub mod core;
pub mod frame_queue;
pub mod live;
mod live_source;
pub mod offline;
pub mod slot;
pub mod source_worker;
pub mod stats;
pub mod stream_path;
pub mod tick;

/// Moved to [`crate::receive::shared_clock`] (pure, part of the receive path); re-exported
/// here for the mixer's callers.
pub use crate::receive::shared_clock;
pub use live::LiveMixer;
pub use stats::{MixerSnapshot, SourcePorts, SourceStats};
