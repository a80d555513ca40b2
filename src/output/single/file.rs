//! One per-participant file of one presence span: created beneath the recordings root
//! when the span starts, its header written once every stream's parameters are known
//! (an `av` file waits for the participant's first video keyframe, holding the audio
//! that comes before it), then packets as they come.
//!
//! Packet durations: received streams carry no durations, and the mov muxer needs one
//! for the last sample of each fragment. Each stream therefore holds back its newest
//! packet until the next one gives its duration (the difference of their times); the
//! last one at the end gets the one before it's. Timestamps never go back
//! ([`crate::media::mux::Mp4Muxer::write`] moves a late one forward).

use std::collections::VecDeque;
use std::path::Path;

use ffmpeg_next::{codec, Packet, Rational};

use crate::media::mux::{Container, Mp4Muxer};
use crate::media::passthrough::PASSTHROUGH_TIME_BASE;
use crate::model::{MixerError, RecordingsRoot};
use crate::output::{confined, media_error, StreamInfo};

/// Audio packets an `av` file holds while it waits for its first keyframe (~20 s of
/// 20 ms Opus packets or AAC frames); older ones are dropped.
pub const MAX_PENDING_AUDIO: usize = 1_000;

/// The video a file holds.
pub enum VideoIn {
    None,
    /// The participant's access units as received.
    Passthrough,
    /// Our encoder's packets, of this stream.
    Encoded(StreamInfo),
}

/// The audio a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFeed {
    None,
    /// AAC from the participant's [`super::aac_track::AacTrack`].
    Aac,
    /// Opus packets as received.
    Opus,
}

/// A stream's held-back packet and the duration of the last one written.
#[derive(Default)]
struct Held {
    packet: Option<Packet>,
    last_duration: i64,
}

/// See the module docs.
pub struct SingleFile {
    rel_path: String,
    mux: Mp4Muxer,
    wants_video: bool,
    /// The video is encoded by us (transcode): its stream is known from the start and
    /// its packets come in this stream's timebase; passthrough units are ignored.
    encoded_video: Option<StreamInfo>,
    pub(super) audio_feed: AudioFeed,
    audio_stream: Option<StreamInfo>,
    /// Muxer handles once the header is written.
    video: Option<usize>,
    audio: Option<usize>,
    started: bool,
    pending_audio: VecDeque<Packet>,
    held: [Held; 2],
    /// End of the latest packet written, µs of the file's timeline.
    end_us: i64,
}

impl SingleFile {
    /// Creates `rel_path` beneath `root` (no symlink followed, never replacing a file)
    /// as a `container` file. `video`: none, passthrough (the file starts at the first
    /// keyframe) or an encoder's stream (starts at once); `audio`: the audio stream, if
    /// the file holds one; a file without passthrough video starts at once.
    /// Errors: `Output` (the file cannot be created or the header written).
    pub fn create(
        root: &RecordingsRoot,
        rel_path: &str,
        container: Container,
        video: VideoIn,
        audio: Option<(AudioFeed, StreamInfo)>,
    ) -> Result<Self, MixerError> {
        let (wants_video, encoded_video) = match video {
            VideoIn::None => (false, None),
            VideoIn::Passthrough => (true, None),
            VideoIn::Encoded(s) => (true, Some(s)),
        };
        let file = confined::create_new(root, Path::new(rel_path), rel_path)?;
        let mux = Mp4Muxer::create(file, container).map_err(media_error(rel_path))?;
        let (audio_feed, audio_stream) = match audio {
            Some((f, s)) => (f, Some(s)),
            None => (AudioFeed::None, None),
        };
        let mut f = Self {
            rel_path: rel_path.to_owned(),
            mux,
            wants_video,
            encoded_video: encoded_video.clone(),
            audio_feed,
            audio_stream,
            video: None,
            audio: None,
            started: false,
            pending_audio: VecDeque::new(),
            held: Default::default(),
            end_us: 0,
        };
        match encoded_video {
            Some(v) => f.start(Some((v.parameters, v.time_base)))?,
            None if !wants_video => f.start(None)?,
            None => {}
        }
        Ok(f)
    }

    /// The file's path relative to the recordings root.
    pub fn rel_path(&self) -> &str {
        &self.rel_path
    }

    /// Whether the file takes transcoded video packets.
    pub fn takes_encoded_video(&self) -> bool {
        self.encoded_video.is_some()
    }

    /// Whether the file waits for a video keyframe to start.
    pub fn waits_for_keyframe(&self) -> bool {
        self.wants_video && !self.started
    }

    /// Writes the header with `video` (parameters and packet timebase) if given.
    fn start(&mut self, video: Option<(codec::Parameters, Rational)>) -> Result<(), MixerError> {
        if let Some((p, tb)) = video {
            let h = self
                .mux
                .add_stream(p, tb)
                .map_err(media_error(&self.rel_path))?;
            self.video = Some(h);
        }
        if let Some(a) = &self.audio_stream {
            let h = self
                .mux
                .add_stream(a.parameters.clone(), a.time_base)
                .map_err(media_error(&self.rel_path))?;
            self.audio = Some(h);
        }
        self.mux.start().map_err(media_error(&self.rel_path))?;
        self.started = true;
        while let Some(p) = self.pending_audio.pop_front() {
            self.write_held(1, p)?;
        }
        Ok(())
    }

    /// A video access unit (pts in µs of the file). Before the first keyframe units are
    /// dropped; the first keyframe's `params` start the file.
    /// Errors: `Output`.
    pub fn video(
        &mut self,
        packet: Packet,
        keyframe: bool,
        params: impl FnOnce() -> Option<codec::Parameters>,
    ) -> Result<(), MixerError> {
        if !self.wants_video || self.encoded_video.is_some() {
            return Ok(());
        }
        if !self.started {
            if !keyframe {
                return Ok(());
            }
            let Some(p) = params() else {
                return Ok(());
            };
            self.start(Some((p, PASSTHROUGH_TIME_BASE)))?;
        }
        self.write_held(0, packet)
    }

    /// A packet of our own encoder's video (transcode). Errors: `Output`.
    pub fn encoded_video(&mut self, packet: Packet) -> Result<(), MixerError> {
        if self.encoded_video.is_none() {
            return Ok(());
        }
        self.write_held(0, packet)
    }

    /// An audio packet (in its stream's timebase).
    /// Errors: `Output`.
    pub fn audio(&mut self, packet: Packet) -> Result<(), MixerError> {
        if self.audio_stream.is_none() {
            return Ok(());
        }
        if !self.started {
            if self.pending_audio.len() >= MAX_PENDING_AUDIO {
                self.pending_audio.pop_front();
            }
            self.pending_audio.push_back(packet);
            return Ok(());
        }
        self.write_held(1, packet)
    }

    /// Writes stream `i`'s held packet with its duration from `next`, and holds `next`.
    fn write_held(&mut self, i: usize, next: Packet) -> Result<(), MixerError> {
        let Some(handle) = (if i == 0 { self.video } else { self.audio }) else {
            return Ok(());
        };
        if next.duration() > 0 {
            // Encoded packets know their duration: nothing to hold back.
            return self.write(i, handle, next);
        }
        let prev = self.held[i].packet.replace(next);
        if let Some(mut p) = prev {
            let d = self.held[i]
                .packet
                .as_ref()
                .and_then(|n| Some(n.dts()? - p.dts()?))
                .filter(|d| *d > 0)
                .unwrap_or(self.held[i].last_duration);
            p.set_duration(d);
            self.held[i].last_duration = d;
            self.write(i, handle, p)?;
        }
        Ok(())
    }

    fn write(&mut self, i: usize, handle: usize, p: Packet) -> Result<(), MixerError> {
        let tb = if i == 0 {
            self.encoded_video
                .as_ref()
                .map_or(PASSTHROUGH_TIME_BASE, |v| v.time_base)
        } else {
            self.audio_stream
                .as_ref()
                .map_or(PASSTHROUGH_TIME_BASE, |a| a.time_base)
        };
        if let Some(end) = p.pts().map(|t| t + p.duration()) {
            let us = end * 1_000_000 * i64::from(tb.numerator()) / i64::from(tb.denominator());
            self.end_us = self.end_us.max(us);
        }
        self.mux
            .write(handle, p)
            .map_err(media_error(&self.rel_path))
    }

    /// Media written, µs from the file's start.
    pub fn duration_us(&self) -> i64 {
        self.end_us
    }

    /// Bytes in the file now.
    pub fn size_bytes(&self) -> u64 {
        self.mux.size_bytes()
    }

    /// Whether the header was written (a file that never started holds nothing).
    pub fn started(&self) -> bool {
        self.started
    }

    /// Writes the held packets and the trailer. Errors: `Output`.
    pub fn finish(&mut self) -> Result<(), MixerError> {
        if !self.started {
            return Ok(());
        }
        for i in 0..2 {
            if let Some(mut p) = self.held[i].packet.take() {
                let handle = if i == 0 { self.video } else { self.audio };
                if let Some(h) = handle {
                    p.set_duration(self.held[i].last_duration.max(1));
                    self.write(i, h, p)?;
                }
            }
        }
        self.mux.finish().map_err(media_error(&self.rel_path))
    }
}
