//! The picture size an access unit claims, read from its headers before it reaches a
//! decoder: a few bytes of RTP can claim a 16000x16000 keyframe, and a decoder would
//! allocate its buffers (hundreds of MB) for it. The source's stream path refuses access
//! units that claim more than the daemon's limit ([`DEFAULT_MAX_PICTURE_PIXELS`], `serve
//! --max-picture-pixels`) and counts them; the decoders are also opened with ffmpeg's
//! `max_pixels` set to the same limit as a second line.
//!
//! - VP8 (RFC 6386 §9.1): a keyframe's uncompressed data chunk holds the 3-byte start code
//!   `9d 01 2a` then 14-bit width and height (little endian, 2 scale bits above each).
//! - H.264 (ITU-T H.264 §7.3.2.1.1): a sequence parameter set's size in macroblocks and
//!   frame cropping, parsed with the `h264-reader` crate from the Annex B access unit's
//!   SPS NAL units (type 7).

use h264_reader::nal::sps::SeqParameterSet;
use h264_reader::rbsp::{decode_nal, BitReader};

use crate::model::VideoCodec;
pub use crate::model::DEFAULT_MAX_PICTURE_PIXELS;

/// The picture size (width, height in pixels) `data` claims: for VP8 a keyframe's
/// header, for H.264 the largest SPS in the access unit. None: the unit claims no size
/// (an inter frame, no SPS) or its header cannot be read (the decoder then decides).
pub fn claimed(codec: VideoCodec, data: &[u8]) -> Option<(u32, u32)> {
    match codec {
        VideoCodec::Vp8 => vp8_keyframe_size(data),
        VideoCodec::H264 => h264_sps_size(data),
    }
}

/// Whether a claimed `size` is above `max_pixels` (width x height).
pub fn exceeds(size: (u32, u32), max_pixels: u64) -> bool {
    u64::from(size.0) * u64::from(size.1) > max_pixels
}

/// RFC 6386 §9.1: frame tag bit 0 clear = keyframe; bytes 3..6 the start code; bytes
/// 6..10 width and height, 14 bits each.
fn vp8_keyframe_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() < 10 || data[0] & 1 != 0 || data[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u32::from(u16::from_le_bytes([data[6], data[7]]) & 0x3fff);
    let h = u32::from(u16::from_le_bytes([data[8], data[9]]) & 0x3fff);
    Some((w, h))
}

/// NAL units of an Annex B stream (start codes `00 00 01` or `00 00 00 01`).
pub(crate) fn annex_b_nals(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|&s| {
            // Strip the next start code and a leading zero byte of a 4-byte one.
            let mut e = s - 3;
            while e > 0 && data[e - 1] == 0 {
                e -= 1;
            }
            e
        })
        .chain(std::iter::once(data.len()))
        .collect();
    starts
        .into_iter()
        .zip(ends)
        .filter(|(s, e)| e > s)
        .map(move |(s, e)| &data[s..e])
}

fn h264_sps_size(data: &[u8]) -> Option<(u32, u32)> {
    annex_b_nals(data)
        .filter(|nal| nal.first().is_some_and(|h| h & 0x1f == 7))
        .filter_map(|nal| {
            let rbsp = decode_nal(nal).ok()?;
            let sps = SeqParameterSet::from_bits(BitReader::new(&*rbsp)).ok()?;
            sps.pixel_dimensions().ok()
        })
        .max_by_key(|&(w, h)| u64::from(w) * u64::from(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A VP8 keyframe header claiming `w`x`h`.
    fn vp8_key(w: u16, h: u16) -> Vec<u8> {
        let mut v = vec![0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a];
        v.extend_from_slice(&w.to_le_bytes());
        v.extend_from_slice(&h.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v
    }

    #[test]
    fn vp8_keyframes_claim_their_size_and_inter_frames_none() {
        assert_eq!(
            claimed(VideoCodec::Vp8, &vp8_key(640, 480)),
            Some((640, 480))
        );
        // Scale bits (the top two) are not part of the size.
        assert_eq!(
            claimed(VideoCodec::Vp8, &vp8_key(16000 | 0x4000, 16000)),
            Some((16000, 16000))
        );
        let mut inter = vp8_key(640, 480);
        inter[0] |= 1;
        assert_eq!(claimed(VideoCodec::Vp8, &inter), None);
        assert_eq!(claimed(VideoCodec::Vp8, &[0x50, 0x2a]), None);
        assert!(exceeds((16000, 16000), DEFAULT_MAX_PICTURE_PIXELS));
        assert!(!exceeds((3840, 2160), DEFAULT_MAX_PICTURE_PIXELS));
        assert!(!exceeds((2160, 3840), DEFAULT_MAX_PICTURE_PIXELS));
    }

    #[test]
    fn h264_sps_gives_the_cropped_size() {
        // The SPS libx264 (baseline) wrote for 1280x720 (`ffmpeg -f lavfi -i
        // color=s=1280x720 -frames:v 1 -c:v libx264 -profile:v baseline -f h264 -`), with
        // its emulation prevention bytes, in Annex B with a 4-byte start code, then a PPS.
        let sps_720p = [
            0x67, 0x42, 0xc0, 0x1f, 0xdc, 0x05, 0x00, 0x5b, 0xb0, 0x11, 0x00, 0x00, 0x03, 0x00,
            0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x18, 0x33, 0x80,
        ];
        let mut au = vec![0, 0, 0, 1];
        au.extend_from_slice(&sps_720p);
        au.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x0f, 0x2c, 0x80]);
        assert_eq!(claimed(VideoCodec::H264, &au), Some((1280, 720)));
        // No SPS: nothing claimed.
        assert_eq!(
            claimed(VideoCodec::H264, &[0, 0, 1, 0x41, 0x9a, 0x00]),
            None
        );
        assert_eq!(claimed(VideoCodec::H264, &[]), None);
    }
}
