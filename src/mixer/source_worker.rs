//! A live source's worker thread: datagrams in, pictures and PCM onto the timeline out.
//!
//! Each datagram goes to the source's video or audio [`StreamPath`] (RTP: parse, check
//! payload type and SSRC, jitter buffer; RTCP: sender reports). Then every path releases
//! what is due through the depacketizer and decoder onto the source's [`SourceSlot`],
//! and sends due RTCP feedback. Anything malformed is counted in `packets_dropped` and
//! skipped; nothing a sender does can end the thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::ingest::rtp_packet;
use crate::ingest::udp::{Datagram, Medium};
use crate::media::MediaError;
use crate::mixer::shared_clock::ClockMember;
use crate::mixer::slot::SourceSlot;
use crate::mixer::source_sync::SourceSync;
use crate::mixer::stream_path::{FeedbackSink, StreamPath};
use crate::model::SourceCounters;
use crate::model::SourceSpec;

/// Longest sleep of the worker without input, so it notices deadlines, feedback and
/// shutdown.
const IDLE_WAIT: Duration = Duration::from_millis(20);
/// Interval of the worker's timing line in the log (`RUST_LOG=cloudmixer=debug`).
const TIMING_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// The worker of one source; run it on its own thread with [`SourceWorker::run`].
pub struct SourceWorker {
    rx: Receiver<Datagram>,
    counters: Arc<SourceCounters>,
    slot: SourceSlot,
    epoch: Instant,
    sync: SourceSync,
    video: Option<StreamPath>,
    audio: Option<StreamPath>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    camid: String,
    last_timing_log: Instant,
}

impl SourceWorker {
    /// A worker for `spec`; `epoch` is the mixer's time 0. `sinks` take the (video,
    /// audio) streams' RTCP feedback (UDP sockets or a peer connection).
    /// Errors: a decoder cannot be opened.
    pub fn new(
        spec: &SourceSpec,
        rx: Receiver<Datagram>,
        counters: Arc<SourceCounters>,
        slot: SourceSlot,
        epoch: Instant,
        sinks: (FeedbackSink, FeedbackSink),
    ) -> Result<Self, MediaError> {
        let our_ssrc: u32 = rand::random();
        let (vs, as_) = sinks;
        Ok(Self {
            rx,
            counters,
            slot,
            epoch,
            sync: SourceSync::default(),
            video: spec
                .video
                .as_ref()
                .map(|v| StreamPath::video(v, vs, our_ssrc))
                .transpose()?,
            audio: spec
                .audio
                .as_ref()
                .map(|a| StreamPath::audio(a, as_, our_ssrc))
                .transpose()?,
            stop: None,
            camid: spec.camid.clone(),
            last_timing_log: epoch,
        })
    }

    /// Lines this source up with the mixer's other sources whose sender clocks agree
    /// ([`crate::mixer::shared_clock`]).
    pub fn with_clock(mut self, member: ClockMember) -> Self {
        self.sync.clock = Some(member);
        self
    }

    /// Also ends the worker (within [`IDLE_WAIT`]) when `stop` turns true, even if
    /// senders remain (WebRTC tasks may take a moment to notice).
    pub fn with_stop(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Runs until every sender of the channel is gone, or the stop flag is set.
    pub fn run(mut self) {
        loop {
            if self.stop.as_ref().is_some_and(|s| *s.borrow()) {
                return;
            }
            let now = Instant::now();
            let wait = [&self.video, &self.audio]
                .into_iter()
                .flatten()
                .filter_map(StreamPath::next_deadline)
                .min()
                .map_or(IDLE_WAIT, |d| {
                    d.saturating_duration_since(now).min(IDLE_WAIT)
                });
            match self.rx.recv_timeout(wait) {
                Ok(d) => {
                    self.on_datagram(d);
                    while let Ok(d) = self.rx.try_recv() {
                        self.on_datagram(d);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.drain(Instant::now());
        }
    }

    fn dropped(&self) {
        self.counters
            .packets_dropped
            .fetch_add(1, Ordering::Relaxed);
    }

    fn on_datagram(&mut self, d: Datagram) {
        let path = match d.medium {
            Medium::Video => self.video.as_mut(),
            Medium::Audio => self.audio.as_mut(),
        };
        let Some(path) = path else {
            return self.dropped();
        };
        let kept = if d.rtcp {
            path.on_rtcp(&d.data, d.from, d.arrival)
        } else {
            match rtp_packet::parse_bytes(d.data) {
                Ok(pkt) => path.on_rtp(pkt, d.from, d.arrival),
                Err(_) => false,
            }
        };
        if !kept {
            self.dropped();
        }
    }

    fn drain(&mut self, now: Instant) {
        let force = self.slot.keyframe_wanted.swap(false, Ordering::Relaxed);
        for path in [self.video.as_mut(), self.audio.as_mut()]
            .into_iter()
            .flatten()
        {
            path.drain(now, self.epoch, &mut self.sync, &self.slot, &self.counters);
            path.feedback(now, force, &self.counters);
        }
        if now.duration_since(self.last_timing_log) >= TIMING_LOG_INTERVAL {
            self.last_timing_log = now;
            let (video_us, audio_us) = self.sync.offsets();
            tracing::debug!(
                camid = %self.camid,
                ?video_us,
                ?audio_us,
                adjustments = self.sync.adjustments(),
                lost = self.counters.packets_lost.load(Ordering::Relaxed),
                audio_late = self.counters.audio_samples_late.load(Ordering::Relaxed),
                "timing: stream offsets (mixer - sender NTP time)"
            );
        }
    }
}
