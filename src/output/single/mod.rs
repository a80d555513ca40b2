//! Per-participant ("single") outputs: one participant's own files, written beside the
//! composite from the same ingest (NetEase per-user recordings, Easemob
//! ONLY_REC_ONE_AV / ONLY_REC_ONE_DESKTOP, ZEGO separate files).
//!
//! A [`SingleRecorder`] lives in the participant's source worker and sees what the
//! receive path produces: access units with their mixer times (the same A/V sync the
//! composite uses: sender reports, shared clock) and the decoded PCM. Per presence span
//! ([`presence`]) it writes:
//! - `av` (or `screen` for a screen-share source): the video as received, not
//!   re-encoded (H.264 into MP4 with the audio encoded to AAC; VP8 into WebM with the
//!   Opus as received), starting at the first keyframe;
//! - `audio`: AAC in ADTS (`.aac`) or MP4 (`.m4a`), or the Opus as received in Ogg.
//!
//! The files' time 0 is the span's first media; the AAC is encoded once per participant
//! and feeds every file that holds it ([`aac_track`]). A file that fails is marked
//! FAILED with its cause; the participant's other files and the mixer go on.
//!
//! Shapes and units: access units are VP8 frames, H.264 Annex B access units or Opus
//! packets; PCM is planar f32 stereo 48 kHz; times are mixer time (µs since the epoch);
//! files' timestamps are µs (passthrough) or samples at 48 kHz (AAC).

pub mod aac_track;
pub mod file;
pub mod outputs;
pub mod presence;
pub mod transcode;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ffmpeg_next::Packet;

use crate::events::{OutputInfo, OutputStatus};
use crate::media::mux::Container;
use crate::media::passthrough;
use crate::model::{
    AudioContainer, ContentType, MixerError, OutputKind, OutputMedia, RecordSpec, RecordingsRoot,
    SingleVideo, VideoCodec,
};
use crate::time::MixerTime;

use aac_track::AacTrack;
use file::{AudioFeed, SingleFile, VideoIn};
pub use outputs::{OutputSlot, SingleOutputs};
use presence::{Presence, Span};
use transcode::TranscodeTrack;

/// Interval of the files' `OutputInfoChanged` while they grow.
const INFO_INTERVAL_US: i64 = 1_000_000;
/// Audio encoded past a span's last media: a 20 ms packet's length plus a margin.
const AUDIO_TAIL_US: i64 = 40_000;
/// How much longer than the composite a participant's AAC waits for its PCM before
/// encoding a block (beyond the playout delay): 300 ms. A participant's file has no
/// live deadline, so PCM a loaded host decodes late still lands instead of leaving
/// a gap; it adds this to what a kill -9 may lose (with [`crate::media::mux::FRAGMENT_US`],
/// about a second).
const LATE_AUDIO_WAIT_US: i64 = 300_000;

/// What a participant's recorder needs to know.
#[derive(Clone)]
pub struct SingleConfig {
    pub mixer_id: String,
    pub camid: String,
    pub content: ContentType,
    /// The participant's video codec; None for an audio-only participant.
    pub video: Option<VideoCodec>,
    /// The participant sends audio (Opus).
    pub audio: bool,
    pub record: RecordSpec,
    pub root: RecordingsRoot,
    /// The mixer's time 0 as an instant and as Unix ms.
    pub epoch: Instant,
    pub epoch_unix_ms: i64,
    /// AAC is encoded this long after its time (the mixer's playout delay).
    pub playout_delay: Duration,
    /// No media for this long ends a presence span.
    pub presence_timeout: Duration,
    /// AAC bit rate, bit/s.
    pub audio_bps: u32,
    /// The encoder of transcoded files (used when `record.single_video` is Transcode;
    /// its size is taken from there).
    pub transcode: crate::media::encode::VideoEncoderConfig,
}

/// One file of the plan: what it holds and how.
#[derive(Debug, Clone, Copy)]
struct Planned {
    media: OutputMedia,
    container: Container,
    ext: &'static str,
    video: bool,
    /// The video is transcoded (else passed through).
    transcoded: bool,
    audio: AudioFeed,
}

/// The files of the span in progress.
struct SpanFiles {
    start: MixerTime,
    aac: Option<AacTrack>,
    transcode: Option<TranscodeTrack>,
    files: Vec<(OutputSlot, Option<SingleFile>)>,
    last_info_us: i64,
}

/// See the module docs.
pub struct SingleRecorder {
    cfg: SingleConfig,
    outputs: Arc<SingleOutputs>,
    plan: Vec<Planned>,
    presence: Presence,
    span: Option<SpanFiles>,
    packets: Vec<Packet>,
}

impl SingleRecorder {
    /// A recorder for one participant, or None when the recording writes no file of it
    /// (mode without single files, or nothing the participant sends is recorded).
    pub fn new(cfg: SingleConfig, outputs: Arc<SingleOutputs>) -> Option<Self> {
        if !cfg.record.mode.single() {
            return None;
        }
        let plan = plan(&cfg);
        if plan.is_empty() {
            return None;
        }
        Some(Self {
            presence: Presence::new(cfg.presence_timeout),
            cfg,
            outputs,
            plan,
            span: None,
            packets: Vec::new(),
        })
    }

    fn now(&self, at: Instant) -> MixerTime {
        MixerTime::since(self.cfg.epoch, at)
    }

    /// Whether a file waits for a video keyframe (the worker then asks the sender).
    pub fn wants_keyframe(&self) -> bool {
        self.span.as_ref().is_some_and(|s| {
            s.files
                .iter()
                .any(|(_, f)| f.as_ref().is_some_and(|f| f.waits_for_keyframe()))
        })
    }

    /// Notes media at `t` (received at `at`): ends a span the timeout passed, starts one.
    fn media(&mut self, t: MixerTime, at: Instant) {
        let now = self.now(at);
        let (ended, started) = self.presence.media(t, now);
        if let Some(s) = ended {
            self.end_span(s);
        }
        if let Some(start) = started {
            self.start_span(start);
        }
    }

    /// A video access unit at mixer time `t`.
    pub fn video_unit(&mut self, data: &Bytes, t: MixerTime, keyframe: bool, at: Instant) {
        self.media(t, at);
        let Some(codec) = self.cfg.video else {
            return;
        };
        let Some(span) = &mut self.span else {
            return;
        };
        let pts = t.micros_since(span.start);
        for (slot, f) in &mut span.files {
            let Some(file) = f else { continue };
            let p = passthrough::packet(data, pts, 0, keyframe);
            let r = file.video(p, keyframe, || passthrough::video_parameters(codec, data));
            if let Err(e) = r {
                fail(&self.outputs, *slot, f, &e);
            }
        }
    }

    /// An Opus packet at mixer time `t`.
    pub fn audio_unit(&mut self, data: &Bytes, t: MixerTime, at: Instant) {
        self.media(t, at);
        let Some(span) = &mut self.span else {
            return;
        };
        let pts = t.micros_since(span.start);
        for (slot, f) in &mut span.files {
            let Some(file) = f else { continue };
            if file.audio_feed == AudioFeed::Opus {
                if let Err(e) = file.audio(passthrough::packet(data, pts, 0, true)) {
                    fail(&self.outputs, *slot, f, &e);
                }
            }
        }
    }

    /// A decoded picture stamped `t`, for transcoded files.
    pub fn picture(&mut self, t: MixerTime, pic: &ffmpeg_next::frame::Video) {
        let Some(span) = &mut self.span else {
            return;
        };
        let Some(track) = &mut span.transcode else {
            return;
        };
        self.packets.clear();
        let r = track.picture(t, pic, &mut self.packets);
        write_encoded(&self.outputs, span, &self.packets, r);
    }

    /// Decoded PCM stamped `t` (its first sample), for the AAC files.
    pub fn pcm(&mut self, t: MixerTime, left: &[f32], right: &[f32]) {
        if let Some(aac) = self.span.as_mut().and_then(|s| s.aac.as_mut()) {
            aac.push(t, left, right);
        }
    }

    /// Time passes: ends a span whose participant went quiet, encodes the AAC that is
    /// due and reports the files' growth once a second.
    pub fn poll(&mut self, at: Instant) {
        let now = self.now(at);
        if let Some(s) = self.presence.poll(now) {
            self.end_span(s);
            return;
        }
        let Some(cur) = self.presence.current() else {
            return;
        };
        let due = now
            .plus_micros(-(self.cfg.playout_delay.as_micros() as i64) - LATE_AUDIO_WAIT_US)
            .min(cur.last.plus_micros(AUDIO_TAIL_US));
        self.encode_aac(|aac, out| aac.encode_until(due.to_samples(), out));
        let Some(span) = &mut self.span else {
            return;
        };
        let t = now.as_micros();
        if t - span.last_info_us >= INFO_INTERVAL_US {
            span.last_info_us = t;
            for (slot, f) in &span.files {
                if let Some(f) = f {
                    let (d, n) = (f.duration_us() / 1000, f.size_bytes());
                    self.outputs.update(*slot, true, |i| {
                        i.duration_ms = d.max(0) as u64;
                        i.size_bytes = n;
                    });
                }
            }
        }
    }

    /// Ends the span in progress (the source is removed or the mixer stops) and
    /// completes its files.
    pub fn finish(&mut self) {
        if let Some(s) = self.presence.end() {
            self.end_span(s);
        }
    }

    /// Runs `f` on the AAC track and writes its packets to the AAC files.
    fn encode_aac(
        &mut self,
        f: impl FnOnce(&mut AacTrack, &mut Vec<Packet>) -> Result<(), crate::media::MediaError>,
    ) {
        let Some(span) = &mut self.span else {
            return;
        };
        let Some(aac) = &mut span.aac else {
            return;
        };
        self.packets.clear();
        if let Err(e) = f(aac, &mut self.packets) {
            let e = crate::output::output_error("AAC encoder", e);
            for (slot, file) in &mut span.files {
                if file
                    .as_ref()
                    .is_some_and(|x| x.audio_feed == AudioFeed::Aac)
                {
                    fail(&self.outputs, *slot, file, &e);
                }
            }
            span.aac = None;
            return;
        }
        for (slot, file) in &mut span.files {
            let Some(x) = file else { continue };
            if x.audio_feed != AudioFeed::Aac {
                continue;
            }
            for p in &self.packets {
                if let Err(e) = x.audio(p.clone()) {
                    fail(&self.outputs, *slot, file, &e);
                    break;
                }
            }
        }
    }

    fn start_span(&mut self, start: MixerTime) {
        let index = self.outputs.next_span(&self.cfg.camid);
        let start_unix_ms = self.cfg.epoch_unix_ms + start.as_millis();
        let needs_aac = self.plan.iter().any(|p| p.audio == AudioFeed::Aac);
        let mut transcode_error = None;
        let transcode = if self.plan.iter().any(|p| p.transcoded) {
            match TranscodeTrack::open(&self.cfg.transcode, start) {
                Ok(t) => Some(t),
                Err(e) => {
                    transcode_error = Some(e.to_string());
                    None
                }
            }
        } else {
            None
        };
        let mut aac_error = None;
        let aac = if needs_aac {
            match AacTrack::open(self.cfg.audio_bps, start.to_samples()) {
                Ok(a) => Some(a),
                Err(e) => {
                    aac_error = Some(e.to_string());
                    None
                }
            }
        } else {
            None
        };
        let mut files = Vec::new();
        for p in self.plan.clone() {
            let rel = crate::request::validate::record::expand(
                &self.cfg.record.single_path_template,
                (&self.cfg.mixer_id, &self.cfg.camid, p.media.name()),
                index,
                start_unix_ms,
                p.ext,
            );
            let info = OutputInfo {
                output_id: format!("{}/{}/{index}", self.cfg.camid, p.media.name()),
                kind: OutputKind::Single,
                camid: self.cfg.camid.clone(),
                media: p.media,
                container: p.ext.to_owned(),
                start_unix_ms,
                end_unix_ms: 0,
                span: index,
                abs_path: self.cfg.root.join(&rel).display().to_string(),
                path: rel.clone(),
                duration_ms: 0,
                size_bytes: 0,
                status: OutputStatus::Recording,
                error_code: 0,
                error_message: String::new(),
            };
            let slot = self.outputs.add(info);
            let audio = match p.audio {
                AudioFeed::None => None,
                AudioFeed::Opus => Some((
                    AudioFeed::Opus,
                    crate::output::StreamInfo {
                        parameters: passthrough::opus_parameters(),
                        time_base: passthrough::PASSTHROUGH_TIME_BASE,
                    },
                )),
                AudioFeed::Aac => aac.as_ref().map(|a| (AudioFeed::Aac, a.stream())),
            };
            let video = match (p.video, p.transcoded, &transcode) {
                (false, _, _) => Some(VideoIn::None),
                (true, false, _) => Some(VideoIn::Passthrough),
                (true, true, Some(t)) => Some(VideoIn::Encoded(t.stream())),
                (true, true, None) => None,
            };
            let mut file = None;
            let created = match (&aac_error, p.audio, video, &transcode_error) {
                (Some(e), AudioFeed::Aac, _, _) => {
                    Err(crate::output::output_error(&rel, e.as_str()))
                }
                (_, _, None, e) => Err(crate::output::output_error(
                    &rel,
                    e.as_deref().unwrap_or("no video encoder"),
                )),
                (_, _, Some(v), _) => {
                    SingleFile::create(&self.cfg.root, &rel, p.container, v, audio)
                }
            };
            match created {
                Ok(f) => file = Some(f),
                Err(e) => fail(&self.outputs, slot, &mut file, &e),
            }
            files.push((slot, file));
        }
        tracing::info!(camid = %self.cfg.camid, span = index, files = files.len(), "participant span started");
        self.span = Some(SpanFiles {
            start,
            aac,
            transcode,
            files,
            last_info_us: 0,
        });
    }

    fn end_span(&mut self, s: Span) {
        let end = s.last.plus_micros(AUDIO_TAIL_US).to_samples();
        self.encode_aac(|aac, out| aac.finish(end, out));
        let Some(mut span) = self.span.take() else {
            return;
        };
        if let Some(mut t) = span.transcode.take() {
            self.packets.clear();
            let r = t.finish(&mut self.packets);
            write_encoded(&self.outputs, &mut span, &self.packets, r);
        }
        let end_unix_ms = self.cfg.epoch_unix_ms + s.last.as_millis();
        for (slot, f) in &mut span.files {
            let Some(file) = f else { continue };
            let never_started = !file.started();
            match file.finish() {
                Err(e) => fail(&self.outputs, *slot, f, &e),
                Ok(()) if never_started => {
                    let e = MixerError::Internal(
                        "no video keyframe came from the participant during the span".into(),
                    );
                    fail(&self.outputs, *slot, f, &e);
                }
                Ok(()) => {
                    let (d, n) = (file.duration_us() / 1000, file.size_bytes());
                    self.outputs.update(*slot, true, |i| {
                        i.duration_ms = d.max(0) as u64;
                        i.size_bytes = n;
                        i.end_unix_ms = end_unix_ms;
                        i.status = OutputStatus::Finalized;
                    });
                }
            }
        }
        tracing::info!(camid = %self.cfg.camid, duration_ms = s.last.micros_since(s.start) / 1000, "participant span ended");
    }
}

/// Writes our encoder's video `packets` (or its failure `r`) to the span's transcoded
/// files.
fn write_encoded(
    outputs: &SingleOutputs,
    span: &mut SpanFiles,
    packets: &[Packet],
    r: Result<(), crate::media::MediaError>,
) {
    for (slot, file) in &mut span.files {
        if !file.as_ref().is_some_and(|f| f.takes_encoded_video()) {
            continue;
        }
        if let Err(e) = &r {
            let name = file
                .as_ref()
                .map(|f| f.rel_path().to_owned())
                .unwrap_or_default();
            let err = crate::output::output_error(&name, e.to_string().as_str());
            fail(outputs, *slot, file, &err);
            continue;
        }
        for p in packets {
            if let Some(f) = file.as_mut() {
                if let Err(e) = f.encoded_video(p.clone()) {
                    fail(outputs, *slot, file, &e);
                    break;
                }
            }
        }
    }
    if r.is_err() {
        span.transcode = None;
    }
}

/// Marks a file FAILED with `e` and stops writing it.
fn fail(outputs: &SingleOutputs, slot: OutputSlot, file: &mut Option<SingleFile>, e: &MixerError) {
    tracing::warn!(error = %e, "per-participant output failed");
    *file = None;
    outputs.update(slot, true, |i| {
        i.status = OutputStatus::Failed;
        i.error_code = e.code() as i32;
        i.error_message = e.to_string();
    });
}

/// The files each span of this participant gets.
fn plan(cfg: &SingleConfig) -> Vec<Planned> {
    let r = &cfg.record;
    let audio = cfg.audio && r.record_audio;
    let mut out = Vec::new();
    if let (true, true, Some(codec)) = (r.single_av, r.record_video, cfg.video) {
        let transcoded = matches!(r.single_video, SingleVideo::Transcode { .. });
        let (container, ext, feed) = match (transcoded, codec) {
            (false, VideoCodec::Vp8) => (Container::WebM, "webm", AudioFeed::Opus),
            _ => (Container::Mp4, "mp4", AudioFeed::Aac),
        };
        let media = match (cfg.content, audio) {
            (ContentType::Screen, _) => OutputMedia::Screen,
            (_, true) => OutputMedia::Av,
            (_, false) => OutputMedia::Video,
        };
        out.push(Planned {
            media,
            container,
            ext,
            video: true,
            transcoded,
            audio: if audio { feed } else { AudioFeed::None },
        });
    }
    if r.single_audio && audio {
        let (container, ext, feed) = match r.single_audio_container {
            AudioContainer::Aac => (Container::Adts, "aac", AudioFeed::Aac),
            AudioContainer::M4a => (Container::M4a, "m4a", AudioFeed::Aac),
            AudioContainer::Ogg => (Container::Ogg, "ogg", AudioFeed::Opus),
        };
        out.push(Planned {
            media: OutputMedia::Audio,
            container,
            ext,
            video: false,
            transcoded: false,
            audio: feed,
        });
    }
    out
}
