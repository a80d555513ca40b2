//! A participant's video decoded and encoded again (`SINGLE_VIDEO_TRANSCODE`): each
//! decoded picture fitted into a fixed `width` x `height` YUV420P canvas (aspect ratio
//! kept, black bars; [`crate::layout::geometry::fit`]) and encoded by libx264 at the
//! composite's frame rate and bit rate, for players that need H.264 + AAC in MP4 whatever
//! the participant sent.
//!
//! Timing: a picture stamped `t` (mixer time) gets pts `round((t - origin) * fps)` in
//! frames (timebase 1/fps); a picture rounding to a pts already used is skipped (a sender
//! faster than the output rate), a gap stays a gap (the previous picture lasts longer).

use ffmpeg_next::{frame, Packet};

use crate::compose::canvas::{blit, fill};
use crate::compose::color::Yuv;
use crate::compose::scale::{Scaler, DEFAULT_FLAGS};
use crate::layout::geometry::{fit, Rect};
use crate::media::encode::{VideoEncoder, VideoEncoderConfig};
use crate::media::MediaError;
use crate::output::StreamInfo;
use crate::time::MixerTime;

/// See the module docs.
pub struct TranscodeTrack {
    enc: VideoEncoder,
    scaler: Scaler,
    canvas: frame::Video,
    /// Picture size, pixels, and frames per second.
    size: (u32, u32),
    fps: u32,
    origin: MixerTime,
    last_pts: Option<i64>,
    seq: u64,
}

impl TranscodeTrack {
    /// Opens libx264 with `cfg` (its size is the files' picture; MP4 needs the headers
    /// out of band: `global_header`) for a span starting at `origin`.
    /// Errors: the encoder cannot open.
    pub fn open(cfg: &VideoEncoderConfig, origin: MixerTime) -> Result<Self, MediaError> {
        let enc = VideoEncoder::open(cfg)?;
        let mut canvas =
            frame::Video::new(ffmpeg_next::format::Pixel::YUV420P, cfg.width, cfg.height);
        fill(&mut canvas, Yuv::BLACK);
        Ok(Self {
            enc,
            scaler: Scaler::new(DEFAULT_FLAGS),
            canvas,
            size: (cfg.width, cfg.height),
            fps: cfg.fps,
            origin,
            last_pts: None,
            seq: 0,
        })
    }

    /// The stream as a muxer declares it (timebase 1/fps).
    pub fn stream(&self) -> StreamInfo {
        StreamInfo {
            parameters: self.enc.parameters(),
            time_base: self.enc.time_base(),
        }
    }

    /// Fits and encodes one decoded picture stamped `t`; packets go to `out`.
    /// Errors: scaling or encoding failed.
    pub fn picture(
        &mut self,
        t: MixerTime,
        pic: &frame::Video,
        out: &mut Vec<Packet>,
    ) -> Result<(), MediaError> {
        let us = t.micros_since(self.origin).max(0);
        let fps = i64::from(self.fps);
        let pts = (us * fps + 500_000) / 1_000_000;
        if self.last_pts.is_some_and(|l| pts <= l) {
            return Ok(());
        }
        let (w, h) = self.size;
        let r = fit(Rect { x: 0, y: 0, w, h }, pic.width(), pic.height(), true);
        self.seq += 1;
        let scaled = self
            .scaler
            .scale("", self.seq, pic, r.w, r.h)
            .map_err(|e| {
                tracing::debug!(error = %e, "participant picture not scaled");
                MediaError::Ffmpeg {
                    context: "scale participant picture",
                    source: ffmpeg_next::Error::InvalidData,
                }
            })?
            .0;
        fill(&mut self.canvas, Yuv::BLACK);
        blit(&mut self.canvas, r.x, r.y, scaled);
        self.canvas.set_pts(Some(pts));
        self.last_pts = Some(pts);
        self.enc.encode(&self.canvas, out)
    }

    /// Flushes the encoder. Errors: it failed.
    pub fn finish(&mut self, out: &mut Vec<Packet>) -> Result<(), MediaError> {
        self.enc.finish(out)
    }
}
