//! The receive path of a live source as a sans-IO state machine: datagrams in, timed
//! access units, RTCP to send and events out. No socket, no clock, no decoder here.
//!
//! Shape (after str0m's `handle_input` / `poll_output`):
//!
//! ```text
//!   shell (mixer/source_worker.rs)                  SourceReceiver (this module)
//!   ─────────────────────────────                   ────────────────────────────
//!   recv datagram (timeout = poll_timeout) ──Input──> handle_input
//!   slot.keyframe_wanted ──────────────────────────> request_keyframe
//!   loop { poll_output(now) } <──Output─────────────  AccessUnit | Transmit | Event
//!     AccessUnit -> decoder -> slot (FrameQueue / SampleRing)
//!     Transmit   -> FeedbackSink (UDP socket or PeerLink), count keyframe requests
//!     Event      -> reset the audio stage (SsrcChanged), log
//! ```
//!
//! **Time base.** Every call takes the time from its caller: an [`Input`]'s `arrival`
//! and `poll_output`'s `now` are [`Instant`]s, the same clock the jitter buffer and the
//! RTCP statistics use; nothing here reads a clock. The receiver is built with the
//! mixer's epoch (its time 0) and turns arrivals into [`MixerTime`] (µs since the epoch;
//! an arrival before the epoch counts as the epoch). Outputs carry [`MixerTime`]. RTP
//! timestamps stay `u32` ticks of the stream's clock (90 kHz video, 48 kHz Opus; RFC 3550
//! §5.1), extended to `i64` where they are unwrapped; sender NTP times are `i64` µs since
//! 1900, and offsets between two clocks (mixer − media) stay `i64` µs with `_us` in their
//! names ([`timeline`], [`source_sync`], [`shared_clock`]): a newtype for a difference of
//! two clocks would only be unwrapped at every use.
//!
//! **Per stream** ([`Medium::Video`] / [`Medium::Audio`], `stream.rs`): RTP is parsed
//! (`ingest::rtp_packet`), filtered by payload type and (optionally) SSRC, and goes into
//! a jitter buffer (`ingest::jitter`, [`REORDER_WAIT`], [`JITTER_CAPACITY`]); released
//! packets are assembled into access units (`ingest::depacketize`) and stamped with mixer
//! time. A new SSRC resets the jitter buffer, the assembler, the arrival mapping and the
//! reception statistics, and is reported as [`Event::SsrcChanged`] (a sender report of
//! the new SSRC that came first is kept). RTCP in: sender reports (RFC 3550 §6.4.1) map
//! the stream's RTP clock to the sender's NTP clock; any version-2 datagram on the RTCP
//! port makes its source the feedback destination (Janus latches with a dummy RTP header,
//! docs/ARCHITECTURE.md). Plain RTP streams latch to their first sender ([`latch`]):
//! RTP from other addresses, and RTCP from other hosts, is dropped as foreign. RTCP out ([`Transmit`]): a receiver report (RFC 3550 §6.4.2)
//! every [`RECEIVER_REPORT_INTERVAL`] unless the transport sends its own (WebRTC: the
//! `webrtc` crate's interceptors, [`ReceiverConfig::send_receiver_reports`]); while the
//! video assembler waits for a keyframe (from the start, after loss broke a frame) or the
//! mixer asked for one, a keyframe request at most every [`KEYFRAME_REQUEST_INTERVAL`]:
//! PLI (RFC 4585 §6.3.1), every third one a FIR (RFC 5104 §4.3.1). Destination: the
//! address of the last datagram on the RTCP port from the latched sender's host, else
//! the latched RTP source address's port + 1.
//!
//! **Mixer time** of an access unit: before the stream's first sender report, from its
//! arrival ([`timeline::ArrivalMapper`]); after it, NTP time + the source's offset
//! ([`source_sync::SourceSync`]), shared by the source's two streams and lined up with
//! the mixer's other sources ([`shared_clock::SharedClock`]). Transit is measured from
//! the packet's network arrival, not its release from the jitter buffer.
//!
//! **Why one receiver per source** ([`SourceReceiver`] owning a video and an audio
//! stream) and not one per stream with the [`source_sync::SourceSync`] passed in: the
//! two streams of a source must be mapped by one offset (the larger of theirs), so the
//! sync state belongs to whoever sees both; a per-source receiver keeps that state
//! private, takes the same datagrams the sockets produce (medium + port), and lets tests
//! check A/V mapping through the real input path. Only the mixer-wide
//! [`shared_clock::ClockMember`] comes from outside.
//!
//! Decoding, writing the source's slot and sending stay in the shell. Counters
//! ([`SourceCounters`], lock-free) are updated here for what only the state machine sees:
//! `packets_dropped` (wrong payload type or SSRC, unparsable, duplicate, late, refused by
//! the depacketizer, no stream for the medium) and `packets_lost` (declared lost by the
//! jitter buffer); the shell counts what it sends and decodes.

mod feedback;
pub mod latch;
pub mod shared_clock;
mod source;
pub mod source_sync;
mod stream;
pub mod timeline;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

pub use crate::model::Medium;
#[cfg(doc)]
use crate::model::SourceCounters;
use crate::time::MixerTime;
pub use source::{ReceiverConfig, SourceReceiver};

/// How long the jitter buffer waits for a missing packet before declaring it lost.
pub const REORDER_WAIT: Duration = Duration::from_millis(60);
/// Packets a jitter buffer holds at most.
pub const JITTER_CAPACITY: usize = 1024;
/// Interval between receiver reports (RFC 3550 §6.2 allows a fixed interval for a
/// receiver that is the only one reporting).
pub const RECEIVER_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Least interval between two keyframe requests for one stream.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// Which socket of a stream a datagram came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// The RTP port.
    Rtp,
    /// The RTCP port (RTP port + 1), or the RTCP of a WebRTC track.
    Rtcp,
}

/// One datagram for the state machine.
#[derive(Debug, Clone)]
pub struct Input {
    /// The stream it belongs to.
    pub medium: Medium,
    /// The port it came in on.
    pub port: Port,
    /// The datagram as received.
    pub data: Bytes,
    /// Its source address (for WebRTC: the peer's).
    pub from: SocketAddr,
    /// When it arrived (network arrival, taken by the socket task).
    pub arrival: Instant,
}

impl From<crate::ingest::udp::Datagram> for Input {
    fn from(d: crate::ingest::udp::Datagram) -> Self {
        Self {
            medium: d.medium,
            port: if d.rtcp { Port::Rtcp } else { Port::Rtp },
            data: d.data,
            from: d.from,
            arrival: d.arrival,
        }
    }
}

/// What the state machine has for the shell, from [`SourceReceiver::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// An access unit to decode, in stream order.
    AccessUnit(TimedUnit),
    /// An RTCP packet to send.
    Transmit(Transmit),
    /// Something the shell may act on.
    Event(Event),
}

/// An access unit with its place on the mixer's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedUnit {
    /// The stream.
    pub medium: Medium,
    /// VP8 frame, H.264 Annex B access unit or Opus packet (`ingest::depacketize`).
    pub data: Bytes,
    /// RTP timestamp: 90 kHz ticks (video), 48 kHz samples (Opus).
    pub rtp_timestamp: u32,
    /// When it is to be shown / played.
    pub mixer_time: MixerTime,
    /// VP8 key frame / H.264 IDR access unit; always true for Opus.
    pub keyframe: bool,
    /// Packets declared lost right before the packet that completed this unit (audio
    /// conceals that many frames).
    pub lost_before: u64,
}

/// Kinds of RTCP packets we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpKind {
    /// Receiver report (RFC 3550 §6.4.2).
    ReceiverReport,
    /// Picture Loss Indication (RFC 4585 §6.3.1), after an empty RR.
    Pli,
    /// Full Intra Request (RFC 5104 §4.3.1), after an empty RR.
    Fir,
}

impl RtcpKind {
    /// True for PLI and FIR.
    pub fn is_keyframe_request(self) -> bool {
        matches!(self, RtcpKind::Pli | RtcpKind::Fir)
    }
}

/// One compound RTCP packet to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The stream it is about (and whose socket or peer connection sends it).
    pub medium: Medium,
    /// What it is.
    pub kind: RtcpKind,
    /// UDP destination: the last source address seen on the RTCP port from the RTP
    /// sender's IP address, else the RTP source address with port + 1. Ignored by a
    /// WebRTC peer connection.
    pub to: Option<SocketAddr>,
    /// The encoded compound packet.
    pub data: Bytes,
}

/// Events of the receive path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The stream's SSRC is now `new` (`old` None: the first one). Jitter buffer,
    /// assembler, arrival mapping and reception statistics were reset; the shell resets
    /// what it holds for the stream (the audio stage's position).
    SsrcChanged {
        /// The stream.
        medium: Medium,
        /// The previous SSRC.
        old: Option<u32>,
        /// The new SSRC.
        new: u32,
    },
    /// Loss broke a video frame: frames are dropped until a keyframe; keyframe requests
    /// follow as [`Transmit`]s.
    KeyframeWanted {
        /// The stream.
        medium: Medium,
    },
}
