//! One mixer: lifecycle, threads and the tick loop.
//!
//! [`LiveMixer::start`] receives RTP on UDP ports it allocates and records on the wall
//! clock; [`offline`] runs the same compositor, mixer and encoder from media files on a
//! virtual clock, as fast as the CPU allows.

pub mod error;
pub mod live;
pub mod offline;
pub mod spec;
pub mod stats;

pub use error::MixerError;
pub use live::LiveMixer;
pub use spec::*;
pub use stats::{MixerSnapshot, SourcePorts, SourceStats};
