//! Streams written as they were received (no decode, no encode): the muxer's codec
//! parameters for a sender's VP8, H.264 or Opus, and its access units as packets.
//!
//! - H.264 (ITU-T H.264 Annex B access units, RFC 6184 depacketized): the parameters'
//!   extradata are the first keyframe's SPS and PPS NAL units in Annex B form; the mov
//!   muxer turns them into the `avcC` box and every packet into length-prefixed NAL
//!   units (ISO/IEC 14496-15). In-band SPS/PPS stay in the samples, so a later keyframe
//!   with another resolution still decodes.
//! - VP8 (RFC 6386): no extradata; the size is the keyframe header's.
//! - Opus (RFC 7587: 48 kHz, signalled stereo): extradata is an `OpusHead` (RFC 7845
//!   §5.1) with pre-skip 0 (the received packets' timing is kept as it is).
//!
//! Timestamps: packets are stamped in µs (timebase 1/1 000 000) of the file's own
//! timeline; decode time = presentation time (WebRTC senders do not use B-frames).

use bytes::Bytes;
use ff::{codec, Packet, Rational};
use ffmpeg_next as ff;

use crate::media::picture_size::{annex_b_nals, claimed};
use crate::model::VideoCodec;

/// Timebase of passthrough packets: µs.
pub const PASSTHROUGH_TIME_BASE: Rational = Rational(1, 1_000_000);

/// The codec parameters of a received video stream, from its first keyframe `data`.
/// None if the keyframe's size cannot be read (or, for H.264, it has no SPS and PPS).
pub fn video_parameters(codec: VideoCodec, keyframe: &[u8]) -> Option<codec::Parameters> {
    let (width, height) = claimed(codec, keyframe)?;
    let (id, extradata) = match codec {
        VideoCodec::Vp8 => (codec::Id::VP8, Vec::new()),
        VideoCodec::H264 => (codec::Id::H264, h264_parameter_sets(keyframe)?),
    };
    let params = codec::Parameters::new();
    // SAFETY: `params` owns a freshly allocated AVCodecParameters; the extradata buffer
    // is allocated with av_mallocz (padding included) as libavcodec requires, and
    // ownership passes to the parameters (freed with them).
    unsafe {
        let p = params.as_ptr() as *mut ff::ffi::AVCodecParameters;
        (*p).codec_type = ff::ffi::AVMediaType::AVMEDIA_TYPE_VIDEO;
        (*p).codec_id = id.into();
        (*p).width = width as i32;
        (*p).height = height as i32;
        (*p).format = ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P as i32;
        set_extradata(p, &extradata);
    }
    Some(params)
}

/// The codec parameters of a received Opus stream: 48 kHz, 2 channels, an `OpusHead`.
pub fn opus_parameters() -> codec::Parameters {
    let params = codec::Parameters::new();
    // RFC 7845 §5.1: magic, version 1, 2 channels, pre-skip 0, input rate 48000, gain 0,
    // mapping family 0.
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, 2, 0, 0]);
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&[0, 0, 0]);
    // SAFETY: as in `video_parameters`.
    unsafe {
        let p = params.as_ptr() as *mut ff::ffi::AVCodecParameters;
        (*p).codec_type = ff::ffi::AVMediaType::AVMEDIA_TYPE_AUDIO;
        (*p).codec_id = codec::Id::OPUS.into();
        (*p).sample_rate = 48_000;
        (*p).format = ff::ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT as i32;
        ff::ffi::av_channel_layout_default(&mut (*p).ch_layout, 2);
        set_extradata(p, &head);
    }
    params
}

/// Copies `data` into `p`'s extradata (nothing for an empty slice).
///
/// # Safety
/// `p` must point to a valid AVCodecParameters without extradata.
unsafe fn set_extradata(p: *mut ff::ffi::AVCodecParameters, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let pad = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
    let buf = ff::ffi::av_mallocz(data.len() + pad) as *mut u8;
    if buf.is_null() {
        return;
    }
    std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len());
    (*p).extradata = buf;
    (*p).extradata_size = data.len() as i32;
}

/// The SPS (type 7) and PPS (type 8) NAL units of an Annex B access unit, each with a
/// 4-byte start code; None unless both are present.
pub fn h264_parameter_sets(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut sps, mut pps) = (false, false);
    for nal in annex_b_nals(data) {
        let kind = nal.first().map(|h| h & 0x1f);
        if kind == Some(7) || kind == Some(8) {
            sps |= kind == Some(7);
            pps |= kind == Some(8);
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
        }
    }
    (sps && pps).then_some(out)
}

/// A packet of `data` at `t_us` (pts = dts) lasting `duration_us` (0 = unknown).
pub fn packet(data: &Bytes, t_us: i64, duration_us: i64, keyframe: bool) -> Packet {
    let mut p = Packet::copy(data);
    p.set_pts(Some(t_us));
    p.set_dts(Some(t_us));
    if duration_us > 0 {
        p.set_duration(duration_us);
    }
    if keyframe {
        p.set_flags(ff::packet::Flags::KEY);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first access unit of tests/data/ffmpeg_h264.rtpdump would need the
    /// depacketizer; a hand-made Annex B unit is enough for the NAL walk.
    #[test]
    fn parameter_sets_need_sps_and_pps() {
        let unit = [
            0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, // SPS (truncated body)
            0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, // PPS
            0, 0, 1, 0x65, 0x88, 0x84, // IDR slice
        ];
        let ps = h264_parameter_sets(&unit).expect("SPS and PPS");
        assert_eq!(
            ps,
            vec![0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]
        );
        assert!(h264_parameter_sets(&unit[8..]).is_none(), "no SPS");
    }

    #[test]
    fn opus_head_is_rfc7845() {
        crate::media::init();
        let p = opus_parameters();
        // SAFETY: reading fields of a valid AVCodecParameters.
        let head = unsafe {
            let p = p.as_ptr();
            std::slice::from_raw_parts((*p).extradata, (*p).extradata_size as usize).to_vec()
        };
        assert_eq!(head.len(), 19);
        assert_eq!(&head[..8], b"OpusHead");
        assert_eq!(head[9], 2, "channels");
        assert_eq!(u32::from_le_bytes(head[12..16].try_into().unwrap()), 48_000);
    }
}
