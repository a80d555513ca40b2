//! One stream (video or audio) of a source: RTP through the jitter buffer and the
//! assembler to timed access units, RTCP in (sender reports) and out (through
//! [`Feedback`]). See the module docs of [`crate::receive`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rtp::packet::Packet;

use super::feedback::Feedback;
use super::latch::{Latch, Verdict};
use super::source_sync::SourceSync;
use super::timeline::ArrivalMapper;
use super::{Event, Output, TimedUnit, JITTER_CAPACITY, REORDER_WAIT};
use crate::ingest::depacketize::{FrameAssembler, PayloadFormat};
use crate::ingest::jitter::{JitterBuffer, PushOutcome, Released};
use crate::ingest::rtcp::{self, ReceptionStats, SenderInfo};
use crate::model::{Medium, SourceCounters};
use crate::time::{rescale_floor, MixerTime, MICROS};

/// What a stream accepts: payload type, optional SSRC filter, payload format and clock.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamParams {
    pub(super) medium: Medium,
    pub(super) payload_type: u8,
    pub(super) ssrc_filter: Option<u32>,
    pub(super) format: PayloadFormat,
    /// RTP clock rate, Hz.
    pub(super) rate: u32,
}

/// What became of a datagram: kept, or dropped for a cause (each cause counted in its
/// `SourceCounters::drops_*` counter and in `packets_dropped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Taken (into the jitter buffer, or an RTCP datagram used).
    Kept,
    /// Dropped: payload type or SSRC not the configured (or latched) one.
    PtSsrcMismatch,
    /// Dropped: a duplicate, or later than the jitter buffer's window.
    DuplicateOrLate,
    /// Dropped: did not parse (RFC 3550 section 5/6).
    ParseError,
    /// Dropped: not from the latched peer ([`Latch`]).
    Foreign,
}

/// The receive state of one stream.
pub(super) struct StreamReceiver {
    params: StreamParams,
    /// Symmetric RTP latch; None over WebRTC.
    latch: Option<Latch>,
    /// The SSRC being received (None before the first accepted packet).
    ssrc: Option<u32>,
    jitter: JitterBuffer,
    assembler: FrameAssembler,
    /// Mixer time by arrival, until a sender report maps the RTP clock.
    mapper: ArrivalMapper,
    /// The stream's latest sender report and its arrival.
    last_sr: Option<(SenderInfo, Instant)>,
    reception: ReceptionStats,
    feedback: Feedback,
    /// Latest time seen (input or poll): "at once" for [`StreamReceiver::poll_timeout`].
    now_hint: Option<Instant>,
    pending: VecDeque<Output>,
}

impl StreamReceiver {
    pub(super) fn new(params: StreamParams, feedback: Feedback, latch: Option<Latch>) -> Self {
        Self {
            params,
            latch,
            ssrc: None,
            jitter: JitterBuffer::new(REORDER_WAIT, JITTER_CAPACITY),
            assembler: FrameAssembler::new(params.format),
            mapper: ArrivalMapper::new(params.rate),
            last_sr: None,
            reception: ReceptionStats::new(0),
            feedback,
            now_hint: None,
            pending: VecDeque::new(),
        }
    }

    fn saw(&mut self, t: Instant) {
        self.now_hint = Some(self.now_hint.map_or(t, |h| h.max(t)));
    }

    /// Takes an RTP packet that arrived at `arrival`: dropped if of the wrong payload
    /// type or SSRC, a duplicate or too late; foreign if not from the latched peer.
    pub(super) fn handle_rtp(&mut self, pkt: Packet, from: SocketAddr, arrival: Instant) -> Fate {
        self.saw(arrival);
        let ssrc = pkt.header.ssrc;
        if pkt.header.payload_type != self.params.payload_type
            || self.params.ssrc_filter.is_some_and(|f| f != ssrc)
        {
            return Fate::PtSsrcMismatch;
        }
        if let Some(latch) = &mut self.latch {
            match latch.on_rtp(from, ssrc, arrival) {
                Verdict::Foreign => return Fate::Foreign,
                // The old peer's RTCP address is not the new one's.
                Verdict::Relatched => self.feedback.forget_rtcp_peer(),
                Verdict::Accept => {}
            }
        }
        if self.ssrc != Some(ssrc) {
            self.restart(ssrc);
        }
        self.feedback.on_rtp_from(from);
        match self.jitter.push(pkt, arrival) {
            PushOutcome::Duplicate | PushOutcome::Late => Fate::DuplicateOrLate,
            _ => Fate::Kept,
        }
    }

    /// A new SSRC: everything learnt about the old one goes.
    fn restart(&mut self, ssrc: u32) {
        if self.ssrc.is_some() {
            tracing::info!(old = ?self.ssrc, new = ssrc, "SSRC changed: stream restarted");
        }
        self.jitter = JitterBuffer::new(REORDER_WAIT, JITTER_CAPACITY);
        self.assembler = FrameAssembler::new(self.params.format);
        self.mapper.reset();
        self.reception = ReceptionStats::new(ssrc);
        // A sender report of this SSRC may have come first (ffmpeg sends one just
        // before its first RTP packet): keep it, for the mapping and for the receiver
        // reports' LSR/DLSR (RFC 3550 §6.4.1).
        match self.last_sr {
            Some((sr, at)) if sr.ssrc == ssrc => self.reception.on_sender_report(&sr, at),
            _ => self.last_sr = None,
        }
        self.pending.push_back(Output::Event(Event::SsrcChanged {
            medium: self.params.medium,
            old: self.ssrc,
            new: ssrc,
        }));
        self.ssrc = Some(ssrc);
    }

    /// Takes a datagram from the RTCP port: foreign if not from the latched peer's IP
    /// address, dropped if it did not parse.
    pub(super) fn handle_rtcp(&mut self, buf: &[u8], from: SocketAddr, arrival: Instant) -> Fate {
        self.saw(arrival);
        if self.latch.as_ref().is_some_and(|l| !l.rtcp_allowed(from)) {
            return Fate::Foreign;
        }
        self.feedback.on_rtcp_port(buf, from);
        let reports = match rtcp::sender_reports(buf) {
            Ok(r) => r,
            Err(e) => {
                let head = &buf[..buf.len().min(16)];
                tracing::debug!(error = %e, len = buf.len(), ?head, %from, "RTCP not parsed");
                return Fate::ParseError;
            }
        };
        for sr in reports {
            if Some(sr.ssrc) == self.ssrc || self.ssrc.is_none() {
                self.reception.on_sender_report(&sr, arrival);
                self.last_sr = Some((sr, arrival));
            }
        }
        Fate::Kept
    }

    /// The mixer wants a keyframe.
    pub(super) fn request_keyframe(&mut self) {
        self.feedback.force_keyframe();
    }

    /// The next output at `now`: pending events, then the access units the jitter buffer
    /// releases, then the RTCP due.
    pub(super) fn poll_output(
        &mut self,
        now: Instant,
        epoch: Instant,
        sync: &mut SourceSync,
        counters: &SourceCounters,
    ) -> Option<Output> {
        self.saw(now);
        loop {
            if let Some(o) = self.pending.pop_front() {
                return Some(o);
            }
            let Some(rel) = self.jitter.pop(now) else {
                break;
            };
            self.release(rel, epoch, sync, counters);
        }
        let ssrc = self.ssrc?;
        let mut sent = Vec::new();
        let needs_keyframe = self.needs_keyframe();
        self.feedback
            .poll(now, ssrc, &mut self.reception, needs_keyframe, &mut sent);
        self.pending.extend(sent.into_iter().map(Output::Transmit));
        self.pending.pop_front()
    }

    /// When [`StreamReceiver::poll_output`] has something without new input.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        if !self.pending.is_empty() {
            return self.now_hint;
        }
        let jitter = self.jitter.next_deadline();
        let feedback = match (self.ssrc, self.now_hint) {
            (Some(_), Some(hint)) => self.feedback.next_due(self.needs_keyframe(), hint),
            _ => None,
        };
        jitter.into_iter().chain(feedback).min()
    }

    fn needs_keyframe(&self) -> bool {
        self.params.medium == Medium::Video && self.assembler.needs_keyframe()
    }

    /// One packet out of the jitter buffer: statistics, assembly, mixer time.
    fn release(
        &mut self,
        rel: Released,
        epoch: Instant,
        sync: &mut SourceSync,
        counters: &SourceCounters,
    ) {
        if rel.lost_before > 0 {
            counters
                .packets_lost
                .fetch_add(rel.lost_before, Ordering::Relaxed);
        }
        let arrival = MixerTime::since(epoch, rel.arrival);
        let arrival_ticks = rescale_floor(arrival.as_micros(), MICROS, self.params.rate);
        self.reception
            .on_packet(rel.ext_seq, rel.packet.header.timestamp, arrival_ticks);
        let waited = self.assembler.needs_keyframe();
        let pushed = self.assembler.push(&rel.packet, !rel.contiguous());
        if !waited && self.needs_keyframe() {
            self.pending.push_back(Output::Event(Event::KeyframeWanted {
                medium: self.params.medium,
            }));
        }
        match pushed {
            Ok(Some(au)) => {
                let mixer_time = self.mixer_time(au.rtp_timestamp, arrival, sync);
                self.pending.push_back(Output::AccessUnit(TimedUnit {
                    medium: self.params.medium,
                    data: au.data,
                    rtp_timestamp: au.rtp_timestamp,
                    mixer_time,
                    keyframe: au.keyframe,
                    lost_before: rel.lost_before,
                }));
            }
            Ok(None) => {}
            Err(_) => {
                SourceCounters::inc(&counters.packets_dropped);
                SourceCounters::inc(&counters.drops_parse_error);
            }
        }
    }

    /// Mixer time of RTP timestamp `ts` of a unit that arrived at `arrival`.
    fn mixer_time(&mut self, ts: u32, arrival: MixerTime, sync: &mut SourceSync) -> MixerTime {
        let by_arrival = self.mapper.map(ts, arrival);
        let Some((sr, _)) = self.last_sr else {
            return by_arrival;
        };
        let d = i64::from(ts.wrapping_sub(sr.rtp_time) as i32);
        let ntp_us = sr.ntp_micros() + rescale_floor(d, self.params.rate, MICROS);
        sync.map(self.params.medium, ntp_us, arrival)
    }
}
