//! Layout geometry (pure): snapping to the 4:2:0 grid, clipping to the canvas, fitting a
//! picture into a region.
//!
//! All arithmetic is integer (`u64` cross-multiplication, no floats), so results are
//! exact and reproducible. Every rectangle returned here is *even-aligned*: `x`, `y`, `w`
//! and `h` are even, because in YUV 4:2:0 one chroma sample covers a 2x2 block of luma
//! samples, and a rectangle starting or ending on an odd luma pixel would have to split
//! a chroma sample. Returned rectangles are also at least 2x2 pixels.
//!
//! Snapping rounds each *edge* down to even (not the size), so two regions that touch in
//! the request still touch after snapping: no gap, no overlap. A region therefore moves
//! by at most one pixel up/left at each edge; e.g. Cloudroom's picture-in-picture tile
//! `top=495 height=225` on a 720-line canvas is drawn on lines 494..720.

/// An axis-aligned rectangle in canvas pixels. `(x, y)` is the top-left corner; the
/// rectangle covers columns `x..x + w` and rows `y..y + h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left edge, pixels from the canvas' left.
    pub x: u32,
    /// Top edge, pixels from the canvas' top.
    pub y: u32,
    /// Width, pixels.
    pub w: u32,
    /// Height, pixels.
    pub h: u32,
}

impl Rect {
    /// A rectangle from its top-left corner and size, pixels.
    pub const fn new(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }

    /// One past the right-most column, pixels (saturating).
    pub const fn right(&self) -> u32 {
        self.x.saturating_add(self.w)
    }

    /// One past the bottom row, pixels (saturating).
    pub const fn bottom(&self) -> u32 {
        self.y.saturating_add(self.h)
    }

    /// True if the rectangle covers no pixel.
    pub const fn is_empty(&self) -> bool {
        self.w == 0 || self.h == 0
    }

    /// True if `self` and `other` share at least one pixel.
    pub fn intersects(&self, other: &Rect) -> bool {
        !self.is_empty()
            && !other.is_empty()
            && self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// True if every pixel of `other` is inside `self` (an empty `other` is contained).
    pub fn contains(&self, other: &Rect) -> bool {
        other.is_empty()
            || (other.x >= self.x
                && other.y >= self.y
                && other.right() <= self.right()
                && other.bottom() <= self.bottom())
    }

    /// True if x, y, w and h are all even (4:2:0-aligned).
    pub const fn is_even_aligned(&self) -> bool {
        (self.x | self.y | self.w | self.h) & 1 == 0
    }
}

/// Snaps one axis `[pos, pos + len)` to the even grid inside `[0, limit)`.
/// Returns `(start, len)` with both even and `len >= 2`, or `None` if nothing is left.
fn snap_axis(pos: u32, len: u32, limit: u32) -> Option<(u32, u32)> {
    let limit = limit & !1;
    if len == 0 || limit < 2 || pos >= limit {
        return None;
    }
    let start = pos & !1;
    // A non-empty span narrower than 2 after snapping still gets one chroma sample.
    let end = (pos.saturating_add(len) & !1).max(start + 2).min(limit);
    Some((start, end - start))
}

/// `rect` snapped to the even grid (each edge rounded down to even, at least 2x2) and
/// clipped to a `canvas_w` x `canvas_h` canvas (odd canvas sizes are treated as the next
/// even size down). `None` if no part of the rectangle is on the canvas or it is empty.
pub fn clip(rect: Rect, canvas_w: u32, canvas_h: u32) -> Option<Rect> {
    let (x, w) = snap_axis(rect.x, rect.w, canvas_w)?;
    let (y, h) = snap_axis(rect.y, rect.h, canvas_h)?;
    Some(Rect { x, y, w, h })
}

/// `num / den` rounded to the nearest even integer (ties up), for `den > 0`.
fn div_round_even(num: u64, den: u64) -> u64 {
    (num + den) / (2 * den) * 2
}

/// Where a `src_w` x `src_h` picture is drawn inside `region`.
///
/// `region` is first snapped to the even grid (see [`clip`]; with no canvas limit).
/// - `keep_aspect_ratio == false` (stretch): the snapped region itself.
/// - `keep_aspect_ratio == true`: the largest rectangle of the source's aspect ratio that
///   fits inside the region, centred (rounded down to even). A source wider than the
///   region gets the full width with bars above and below (letterbox); a taller one gets
///   the full height with bars left and right (pillarbox). The free dimension is rounded
///   to the nearest even size, at least 2.
///
/// A source with a zero dimension has no aspect ratio and is stretched. The result is
/// always even-aligned, at least 2x2, and inside the snapped region; an empty region
/// returns an empty `Rect` at the region's position.
pub fn fit(region: Rect, src_w: u32, src_h: u32, keep_aspect_ratio: bool) -> Rect {
    let Some(r) = clip(region, u32::MAX, u32::MAX) else {
        return Rect::new(region.x, region.y, 0, 0);
    };
    if !keep_aspect_ratio || src_w == 0 || src_h == 0 {
        return r;
    }
    let (sw, sh, rw, rh) = (
        u64::from(src_w),
        u64::from(src_h),
        u64::from(r.w),
        u64::from(r.h),
    );
    // Compare sw/sh with rw/rh by cross-multiplication.
    let (w, h) = match (sw * rh).cmp(&(sh * rw)) {
        std::cmp::Ordering::Equal => (rw, rh),
        // Wider than the region: full width, letterbox.
        std::cmp::Ordering::Greater => (rw, div_round_even(rw * sh, sw).clamp(2, rh)),
        // Taller than the region: full height, pillarbox.
        std::cmp::Ordering::Less => (div_round_even(rh * sw, sh).clamp(2, rw), rh),
    };
    // w <= r.w and h <= r.h, so these fit in u32.
    let (w, h) = (w as u32, h as u32);
    Rect {
        x: r.x + (((r.w - w) / 2) & !1),
        y: r.y + (((r.h - h) / 2) & !1),
        w,
        h,
    }
}

/// Scales one coordinate from a `from`-pixel axis to a `to`-pixel axis, rounding to the
/// nearest pixel (ties up). `from` must be > 0.
pub fn scale_coord(v: u32, from: u32, to: u32) -> u32 {
    let (v, from, to) = (u64::from(v), u64::from(from), u64::from(to));
    // v <= from in every use; the result fits u32 when v <= from.
    u32::try_from((v * to + from / 2) / from).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn r(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect::new(x, y, w, h)
    }

    #[test]
    fn fit_table() {
        // (name, region, src_w, src_h, keep, expected)
        let cases: &[(&str, Rect, u32, u32, bool, Rect)] = &[
            // 16:9 region
            (
                "16:9 in 16:9 exact",
                r(0, 180, 640, 360),
                1280,
                720,
                true,
                r(0, 180, 640, 360),
            ),
            (
                "4:3 in 16:9 pillarbox",
                r(0, 180, 640, 360),
                480,
                360,
                true,
                r(80, 180, 480, 360),
            ),
            (
                "4:3 in 16:9 stretch",
                r(640, 180, 640, 360),
                640,
                480,
                false,
                r(640, 180, 640, 360),
            ),
            (
                "16:9 in 16:9 full canvas",
                r(0, 0, 1280, 720),
                640,
                360,
                true,
                r(0, 0, 1280, 720),
            ),
            // 4:3 region
            (
                "16:9 in 4:3 letterbox",
                r(0, 0, 640, 480),
                1280,
                720,
                true,
                r(0, 60, 640, 360),
            ),
            (
                "4:3 in 4:3 exact",
                r(10, 20, 640, 480),
                320,
                240,
                true,
                r(10, 20, 640, 480),
            ),
            (
                "16:9 in 4:3 stretch",
                r(0, 0, 640, 480),
                1280,
                720,
                false,
                r(0, 0, 640, 480),
            ),
            // square region
            (
                "16:9 in square",
                r(0, 0, 400, 400),
                1920,
                1080,
                true,
                r(0, 86, 400, 226),
            ),
            (
                "4:3 in square",
                r(0, 0, 400, 400),
                640,
                480,
                true,
                r(0, 50, 400, 300),
            ),
            (
                "portrait in square",
                r(100, 100, 400, 400),
                360,
                640,
                true,
                r(186, 100, 226, 400),
            ),
            (
                "square in 16:9",
                r(0, 0, 1280, 720),
                500,
                500,
                true,
                r(280, 0, 720, 720),
            ),
            // odd region edges snap down to even, sizes follow the edges
            (
                "odd region, PiP tile",
                r(880, 495, 400, 225),
                1280,
                720,
                true,
                r(880, 494, 400, 226),
            ),
            (
                "odd region, stretch",
                r(1, 1, 101, 51),
                16,
                9,
                false,
                r(0, 0, 102, 52),
            ),
            (
                "odd region, 4:3",
                r(3, 5, 333, 111),
                640,
                480,
                true,
                r(94, 4, 150, 112),
            ),
            // tiny and extreme sources
            (
                "2x2 source in 16:9",
                r(0, 0, 640, 360),
                2,
                2,
                true,
                r(140, 0, 360, 360),
            ),
            (
                "1x1 source",
                r(0, 0, 640, 360),
                1,
                1,
                true,
                r(140, 0, 360, 360),
            ),
            (
                "1px-wide source",
                r(0, 0, 640, 360),
                1,
                10_000,
                true,
                r(318, 0, 2, 360),
            ),
            (
                "1px-high source",
                r(0, 0, 640, 360),
                10_000,
                1,
                true,
                r(0, 178, 640, 2),
            ),
            (
                "zero-size source stretches",
                r(0, 0, 64, 36),
                0,
                0,
                true,
                r(0, 0, 64, 36),
            ),
            // tiny region
            ("1x1 region", r(7, 7, 1, 1), 640, 480, true, r(6, 6, 2, 2)),
            ("2x2 region", r(4, 4, 2, 2), 1280, 720, true, r(4, 4, 2, 2)),
            (
                "empty region",
                r(4, 4, 0, 9),
                1280,
                720,
                true,
                r(4, 4, 0, 0),
            ),
            // 4K source into small tile
            (
                "4K in 320x180",
                r(960, 540, 320, 180),
                3840,
                2160,
                true,
                r(960, 540, 320, 180),
            ),
        ];
        for (name, region, sw, sh, keep, want) in cases {
            let got = fit(*region, *sw, *sh, *keep);
            assert_eq!(got, *want, "{name}");
            if !want.is_empty() {
                assert!(got.is_even_aligned(), "{name}: {got:?} not even");
                assert!(got.w >= 2 && got.h >= 2, "{name}: {got:?} too small");
                let snapped = clip(*region, u32::MAX, u32::MAX).unwrap();
                assert!(
                    snapped.contains(&got),
                    "{name}: {got:?} outside {snapped:?}"
                );
            }
        }
    }

    #[test]
    fn fit_keeps_aspect_within_rounding() {
        // For many sizes, the fitted aspect differs from the source's by less than the
        // error of rounding one side to an even number (2 px on the free side).
        for (sw, sh) in [
            (640, 480),
            (1280, 720),
            (360, 640),
            (176, 144),
            (1920, 1088),
        ] {
            for (rw, rh) in [(640, 360), (400, 225), (426, 240), (320, 320), (1280, 720)] {
                let got = fit(r(0, 0, rw, rh), sw, sh, true);
                let (gw, gh) = (u64::from(got.w), u64::from(got.h));
                let err = (gw * u64::from(sh)).abs_diff(gh * u64::from(sw));
                assert!(
                    err <= 2 * u64::from(sw.max(sh)),
                    "{sw}x{sh} in {rw}x{rh}: {got:?}"
                );
                assert!(got.w == rw & !1 || got.h == rh & !1, "not maximal: {got:?}");
            }
        }
    }

    #[test]
    fn clip_table() {
        // (name, rect, canvas_w, canvas_h, expected)
        let cases: &[(&str, Rect, u32, u32, Option<Rect>)] = &[
            (
                "inside",
                r(0, 180, 640, 360),
                1280,
                720,
                Some(r(0, 180, 640, 360)),
            ),
            (
                "whole canvas",
                r(0, 0, 1280, 720),
                1280,
                720,
                Some(r(0, 0, 1280, 720)),
            ),
            (
                "over right/bottom",
                r(1200, 700, 200, 100),
                1280,
                720,
                Some(r(1200, 700, 80, 20)),
            ),
            (
                "odd edges",
                r(881, 495, 399, 225),
                1280,
                720,
                Some(r(880, 494, 400, 226)),
            ),
            (
                "odd canvas",
                r(0, 0, 1000, 1000),
                641,
                361,
                Some(r(0, 0, 640, 360)),
            ),
            (
                "1px at the edge",
                r(1279, 719, 1, 1),
                1280,
                720,
                Some(r(1278, 718, 2, 2)),
            ),
            ("starts past right", r(1280, 0, 10, 10), 1280, 720, None),
            ("starts past bottom", r(0, 720, 10, 10), 1280, 720, None),
            ("zero width", r(10, 10, 0, 10), 1280, 720, None),
            ("zero height", r(10, 10, 10, 0), 1280, 720, None),
            ("canvas too small", r(0, 0, 10, 10), 1, 1, None),
            (
                "huge",
                r(0, 0, u32::MAX, u32::MAX),
                1920,
                1080,
                Some(r(0, 0, 1920, 1080)),
            ),
            (
                "at the far end of u32",
                r(u32::MAX - 1, 0, 10, 10),
                u32::MAX,
                4,
                None,
            ),
        ];
        for (name, rect, cw, ch, want) in cases {
            let got = clip(*rect, *cw, *ch);
            assert_eq!(got, *want, "{name}");
            if let Some(g) = got {
                assert!(g.is_even_aligned() && g.w >= 2 && g.h >= 2, "{name}: {g:?}");
                assert!(g.right() <= *cw && g.bottom() <= *ch, "{name}: {g:?}");
            }
        }
    }

    #[test]
    fn snapping_keeps_neighbours_touching() {
        // Three columns splitting an odd width: snapped edges still meet exactly.
        let cols = [r(0, 0, 427, 10), r(427, 0, 426, 10), r(853, 0, 427, 10)];
        let snapped: Vec<Rect> = cols.iter().map(|c| clip(*c, 1280, 720).unwrap()).collect();
        assert_eq!(snapped[0].right(), snapped[1].x);
        assert_eq!(snapped[1].right(), snapped[2].x);
        assert_eq!(snapped[2].right(), 1280);
    }

    #[test]
    fn scale_coord_rounds_to_nearest() {
        assert_eq!(scale_coord(495, 720, 1080), 743); // 742.5 rounds up
        assert_eq!(scale_coord(640, 1280, 1920), 960);
        assert_eq!(scale_coord(427, 1280, 640), 214); // 213.5
        assert_eq!(scale_coord(1280, 1280, 3840), 3840);
        assert_eq!(scale_coord(0, 1280, 3840), 0);
    }

    #[test]
    fn rect_predicates() {
        let a = r(0, 0, 10, 10);
        assert!(a.intersects(&r(9, 9, 5, 5)));
        assert!(!a.intersects(&r(10, 0, 5, 5)));
        assert!(!a.intersects(&r(0, 0, 0, 5)));
        assert!(a.contains(&r(2, 2, 8, 8)));
        assert!(!a.contains(&r(2, 2, 9, 8)));
        assert!(r(2, 4, 6, 8).is_even_aligned());
        assert!(!r(2, 4, 6, 7).is_even_aligned());
    }
}
