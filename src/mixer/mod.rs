//! One mixer: lifecycle, threads and the tick loop.
//!
//! [`LiveMixer::start`] receives RTP on UDP ports it allocates and records on the wall
//! clock; [`offline`] runs the same [`core::MixCore`] from media files on a virtual clock,
//! as fast as the CPU allows.

pub mod audio_stage;
pub mod core;
pub mod error;
pub mod frame_queue;
pub mod live;
mod live_source;
pub mod offline;
pub mod shared_clock;
pub mod source_sync;
pub mod source_worker;
pub mod spec;
pub mod stats;
pub mod stream_path;
pub mod tick;
pub mod timeline;

pub use error::MixerError;
pub use live::LiveMixer;
pub use spec::*;
pub use stats::{MixerSnapshot, SourcePorts, SourceStats};

/// A source picture older than this (µs) shows the region's placeholder by default
/// ([`DEFAULT_STALE_TIMEOUT_MS`], 2 s); a live mixer uses its
/// [`MixerSpec::stale_timeout_ms`].
pub const DEFAULT_STALE_US: i64 = DEFAULT_STALE_TIMEOUT_MS as i64 * 1_000;
