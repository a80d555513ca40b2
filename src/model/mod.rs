//! The engine's vocabulary: the types every stage shares, at the bottom of the module
//! graph.
//!
//! Codecs and media kinds ([`codec`]), colours ([`color`]), layouts ([`layout`]: regions
//! in output pixels referring to a shared placeholder picture, [`still`]), what a mixer
//! is asked to do ([`spec`]; its output beneath an open [`root`]), live per-source counters ([`counters`]), the mixer
//! lifecycle ([`lifecycle`]: states and the one place transitions are decided) and the
//! engine's errors with their gRPC codes ([`error`]). This module imports nothing else of the crate; `ingest/`, `media/`,
//! `compose/`, `layout/`, `audio/` and `mixer/` all import it, and none of them imports
//! `mixer/` for vocabulary.

pub mod codec;
pub mod color;
pub mod counters;
pub mod error;
pub mod layout;
pub mod lifecycle;
pub mod record;
pub mod root;
pub mod spec;
pub mod still;

pub use codec::{AudioCodec, Medium, VideoCodec};
pub use color::Rgb;
pub use counters::SourceCounters;
pub use error::{ErrorCode, FieldError, MixerError, OutputCause, OUTPUT_PATH_FIELD};
pub use layout::{Layout, LayoutFill, Region};
pub use lifecycle::{Lifecycle, MixerState};
pub use record::{
    AudioContainer, ContentType, OutputKind, OutputMedia, RecordMode, RecordSpec, SingleVideo,
};
pub use root::RecordingsRoot;
pub use spec::*;
pub use still::StillImage;
