//! A live source's worker thread: datagrams in, pictures and PCM onto the timeline out.
//!
//! Per medium: parse RTP -> check payload type and SSRC -> jitter buffer (reorder, loss)
//! -> access-unit assembly -> map the RTP timestamp to mixer time by arrival
//! ([`ArrivalMapper`]) -> decode -> the source's [`FrameQueue`] (video) or
//! [`SampleRing`](crate::audio::SampleRing) (audio). Anything malformed is counted in
//! `packets_dropped` and skipped; nothing a sender does can end the thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use ffmpeg_next::frame;

use crate::audio::AudioPlacement;
use crate::ingest::depacketize::{FrameAssembler, PayloadFormat};
use crate::ingest::jitter::{JitterBuffer, PushOutcome};
use crate::ingest::rtp_packet;
use crate::ingest::udp::{Datagram, Medium};
use crate::media::decode::{AudioDecoder, Pcm, VideoDecoder};
use crate::mixer::core::SourceSlot;
use crate::mixer::spec::{AudioCodec, RtpStreamSpec, SourceSpec, VideoCodec};
use crate::mixer::stats::SourceCounters;
use crate::mixer::timeline::ArrivalMapper;
use crate::time::{rescale_floor, AUDIO_RATE, MICROS, VIDEO_RTP_RATE};

/// How long the jitter buffer waits for a missing packet before declaring it lost.
pub const REORDER_WAIT: Duration = Duration::from_millis(60);
/// Packets a jitter buffer holds at most.
pub const JITTER_CAPACITY: usize = 1024;
/// Longest sleep of the worker without input, so it notices deadlines and shutdown.
const IDLE_WAIT: Duration = Duration::from_millis(20);

enum Decoder {
    Video(VideoDecoder, Vec<frame::Video>),
    Audio(AudioDecoder, Vec<Pcm>, AudioPlacement),
}

/// One medium of a source.
struct Path {
    payload_type: u8,
    ssrc_filter: Option<u32>,
    ssrc: Option<u32>,
    jitter: JitterBuffer,
    assembler: FrameAssembler,
    format: PayloadFormat,
    mapper: ArrivalMapper,
    decoder: Decoder,
}

impl Path {
    fn video(s: &RtpStreamSpec<VideoCodec>) -> Result<Self, crate::media::MediaError> {
        let format = match s.codec {
            VideoCodec::Vp8 => PayloadFormat::Vp8,
            VideoCodec::H264 => PayloadFormat::H264,
        };
        Ok(Self::new(
            s.payload_type,
            s.ssrc,
            format,
            VIDEO_RTP_RATE,
            Decoder::Video(VideoDecoder::new(s.codec)?, Vec::new()),
        ))
    }

    fn audio(s: &RtpStreamSpec<AudioCodec>) -> Result<Self, crate::media::MediaError> {
        Ok(Self::new(
            s.payload_type,
            s.ssrc,
            PayloadFormat::Opus,
            AUDIO_RATE,
            Decoder::Audio(
                AudioDecoder::new(s.codec)?,
                Vec::new(),
                AudioPlacement::default(),
            ),
        ))
    }

    fn new(pt: u8, ssrc: Option<u32>, format: PayloadFormat, rate: u32, decoder: Decoder) -> Self {
        Self {
            payload_type: pt,
            ssrc_filter: ssrc,
            ssrc: None,
            jitter: JitterBuffer::new(REORDER_WAIT, JITTER_CAPACITY),
            assembler: FrameAssembler::new(format),
            format,
            mapper: ArrivalMapper::new(rate),
            decoder,
        }
    }

    /// Forgets stream state after an SSRC change (sender restart).
    fn reset(&mut self) {
        self.jitter = JitterBuffer::new(REORDER_WAIT, JITTER_CAPACITY);
        self.assembler = FrameAssembler::new(self.format);
        self.mapper.reset();
        if let Decoder::Audio(_, _, p) = &mut self.decoder {
            p.reset();
        }
    }
}

/// The worker of one source; run it on its own thread with [`SourceWorker::run`].
pub struct SourceWorker {
    camid: String,
    rx: Receiver<Datagram>,
    counters: Arc<SourceCounters>,
    slot: SourceSlot,
    epoch: Instant,
    video: Option<Path>,
    audio: Option<Path>,
}

impl SourceWorker {
    /// A worker for `spec`; `epoch` is the mixer's time 0.
    /// Errors: a decoder cannot be opened.
    pub fn new(
        spec: &SourceSpec,
        rx: Receiver<Datagram>,
        counters: Arc<SourceCounters>,
        slot: SourceSlot,
        epoch: Instant,
    ) -> Result<Self, crate::media::MediaError> {
        Ok(Self {
            camid: spec.camid.clone(),
            rx,
            counters,
            slot,
            epoch,
            video: spec.video.as_ref().map(Path::video).transpose()?,
            audio: spec.audio.as_ref().map(Path::audio).transpose()?,
        })
    }

    /// Runs until every sender of the channel is gone.
    pub fn run(mut self) {
        loop {
            match self.rx.recv_timeout(IDLE_WAIT) {
                Ok(d) => self.on_datagram(d),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            self.drain(Medium::Video, now);
            self.drain(Medium::Audio, now);
        }
    }

    fn dropped(&self) {
        self.counters
            .packets_dropped
            .fetch_add(1, Ordering::Relaxed);
    }

    fn on_datagram(&mut self, d: Datagram) {
        let Ok(pkt) = rtp_packet::parse_bytes(d.data) else {
            return self.dropped();
        };
        let path = match d.medium {
            Medium::Video => self.video.as_mut(),
            Medium::Audio => self.audio.as_mut(),
        };
        let Some(path) = path else {
            return self.dropped();
        };
        let ssrc = pkt.header.ssrc;
        if pkt.header.payload_type != path.payload_type
            || path.ssrc_filter.is_some_and(|f| f != ssrc)
        {
            return self.dropped();
        }
        if path.ssrc.is_some_and(|s| s != ssrc) {
            tracing::info!(camid = %self.camid, old = ?path.ssrc, new = ssrc, "SSRC changed, resetting stream");
            path.reset();
        }
        path.ssrc = Some(ssrc);
        match path.jitter.push(pkt, d.arrival) {
            PushOutcome::Queued => {}
            _ => self.dropped(),
        }
    }

    fn drain(&mut self, medium: Medium, now: Instant) {
        let arrival_us = i64::try_from(now.saturating_duration_since(self.epoch).as_micros())
            .unwrap_or(i64::MAX);
        let path = match medium {
            Medium::Video => self.video.as_mut(),
            Medium::Audio => self.audio.as_mut(),
        };
        let Some(path) = path else { return };
        while let Some(rel) = path.jitter.pop(now) {
            if rel.lost_before > 0 {
                self.counters
                    .packets_lost
                    .fetch_add(rel.lost_before, Ordering::Relaxed);
            }
            let au = match path.assembler.push(&rel.packet, !rel.contiguous()) {
                Ok(Some(au)) => au,
                Ok(None) => continue,
                Err(_) => {
                    self.counters
                        .packets_dropped
                        .fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            let t_us = path.mapper.map(au.rtp_timestamp, arrival_us);
            match &mut path.decoder {
                Decoder::Video(dec, pics) => {
                    if dec.decode(&au.data, t_us, pics).is_err() {
                        self.counters
                            .packets_dropped
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    for pic in pics.drain(..) {
                        SourceCounters::inc(&self.counters.video_frames_decoded);
                        self.counters.width.store(pic.width(), Ordering::Relaxed);
                        self.counters.height.store(pic.height(), Ordering::Relaxed);
                        let t = pic.pts().unwrap_or(t_us);
                        self.slot.frames.lock().push(t, pic);
                    }
                }
                Decoder::Audio(dec, pcm, placement) => {
                    if dec.decode(&au.data, t_us, pcm).is_err() {
                        self.counters
                            .packets_dropped
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    for block in pcm.drain(..) {
                        SourceCounters::inc(&self.counters.audio_frames_decoded);
                        let ts = rescale_floor(block.pts, MICROS, AUDIO_RATE);
                        let pos = placement.place(ts, block.left.len());
                        self.slot.audio.lock().write(pos, &block.left, &block.right);
                    }
                }
            }
        }
    }
}
