//! Fuzz harnesses: one function per parser that sees network or request bytes.
//!
//! Each `pub fn name(data: &[u8])` takes arbitrary bytes, drives the parser the way the
//! daemon does, and checks the documented invariants of the result with `assert!`. It
//! must never panic: a panic is either a parser panicking on user input (a bug: "never
//! panic on user input") or an invariant the harness checks being broken.
//!
//! The same functions are called by the libFuzzer targets in `tests/fuzz/fuzz_targets/`
//! and by `tests/fuzz_regressions.rs`, which replays the committed corpus and the crash
//! reproducers under plain `cargo test`. See docs/FUZZING.md.
//!
//! Hidden from the docs: this is test support, not engine API.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue, Uri};
use bytes::Bytes;
use prost::Message;
use webrtc::peer_connection::certificate::RTCCertificate;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

use crate::ingest::depacketize::{FrameAssembler, PayloadFormat, MAX_ACCESS_UNIT_BYTES};
use crate::ingest::jitter::{JitterBuffer, PushOutcome};
use crate::ingest::rtcp::{self as rtcp_in, ReceptionStats};
use crate::ingest::rtp_packet::{self, FIXED_HEADER_LEN};
use crate::ingest::webrtc::{self as rtc, http, whep, whip};
use crate::layout::geometry::{self, Rect};
use crate::layout::preset::Preset;
use crate::layout::{Layout, Region};
use crate::model::{SourceSpec, VideoCodec};
use crate::proto;
use crate::request::validate;
use crate::request::OutputDefaults;

mod media;
mod request;
mod shell;
mod webrtc_sdp;

pub use media::*;
pub use request::*;
pub use shell::*;
pub use webrtc_sdp::*;

/// A harness: arbitrary bytes in, whether they were accepted out; panics on a bug.
pub type Harness = fn(&[u8]) -> bool;

/// Every fuzz target, by the name of its directory under `tests/fuzz/corpus/` and
/// `tests/fuzz/artifacts/`, with its harness.
pub const TARGETS: &[(&str, Harness)] = &[
    ("rtp_packet", rtp_packet),
    ("jitter_and_assemble", jitter_and_assemble),
    ("layout_preset_json", layout_preset_json),
    ("validate_create_request", validate_create_request),
    ("validate_update_request", validate_update_request),
    ("rtcp_packet", rtcp_packet),
    ("whip_offer", whip_offer),
    ("sdp_negotiate", sdp_negotiate),
    ("config_file", config_file),
    ("auth_header", auth_header),
];
