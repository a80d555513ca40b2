//! Still pictures (PNG, JPEG) for region placeholders, decoded with the `image` crate.
//!
//! [`StillImage::decode`] checks the limits ([`MAX_STILL_BYTES`] bytes,
//! [`MAX_STILL_SIDE`] x [`MAX_STILL_SIDE`] pixels; the decoder is told the pixel limit
//! too, so an oversized picture is refused before its buffer is allocated), decodes,
//! blends any transparency over a background colour and keeps the result once as an
//! RGB24 frame, shared (`Arc`) by every region that shows it. The compositor converts
//! it to YUV420P at each region's fitted size and caches that ([`crate::compose`]).
//!
//! Pure: no file is read here (requests carry the bytes inline).

use std::fmt;
use std::io::Cursor;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame::Video;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::model::Rgb;
pub use crate::model::StillImage;

/// Largest encoded picture accepted, bytes (4 MiB).
pub const MAX_STILL_BYTES: usize = 4 * 1024 * 1024;
/// Largest width and height accepted, pixels.
pub const MAX_STILL_SIDE: u32 = 4096;

/// Why a picture was refused. The messages complete `<field>: ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StillError {
    /// More than [`MAX_STILL_BYTES`] bytes.
    #[error("at most {MAX_STILL_BYTES} bytes (4 MiB), got {0}")]
    TooManyBytes(usize),
    /// Neither PNG nor JPEG, or corrupt.
    #[error("not a PNG or JPEG image: {0}")]
    NotAnImage(String),
    /// Wider or taller than [`MAX_STILL_SIDE`].
    #[error("at most {MAX_STILL_SIDE}x{MAX_STILL_SIDE} pixels, got {width}x{height}")]
    TooManyPixels { width: u32, height: u32 },
}

impl StillImage {
    /// Decodes PNG or JPEG `bytes`; transparent pixels are blended over `background`.
    /// Errors: [`StillError`] (too many bytes, not a PNG or JPEG image, too many pixels).
    pub fn decode(bytes: &[u8], background: Rgb) -> Result<StillImage, StillError> {
        if bytes.len() > MAX_STILL_BYTES {
            return Err(StillError::TooManyBytes(bytes.len()));
        }
        let not_image = |e: &dyn fmt::Display| StillError::NotAnImage(e.to_string());
        let format = match image::guess_format(bytes) {
            Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
            Ok(other) => return Err(not_image(&format!("{other:?} data"))),
            Err(_) if bytes.is_empty() => return Err(not_image(&"no bytes")),
            Err(_) => return Err(not_image(&"unknown format")),
        };
        let reader = || ImageReader::with_format(Cursor::new(bytes), format);
        let (width, height) = reader().into_dimensions().map_err(|e| not_image(&e))?;
        if width == 0 || height == 0 {
            return Err(not_image(&format!("empty {width}x{height} picture")));
        }
        if width > MAX_STILL_SIDE || height > MAX_STILL_SIDE {
            return Err(StillError::TooManyPixels { width, height });
        }
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_STILL_SIDE);
        limits.max_image_height = Some(MAX_STILL_SIDE);
        let mut r = reader();
        r.limits(limits);
        let img = r.decode().map_err(|e| not_image(&e))?;
        Ok(StillImage::from_rgb24(rgb24_frame(&img, background)))
    }
}

/// `img` as an RGB24 frame, alpha blended over `bg`.
fn rgb24_frame(img: &DynamicImage, bg: Rgb) -> Video {
    let (w, h) = (img.width(), img.height());
    let mut frame = Video::new(Pixel::RGB24, w, h);
    let stride = frame.stride(0);
    let row_bytes = w as usize * 3;
    let rows = frame.data_mut(0).chunks_mut(stride).take(h as usize);
    if img.color().has_alpha() {
        let rgba = img.to_rgba8();
        let bg = [bg.r, bg.g, bg.b];
        for (dst, src) in rows.zip(rgba.as_raw().chunks_exact(w as usize * 4)) {
            for (d, s) in dst[..row_bytes]
                .chunks_exact_mut(3)
                .zip(src.chunks_exact(4))
            {
                for c in 0..3 {
                    d[c] = blend(s[c], bg[c], s[3]);
                }
            }
        }
    } else {
        let rgb = img.to_rgb8();
        for (dst, src) in rows.zip(rgb.as_raw().chunks_exact(row_bytes)) {
            dst[..row_bytes].copy_from_slice(src);
        }
    }
    frame
}

/// `fg` over `bg` with opacity `alpha` (0..=255), rounded to nearest.
fn blend(fg: u8, bg: u8, alpha: u8) -> u8 {
    let a = u32::from(alpha);
    let v = (u32::from(fg) * a + u32::from(bg) * (255 - a) + 127) / 255;
    v as u8
}

#[cfg(test)]
#[path = "still_tests.rs"]
mod tests;
