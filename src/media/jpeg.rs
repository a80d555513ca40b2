//! One picture to a JPEG file's bytes: libswscale to full-range YUV 4:2:0, then
//! ffmpeg's MJPEG encoder (one baseline JFIF picture, ITU-T T.81).
//!
//! Used for the composite's snapshots (`output/snapshot.rs`). Each call opens its
//! own scaler and encoder (a fraction of a millisecond next to the encode itself), so
//! nothing is kept between snapshots.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling::{Context as Scaler, Flags};
use ffmpeg_next::util::color::Range;
use ffmpeg_next::{codec, encoder, frame, Dictionary, Packet, Rational};

use super::MediaError;

/// JPEG quality as ffmpeg's `-q:v`: 2 (best) ..= 31 (smallest). 3 keeps flat colours
/// within a couple of code values.
pub const DEFAULT_QUALITY: u32 = 3;

/// ffmpeg's FF_QP2LAMBDA: a quantizer in lambda units, as `global_quality` wants it.
const QP2LAMBDA: u32 = 118;

/// `picture` (any pixel format swscale reads; the compositor's is limited-range
/// YUV420P) as a JPEG file of the same size at `quality` ([`DEFAULT_QUALITY`]); returns
/// its bytes. Errors: `CodecMissing("mjpeg")`, or an ffmpeg error of the scaler or the
/// encoder.
pub fn encode(picture: &frame::Video, quality: u32) -> Result<Vec<u8>, MediaError> {
    let (w, h) = (picture.width(), picture.height());
    let mut scaler = Scaler::get(
        picture.format(),
        w,
        h,
        Pixel::YUVJ420P,
        w,
        h,
        Flags::BILINEAR,
    )
    .map_err(MediaError::ffmpeg("JPEG colour conversion"))?;
    let mut full = frame::Video::new(Pixel::YUVJ420P, w, h);
    scaler
        .run(picture, &mut full)
        .map_err(MediaError::ffmpeg("JPEG colour conversion"))?;
    full.set_color_range(Range::JPEG);
    full.set_pts(Some(0));

    let codec =
        encoder::find(codec::Id::MJPEG).ok_or_else(|| MediaError::CodecMissing("mjpeg".into()))?;
    let mut enc = codec::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(MediaError::ffmpeg("JPEG encoder context"))?;
    enc.set_width(w);
    enc.set_height(h);
    enc.set_format(Pixel::YUVJ420P);
    enc.set_color_range(Range::JPEG);
    enc.set_time_base(Rational::new(1, 1));
    let mut opts = Dictionary::new();
    opts.set("flags", "+qscale");
    opts.set(
        "global_quality",
        &(quality.clamp(2, 31) * QP2LAMBDA).to_string(),
    );
    let mut enc = enc
        .open_with(opts)
        .map_err(MediaError::ffmpeg("open the JPEG encoder"))?;
    enc.send_frame(&full)
        .map_err(MediaError::ffmpeg("JPEG encode"))?;
    enc.send_eof().map_err(MediaError::ffmpeg("JPEG encode"))?;
    let mut packet = Packet::empty();
    enc.receive_packet(&mut packet)
        .map_err(MediaError::ffmpeg("JPEG encode"))?;
    Ok(packet.data().unwrap_or_default().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_picture_becomes_a_jfif_of_its_size() {
        crate::media::init();
        let (w, h) = (64, 48);
        let mut p = frame::Video::new(Pixel::YUV420P, w, h);
        // Limited-range red (BT.601): Y 81, U 90, V 240.
        for (plane, v) in [(0, 81u8), (1, 90), (2, 240)] {
            p.data_mut(plane).fill(v);
        }
        let jpeg = encode(&p, DEFAULT_QUALITY).unwrap();
        assert_eq!(&jpeg[..2], [0xFF, 0xD8], "SOI");
        assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9], "EOI");
        // The SOF0 segment carries the height and width (T.81 B.2.2).
        let sof = jpeg
            .windows(2)
            .position(|m| m == [0xFF, 0xC0])
            .expect("SOF0");
        let size = |i: usize| u32::from(jpeg[sof + i]) << 8 | u32::from(jpeg[sof + i + 1]);
        assert_eq!((size(7), size(5)), (w, h));
    }

    /// Wall time of one 1280x720 snapshot (scale + encode), on an idle machine.
    /// Run: `cargo test --release --lib media::jpeg::tests::bench_jpeg -- --ignored --nocapture`
    #[test]
    #[ignore = "benchmark; prints timings"]
    fn bench_jpeg() {
        crate::media::init();
        let (w, h) = (1280u32, 720u32);
        let mut p = frame::Video::new(Pixel::YUV420P, w, h);
        for plane in 0..3 {
            let stride = p.stride(plane);
            for (i, v) in p.data_mut(plane).iter_mut().enumerate() {
                *v = ((i % stride) * 7 / 5 + (i / stride) * 3) as u8;
            }
        }
        let n = 50;
        let t = std::time::Instant::now();
        let mut bytes = 0;
        for _ in 0..n {
            bytes = encode(&p, DEFAULT_QUALITY).unwrap().len();
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
        eprintln!("jpeg 1280x720 gradient: {ms:.2} ms per snapshot, {bytes} bytes");
    }
}
