//! [`SourceReceiver`]: the state machine of one source, its video and audio streams and
//! their shared sender-clock mapping.

use std::sync::Arc;
use std::time::Instant;

use super::feedback::Feedback;
use super::latch::{Latch, LatchConfig};
use super::shared_clock::ClockMember;
use super::source_sync::SourceSync;
use super::stream::{Fate, StreamParams, StreamReceiver};
use super::{Input, Output, Port};
use crate::ingest::depacketize::PayloadFormat;
use crate::ingest::rtp_packet;
use crate::model::{Medium, SourceCounters, SourceSpec, VideoCodec};
use crate::time::{AUDIO_RATE, VIDEO_RTP_RATE};

/// How a source's receiver talks back.
#[derive(Debug, Clone, Copy)]
pub struct ReceiverConfig {
    /// The mixer's time 0: arrivals become [`crate::time::MixerTime`] from it.
    pub epoch: Instant,
    /// The SSRC our RTCP carries (random per source).
    pub our_ssrc: u32,
    /// Send receiver reports. False over WebRTC, where the `webrtc` crate's interceptors
    /// send them (and NACKs); keyframe requests are ours on every transport.
    pub send_receiver_reports: bool,
    /// Symmetric RTP latching of each stream ([`crate::receive::latch`]); None over
    /// WebRTC, whose peer DTLS-SRTP authenticates.
    pub latch: Option<LatchConfig>,
}

/// The receive state machine of one source (see the module docs of [`crate::receive`]).
pub struct SourceReceiver {
    epoch: Instant,
    video: Option<StreamReceiver>,
    audio: Option<StreamReceiver>,
    sync: SourceSync,
    counters: Arc<SourceCounters>,
}

impl SourceReceiver {
    /// A receiver for the streams `spec` declares; `counters` take what it drops and
    /// what the jitter buffer declares lost.
    pub fn new(spec: &SourceSpec, config: ReceiverConfig, counters: Arc<SourceCounters>) -> Self {
        let stream = |params: StreamParams| {
            let fb = Feedback::new(params.medium, config.our_ssrc, config.send_receiver_reports);
            StreamReceiver::new(params, fb, config.latch.map(Latch::new))
        };
        Self {
            epoch: config.epoch,
            video: spec.video.as_ref().map(|v| {
                stream(StreamParams {
                    medium: Medium::Video,
                    payload_type: v.payload_type,
                    ssrc_filter: v.ssrc,
                    format: match v.codec {
                        VideoCodec::Vp8 => PayloadFormat::Vp8,
                        VideoCodec::H264 => PayloadFormat::H264,
                    },
                    rate: VIDEO_RTP_RATE,
                })
            }),
            audio: spec.audio.as_ref().map(|a| {
                stream(StreamParams {
                    medium: Medium::Audio,
                    payload_type: a.payload_type,
                    ssrc_filter: a.ssrc,
                    format: PayloadFormat::Opus,
                    rate: AUDIO_RATE,
                })
            }),
            sync: SourceSync::default(),
            counters,
        }
    }

    /// Lines this source up with the mixer's other sources whose sender clocks agree
    /// ([`crate::receive::shared_clock`]).
    pub fn with_clock(mut self, member: ClockMember) -> Self {
        self.sync.clock = Some(member);
        self
    }

    /// Takes one datagram. Whatever is malformed or not for this source is counted in
    /// `packets_dropped` and in its cause's `drops_*` counter (from another address than
    /// the latched sender's: `drops_foreign_address`); nothing an input holds can make
    /// the receiver fail.
    pub fn handle_input(&mut self, input: Input) {
        let stream = match input.medium {
            Medium::Video => self.video.as_mut(),
            Medium::Audio => self.audio.as_mut(),
        };
        let fate = match (stream, input.port) {
            // A medium the source does not have: not a packet it asked for.
            (None, _) => Fate::PtSsrcMismatch,
            (Some(s), Port::Rtcp) => s.handle_rtcp(&input.data, input.from, input.arrival),
            (Some(s), Port::Rtp) => match rtp_packet::parse_bytes(input.data) {
                Ok(pkt) => s.handle_rtp(pkt, input.from, input.arrival),
                Err(_) => Fate::ParseError,
            },
        };
        let c = &self.counters;
        let cause = match fate {
            Fate::Kept => None,
            Fate::PtSsrcMismatch => Some(&c.drops_pt_ssrc_mismatch),
            Fate::DuplicateOrLate => Some(&c.drops_duplicate_or_late),
            Fate::ParseError => Some(&c.drops_parse_error),
            Fate::Foreign => Some(&c.drops_foreign_address),
        };
        if let Some(cause) = cause {
            // packets_dropped stays the total of every cause.
            SourceCounters::inc(&c.packets_dropped);
            SourceCounters::inc(cause);
        }
    }

    /// The mixer wants a keyframe of this source (a layout change made it visible): the
    /// next [`SourceReceiver::poll_output`] sends a request if the interval allows.
    pub fn request_keyframe(&mut self) {
        if let Some(v) = &mut self.video {
            v.request_keyframe();
        }
    }

    /// The next output due at `now`; call until it returns None after every input and at
    /// [`SourceReceiver::poll_timeout`]. Video's outputs come before audio's.
    pub fn poll_output(&mut self, now: Instant) -> Option<Output> {
        let (epoch, counters) = (self.epoch, &*self.counters);
        [self.video.as_mut(), self.audio.as_mut()]
            .into_iter()
            .flatten()
            .find_map(|s| s.poll_output(now, epoch, &mut self.sync, counters))
    }

    /// When [`SourceReceiver::poll_output`] next has something without new input: a
    /// jitter buffer deadline (a gap declared lost), a receiver report or a keyframe
    /// request. None: nothing until the next input.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.video.as_ref(), self.audio.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(StreamReceiver::poll_timeout)
            .min()
    }

    /// The source's sender-clock mapping (for the shell's timing log).
    pub fn sync(&self) -> &SourceSync {
        &self.sync
    }
}
