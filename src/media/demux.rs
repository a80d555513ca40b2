//! Reading a media file (any container ffmpeg opens) for offline jobs: the best video
//! and audio stream, decoded to pictures and [`Pcm`](super::decode::Pcm), with
//! timestamps in microseconds from the file's start.

use std::path::Path;

use ff::media::Type;
use ffmpeg_next as ff;

use super::decode::{AudioDecoder, Pcm, VideoDecoder};
use super::MediaError;
use crate::time::{rescale_floor, MICROS};

/// What one read step produced.
#[derive(Default)]
pub struct Decoded {
    /// Pictures with pts in µs from the file start.
    pub pictures: Vec<ff::frame::Video>,
    /// PCM blocks with pts in µs from the file start.
    pub pcm: Vec<Pcm>,
}

/// One open input file.
pub struct Demuxer {
    ictx: ff::format::context::Input,
    video: Option<(usize, ff::Rational, VideoDecoder)>,
    audio: Option<(usize, ff::Rational, AudioDecoder)>,
    start_us: i64,
    eof: bool,
}

impl Demuxer {
    /// Opens `path` and the decoders of its best video and audio streams.
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let ictx = ff::format::input(&path).map_err(MediaError::ffmpeg("open input"))?;
        // SAFETY: ictx is a valid, opened input context; start_time is a plain field.
        let start = unsafe { (*ictx.as_ptr()).start_time };
        let start_us = if start == ff::ffi::AV_NOPTS_VALUE {
            0
        } else {
            rescale_floor(start, ff::ffi::AV_TIME_BASE as u32, MICROS)
        };
        let video = match ictx.streams().best(Type::Video) {
            Some(s) => Some((
                s.index(),
                s.time_base(),
                VideoDecoder::from_parameters(s.parameters())?,
            )),
            None => None,
        };
        let audio = match ictx.streams().best(Type::Audio) {
            Some(s) => Some((
                s.index(),
                s.time_base(),
                AudioDecoder::from_parameters(s.parameters())?,
            )),
            None => None,
        };
        Ok(Self {
            ictx,
            video,
            audio,
            start_us,
            eof: false,
        })
    }

    /// Whether the file has a video stream.
    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }

    /// Whether the file has an audio stream.
    pub fn has_audio(&self) -> bool {
        self.audio.is_some()
    }

    /// True once the file is exhausted and the decoders drained.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Reads and decodes the next packet (or drains at end of file) into `out`.
    /// Undecodable packets are skipped (returned as `Ok` with nothing decoded).
    pub fn step(&mut self, out: &mut Decoded) -> Result<(), MediaError> {
        if self.eof {
            return Ok(());
        }
        let mut pkt = ff::Packet::empty();
        match pkt.read(&mut self.ictx) {
            Ok(()) => {
                let idx = pkt.stream();
                if let Some((i, tb, dec)) = self.video.as_mut() {
                    if *i == idx {
                        let n = out.pictures.len();
                        let _ = dec.decode_packet(&pkt, &mut out.pictures);
                        for p in &mut out.pictures[n..] {
                            let t = to_us(p.timestamp().or(p.pts()), *tb) - self.start_us;
                            p.set_pts(Some(t));
                        }
                    }
                }
                if let Some((i, tb, dec)) = self.audio.as_mut() {
                    if *i == idx {
                        let n = out.pcm.len();
                        let _ = dec.decode_packet(&pkt, &mut out.pcm);
                        for p in &mut out.pcm[n..] {
                            p.pts = to_us(Some(p.pts), *tb) - self.start_us;
                        }
                    }
                }
                Ok(())
            }
            Err(ff::Error::Eof) => {
                if let Some((_, tb, dec)) = self.video.as_mut() {
                    let n = out.pictures.len();
                    dec.flush(&mut out.pictures)?;
                    for p in &mut out.pictures[n..] {
                        let t = to_us(p.timestamp().or(p.pts()), *tb) - self.start_us;
                        p.set_pts(Some(t));
                    }
                }
                if let Some((_, tb, dec)) = self.audio.as_mut() {
                    let n = out.pcm.len();
                    dec.flush(&mut out.pcm)?;
                    for p in &mut out.pcm[n..] {
                        p.pts = to_us(Some(p.pts), *tb) - self.start_us;
                    }
                }
                self.eof = true;
                Ok(())
            }
            Err(e) => Err(MediaError::Ffmpeg {
                context: "read input packet",
                source: e,
            }),
        }
    }
}

fn to_us(ts: Option<i64>, tb: ff::Rational) -> i64 {
    let ts = ts.unwrap_or(0);
    let num = i128::from(ts) * i128::from(tb.numerator()) * i128::from(MICROS);
    let den = i128::from(tb.denominator().max(1));
    i64::try_from(num.div_euclid(den)).unwrap_or(0)
}
