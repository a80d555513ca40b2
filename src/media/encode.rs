//! Encoders for the mixer's output: H.264 (libx264) and AAC (ffmpeg's native encoder).
//!
//! [`VideoEncoder`] takes YUV420P pictures of exactly `width x height` with pts in output
//! frames (timebase 1/fps). [`AudioEncoder`] takes blocks of exactly
//! [`AAC_FRAME_SAMPLES`] planar f32 stereo samples at 48 kHz with pts in samples.
//! Both return packets in their own timebase; the muxer rescales.

use ff::codec::{self, encoder};
use ff::format::{sample::Type as SampleType, Pixel, Sample};
use ff::{frame, ChannelLayout, Dictionary, Packet, Rational};
use ffmpeg_next as ff;

use super::{is_again, MediaError};
use crate::time::AUDIO_RATE;

/// Samples per channel in one AAC-LC frame (ISO/IEC 14496-3 §4.5.2.1): 1024.
pub const AAC_FRAME_SAMPLES: usize = 1024;

/// H.264 settings.
#[derive(Debug, Clone)]
pub struct VideoEncoderConfig {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Target bit rate, bit/s.
    pub bit_rate: u32,
    /// libx264 preset name.
    pub preset: String,
    /// Encoder threads; 0 = x264's choice.
    pub threads: u32,
    /// The muxer wants codec headers out of band (MP4 does).
    pub global_header: bool,
    /// Live: every picture leaves the encoder as soon as it is encoded (see
    /// [`Latency`]).
    pub latency: Latency,
}

/// How many pictures libx264 may hold before it outputs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// x264's defaults for the preset: B-frames (3 with `veryfast`), rate-control
    /// lookahead (10 pictures) and frame threads (one picture per thread). Best quality
    /// per bit; about 1 s of pictures at 15 fps are inside the encoder at any time.
    Quality,
    /// No B-frames, no lookahead, slice threads instead of frame threads: a picture's
    /// packet comes out of the same `encode` call. What a crash can lose is then only
    /// what the muxer has not flushed yet. Costs about 10-15 % more bits for the same
    /// quality. Used by live mixers.
    Low,
}

/// libx264 encoder.
pub struct VideoEncoder {
    enc: encoder::Video,
    time_base: Rational,
}

impl VideoEncoder {
    /// Opens libx264 with CBR-ish ABR at `bit_rate`, a keyframe every second (`fps`
    /// frames), so that every MP4 fragment starts with one.
    pub fn open(cfg: &VideoEncoderConfig) -> Result<Self, MediaError> {
        let codec = encoder::find_by_name("libx264")
            .ok_or_else(|| MediaError::CodecMissing("libx264".into()))?;
        let mut ctx = codec::Context::new_with_codec(codec);
        if cfg.global_header {
            ctx.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut enc = ctx
            .encoder()
            .video()
            .map_err(MediaError::ffmpeg("video encoder context"))?;
        let tb = Rational::new(1, cfg.fps as i32);
        enc.set_width(cfg.width);
        enc.set_height(cfg.height);
        enc.set_format(Pixel::YUV420P);
        enc.set_time_base(tb);
        enc.set_frame_rate(Some(Rational::new(cfg.fps as i32, 1)));
        enc.set_bit_rate(cfg.bit_rate as usize);
        enc.set_gop(cfg.fps);
        let mut opts = Dictionary::new();
        opts.set("preset", &cfg.preset);
        opts.set("threads", &cfg.threads.to_string());
        // A keyframe every second, no scene cuts: regular seek points.
        let mut params = format!("keyint={0}:min-keyint={0}:scenecut=0", cfg.fps);
        if cfg.latency == Latency::Low {
            params.push_str(":bframes=0:rc-lookahead=0:sync-lookahead=0:sliced-threads=1");
        }
        opts.set("x264-params", &params);
        let enc = enc
            .open_with(opts)
            .map_err(MediaError::ffmpeg("open libx264"))?;
        Ok(Self { enc, time_base: tb })
    }

    /// The encoder's timebase (1/fps); packet timestamps are in it.
    pub fn time_base(&self) -> Rational {
        self.time_base
    }

    /// Parameters for the muxer's stream.
    pub fn parameters(&self) -> codec::Parameters {
        codec::Parameters::from(&*self.enc)
    }

    /// Encodes one picture (`pts` in frames); appends ready packets to `out`.
    pub fn encode(
        &mut self,
        picture: &frame::Video,
        out: &mut Vec<Packet>,
    ) -> Result<(), MediaError> {
        self.enc
            .send_frame(picture)
            .map_err(MediaError::ffmpeg("send picture to libx264"))?;
        drain(&mut self.enc, out, "receive H.264 packet", 1)
    }

    /// Flushes delayed pictures at end of stream.
    pub fn finish(&mut self, out: &mut Vec<Packet>) -> Result<(), MediaError> {
        self.enc
            .send_eof()
            .map_err(MediaError::ffmpeg("flush libx264"))?;
        drain(&mut self.enc, out, "receive H.264 packet", 1)
    }
}

/// The AAC encoder's quantization search (ffmpeg `aac_coder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AacCoder {
    /// "twoloop": ffmpeg's default, the best quality per bit.
    TwoLoop,
    /// "fast": about half the CPU (ffmpeg's docs), slightly less quality per bit; used
    /// for per-participant audio, where many encoders run at once.
    Fast,
}

/// AAC-LC stereo 48 kHz encoder.
pub struct AudioEncoder {
    enc: encoder::Audio,
    frame: frame::Audio,
}

impl AudioEncoder {
    /// Opens ffmpeg's AAC encoder at `bit_rate` bit/s (its default "twoloop" coder).
    pub fn open(bit_rate: u32, global_header: bool) -> Result<Self, MediaError> {
        Self::open_with_coder(bit_rate, global_header, AacCoder::TwoLoop)
    }

    /// [`Self::open`] with the quantization search `coder` (ffmpeg's `aac_coder`).
    pub fn open_with_coder(
        bit_rate: u32,
        global_header: bool,
        coder: AacCoder,
    ) -> Result<Self, MediaError> {
        let codec =
            encoder::find(codec::Id::AAC).ok_or_else(|| MediaError::CodecMissing("aac".into()))?;
        let mut ctx = codec::Context::new_with_codec(codec);
        if global_header {
            ctx.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut enc = ctx
            .encoder()
            .audio()
            .map_err(MediaError::ffmpeg("audio encoder context"))?;
        enc.set_rate(AUDIO_RATE as i32);
        enc.set_format(Sample::F32(SampleType::Planar));
        enc.set_channel_layout(ChannelLayout::STEREO);
        enc.set_channels(2);
        enc.set_bit_rate(bit_rate as usize);
        enc.set_time_base(Rational::new(1, AUDIO_RATE as i32));
        let mut opts = Dictionary::new();
        opts.set(
            "aac_coder",
            match coder {
                AacCoder::TwoLoop => "twoloop",
                AacCoder::Fast => "fast",
            },
        );
        let enc = enc
            .open_with(opts)
            .map_err(MediaError::ffmpeg("open aac"))?;
        let mut frame = frame::Audio::new(
            Sample::F32(SampleType::Planar),
            AAC_FRAME_SAMPLES,
            ChannelLayout::STEREO,
        );
        frame.set_rate(AUDIO_RATE);
        Ok(Self { enc, frame })
    }

    /// Samples of encoder delay (AVCodecContext.initial_padding, 1024 for ffmpeg's AAC):
    /// the first packet decodes to this many priming samples, and input sample `i`
    /// decodes at output position `first packet pts + priming + i`.
    pub fn priming_samples(&self) -> i64 {
        // SAFETY: enc wraps a valid, opened AVCodecContext.
        i64::from(unsafe { (*self.enc.as_ptr()).initial_padding })
    }

    /// Timebase 1/48000.
    pub fn time_base(&self) -> Rational {
        Rational::new(1, AUDIO_RATE as i32)
    }

    /// Parameters for the muxer's stream.
    pub fn parameters(&self) -> codec::Parameters {
        codec::Parameters::from(&*self.enc)
    }

    /// Encodes one block of [`AAC_FRAME_SAMPLES`] samples per channel starting at sample
    /// `pts`. Panics if a slice has another length (a programming error).
    pub fn encode(
        &mut self,
        left: &[f32],
        right: &[f32],
        pts: i64,
        out: &mut Vec<Packet>,
    ) -> Result<(), MediaError> {
        assert_eq!(left.len(), AAC_FRAME_SAMPLES);
        assert_eq!(right.len(), AAC_FRAME_SAMPLES);
        self.frame.plane_mut::<f32>(0).copy_from_slice(left);
        self.frame.plane_mut::<f32>(1).copy_from_slice(right);
        self.frame.set_pts(Some(pts));
        self.enc
            .send_frame(&self.frame)
            .map_err(MediaError::ffmpeg("send samples to aac"))?;
        drain(
            &mut self.enc,
            out,
            "receive AAC packet",
            AAC_FRAME_SAMPLES as i64,
        )
    }

    /// Flushes at end of stream.
    pub fn finish(&mut self, out: &mut Vec<Packet>) -> Result<(), MediaError> {
        self.enc
            .send_eof()
            .map_err(MediaError::ffmpeg("flush aac"))?;
        drain(
            &mut self.enc,
            out,
            "receive AAC packet",
            AAC_FRAME_SAMPLES as i64,
        )
    }
}

/// Moves every ready packet to `out`. A packet without a duration gets `duration`
/// (encoder timebase): the mov muxer needs it for the last sample of each fragment.
fn drain(
    enc: &mut encoder::Encoder,
    out: &mut Vec<Packet>,
    context: &'static str,
    duration: i64,
) -> Result<(), MediaError> {
    loop {
        let mut p = Packet::empty();
        match enc.receive_packet(&mut p) {
            Ok(()) => {
                if p.duration() == 0 {
                    p.set_duration(duration);
                }
                out.push(p)
            }
            Err(e) if is_again(&e) || e == ff::Error::Eof => return Ok(()),
            Err(source) => return Err(MediaError::Ffmpeg { context, source }),
        }
    }
}
