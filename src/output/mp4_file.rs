//! The fragmented MP4 file output: a [`PacketSink`] around [`Mp4Muxer`].

use ffmpeg_next::Packet;

use crate::media::mux::{Mp4Format, Mp4Muxer};
use crate::model::{Medium, MixerError, OutputCause, OutputMedia, OutputSpec};
use crate::output::{confined, media_error, output_error, MuxStreams, PacketSink, StreamInfo};

/// A fragmented MP4 file (see [`crate::media::mux`]): the video stream first (if any),
/// then the audio stream (if any). An audio-only output ([`OutputMedia::Audio`]) is an
/// `.m4a` ([`Mp4Format::M4a`]).
pub struct Mp4FileSink {
    rel_path: String,
    mux: Mp4Muxer,
    /// Muxer handles of the streams, once started.
    streams: Option<MuxStreams>,
}

impl Mp4FileSink {
    /// Creates the new file `spec.abs_path` (and its parent directories) beneath
    /// `spec.root`, through the root's handle ([`confined::create_new`]: no symlink
    /// followed, never replacing a file), and opens the muxer on it. `spec.rel_path`
    /// names the output in errors.
    /// Errors: `Output`; `BadPath` (INVALID_ARGUMENT) if `abs_path` is not beneath the
    /// root or a component is a symlink or a file, or the file exists.
    pub fn create(spec: &OutputSpec) -> Result<Self, MixerError> {
        let rel_path = spec.rel_path.as_str();
        let beneath = spec.abs_path.strip_prefix(spec.root.path()).map_err(|_| {
            MixerError::output(
                rel_path,
                OutputCause::BadPath,
                "not beneath the recordings root",
            )
        })?;
        let file = confined::create_new(&spec.root, beneath, rel_path)?;
        let format = match spec.media {
            OutputMedia::Audio => Mp4Format::M4a,
            _ => Mp4Format::Mp4,
        };
        let mux = Mp4Muxer::create(file, format).map_err(media_error(rel_path))?;
        Ok(Self {
            rel_path: rel_path.to_owned(),
            mux,
            streams: None,
        })
    }
}

impl PacketSink for Mp4FileSink {
    fn name(&self) -> &str {
        &self.rel_path
    }

    fn needs_global_header(&self) -> bool {
        self.mux.needs_global_header()
    }

    fn start(
        &mut self,
        video: Option<&StreamInfo>,
        audio: Option<&StreamInfo>,
    ) -> Result<(), MixerError> {
        if video.is_none() && audio.is_none() {
            return Err(output_error(&self.rel_path, "an output needs a stream"));
        }
        let streams =
            MuxStreams::start(&mut self.mux, video, audio).map_err(media_error(&self.rel_path))?;
        self.streams = Some(streams);
        Ok(())
    }

    fn write(&mut self, medium: Medium, packet: Packet) -> Result<(), MixerError> {
        let Some(streams) = self.streams else {
            return Err(output_error(&self.rel_path, "packet before the header"));
        };
        let Some(handle) = streams.of(medium) else {
            return Err(output_error(
                &self.rel_path,
                "packet of a medium it has no stream for",
            ));
        };
        self.mux
            .write(handle, packet)
            .map_err(media_error(&self.rel_path))
    }

    fn finish(&mut self) -> Result<(), MixerError> {
        self.mux.finish().map_err(media_error(&self.rel_path))
    }

    fn size_bytes(&self) -> u64 {
        self.mux.size_bytes()
    }
}
