//! Still picture decoding: formats, limits, transparency. Pictures are made here with the
//! `image` crate's encoders.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb as Px, RgbImage, Rgba, RgbaImage};

use super::*;

const BLACK: Rgb = Rgb { r: 0, g: 0, b: 0 };

fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test picture");
    out.into_inner()
}

/// A `w` x `h` PNG of one colour.
fn solid_png(w: u32, h: u32, c: [u8; 3]) -> Vec<u8> {
    encode(
        DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Px(c))),
        ImageFormat::Png,
    )
}

/// RGB of pixel (x, y) of an RGB24 frame.
fn px(f: &Video, x: usize, y: usize) -> [u8; 3] {
    let i = y * f.stride(0) + x * 3;
    let d = f.data(0);
    [d[i], d[i + 1], d[i + 2]]
}

#[test]
fn decodes_png_to_an_rgb24_frame() {
    let img = StillImage::decode(&solid_png(10, 6, [200, 30, 90]), BLACK).unwrap();
    assert_eq!((img.width(), img.height()), (10, 6));
    assert_eq!(img.frame().format(), Pixel::RGB24);
    for (x, y) in [(0, 0), (9, 5), (4, 3)] {
        assert_eq!(px(img.frame(), x, y), [200, 30, 90], "({x},{y})");
    }
}

#[test]
fn decodes_jpeg() {
    let jpeg = encode(
        DynamicImage::ImageRgb8(RgbImage::from_pixel(32, 16, Px([0, 0, 255]))),
        ImageFormat::Jpeg,
    );
    let img = StillImage::decode(&jpeg, BLACK).unwrap();
    assert_eq!((img.width(), img.height()), (32, 16));
    let [r, g, b] = px(img.frame(), 16, 8);
    assert!(r < 20 && g < 20 && b > 235, "{:?}", [r, g, b]);
}

#[test]
fn refuses_more_than_max_bytes() {
    let e = StillImage::decode(&vec![0u8; MAX_STILL_BYTES + 1], BLACK).unwrap_err();
    assert_eq!(e, StillError::TooManyBytes(MAX_STILL_BYTES + 1));
    assert!(e.to_string().starts_with("at most 4194304 bytes"), "{e}");
    // Exactly the limit passes the size check (and then fails as garbage).
    let e = StillImage::decode(&vec![0u8; MAX_STILL_BYTES], BLACK).unwrap_err();
    assert!(matches!(e, StillError::NotAnImage(_)), "{e}");
}

#[test]
fn refuses_more_than_max_side() {
    for (w, h) in [(MAX_STILL_SIDE + 1, 1), (1, MAX_STILL_SIDE + 1)] {
        let e = StillImage::decode(&solid_png(w, h, [1, 2, 3]), BLACK).unwrap_err();
        assert_eq!(
            e,
            StillError::TooManyPixels {
                width: w,
                height: h
            }
        );
        assert!(e.to_string().starts_with("at most 4096x4096 pixels"), "{e}");
    }
    let ok = StillImage::decode(&solid_png(MAX_STILL_SIDE, 2, [1, 2, 3]), BLACK).unwrap();
    assert_eq!(ok.width(), MAX_STILL_SIDE);
}

#[test]
fn refuses_what_is_not_png_or_jpeg() {
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let png = solid_png(4, 4, [9, 9, 9]);
    let truncated = png[..png.len() / 2].to_vec();
    for (bytes, why) in [
        (b"hello, world".to_vec(), "unknown format"),
        (Vec::new(), "no bytes"),
        (gif, "Gif data"),
        (truncated, ""),
    ] {
        let e = StillImage::decode(&bytes, BLACK).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("not a PNG or JPEG image: ") && msg.contains(why),
            "{msg:?} should say {why:?}"
        );
    }
}

#[test]
fn transparency_is_blended_over_the_background() {
    let mut rgba = RgbaImage::from_pixel(2, 2, Rgba([255, 0, 0, 255]));
    rgba.put_pixel(1, 0, Rgba([255, 0, 0, 0]));
    rgba.put_pixel(0, 1, Rgba([255, 0, 0, 128]));
    let png = encode(DynamicImage::ImageRgba8(rgba), ImageFormat::Png);
    let img = StillImage::decode(&png, Rgb { r: 0, g: 0, b: 200 }).unwrap();
    assert_eq!(px(img.frame(), 0, 0), [255, 0, 0], "opaque");
    assert_eq!(
        px(img.frame(), 1, 0),
        [0, 0, 200],
        "transparent: background"
    );
    assert_eq!(px(img.frame(), 0, 1), [128, 0, 100], "half: mixed");
}

#[test]
fn each_decode_is_a_distinct_image() {
    let png = solid_png(2, 2, [0, 0, 0]);
    let a = StillImage::decode(&png, BLACK).unwrap();
    let b = StillImage::decode(&png, BLACK).unwrap();
    assert_ne!(a.id(), b.id());
    assert_eq!(a.clone(), a);
    assert_ne!(a, b);
}
