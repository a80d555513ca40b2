//! Colour conversion: sRGB (8 bit) to BT.601 limited-range Y'CbCr, integer only.

use crate::model::Rgb;

/// One Y'CbCr colour as stored in YUV420P planes: `y` in 16..=235, `u` (Cb) and `v` (Cr)
/// in 16..=240 (limited, "TV" range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Yuv {
    /// Luma, 16..=235.
    pub y: u8,
    /// Blue-difference chroma (Cb), 16..=240, 128 = neutral.
    pub u: u8,
    /// Red-difference chroma (Cr), 16..=240, 128 = neutral.
    pub v: u8,
}

impl Yuv {
    /// Black: Y=16, U=V=128.
    pub const BLACK: Yuv = Yuv {
        y: 16,
        u: 128,
        v: 128,
    };
}

/// Fixed-point scale of the coefficients below: 2^16.
const SHIFT: u32 = 16;
const HALF: i32 = 1 << (SHIFT - 1);

/// `rgb` as BT.601 limited-range Y'CbCr (ITU-R BT.601-7 section 2.5, Kr = 0.299,
/// Kb = 0.114), treating the 8-bit values as gamma-encoded R'G'B':
///
/// ```text
/// Y  = 16  + ( 16829 R + 33039 G +  6416 B + 2^15) >> 16   (0.256788, 0.504129, 0.097906)
/// Cb = 128 + ( -9714 R - 19070 G + 28784 B + 2^15) >> 16   (-0.148223, -0.290993, 0.439216)
/// Cr = 128 + ( 28784 R - 24103 G -  4681 B + 2^15) >> 16   (0.439216, -0.367788, -0.071427)
/// ```
///
/// i.e. the exact BT.601 matrix scaled by 219/255 (luma) and 224/255 (chroma), in 16.16
/// fixed point, rounded half up. Black is (16, 128, 128), white (235, 128, 128), pure red
/// (81, 90, 240), green (145, 54, 34), blue (41, 240, 110).
pub fn rgb_to_yuv(rgb: Rgb) -> Yuv {
    let (r, g, b) = (i32::from(rgb.r), i32::from(rgb.g), i32::from(rgb.b));
    // Arithmetic right shift of a negative value rounds towards -inf, as intended.
    let y = 16 + ((16829 * r + 33039 * g + 6416 * b + HALF) >> SHIFT);
    let u = 128 + ((-9714 * r - 19070 * g + 28784 * b + HALF) >> SHIFT);
    let v = 128 + ((28784 * r - 24103 * g - 4681 * b + HALF) >> SHIFT);
    // The clamps cannot bite for 8-bit input; they document the ranges.
    Yuv {
        y: y.clamp(16, 235) as u8,
        u: u.clamp(16, 240) as u8,
        v: v.clamp(16, 240) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(r: u8, g: u8, b: u8) -> Rgb {
        Rgb { r, g, b }
    }

    #[test]
    fn known_colours() {
        // (rgb, expected Y, U, V)
        let cases = [
            (rgb(0, 0, 0), (16, 128, 128)),
            (rgb(255, 255, 255), (235, 128, 128)),
            (rgb(255, 0, 0), (81, 90, 240)),
            (rgb(0, 255, 0), (145, 54, 34)),
            (rgb(0, 0, 255), (41, 240, 110)),
            (rgb(128, 128, 128), (126, 128, 128)),
        ];
        for (c, (y, u, v)) in cases {
            assert_eq!(rgb_to_yuv(c), Yuv { y, u, v }, "{c:?}");
        }
        assert_eq!(rgb_to_yuv(rgb(0, 0, 0)), Yuv::BLACK);
    }

    #[test]
    fn within_range_and_close_to_float_formula() {
        for r in (0..=255u8).step_by(15) {
            for g in (0..=255u8).step_by(15) {
                for b in (0..=255u8).step_by(15) {
                    let got = rgb_to_yuv(rgb(r, g, b));
                    let (rf, gf, bf) = (f64::from(r), f64::from(g), f64::from(b));
                    let y = 16.0 + (65.481 * rf + 128.553 * gf + 24.966 * bf) / 255.0;
                    let u = 128.0 + (-37.797 * rf - 74.203 * gf + 112.0 * bf) / 255.0;
                    let v = 128.0 + (112.0 * rf - 93.786 * gf - 18.214 * bf) / 255.0;
                    for (got, want) in [(got.y, y), (got.u, u), (got.v, v)] {
                        assert!(
                            (f64::from(got) - want).abs() <= 0.51,
                            "{r},{g},{b}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
