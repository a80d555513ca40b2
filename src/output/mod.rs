//! Outputs: what the mixing core's composite pictures and mixed audio become.
//!
//! The core ([`crate::mixer::core::MixCore`]) decides *what* is shown and heard at each
//! output instant and hands the result to a [`MediaSink`]: raw pictures and PCM on the
//! output timeline. [`EncodedOutput`] is the sink that encodes them once (libx264, AAC)
//! and fans the packets out to any number of [`PacketSink`]s (muxers): today the
//! fragmented MP4 file ([`Mp4FileSink`]); HLS, RTMP and per-participant writers are
//! further packet sinks. Adding a packet sink costs muxing, not encoding.
//!
//! Shapes and units:
//! - pictures: YUV420P at the canvas size, pts `n` in output frames (timebase 1/fps);
//! - audio: planar f32 stereo at 48 kHz, blocks of exactly
//!   [`crate::media::encode::AAC_FRAME_SAMPLES`] (1024) samples, position in samples on
//!   the mixer timeline (the first block starts at [`MediaSink::audio_start`]);
//! - packets: in their encoder's timebase; each muxer rescales to its streams'.
//!
//! Errors: every failure is a [`MixerError::Output`] naming the output's path (relative to
//! the recordings root) and the cause ([`output_error`]).

pub mod encoded;
pub mod mp4_file;

use ffmpeg_next::{codec, frame, Packet, Rational};

pub use encoded::EncodedOutput;
pub use mp4_file::Mp4FileSink;

use crate::media::MediaError;
use crate::model::{Medium, MixerError};
use crate::time::SamplePos;

/// Where the core's pictures and mixed audio go, tick by tick.
pub trait MediaSink {
    /// The first audio sample position the sink wants (e.g. the AAC encoder's priming:
    /// 1024, so that its priming packet has pts 0). The core's audio starts there.
    fn audio_start(&self) -> SamplePos;
    /// Composite picture `n` (pts `n` at 1/fps): YUV420P, canvas size.
    fn picture(&mut self, picture: &frame::Video, n: u64) -> Result<(), MixerError>;
    /// One mixed audio block: `left` and `right` hold 1024 samples (48 kHz) starting at
    /// sample `position` of the mixer timeline.
    fn audio(&mut self, left: &[f32], right: &[f32], position: SamplePos)
        -> Result<(), MixerError>;
    /// No more media: flush and complete every output.
    fn finish(&mut self) -> Result<(), MixerError>;
}

/// An encoded stream as a muxer needs to declare it.
#[derive(Clone)]
pub struct StreamInfo {
    /// Codec parameters (codec id, size, sample rate, extradata when out of band).
    pub parameters: codec::Parameters,
    /// The timebase of the packets the encoder produces (1/fps for video, 1/48000 audio).
    pub time_base: Rational,
}

/// A consumer of encoded packets: a muxer writing a file or pushing a stream.
pub trait PacketSink: Send {
    /// The output's path or name as the user gave it (for errors and events).
    fn name(&self) -> &str;
    /// Whether the encoders must put codec headers out of band (MP4 and FLV do). Asked
    /// before the encoders open; true if any sink needs it.
    fn needs_global_header(&self) -> bool;
    /// Declares the streams and writes the header. Called once, before any packet.
    fn start(&mut self, video: &StreamInfo, audio: &StreamInfo) -> Result<(), MixerError>;
    /// Writes one packet of `medium` (timestamps in its encoder's timebase).
    fn write(&mut self, medium: Medium, packet: Packet) -> Result<(), MixerError>;
    /// Completes the output (trailer, index). Idempotent.
    fn finish(&mut self) -> Result<(), MixerError>;
    /// Bytes written so far.
    fn size_bytes(&self) -> u64;
}

/// The [`MixerError::Output`] for output `path` failing with `e`.
pub fn output_error(path: &str, e: impl std::fmt::Display) -> MixerError {
    MixerError::Output {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// [`output_error`] for an ffmpeg failure.
pub(crate) fn media_error(path: &str) -> impl FnOnce(MediaError) -> MixerError + '_ {
    move |e| output_error(path, e)
}
