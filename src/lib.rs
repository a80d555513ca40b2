//! cloudmixer: a server-side media mixer.
//!
//! Participants' RTP streams are received ([`ingest`]), reordered in a jitter buffer,
//! depacketized and decoded ([`media`]), composited by a layout ([`layout`], [`compose`])
//! and mixed ([`audio`]) on the mixer's clock ([`mixer`]), then encoded to H.264 + AAC in a
//! fragmented MP4. The gRPC service ([`api`]) is one client of the engine; the offline
//! `compose` command and the benchmarks are others. Both validate requests with
//! [`request`], which does not depend on the gRPC layer. See docs/ARCHITECTURE.md.

pub mod api;
pub mod audio;
pub mod catalog;
pub mod cli;
pub mod compose;
pub mod events;
pub mod fault;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod layout;
pub mod media;
pub mod mixer;
pub mod model;
pub mod output;
pub mod proto;
pub mod receive;
pub mod request;
pub mod time;
