//! One medium (video or audio) of a live source: RTP in through the jitter buffer and
//! depacketizer to the decoder, RTCP in (sender reports) and out (receiver reports,
//! PLI/FIR), and the mapping of RTP timestamps to mixer time.
//!
//! Timing: until the stream's first RTCP sender report, an access unit's mixer time
//! comes from arrival ([`ArrivalMapper`]). Once a sender report maps the stream's RTP
//! clock to the sender's NTP clock, mixer time = NTP time + the source's offset
//! ([`SourceSync`]), an offset shared by the source's audio and video, so the two stay
//! in sync as the sender sampled them (RFC 3550 §6.4.1). The offsets are learnt from
//! each packet's network arrival (not its release from the jitter buffer).
//!
//! Keyframe requests (RFC 4585 §6.3.1 PLI; RFC 5104 §4.3.1 FIR every third attempt) go
//! out at most once per [`KEYFRAME_REQUEST_INTERVAL`] while the decoder waits for a
//! keyframe, through the stream's [`FeedbackSink`]: for plain RTP to the address the
//! sender's RTCP came from, or else to its RTP address's port + 1; for WebRTC over the
//! peer connection (SRTCP), where the `webrtc` crate's interceptors send the receiver
//! reports and NACKs.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ffmpeg_next::frame;
use rtp::packet::Packet;

use crate::ingest::depacketize::{FrameAssembler, PayloadFormat};
use crate::ingest::jitter::{JitterBuffer, PushOutcome};
use crate::ingest::rtcp::{self, ReceptionStats, SenderInfo};
use crate::ingest::udp::Medium;
use crate::ingest::webrtc::PeerLink;
use crate::media::decode::{AudioDecoder, VideoDecoder};
use crate::media::MediaError;
use crate::mixer::audio_stage::AudioStage;
use crate::mixer::slot::SourceSlot;
use crate::mixer::source_sync::SourceSync;
use crate::mixer::timeline::ArrivalMapper;
use crate::model::SourceCounters;
use crate::model::{AudioCodec, RtpStreamSpec, VideoCodec};
use crate::time::{rescale_floor, MixerTime, AUDIO_RATE, MICROS, VIDEO_RTP_RATE};

/// How long the jitter buffer waits for a missing packet before declaring it lost.
pub const REORDER_WAIT: Duration = Duration::from_millis(60);
/// Packets a jitter buffer holds at most.
pub const JITTER_CAPACITY: usize = 1024;
/// Interval between receiver reports.
pub const RECEIVER_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Least interval between two keyframe requests for one stream.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// Where a stream's RTCP feedback goes.
pub enum FeedbackSink {
    /// Nowhere (no socket).
    None,
    /// Plain RTP: from our RTCP socket to the sender's RTCP address.
    Udp(UdpSocket),
    /// WebRTC: over the source's current peer connection.
    Peer(PeerLink),
}

impl FeedbackSink {
    /// Sends one compound RTCP packet; `peer` is the UDP destination. True if sent.
    fn send(&self, peer: Option<SocketAddr>, msg: &[u8]) -> bool {
        match self {
            FeedbackSink::None => false,
            FeedbackSink::Udp(sock) => peer.is_some_and(|p| sock.send_to(msg, p).is_ok()),
            FeedbackSink::Peer(link) => link.send_rtcp(msg),
        }
    }
}

enum Decoder {
    Video(VideoDecoder, Vec<frame::Video>),
    Audio(Box<AudioStage>),
}

/// See the module docs.
pub struct StreamPath {
    payload_type: u8,
    ssrc_filter: Option<u32>,
    ssrc: Option<u32>,
    rate: u32,
    format: PayloadFormat,
    jitter: JitterBuffer,
    assembler: FrameAssembler,
    mapper: ArrivalMapper,
    decoder: Decoder,
    reception: ReceptionStats,
    last_sr: Option<SenderInfo>,
    sink: FeedbackSink,
    rtcp_peer: Option<SocketAddr>,
    rtp_peer: Option<SocketAddr>,
    our_ssrc: u32,
    last_rr: Option<Instant>,
    last_keyframe_request: Option<Instant>,
    keyframe_requests: u32,
}

impl StreamPath {
    /// The video path of a source. `sink` takes its feedback.
    pub fn video(
        s: &RtpStreamSpec<VideoCodec>,
        sink: FeedbackSink,
        our_ssrc: u32,
    ) -> Result<Self, MediaError> {
        let format = match s.codec {
            VideoCodec::Vp8 => PayloadFormat::Vp8,
            VideoCodec::H264 => PayloadFormat::H264,
        };
        let dec = Decoder::Video(VideoDecoder::new(s.codec)?, Vec::new());
        Ok(Self::new(
            s.payload_type,
            s.ssrc,
            format,
            VIDEO_RTP_RATE,
            dec,
            sink,
            our_ssrc,
        ))
    }

    /// The audio path of a source.
    pub fn audio(
        s: &RtpStreamSpec<AudioCodec>,
        sink: FeedbackSink,
        our_ssrc: u32,
    ) -> Result<Self, MediaError> {
        let dec = Decoder::Audio(Box::new(AudioStage::new(AudioDecoder::new(s.codec)?)));
        Ok(Self::new(
            s.payload_type,
            s.ssrc,
            PayloadFormat::Opus,
            AUDIO_RATE,
            dec,
            sink,
            our_ssrc,
        ))
    }

    fn new(
        payload_type: u8,
        ssrc_filter: Option<u32>,
        format: PayloadFormat,
        rate: u32,
        decoder: Decoder,
        sink: FeedbackSink,
        our_ssrc: u32,
    ) -> Self {
        Self {
            payload_type,
            ssrc_filter,
            ssrc: None,
            rate,
            format,
            jitter: JitterBuffer::new(REORDER_WAIT, JITTER_CAPACITY),
            assembler: FrameAssembler::new(format),
            mapper: ArrivalMapper::new(rate),
            decoder,
            reception: ReceptionStats::new(0),
            last_sr: None,
            sink,
            rtcp_peer: None,
            rtp_peer: None,
            our_ssrc,
            last_rr: None,
            last_keyframe_request: None,
            keyframe_requests: 0,
        }
    }

    /// Takes an RTP packet. Returns false if it was dropped (wrong payload type or SSRC,
    /// duplicate, too late).
    pub fn on_rtp(&mut self, pkt: Packet, from: SocketAddr, arrival: Instant) -> bool {
        let ssrc = pkt.header.ssrc;
        if pkt.header.payload_type != self.payload_type
            || self.ssrc_filter.is_some_and(|f| f != ssrc)
        {
            return false;
        }
        if self.ssrc != Some(ssrc) {
            if self.ssrc.is_some() {
                tracing::info!(old = ?self.ssrc, new = ssrc, "SSRC changed: stream restarted");
            }
            self.jitter = JitterBuffer::new(REORDER_WAIT, JITTER_CAPACITY);
            self.assembler = FrameAssembler::new(self.format);
            self.mapper.reset();
            self.reception = ReceptionStats::new(ssrc);
            // A sender report of this SSRC may have come first (ffmpeg sends one just
            // before its first RTP packet): keep it.
            if self.last_sr.is_some_and(|sr| sr.ssrc != ssrc) {
                self.last_sr = None;
            }
            if let Decoder::Audio(a) = &mut self.decoder {
                a.reset();
            }
            self.ssrc = Some(ssrc);
        }
        self.rtp_peer = Some(from);
        !matches!(
            self.jitter.push(pkt, arrival),
            PushOutcome::Duplicate | PushOutcome::Late
        )
    }

    /// Takes an RTCP datagram from `from`. Returns false if it did not parse.
    ///
    /// Any version-2 datagram on the RTCP port makes `from` the address feedback goes
    /// to, even if it is not RTCP: Janus' `rtp_forward` "latches" its RTCP socket with a
    /// 12-byte dummy RTP header (`80 00 00 00 ...`), and that socket is where Janus
    /// listens for our PLI/FIR.
    pub fn on_rtcp(&mut self, buf: &[u8], from: SocketAddr, now: Instant) -> bool {
        if buf.len() >= 4 && buf[0] >> 6 == 2 {
            self.rtcp_peer = Some(from);
        }
        let reports = match rtcp::sender_reports(buf) {
            Ok(r) => r,
            Err(e) => {
                let head = &buf[..buf.len().min(16)];
                tracing::debug!(error = %e, len = buf.len(), ?head, %from, "RTCP not parsed");
                return false;
            }
        };
        for sr in reports {
            if Some(sr.ssrc) == self.ssrc || self.ssrc.is_none() {
                self.reception.on_sender_report(&sr, now);
                self.last_sr = Some(sr);
            }
        }
        true
    }

    /// Releases the packets due at `now` through assembly and decoding onto the source's
    /// slot. `epoch`: the mixer's time 0 (arrivals become µs of mixer time).
    pub fn drain(
        &mut self,
        now: Instant,
        epoch: Instant,
        sync: &mut SourceSync,
        slot: &SourceSlot,
        counters: &SourceCounters,
    ) {
        while let Some(rel) = self.jitter.pop(now) {
            if rel.lost_before > 0 {
                counters
                    .packets_lost
                    .fetch_add(rel.lost_before, Ordering::Relaxed);
            }
            let arrival_us =
                i64::try_from(rel.arrival.saturating_duration_since(epoch).as_micros())
                    .unwrap_or(i64::MAX);
            let arrival_ticks = rescale_floor(arrival_us, MICROS, self.rate);
            self.reception
                .on_packet(rel.ext_seq, rel.packet.header.timestamp, arrival_ticks);
            let au = match self.assembler.push(&rel.packet, !rel.contiguous()) {
                Ok(Some(au)) => au,
                Ok(None) => continue,
                Err(_) => {
                    counters.packets_dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            let t_us = self.mixer_time(au.rtp_timestamp, arrival_us, sync);
            match &mut self.decoder {
                Decoder::Video(..) => self.decode_video(&au.data, t_us, slot, counters),
                Decoder::Audio(a) => {
                    let lost = rel.lost_before;
                    a.decode(&au.data, au.rtp_timestamp, t_us, lost, slot, counters)
                }
            }
        }
    }

    fn mixer_time(&mut self, ts: u32, arrival_us: i64, sync: &mut SourceSync) -> i64 {
        let t_arrival = self.mapper.map(ts, arrival_us);
        let Some(sr) = self.last_sr else {
            return t_arrival;
        };
        let d = i64::from(ts.wrapping_sub(sr.rtp_time) as i32);
        let ntp_us = sr.ntp_micros() + rescale_floor(d, self.rate, MICROS);
        let medium = match self.decoder {
            Decoder::Video(..) => Medium::Video,
            Decoder::Audio(..) => Medium::Audio,
        };
        sync.map(medium, ntp_us, arrival_us)
    }

    fn decode_video(
        &mut self,
        data: &[u8],
        t_us: i64,
        slot: &SourceSlot,
        counters: &SourceCounters,
    ) {
        let Decoder::Video(dec, pics) = &mut self.decoder else {
            return;
        };
        if dec.decode(data, t_us, pics).is_err() {
            counters.packets_dropped.fetch_add(1, Ordering::Relaxed);
        }
        for pic in pics.drain(..) {
            SourceCounters::inc(&counters.video_frames_decoded);
            counters.width.store(pic.width(), Ordering::Relaxed);
            counters.height.store(pic.height(), Ordering::Relaxed);
            let t = pic.pts().unwrap_or(t_us);
            slot.frames.lock().push(MixerTime::from_micros(t), pic);
        }
    }

    /// When the jitter buffer can next release something without new input.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.jitter.next_deadline()
    }

    /// Sends what is due: a receiver report every [`RECEIVER_REPORT_INTERVAL`], and a
    /// keyframe request while the video decoder waits for a keyframe (or when `force`).
    pub fn feedback(&mut self, now: Instant, force_keyframe: bool, counters: &SourceCounters) {
        let Some(ssrc) = self.ssrc else { return };
        let peer = self.rtcp_peer.or(self
            .rtp_peer
            .map(|a| SocketAddr::new(a.ip(), a.port().wrapping_add(1))));
        // Over WebRTC the interceptors send receiver reports.
        let rr_due = !matches!(self.sink, FeedbackSink::Peer(_))
            && self
                .last_rr
                .is_none_or(|t| now.duration_since(t) >= RECEIVER_REPORT_INTERVAL);
        if rr_due {
            self.last_rr = Some(now);
            let rr = rtcp::receiver_report(self.our_ssrc, vec![self.reception.report(now)]);
            self.sink.send(peer, &rr);
        }
        let wants = matches!(self.decoder, Decoder::Video(..))
            && (force_keyframe || self.assembler.needs_keyframe());
        let due = self
            .last_keyframe_request
            .is_none_or(|t| now.duration_since(t) >= KEYFRAME_REQUEST_INTERVAL);
        if wants && due {
            self.last_keyframe_request = Some(now);
            self.keyframe_requests = self.keyframe_requests.wrapping_add(1);
            let msg = if self.keyframe_requests.is_multiple_of(3) {
                rtcp::fir(self.our_ssrc, ssrc, (self.keyframe_requests / 3) as u8)
            } else {
                rtcp::pli(self.our_ssrc, ssrc)
            };
            if self.sink.send(peer, &msg) {
                SourceCounters::inc(&counters.keyframe_requests);
            }
        }
        if !self.assembler.needs_keyframe() && !force_keyframe {
            self.keyframe_requests = 0;
        }
    }
}
