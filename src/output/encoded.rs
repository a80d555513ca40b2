//! One encode, many outputs: the H.264 and AAC encoders of a mixer and the packet sinks
//! they feed.
//!
//! Every composite picture is encoded once by libx264 and every mixed block once by the
//! AAC encoder; each packet then goes to every [`PacketSink`] (a reference-counted copy
//! per extra sink: the payload is shared, not copied). A sink's failure ends the whole
//! output today (the first error is returned); keeping the other sinks going is the live
//! outputs' work (issue 14).

use ffmpeg_next::{frame, Packet};

use crate::media::encode::{AudioEncoder, Latency, VideoEncoder, VideoEncoderConfig};
use crate::model::{Medium, MixerError, OutputSpec};
use crate::output::{media_error, MediaSink, Mp4FileSink, PacketSink, StreamInfo};
use crate::time::SamplePos;

/// See the module docs.
pub struct EncodedOutput {
    /// For errors: the primary output's path.
    name: String,
    venc: VideoEncoder,
    aenc: AudioEncoder,
    sinks: Vec<Box<dyn PacketSink>>,
    packets: Vec<Packet>,
    finished: bool,
}

impl EncodedOutput {
    /// Opens the encoders for `spec` (size, fps, bit rates, x264 preset and threads;
    /// `latency`: live mixers use [`Latency::Low`]) and starts every sink with their
    /// streams. `sinks` must not be empty; the first one names the output in errors.
    /// Errors: `Output` if an encoder cannot be opened or a sink cannot start.
    pub fn open(
        spec: &OutputSpec,
        latency: Latency,
        mut sinks: Vec<Box<dyn PacketSink>>,
    ) -> Result<Self, MixerError> {
        let name = sinks
            .first()
            .map(|s| s.name().to_owned())
            .unwrap_or_else(|| spec.rel_path.clone());
        let global_header = sinks.iter().any(|s| s.needs_global_header());
        let venc = VideoEncoder::open(&VideoEncoderConfig {
            width: spec.encoding.width,
            height: spec.encoding.height,
            fps: spec.encoding.fps,
            bit_rate: spec.encoding.video_bps,
            preset: spec.x264_preset.clone(),
            threads: spec.encoder_threads,
            global_header,
            latency,
        })
        .map_err(media_error(&name))?;
        let aenc = AudioEncoder::open(spec.encoding.audio_bps, global_header)
            .map_err(media_error(&name))?;
        let video = StreamInfo {
            parameters: venc.parameters(),
            time_base: venc.time_base(),
        };
        let audio = StreamInfo {
            parameters: aenc.parameters(),
            time_base: aenc.time_base(),
        };
        for s in &mut sinks {
            s.start(&video, &audio)?;
        }
        Ok(Self {
            name,
            venc,
            aenc,
            sinks,
            packets: Vec::new(),
            finished: false,
        })
    }

    /// The composite MP4 file of `spec` as the only sink.
    /// Errors: `Output` (file, directory or encoder).
    pub fn mp4_file(spec: &OutputSpec, latency: Latency) -> Result<Self, MixerError> {
        let file = Mp4FileSink::create(spec)?;
        Self::open(spec, latency, vec![Box::new(file)])
    }

    /// Bytes written by the first (primary) sink.
    pub fn size_bytes(&self) -> u64 {
        self.sinks.first().map_or(0, |s| s.size_bytes())
    }

    /// Sends the pending packets of `medium` to every sink.
    fn fan_out(&mut self, medium: Medium) -> Result<(), MixerError> {
        for p in self.packets.drain(..) {
            if let Some((last, rest)) = self.sinks.split_last_mut() {
                for s in rest {
                    s.write(medium, p.clone())?;
                }
                last.write(medium, p)?;
            }
        }
        Ok(())
    }
}

impl MediaSink for EncodedOutput {
    fn audio_start(&self) -> SamplePos {
        SamplePos::new(self.aenc.priming_samples())
    }

    fn picture(&mut self, picture: &frame::Video, _n: u64) -> Result<(), MixerError> {
        self.packets.clear();
        self.venc
            .encode(picture, &mut self.packets)
            .map_err(media_error(&self.name))?;
        self.fan_out(Medium::Video)
    }

    fn audio(
        &mut self,
        left: &[f32],
        right: &[f32],
        position: SamplePos,
    ) -> Result<(), MixerError> {
        self.packets.clear();
        self.aenc
            .encode(left, right, position.get(), &mut self.packets)
            .map_err(media_error(&self.name))?;
        self.fan_out(Medium::Audio)
    }

    fn finish(&mut self) -> Result<(), MixerError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.packets.clear();
        self.venc
            .finish(&mut self.packets)
            .map_err(media_error(&self.name))?;
        self.fan_out(Medium::Video)?;
        self.aenc
            .finish(&mut self.packets)
            .map_err(media_error(&self.name))?;
        self.fan_out(Medium::Audio)?;
        for s in &mut self.sinks {
            s.finish()?;
        }
        Ok(())
    }
}
