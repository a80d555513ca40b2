//! One encode, many outputs: the H.264 and AAC encoders of a mixer and the packet sinks
//! they feed.
//!
//! Every composite picture is encoded once by libx264 and every mixed block once by the
//! AAC encoder; each packet then goes to every [`PacketSink`] (a reference-counted copy
//! per extra sink: the payload is shared, not copied). A sink's failure ends the whole
//! output today (the first error is returned); keeping the other sinks going is the live
//! outputs' work (issue 14).
//!
//! Only the encoders the output's media needs are opened ([`OutputMedia`]): an
//! audio-only output has no libx264 and no video stream, a video-only one no AAC.

use ffmpeg_next::{frame, Packet};

use crate::media::encode::{AudioEncoder, Latency, VideoEncoder, VideoEncoderConfig};
use crate::model::{Medium, MixerError, OutputMedia, OutputSpec};
use std::sync::Arc;

use crate::events::LiveOutputInfo;
use crate::output::hls::HlsSink;
use crate::output::push::{PushNotify, RtmpPush};
use crate::output::snapshot::Snapshots;
use crate::output::{media_error, output_error, MediaSink, Mp4FileSink, PacketSink, StreamInfo};
use crate::time::SamplePos;

/// See the module docs.
pub struct EncodedOutput {
    /// For errors: the primary output's path.
    name: String,
    /// None: the output has no video (audio-only).
    venc: Option<VideoEncoder>,
    /// None: the output has no audio (video-only).
    aenc: Option<AudioEncoder>,
    sinks: Vec<Box<dyn PacketSink>>,
    /// JPEG snapshots of the pictures (`spec.snapshots`); None = none.
    snapshots: Option<Snapshots>,
    packets: Vec<Packet>,
    finished: bool,
}

impl EncodedOutput {
    /// Opens the encoders `spec.media` needs ([`has_video`], [`has_audio`]: size, fps,
    /// bit rates, x264 preset and threads; `latency`: live mixers use
    /// [`Latency::Low`]) and starts every sink with their streams. `sinks` must not be
    /// empty; the first one names the output in errors.
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
        let venc = has_video(spec.media)
            .then(|| {
                VideoEncoder::open(&VideoEncoderConfig {
                    width: spec.encoding.width,
                    height: spec.encoding.height,
                    fps: spec.encoding.fps,
                    bit_rate: spec.encoding.video_bps,
                    preset: spec.x264_preset.clone(),
                    threads: spec.encoder_threads,
                    global_header,
                    latency,
                })
            })
            .transpose()
            .map_err(media_error(&name))?;
        let aenc = has_audio(spec.media)
            .then(|| AudioEncoder::open(spec.encoding.audio_bps, global_header))
            .transpose()
            .map_err(media_error(&name))?;
        let video = venc.as_ref().map(|v| StreamInfo {
            parameters: v.parameters(),
            time_base: v.time_base(),
        });
        let audio = aenc.as_ref().map(|a| StreamInfo {
            parameters: a.parameters(),
            time_base: a.time_base(),
        });
        for s in &mut sinks {
            s.start(video.as_ref(), audio.as_ref())?;
        }
        Ok(Self {
            name,
            venc,
            aenc,
            sinks,
            snapshots: spec
                .snapshots
                .as_ref()
                .filter(|_| has_video(spec.media))
                .map(|s| Snapshots::new(s, spec.encoding.fps, spec.root.clone())),
            packets: Vec::new(),
            finished: false,
        })
    }

    /// The composite MP4 file of `spec`, then its live pushes (`spec.live_push_urls`),
    /// whose state changes go to `notify` (None: only logged), then its HLS output.
    /// Errors: `Output` (file, directory or encoder).
    pub fn mp4_file(
        spec: &OutputSpec,
        latency: Latency,
        notify: Option<PushNotify>,
    ) -> Result<Self, MixerError> {
        let file = Mp4FileSink::create(spec)?;
        let mut sinks: Vec<Box<dyn PacketSink>> = vec![Box::new(file)];
        let notify = notify.unwrap_or_else(|| Arc::new(|_: &LiveOutputInfo| {}));
        for (i, url) in spec.live_push_urls.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            sinks.push(Box::new(RtmpPush::new(index, url, notify.clone())?));
        }
        if let Some(h) = &spec.hls {
            sinks.push(Box::new(HlsSink::new(h, spec.root.clone())));
        }
        Self::open(spec, latency, sinks)
    }

    /// Whether pictures are encoded (false: an audio-only output).
    pub fn has_video(&self) -> bool {
        self.venc.is_some()
    }

    /// Whether mixed audio is encoded (false: a video-only output).
    pub fn has_audio(&self) -> bool {
        self.aenc.is_some()
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

/// Whether an output of `media` has a video stream (all but [`OutputMedia::Audio`]).
pub fn has_video(media: OutputMedia) -> bool {
    media != OutputMedia::Audio
}

/// Whether an output of `media` has an audio stream (all but [`OutputMedia::Video`]).
pub fn has_audio(media: OutputMedia) -> bool {
    media != OutputMedia::Video
}

impl MediaSink for EncodedOutput {
    /// The AAC encoder's priming (1024); 0 without audio.
    fn audio_start(&self) -> SamplePos {
        SamplePos::new(self.aenc.as_ref().map_or(0, AudioEncoder::priming_samples))
    }

    fn picture(&mut self, picture: &frame::Video, n: u64) -> Result<(), MixerError> {
        let Some(venc) = &mut self.venc else {
            return Err(output_error(
                &self.name,
                "a picture for an output without video",
            ));
        };
        if let Some(s) = &self.snapshots {
            s.picture(picture, n);
        }
        self.packets.clear();
        venc.encode(picture, &mut self.packets)
            .map_err(media_error(&self.name))?;
        self.fan_out(Medium::Video)
    }

    fn audio(
        &mut self,
        left: &[f32],
        right: &[f32],
        position: SamplePos,
    ) -> Result<(), MixerError> {
        let Some(aenc) = &mut self.aenc else {
            return Err(output_error(
                &self.name,
                "audio for an output without audio",
            ));
        };
        self.packets.clear();
        aenc.encode(left, right, position.get(), &mut self.packets)
            .map_err(media_error(&self.name))?;
        self.fan_out(Medium::Audio)
    }

    fn finish(&mut self) -> Result<(), MixerError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.packets.clear();
        if let Some(venc) = &mut self.venc {
            venc.finish(&mut self.packets)
                .map_err(media_error(&self.name))?;
            self.fan_out(Medium::Video)?;
        }
        if let Some(aenc) = &mut self.aenc {
            aenc.finish(&mut self.packets)
                .map_err(media_error(&self.name))?;
            self.fan_out(Medium::Audio)?;
        }
        for s in &mut self.sinks {
            s.finish()?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "encoded_tests.rs"]
mod tests;
