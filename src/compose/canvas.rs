//! Plane operations on YUV420P frames: fill, fill a rectangle, copy a picture in.
//!
//! Frames are `ffmpeg::frame::Video` in `Pixel::YUV420P`: plane 0 is Y at full
//! resolution, planes 1 (U/Cb) and 2 (V/Cr) at half width and half height (rounded up).
//! Row `r` of plane `p` starts at byte `r * frame.stride(p)`; the stride (linesize) is
//! usually larger than the plane width (ffmpeg pads rows for SIMD), so rows are always
//! addressed through the stride. Rectangles are in luma pixels and even-aligned (see
//! [`crate::layout::geometry`]), so each maps to whole chroma samples.
//!
//! Functions here clip to the frame instead of panicking: a rectangle or picture that
//! reaches past the frame is drawn only where it overlaps the frame.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame::Video;

use crate::compose::color::Yuv;
use crate::layout::geometry::Rect;

/// log2 of the subsampling of plane `p` of YUV420P (0 for Y, 1 for U and V).
const fn shift(p: usize) -> u32 {
    if p == 0 {
        0
    } else {
        1
    }
}

/// The plane values of `c`, in plane order Y, U, V.
const fn values(c: Yuv) -> [u8; 3] {
    [c.y, c.u, c.v]
}

/// True if `frame` is YUV420P with three planes (allocated).
pub fn is_yuv420p(frame: &Video) -> bool {
    frame.format() == Pixel::YUV420P && frame.planes() >= 3
}

/// Fills all of `frame` (YUV420P), including row padding, with `c`.
pub fn fill(frame: &mut Video, c: Yuv) {
    for (p, v) in values(c).into_iter().enumerate() {
        frame.data_mut(p).fill(v);
    }
}

/// Fills `rect` (luma pixels, even-aligned) of `frame` (YUV420P) with `c`, clipped to
/// the frame.
pub fn fill_rect(frame: &mut Video, rect: Rect, c: Yuv) {
    if rect.is_empty() {
        return;
    }
    for (p, v) in values(c).into_iter().enumerate() {
        let s = shift(p);
        let (pw, ph) = (
            frame.plane_width(p) as usize,
            frame.plane_height(p) as usize,
        );
        let (x, y) = ((rect.x >> s) as usize, (rect.y >> s) as usize);
        let x_end = ((rect.right() >> s) as usize).min(pw);
        let y_end = ((rect.bottom() >> s) as usize).min(ph);
        if x >= x_end || y >= y_end {
            continue;
        }
        let stride = frame.stride(p);
        let data = frame.data_mut(p);
        for row in data.chunks_mut(stride).take(y_end).skip(y) {
            row[x..x_end].fill(v);
        }
    }
}

/// Copies all of `src` (YUV420P, even width and height) into `dst` (YUV420P) with its
/// top-left corner at luma pixel (`x`, `y`) (both even), clipped to `dst`.
pub fn blit(dst: &mut Video, x: u32, y: u32, src: &Video) {
    for p in 0..3 {
        let s = shift(p);
        let (x, y) = ((x >> s) as usize, (y >> s) as usize);
        let (dw, dh) = (dst.plane_width(p) as usize, dst.plane_height(p) as usize);
        if x >= dw || y >= dh {
            continue;
        }
        let w = (src.plane_width(p) as usize).min(dw - x);
        let h = (src.plane_height(p) as usize).min(dh - y);
        let (src_stride, dst_stride) = (src.stride(p), dst.stride(p));
        let src_rows = src.data(p).chunks(src_stride);
        let dst_rows = dst.data_mut(p).chunks_mut(dst_stride).skip(y);
        for (d, s) in dst_rows.zip(src_rows).take(h) {
            d[x..x + w].copy_from_slice(&s[..w]);
        }
    }
}

/// Copies `rect` (luma pixels, even-aligned) of `src` into the same place of `dst`
/// (both YUV420P), clipped to both frames.
pub fn copy_rect(dst: &mut Video, src: &Video, rect: Rect) {
    if rect.is_empty() {
        return;
    }
    for p in 0..3 {
        let s = shift(p);
        let pw = (dst.plane_width(p) as usize).min(src.plane_width(p) as usize);
        let ph = (dst.plane_height(p) as usize).min(src.plane_height(p) as usize);
        let (x, y) = ((rect.x >> s) as usize, (rect.y >> s) as usize);
        let x_end = ((rect.right() >> s) as usize).min(pw);
        let y_end = ((rect.bottom() >> s) as usize).min(ph);
        if x >= x_end || y >= y_end {
            continue;
        }
        let (src_stride, dst_stride) = (src.stride(p), dst.stride(p));
        let src_rows = src.data(p).chunks(src_stride).skip(y);
        let dst_rows = dst.data_mut(p).chunks_mut(dst_stride).skip(y);
        for (d, s) in dst_rows.zip(src_rows).take(y_end - y) {
            d[x..x_end].copy_from_slice(&s[x..x_end]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: u32, h: u32) -> Video {
        ffmpeg_next::init().expect("ffmpeg initialises");
        Video::new(Pixel::YUV420P, w, h)
    }

    /// (Y, U, V) at luma pixel (x, y).
    fn at(f: &Video, x: usize, y: usize) -> (u8, u8, u8) {
        (
            f.data(0)[y * f.stride(0) + x],
            f.data(1)[(y / 2) * f.stride(1) + x / 2],
            f.data(2)[(y / 2) * f.stride(2) + x / 2],
        )
    }

    const RED: Yuv = Yuv {
        y: 81,
        u: 90,
        v: 240,
    };

    #[test]
    fn fill_rect_respects_stride_and_clips() {
        // 100 px wide: ffmpeg pads the rows, so stride != width.
        let mut f = frame(100, 50);
        assert_ne!(f.stride(0), 100, "test needs a padded frame");
        fill(&mut f, Yuv::BLACK);
        fill_rect(&mut f, Rect::new(10, 20, 30, 10), RED);
        assert_eq!(at(&f, 10, 20), (81, 90, 240));
        assert_eq!(at(&f, 39, 29), (81, 90, 240));
        assert_eq!(at(&f, 40, 29), (16, 128, 128));
        assert_eq!(at(&f, 10, 30), (16, 128, 128));
        assert_eq!(at(&f, 9, 20), (16, 128, 128));
        // Past the frame: clipped, no panic.
        fill_rect(&mut f, Rect::new(90, 40, 100, 100), RED);
        assert_eq!(at(&f, 99, 49), (81, 90, 240));
        fill_rect(&mut f, Rect::new(200, 200, 10, 10), RED);
    }

    #[test]
    fn blit_copies_rows_through_both_strides() {
        let mut src = frame(30, 20);
        fill(&mut src, Yuv::BLACK);
        // A marker in the source's bottom-right corner.
        fill_rect(&mut src, Rect::new(28, 18, 2, 2), RED);
        let mut dst = frame(100, 60);
        fill(
            &mut dst,
            Yuv {
                y: 200,
                u: 100,
                v: 100,
            },
        );
        blit(&mut dst, 40, 20, &src);
        assert_eq!(at(&dst, 40, 20), (16, 128, 128));
        assert_eq!(at(&dst, 68, 38), (81, 90, 240));
        assert_eq!(at(&dst, 69, 39), (81, 90, 240));
        assert_eq!(at(&dst, 70, 38), (200, 100, 100));
        assert_eq!(at(&dst, 40, 40), (200, 100, 100));
        assert_eq!(at(&dst, 38, 20), (200, 100, 100));
        // Partly outside: clipped.
        blit(&mut dst, 90, 50, &src);
        assert_eq!(at(&dst, 99, 59), (16, 128, 128));
    }

    #[test]
    fn copy_rect_copies_the_same_place_and_clips() {
        let mut src = frame(100, 50);
        fill(&mut src, RED);
        let mut dst = frame(100, 50);
        fill(&mut dst, Yuv::BLACK);
        copy_rect(&mut dst, &src, Rect::new(20, 10, 30, 20));
        assert_eq!(at(&dst, 20, 10), (81, 90, 240));
        assert_eq!(at(&dst, 49, 29), (81, 90, 240));
        assert_eq!(at(&dst, 50, 29), (16, 128, 128));
        assert_eq!(at(&dst, 20, 30), (16, 128, 128));
        assert_eq!(at(&dst, 18, 10), (16, 128, 128));
        // Past the frames: clipped, no panic.
        copy_rect(&mut dst, &src, Rect::new(90, 40, 100, 100));
        assert_eq!(at(&dst, 99, 49), (81, 90, 240));
    }
}
