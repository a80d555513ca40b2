//! A live source's worker thread: the IO shell around the source's receive state machine
//! ([`SourceReceiver`], [`crate::receive`]).
//!
//! The loop: wait for a datagram at most until the receiver's `poll_timeout` (and at most
//! [`IDLE_WAIT`], to notice the stop flag and the mixer's keyframe wishes), hand every
//! queued datagram to `handle_input`, then drain `poll_output`: access units go to the
//! stream's decoder and onto the source's [`SourceSlot`], RTCP goes out through the
//! stream's [`FeedbackSink`], an SSRC change resets the stream's decoder state. Anything
//! malformed is counted in `packets_dropped` and skipped; nothing a sender does can end
//! the thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::ingest::policy::LatchConfig;
use crate::ingest::udp::Datagram;
use crate::media::MediaError;
use crate::mixer::slot::SourceSlot;
use crate::mixer::stream_path::{FeedbackSink, StreamDecoder};
use crate::model::{Medium, SourceCounters, SourceSpec};
use crate::output::single::SingleRecorder;
use crate::receive::shared_clock::ClockMember;
use crate::receive::{Event, Output, ReceiverConfig, SourceReceiver};

/// Longest sleep of the worker without input, so it notices the stop flag and keyframe
/// wishes.
const IDLE_WAIT: Duration = Duration::from_millis(20);
/// Interval of the worker's timing line in the log (`RUST_LOG=cloudmixer=debug`).
const TIMING_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// The decoder and feedback sink of one stream.
struct StreamShell {
    decoder: StreamDecoder,
    sink: FeedbackSink,
}

/// The worker of one source; run it on its own thread with [`SourceWorker::run`].
pub struct SourceWorker {
    rx: Receiver<Datagram>,
    counters: Arc<SourceCounters>,
    slot: SourceSlot,
    receiver: SourceReceiver,
    video: Option<StreamShell>,
    audio: Option<StreamShell>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    camid: String,
    last_timing_log: Instant,
    /// Access units handed to the decoders so far.
    units: u64,
    /// Test fault: panic at this access unit ([`crate::fault::source_panic_at`]).
    panic_at: Option<u64>,
    /// The participant's own files, if the recording writes them.
    recorder: Option<SingleRecorder>,
    /// When the recorder last asked the sender for a keyframe.
    recorder_keyframe_asked: Option<Instant>,
    /// Whether video access units are decoded (false: nothing shows the pictures, e.g.
    /// an audio-only composite or no composite; the stream is still received, counted
    /// and fed back on).
    decode_video: bool,
}

impl SourceWorker {
    /// A worker for `spec`; `epoch` is the mixer's time 0, `max_picture_pixels` the
    /// largest picture the source may send, `latch` the symmetric RTP rule of plain-RTP
    /// streams. `sinks` take the (video, audio) streams' RTCP feedback (UDP sockets or a
    /// peer connection; the latter does not latch).
    /// Errors: a decoder cannot be opened.
    pub fn new(
        spec: &SourceSpec,
        rx: Receiver<Datagram>,
        counters: Arc<SourceCounters>,
        slot: SourceSlot,
        (epoch, max_picture_pixels, latch): (Instant, u64, LatchConfig),
        sinks: (FeedbackSink, FeedbackSink),
    ) -> Result<Self, MediaError> {
        let (vs, as_) = sinks;
        let webrtc = vs.is_peer() || as_.is_peer();
        let config = ReceiverConfig {
            epoch,
            our_ssrc: rand::random(),
            // Over WebRTC the interceptors send receiver reports.
            send_receiver_reports: !webrtc,
            // DTLS-SRTP authenticates a WebRTC peer; its datagrams carry no real address.
            latch: (!webrtc).then_some(latch),
        };
        Ok(Self {
            rx,
            receiver: SourceReceiver::new(spec, config, counters.clone()),
            counters,
            slot,
            video: spec
                .video
                .as_ref()
                .map(|v| StreamDecoder::video(v.codec, max_picture_pixels))
                .transpose()?
                .map(|decoder| StreamShell { decoder, sink: vs }),
            audio: spec
                .audio
                .as_ref()
                .map(|a| StreamDecoder::audio(a.codec))
                .transpose()?
                .map(|decoder| StreamShell { decoder, sink: as_ }),
            stop: None,
            camid: spec.camid.clone(),
            last_timing_log: epoch,
            units: 0,
            panic_at: crate::fault::source_panic_at(&spec.camid),
            recorder: None,
            recorder_keyframe_asked: None,
            decode_video: true,
        })
    }

    /// Decodes video access units only if `decode` (default true): a mixer whose
    /// outputs show no picture saves the decoder's CPU.
    pub fn with_video_decode(mut self, decode: bool) -> Self {
        self.decode_video = decode;
        self
    }

    /// Lines this source up with the mixer's other sources whose sender clocks agree
    /// ([`crate::receive::shared_clock`]).
    pub fn with_clock(mut self, member: ClockMember) -> Self {
        self.receiver = self.receiver.with_clock(member);
        self
    }

    /// Also ends the worker (within [`IDLE_WAIT`]) when `stop` turns true, even if
    /// senders remain (WebRTC tasks may take a moment to notice).
    pub fn with_stop(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Writes the participant's own files with `recorder` ([`crate::output::single`]).
    pub fn with_recorder(mut self, recorder: Option<SingleRecorder>) -> Self {
        self.recorder = recorder;
        self
    }

    /// Runs until every sender of the channel is gone, or the stop flag is set; then
    /// completes the participant's files.
    pub fn run(mut self) {
        self.receive();
        if let Some(r) = &mut self.recorder {
            r.finish();
        }
    }

    fn receive(&mut self) {
        loop {
            if self.stop.as_ref().is_some_and(|s| *s.borrow()) {
                return;
            }
            let now = Instant::now();
            let wait = self.receiver.poll_timeout().map_or(IDLE_WAIT, |d| {
                d.saturating_duration_since(now).min(IDLE_WAIT)
            });
            match self.rx.recv_timeout(wait) {
                Ok(d) => {
                    self.receiver.handle_input(d.into());
                    while let Ok(d) = self.rx.try_recv() {
                        self.receiver.handle_input(d.into());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if self.slot.keyframe_wanted.swap(false, Ordering::Relaxed) {
                self.receiver.request_keyframe();
            }
            let now = Instant::now();
            while let Some(out) = self.receiver.poll_output(now) {
                self.on_output(out, now);
            }
            self.poll_recorder(now);
            self.log_timing(now);
        }
    }

    fn stream(&mut self, medium: Medium) -> Option<&mut StreamShell> {
        match medium {
            Medium::Video => self.video.as_mut(),
            Medium::Audio => self.audio.as_mut(),
        }
    }

    /// Lets the recorder's time pass; asks for a keyframe (at most once a second) while
    /// one of its files waits for one.
    fn poll_recorder(&mut self, now: Instant) {
        let Some(r) = &mut self.recorder else {
            return;
        };
        r.poll(now);
        let due = self
            .recorder_keyframe_asked
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if r.wants_keyframe() && due {
            self.recorder_keyframe_asked = Some(now);
            self.receiver.request_keyframe();
        }
    }

    fn on_output(&mut self, out: Output, now: Instant) {
        match out {
            Output::AccessUnit(unit) => {
                self.units += 1;
                if self.panic_at == Some(self.units) {
                    panic!(
                        "injected fault at access unit {} ({})",
                        self.units,
                        crate::fault::FAULT_ENV
                    );
                }
                if let Some(r) = &mut self.recorder {
                    match unit.medium {
                        Medium::Video => {
                            r.video_unit(&unit.data, unit.mixer_time, unit.keyframe, now)
                        }
                        Medium::Audio => r.audio_unit(&unit.data, unit.mixer_time, now),
                    }
                }
                let s = match unit.medium {
                    Medium::Video if !self.decode_video => None,
                    Medium::Video => self.video.as_mut(),
                    Medium::Audio => self.audio.as_mut(),
                };
                if let Some(s) = s {
                    s.decoder
                        .decode(&unit, &self.slot, &self.counters, self.recorder.as_mut());
                }
            }
            Output::Transmit(t) => {
                let sent = self
                    .stream(t.medium)
                    .is_some_and(|s| s.sink.send(t.to, &t.data));
                if sent && t.kind.is_keyframe_request() {
                    SourceCounters::inc(&self.counters.keyframe_requests);
                }
            }
            Output::Event(Event::SsrcChanged { medium, .. }) => {
                if let Some(s) = self.stream(medium) {
                    s.decoder.reset();
                }
            }
            Output::Event(Event::KeyframeWanted { medium }) => {
                tracing::debug!(camid = %self.camid, ?medium, "loss broke a frame; waiting for a keyframe");
            }
        }
    }

    fn log_timing(&mut self, now: Instant) {
        if now.duration_since(self.last_timing_log) < TIMING_LOG_INTERVAL {
            return;
        }
        self.last_timing_log = now;
        let sync = self.receiver.sync();
        let (video_us, audio_us) = sync.offsets_us();
        tracing::debug!(
            camid = %self.camid,
            ?video_us,
            ?audio_us,
            adjustments = sync.adjustments(),
            lost = self.counters.packets_lost.load(Ordering::Relaxed),
            audio_late = self.counters.audio_samples_late.load(Ordering::Relaxed),
            "timing: stream offsets (mixer - sender NTP time)"
        );
    }
}
