//! Outputs: what the mixing core's composite pictures and mixed audio become.
//!
//! The mixing core (`mixer::core::MixCore`) decides *what* is shown and heard at each
//! output instant and hands the result to a [`MediaSink`]: raw pictures and PCM on the
//! output timeline. [`EncodedOutput`] is the sink that encodes them once (libx264, AAC)
//! and fans the packets out to any number of [`PacketSink`]s (muxers): the fragmented
//! MP4 file ([`Mp4FileSink`]) and live pushes over RTMP ([`push::RtmpPush`], each on a
//! thread of its own, its reconnects decided by [`push_state`]) and HLS
//! ([`hls::HlsSink`], segments cut by [`hls_plan`]). Adding a packet sink costs muxing,
//! not encoding. The output's
//! media ([`crate::model::OutputMedia`]) decides which encoders open: an audio-only
//! composite has no libx264 and no video stream (`.m4a`), a video-only one no AAC. A
//! mixer without a composite has no [`EncodedOutput`] at all ([`NoOutput`]).
//!
//! Shapes and units:
//! - pictures: YUV420P at the canvas size, pts `n` in output frames (timebase 1/fps);
//! - audio: planar f32 stereo at 48 kHz, blocks of exactly
//!   [`crate::media::encode::AAC_FRAME_SAMPLES`] (1024) samples, position in samples on
//!   the mixer timeline (the first block starts at [`MediaSink::audio_start`]);
//! - packets: in their encoder's timebase; each muxer rescales to its streams'.
//!
//! Errors: every failure is a [`MixerError::Output`] naming the output's path (relative to
//! the recordings root) and the cause ([`output_error`]), classified from the OS error
//! behind it ([`OutputFailure`]): a full disk is `RESOURCE_EXHAUSTED`, a permission error
//! `PERMISSION_DENIED`, a path through an existing file `INVALID_ARGUMENT`, anything else
//! `INTERNAL` (the map is [`MixerError::code`]).
//!
//! Snapshots: [`EncodedOutput`] also hands every picture to [`snapshot::Snapshots`],
//! which keeps one JPEG per configured interval (`video_file_cfg.snapshot_interval_secs`).
//!
//! Files: an output file is created beneath the recordings root through its open
//! directory handle, following no symlink, with create-new semantics ([`confined`]);
//! ffmpeg then writes to that descriptor ([`crate::media::mux`]).

pub mod confined;
pub mod encoded;
pub mod hls;
pub mod hls_plan;
pub mod mp4_file;
pub mod push;
pub mod push_state;
pub mod single;
pub mod snapshot;

use ffmpeg_next::{codec, frame, Packet, Rational};

pub use encoded::EncodedOutput;
pub use mp4_file::Mp4FileSink;

use crate::media::mux::Mp4Muxer;
use crate::media::MediaError;
use crate::model::{Medium, MixerError, OutputCause};
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

/// The sink of a mixer that makes no composite (record mode single only): takes nothing,
/// writes nothing. Its audio starts at sample 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOutput;

impl MediaSink for NoOutput {
    fn audio_start(&self) -> SamplePos {
        SamplePos::ZERO
    }
    fn picture(&mut self, _picture: &frame::Video, _n: u64) -> Result<(), MixerError> {
        Ok(())
    }
    fn audio(&mut self, _l: &[f32], _r: &[f32], _position: SamplePos) -> Result<(), MixerError> {
        Ok(())
    }
    fn finish(&mut self) -> Result<(), MixerError> {
        Ok(())
    }
}

/// An encoded stream as a muxer needs to declare it.
#[derive(Clone)]
pub struct StreamInfo {
    /// Codec parameters (codec id, size, sample rate, extradata when out of band).
    pub parameters: codec::Parameters,
    /// The timebase of the packets the encoder produces (1/fps for video, 1/48000 audio).
    pub time_base: Rational,
}

/// The (video, audio) stream handles of a started muxer: the file's, each live push
/// connection's, each HLS segment's.
#[derive(Debug, Clone, Copy)]
pub struct MuxStreams {
    video: Option<usize>,
    audio: Option<usize>,
}

impl MuxStreams {
    /// Adds `video` and `audio` (each if given) to `mux` and writes its header.
    /// Errors: the muxer refuses a stream or the header.
    pub fn start(
        mux: &mut Mp4Muxer,
        video: Option<&StreamInfo>,
        audio: Option<&StreamInfo>,
    ) -> Result<Self, MediaError> {
        let mut add = |s: Option<&StreamInfo>| {
            s.map(|s| mux.add_stream(s.parameters.clone(), s.time_base))
                .transpose()
        };
        let (video, audio) = (add(video)?, add(audio)?);
        mux.start()?;
        Ok(Self { video, audio })
    }

    /// The handle of `medium`'s stream; None if the muxer has none.
    pub fn of(&self, medium: Medium) -> Option<usize> {
        match medium {
            Medium::Video => self.video,
            Medium::Audio => self.audio,
        }
    }
}

/// A consumer of encoded packets: a muxer writing a file or pushing a stream.
pub trait PacketSink: Send {
    /// The output's path or name as the user gave it (for errors and events).
    fn name(&self) -> &str;
    /// Whether the encoders must put codec headers out of band (MP4 and FLV do). Asked
    /// before the encoders open; true if any sink needs it.
    fn needs_global_header(&self) -> bool;
    /// Declares the streams and writes the header. Called once, before any packet.
    /// `None`: the output has no such stream (an audio-only `.m4a`, a video-only file);
    /// at least one is given. Packets only come for the streams declared.
    fn start(
        &mut self,
        video: Option<&StreamInfo>,
        audio: Option<&StreamInfo>,
    ) -> Result<(), MixerError>;
    /// Writes one packet of `medium` (timestamps in its encoder's timebase).
    fn write(&mut self, medium: Medium, packet: Packet) -> Result<(), MixerError>;
    /// Completes the output (trailer, index). Idempotent.
    fn finish(&mut self) -> Result<(), MixerError>;
    /// Bytes written so far.
    fn size_bytes(&self) -> u64;
}

/// A failure an output reports: its text, and what caused it if the OS said.
pub trait OutputFailure: std::fmt::Display {
    /// The cause, from the OS error number or I/O error kind behind the failure;
    /// [`OutputCause::Other`] when there is none.
    fn cause(&self) -> OutputCause {
        OutputCause::Other
    }
    /// The OS error number behind the failure, if any.
    fn errno(&self) -> Option<i32> {
        None
    }
}

impl OutputFailure for std::io::Error {
    fn cause(&self) -> OutputCause {
        OutputCause::from_io_kind(self.kind())
    }
    fn errno(&self) -> Option<i32> {
        self.raw_os_error()
    }
}

impl OutputFailure for MediaError {
    fn cause(&self) -> OutputCause {
        MediaError::errno(self).map_or(OutputCause::Other, OutputCause::from_errno)
    }
    fn errno(&self) -> Option<i32> {
        MediaError::errno(self)
    }
}

impl OutputFailure for &str {}

/// The [`MixerError::Output`] for output `path` failing with `e`, classified by
/// [`OutputFailure::cause`]; a process or kernel resource running out (EMFILE, ENFILE,
/// ENOBUFS, ENOMEM) is a [`MixerError::SystemResource`] instead.
pub fn output_error(path: &str, e: impl OutputFailure) -> MixerError {
    let doing = || format!("writing output {path}");
    if let Some(r) = e
        .errno()
        .and_then(|n| MixerError::system_resource_errno(doing(), n, e.to_string()))
    {
        return r;
    }
    MixerError::output(path, e.cause(), e.to_string())
}

/// [`output_error`] for an ffmpeg failure.
pub(crate) fn media_error(path: &str) -> impl FnOnce(MediaError) -> MixerError + '_ {
    move |e| output_error(path, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorCode;

    const ENOSPC: i32 = 28;
    const EACCES: i32 = 13;
    const ENOTDIR: i32 = 20;

    #[test]
    fn ffmpeg_errnos_give_the_cause() {
        let ff = |errno| MediaError::Ffmpeg {
            context: "write mp4 packet",
            source: ffmpeg_next::Error::Other { errno },
        };
        let e = media_error("a.mp4")(ff(ENOSPC));
        assert_eq!(e.code(), ErrorCode::ResourceExhausted);
        assert!(
            e.to_string()
                .starts_with("output a.mp4: write mp4 packet: "),
            "{e}"
        );
        assert_eq!(
            media_error("a.mp4")(ff(EACCES)).code(),
            ErrorCode::PermissionDenied
        );
        assert_eq!(
            media_error("a.mp4")(ff(ENOTDIR)).code(),
            ErrorCode::InvalidArgument
        );
        let eof = MediaError::Ffmpeg {
            context: "write mp4 trailer",
            source: ffmpeg_next::Error::Eof,
        };
        assert_eq!(media_error("a.mp4")(eof).code(), ErrorCode::Internal);
        let missing = MediaError::CodecMissing("libx264".into());
        assert_eq!(media_error("a.mp4")(missing).code(), ErrorCode::Internal);
    }

    #[test]
    fn io_errors_and_texts_give_the_cause() {
        let full = std::io::Error::from_raw_os_error(ENOSPC);
        assert_eq!(
            output_error("a.mp4", full).code(),
            ErrorCode::ResourceExhausted
        );
        let through_a_file = std::io::Error::from_raw_os_error(ENOTDIR);
        assert_eq!(
            output_error("a.mp4/b.mp4", through_a_file).code(),
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            output_error("a.mp4", "packet before the header").code(),
            ErrorCode::Internal
        );
    }
}
