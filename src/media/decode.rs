//! Decoders: access units in, pictures and PCM out.
//!
//! [`VideoDecoder`] yields ffmpeg pictures in the decoder's native pixel format (VP8 and
//! H.264 give YUV420P or YUVJ420P; the compositor converts). [`AudioDecoder`] yields
//! [`Pcm`]: planar `f32` stereo at 48 kHz whatever the source layout or rate (mono is
//! duplicated to both channels; other rates or formats go through ffmpeg's resampler).
//! Decoders run single-threaded: one decoder per source, each on its source's thread.

use ff::codec::{self, Id};
use ff::format::{sample::Type as SampleType, Sample};
use ff::{frame, ChannelLayout};
use ffmpeg_next as ff;

use super::{is_again, MediaError};
use crate::model::{AudioCodec, VideoCodec};
use crate::time::AUDIO_RATE;

/// Video decoder for one source.
pub struct VideoDecoder {
    dec: ff::decoder::Video,
}

impl VideoDecoder {
    /// A decoder for an RTP payload format (VP8 frames or H.264 Annex B access units)
    /// that refuses pictures above `max_pixels` (width x height; ffmpeg's `max_pixels`
    /// option: the decoder fails the access unit instead of allocating its buffers).
    pub fn new(codec: VideoCodec, max_pixels: u64) -> Result<Self, MediaError> {
        let id = match codec {
            VideoCodec::Vp8 => Id::VP8,
            VideoCodec::H264 => Id::H264,
        };
        let c = ff::decoder::find(id).ok_or_else(|| MediaError::CodecMissing(format!("{id:?}")))?;
        let mut ctx = codec::Context::new_with_codec(c);
        ctx.set_threading(codec::threading::Config::count(1));
        // SAFETY: `ctx` owns a valid, not yet opened AVCodecContext; `max_pixels` is a
        // plain int64 field read when the decoder sets its dimensions.
        unsafe {
            (*ctx.as_mut_ptr()).max_pixels = i64::try_from(max_pixels).unwrap_or(i64::MAX);
        }
        let dec = ctx
            .decoder()
            .video()
            .map_err(MediaError::ffmpeg("open video decoder"))?;
        Ok(Self { dec })
    }

    /// A decoder for a demuxed stream (offline inputs).
    pub fn from_parameters(params: codec::Parameters) -> Result<Self, MediaError> {
        let mut ctx =
            codec::Context::from_parameters(params).map_err(MediaError::ffmpeg("video params"))?;
        ctx.set_threading(codec::threading::Config::count(1));
        let dec = ctx
            .decoder()
            .video()
            .map_err(MediaError::ffmpeg("open video decoder"))?;
        Ok(Self { dec })
    }

    /// Decodes one access unit whose presentation time is `pts` (any unit; it is carried
    /// through to the pictures' `pts`). Appends every picture that became ready to `out`.
    /// An error means this access unit was not decodable (corrupt); the decoder stays
    /// usable and the next keyframe recovers it.
    pub fn decode(
        &mut self,
        data: &[u8],
        pts: i64,
        out: &mut Vec<frame::Video>,
    ) -> Result<(), MediaError> {
        self.send(Some(&access_unit(data, pts)), out)
    }

    /// Decodes a demuxed packet (pts in the stream's timebase).
    pub fn decode_packet(
        &mut self,
        pkt: &ff::Packet,
        out: &mut Vec<frame::Video>,
    ) -> Result<(), MediaError> {
        self.send(Some(pkt), out)
    }

    /// Drains the pictures still buffered at end of stream.
    pub fn flush(&mut self, out: &mut Vec<frame::Video>) -> Result<(), MediaError> {
        self.send(None, out)
    }

    fn send(
        &mut self,
        pkt: Option<&ff::Packet>,
        out: &mut Vec<frame::Video>,
    ) -> Result<(), MediaError> {
        send_receive(&mut self.dec, pkt, "video", |f: frame::Video| {
            out.push(f);
            Ok(())
        })
    }
}

/// Sends one packet (None: end of stream) to `dec` and hands every frame that became
/// ready to `on_frame`. EAGAIN and EOF end the receive loop normally; other errors are
/// returned with `what` ("video"/"audio") in the context.
fn send_receive<F>(
    dec: &mut ff::decoder::Opened,
    pkt: Option<&ff::Packet>,
    what: &'static str,
    mut on_frame: impl FnMut(F) -> Result<(), MediaError>,
) -> Result<(), MediaError>
where
    F: std::ops::DerefMut<Target = ff::Frame> + Empty,
{
    let sent = match pkt {
        Some(p) => dec.send_packet(p),
        None => dec.send_eof(),
    };
    if let Err(e) = sent {
        if !is_again(&e) && e != ff::Error::Eof {
            let context = if what == "video" {
                "decode video"
            } else {
                "decode audio"
            };
            return Err(MediaError::Ffmpeg { context, source: e });
        }
    }
    loop {
        let mut f = F::empty();
        match dec.receive_frame(&mut f) {
            Ok(()) => on_frame(f)?,
            Err(e) if is_again(&e) || e == ff::Error::Eof => return Ok(()),
            Err(e) => {
                let context = if what == "video" {
                    "receive video frame"
                } else {
                    "receive audio frame"
                };
                return Err(MediaError::Ffmpeg { context, source: e });
            }
        }
    }
}

/// A decoder packet holding one access unit, with `pts` as both pts and dts (RTP
/// payloads carry no decode order of their own).
fn access_unit(data: &[u8], pts: i64) -> ff::Packet {
    let mut pkt = ff::Packet::copy(data);
    pkt.set_pts(Some(pts));
    pkt.set_dts(Some(pts));
    pkt
}

/// Frames that can be allocated empty for a decoder to fill.
trait Empty {
    fn empty() -> Self;
}

impl Empty for frame::Video {
    fn empty() -> Self {
        frame::Video::empty()
    }
}

impl Empty for frame::Audio {
    fn empty() -> Self {
        frame::Audio::empty()
    }
}

/// Decoded audio: planar `f32` stereo at 48 kHz; `left.len() == right.len()` samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pcm {
    pub left: Vec<f32>,
    pub right: Vec<f32>,
    /// The pts of the access unit it came from, as given to the decoder.
    pub pts: i64,
}

/// Audio decoder for one source, normalizing to [`Pcm`].
pub struct AudioDecoder {
    dec: ff::decoder::Audio,
    resampler: Option<ff::software::resampling::Context>,
    /// The decoder is libopus, whose packet loss concealment [`Self::conceal`] drives.
    plc: bool,
}

/// ffmpeg's wrapper of libopus: preferred for RTP Opus because it conceals lost packets
/// (libopus PLC); ffmpeg's native Opus decoder turns a concealment request into silence
/// and then recovers over ~100 ms (measured: 0.03-0.2 of the level for 5 frames).
pub const LIBOPUS_DECODER: &str = "libopus";

impl AudioDecoder {
    /// An Opus decoder (RFC 7587: 48 kHz, up to stereo, no extradata needed): libopus if
    /// this ffmpeg has it ([`LIBOPUS_DECODER`]), else ffmpeg's native decoder.
    /// Errors: [`MediaError::CodecMissing`] if neither exists; an ffmpeg error if it does
    /// not open.
    pub fn new(codec: AudioCodec) -> Result<Self, MediaError> {
        let AudioCodec::Opus = codec;
        let (c, plc) = match ff::decoder::find_by_name(LIBOPUS_DECODER) {
            Some(c) => (c, true),
            None => (
                ff::decoder::find(Id::OPUS)
                    .ok_or_else(|| MediaError::CodecMissing("opus".into()))?,
                false,
            ),
        };
        let mut ctx = codec::Context::new_with_codec(c);
        // SAFETY: ctx owns a valid AVCodecContext that is not yet opened; RTP Opus carries
        // no extradata, so the decoder needs the rate and channel count set before
        // avcodec_open2 (as ffmpeg's own rtpdec_opus does).
        unsafe {
            let p = ctx.as_mut_ptr();
            (*p).sample_rate = AUDIO_RATE as i32;
            ff::ffi::av_channel_layout_default(&mut (*p).ch_layout, 2);
        }
        let dec = ctx
            .decoder()
            .audio()
            .map_err(MediaError::ffmpeg("open opus decoder"))?;
        Ok(Self {
            dec,
            resampler: None,
            plc,
        })
    }

    /// True if [`Self::conceal`] produces concealment audio (the decoder is libopus).
    pub fn conceals(&self) -> bool {
        self.plc
    }

    /// Conceals one lost Opus packet (RFC 6716 §4.4, packet loss concealment): decodes a
    /// TOC-only packet (the lost packet's TOC byte `toc` with frame count code 0, i.e. one
    /// zero-length frame), which libopus treats as a lost frame and extrapolates from its
    /// state, one frame of the TOC's duration. `pts` as in [`Self::decode`]. Appends the
    /// PCM to `out`; appends nothing if the decoder cannot conceal ([`Self::conceals`]).
    pub fn conceal(&mut self, toc: u8, pts: i64, out: &mut Vec<Pcm>) -> Result<(), MediaError> {
        if !self.plc {
            return Ok(());
        }
        self.decode(&[toc & 0xFC], pts, out)
    }

    /// A decoder for a demuxed stream (offline inputs).
    pub fn from_parameters(params: codec::Parameters) -> Result<Self, MediaError> {
        let mut ctx =
            codec::Context::from_parameters(params).map_err(MediaError::ffmpeg("audio params"))?;
        ctx.set_threading(codec::threading::Config::count(1));
        let dec = ctx
            .decoder()
            .audio()
            .map_err(MediaError::ffmpeg("open audio decoder"))?;
        Ok(Self {
            dec,
            resampler: None,
            plc: false,
        })
    }

    /// Decodes one access unit (pts carried through); appends PCM blocks to `out`.
    pub fn decode(&mut self, data: &[u8], pts: i64, out: &mut Vec<Pcm>) -> Result<(), MediaError> {
        self.send(Some(&access_unit(data, pts)), out)
    }

    /// Decodes a demuxed packet.
    pub fn decode_packet(
        &mut self,
        pkt: &ff::Packet,
        out: &mut Vec<Pcm>,
    ) -> Result<(), MediaError> {
        self.send(Some(pkt), out)
    }

    /// Drains what is buffered at end of stream.
    pub fn flush(&mut self, out: &mut Vec<Pcm>) -> Result<(), MediaError> {
        self.send(None, out)
    }

    fn send(&mut self, pkt: Option<&ff::Packet>, out: &mut Vec<Pcm>) -> Result<(), MediaError> {
        let mut frames = Vec::new();
        let r = send_receive(&mut self.dec, pkt, "audio", |f: frame::Audio| {
            frames.push(f);
            Ok(())
        });
        for f in &frames {
            out.push(self.normalize(f)?);
        }
        r
    }

    /// Converts a decoded frame to planar f32 stereo 48 kHz.
    fn normalize(&mut self, f: &frame::Audio) -> Result<Pcm, MediaError> {
        let pts = f.pts().unwrap_or(0);
        let n = f.samples();
        if f.format() == Sample::F32(SampleType::Planar) && f.rate() == AUDIO_RATE && n > 0 {
            let channels = f.planes();
            let left = f.plane::<f32>(0)[..n].to_vec();
            let right = if channels >= 2 {
                f.plane::<f32>(1)[..n].to_vec()
            } else {
                left.clone()
            };
            return Ok(Pcm { left, right, pts });
        }
        let want = Sample::F32(SampleType::Planar);
        let mut layout = f.channel_layout();
        if layout.is_empty() {
            layout = ChannelLayout::default(i32::from(f.channels()));
        }
        let needs_new = match &self.resampler {
            None => true,
            Some(r) => {
                r.input().format != f.format()
                    || r.input().rate != f.rate()
                    || r.input().channel_layout != layout
            }
        };
        if needs_new {
            self.resampler = Some(
                ff::software::resampling::Context::get(
                    f.format(),
                    layout,
                    f.rate(),
                    want,
                    ChannelLayout::STEREO,
                    AUDIO_RATE,
                )
                .map_err(MediaError::ffmpeg("create audio resampler"))?,
            );
        }
        let r = self.resampler.as_mut().expect("created above when missing");
        let mut o = frame::Audio::empty();
        r.run(f, &mut o)
            .map_err(MediaError::ffmpeg("resample audio"))?;
        let m = o.samples();
        Ok(Pcm {
            left: o.plane::<f32>(0)[..m].to_vec(),
            right: o.plane::<f32>(1)[..m].to_vec(),
            pts,
        })
    }
}
