//! Name labels on tiles: a source's display name (`SourceConfig.display_name`, Latin or
//! CJK) drawn by the compositor at the bottom-left of every region showing it, white
//! text on a darkened box, without a browser.
//!
//! Glyphs are outlined and rasterized by `ab_glyph` from one TrueType/OpenType font (a
//! `.ttf`, `.otf` or the first face of a `.ttc`), laid out left to right by advance and
//! kerning (no complex shaping: Latin and CJK need none). The default font is WenQuanYi
//! Micro Hei from Debian's `fonts-wqy-microhei` ([`DEFAULT_LABEL_FONT`]), which covers
//! Latin and Chinese; the daemon loads it at startup (`--label-font`) and installs it
//! for every mixer ([`install`]); characters the font lacks draw as its `.notdef` box.
//!
//! A label is rasterized once per (text, pixel size) into an 8-bit coverage mask
//! ([`Mask`]) and blended into the YUV420P canvas each picture ([`draw`]): luma towards
//! white by coverage, the box darkened to 35 % luma with its chroma pulled to grey.
//! Text size: the region's height / 14, 12..=32 px; a label wider than its region is
//! cut at the region's right edge.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontArc, PxScale, ScaleFont};
use ffmpeg_next::frame::Video;

use crate::layout::geometry::Rect;

/// Where Debian's fonts-wqy-microhei puts its font.
pub const DEFAULT_LABEL_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
/// Longest display name, characters.
pub const MAX_LABEL_CHARS: usize = 64;

static FONT: OnceLock<FontArc> = OnceLock::new();

/// Reads the font at `path` (first face of a collection).
/// Errors: the file cannot be read, or is no font ab_glyph can parse.
pub fn load_font(path: &std::path::Path) -> Result<FontArc, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ab_glyph::FontVec::try_from_vec_and_index(bytes, 0)
        .map(FontArc::new)
        .map_err(|e| format!("{}: not a font: {e}", path.display()))
}

/// Makes `font` the labels' font for the process (the first call wins).
pub fn install(font: FontArc) {
    let _ = FONT.set(font);
}

/// The installed font; None: labels are not drawn (the daemon warned at startup).
pub fn font() -> Option<&'static FontArc> {
    FONT.get()
}

/// A rasterized text: `w` x `h` coverage values (0 = none, 255 = full), row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    pub w: u32,
    pub h: u32,
    pub alpha: Vec<u8>,
}

/// Text size for a region `region_h` pixels high, pixels.
pub fn text_px(region_h: u32) -> u32 {
    (region_h / 14).clamp(12, 32)
}

/// Rasterizes `text` at `px` pixels (the font's ascent-to-descent height).
pub fn rasterize(font: &FontArc, text: &str, px: u32) -> Mask {
    let scaled = font.as_scaled(PxScale::from(px as f32));
    let ascent = scaled.ascent();
    let h = (ascent - scaled.descent()).ceil().max(1.0) as u32;
    let mut x = 0.0f32;
    let mut glyphs = Vec::new();
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(PxScale::from(px as f32), point(x, ascent)));
        x += scaled.h_advance(id);
        prev = Some(id);
    }
    let w = x.ceil().max(1.0) as u32;
    let mut alpha = vec![0u8; (w * h) as usize];
    for g in glyphs {
        let Some(outlined) = font.outline_glyph(g) else {
            continue;
        };
        let b = outlined.px_bounds();
        outlined.draw(|gx, gy, cov| {
            let (px_x, px_y) = (
                b.min.x as i64 + i64::from(gx),
                b.min.y as i64 + i64::from(gy),
            );
            if px_x < 0 || px_y < 0 || px_x >= i64::from(w) || px_y >= i64::from(h) {
                return;
            }
            let i = px_y as usize * w as usize + px_x as usize;
            let v = (cov.clamp(0.0, 1.0) * 255.0).round() as u8;
            alpha[i] = alpha[i].max(v);
        });
    }
    Mask { w, h, alpha }
}

/// Draws `mask` in a box at the bottom-left of `area` (luma pixels) of `canvas`
/// (YUV420P), clipped to `area`.
pub fn draw(canvas: &mut Video, area: Rect, mask: &Mask) {
    let pad = (mask.h / 4).max(2) & !1;
    let box_w = (mask.w + 2 * pad).min(area.w) & !1;
    let box_h = (mask.h + 2 * pad).min(area.h) & !1;
    if box_w == 0 || box_h == 0 {
        return;
    }
    let x0 = area.x & !1;
    let y0 = (area.y + area.h - box_h) & !1;
    // Luma: darken the box, then the text towards white by coverage.
    let stride = canvas.stride(0);
    let luma = canvas.data_mut(0);
    for row in 0..box_h {
        let line = &mut luma[(y0 + row) as usize * stride..];
        for col in 0..box_w {
            let p = &mut line[(x0 + col) as usize];
            let dark = (u32::from(*p) * 35 / 100) as u8;
            let (mx, my) = (col.wrapping_sub(pad), row.wrapping_sub(pad));
            let a = if mx < mask.w && my < mask.h {
                u32::from(mask.alpha[(my * mask.w + mx) as usize])
            } else {
                0
            };
            *p = ((u32::from(dark) * (255 - a) + 235 * a) / 255) as u8;
        }
    }
    // Chroma: greyer box (2x2 subsampled planes).
    for plane in 1..3 {
        let stride = canvas.stride(plane);
        let data = canvas.data_mut(plane);
        for row in 0..box_h / 2 {
            let line = &mut data[((y0 / 2) + row) as usize * stride..];
            for col in 0..box_w / 2 {
                let p = &mut line[((x0 / 2) + col) as usize];
                *p = ((i32::from(*p) - 128) * 2 / 5 + 128) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_px_follows_the_region() {
        assert_eq!(text_px(720), 32);
        assert_eq!(text_px(360), 25);
        assert_eq!(text_px(100), 12);
    }

    /// Needs the Debian font (scripts/install-deps.sh installs it): a missing font is a
    /// failure, not a skip.
    #[test]
    fn latin_and_chinese_names_have_ink() {
        let font = load_font(std::path::Path::new(DEFAULT_LABEL_FONT)).expect("the label font");
        for text in ["Alice", "张伟"] {
            let m = rasterize(&font, text, 24);
            let inked = m.alpha.iter().filter(|&&a| a > 128).count();
            assert!(m.w > 20 && m.h >= 24, "{text}: {}x{}", m.w, m.h);
            assert!(inked > 40, "{text}: {inked} inked pixels");
        }
    }
}
