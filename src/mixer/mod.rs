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
pub mod shared_clock;
pub mod slot;
pub mod source_sync;
pub mod source_worker;
pub mod stats;
pub mod stream_path;
pub mod tick;
pub mod timeline;

pub use live::LiveMixer;
pub use stats::{MixerSnapshot, SourcePorts, SourceStats};
