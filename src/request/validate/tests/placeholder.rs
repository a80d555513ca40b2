//! Placeholder picture rules (`placeholder_image` of a region or preset).

use std::io::Cursor;

use super::*;
use crate::media::still::{MAX_STILL_BYTES, MAX_STILL_SIDE};
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};

/// A `w` x `h` PNG of one RGBA colour.
fn png(w: u32, h: u32, c: [u8; 4]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(RgbaImage::from_pixel(w, h, Rgba(c)))
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// `req()` with `bytes` as the placeholder of region 1.
fn with_region_image(bytes: Vec<u8>) -> proto::CreateCloudMixerRequest {
    let mut r = req();
    cfg(&mut r).layout_config[1].placeholder_image = bytes;
    r
}

/// `req()` with a grid preset instead of regions, and `bytes` as its placeholder.
fn with_preset_image(bytes: Vec<u8>) -> proto::CreateCloudMixerRequest {
    let mut r = req();
    cfg(&mut r).layout_config.clear();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset {
        name: "grid".into(),
        placeholder_image: bytes,
        ..Default::default()
    });
    r
}

#[test]
fn region_placeholder_must_be_png_or_jpeg() {
    rejects(
        with_region_image(b"GIF89a\x01\x00\x01\x00".to_vec()),
        "video_file_cfg.layout_config[1].placeholder_image: not a PNG or JPEG image: Gif data",
    );
    let mut truncated = png(8, 8, [1, 2, 3, 255]);
    truncated.truncate(truncated.len() - 20);
    rejects(
        with_region_image(truncated),
        "video_file_cfg.layout_config[1].placeholder_image: not a PNG or JPEG image: ",
    );
}

#[test]
fn region_placeholder_at_most_max_bytes() {
    rejects(
        with_region_image(vec![0; MAX_STILL_BYTES + 1]),
        "video_file_cfg.layout_config[1].placeholder_image: at most 4194304 bytes (4 MiB), got 4194305",
    );
}

#[test]
fn region_placeholder_at_most_max_side() {
    rejects(
        with_region_image(png(MAX_STILL_SIDE + 1, 2, [0, 0, 0, 255])),
        "video_file_cfg.layout_config[1].placeholder_image: at most 4096x4096 pixels, got 4097x2",
    );
}

#[test]
fn region_placeholder_is_decoded_once_per_distinct_picture() {
    let red = png(4, 2, [255, 0, 0, 255]);
    let mut r = with_region_image(red.clone());
    cfg(&mut r).layout_config[0].placeholder_image = red;
    let s = create_request(&r, &defaults()).unwrap();
    let (a, b) = (
        &s.layout.regions[0].placeholder,
        &s.layout.regions[1].placeholder,
    );
    assert_eq!(a.as_ref().map(|i| (i.width(), i.height())), Some((4, 2)));
    assert_eq!(a, b, "same bytes: one shared picture");
    let mut r = with_region_image(png(4, 2, [0, 0, 255, 255]));
    cfg(&mut r).layout_config[0].placeholder_image = png(4, 2, [255, 0, 0, 255]);
    let s = create_request(&r, &defaults()).unwrap();
    assert_ne!(
        s.layout.regions[0].placeholder,
        s.layout.regions[1].placeholder
    );
    // No bytes: no picture (the background is shown).
    let s = create_request(&req(), &defaults()).unwrap();
    assert!(s.layout.regions.iter().all(|r| r.placeholder.is_none()));
}

#[test]
fn transparency_is_blended_over_the_mixer_background() {
    let mut r = with_region_image(png(2, 2, [255, 255, 255, 0]));
    cfg(&mut r).background_color = "#0000C8".into();
    let s = create_request(&r, &defaults()).unwrap();
    let img = s.layout.regions[1].placeholder.clone().unwrap();
    let f = img.frame();
    assert_eq!(&f.data(0)[..3], &[0, 0, 200]);
}

#[test]
fn preset_placeholder_applies_to_every_region() {
    let s = create_request(&with_preset_image(png(2, 2, [0, 255, 0, 255])), &defaults()).unwrap();
    assert_eq!(s.layout.regions.len(), 2);
    let first = s.layout.regions[0].placeholder.clone();
    assert!(first.is_some());
    assert!(s.layout.regions.iter().all(|r| r.placeholder == first));
    rejects(
        with_preset_image(b"not a picture".to_vec()),
        "video_file_cfg.layout_preset.placeholder_image: not a PNG or JPEG image: unknown format",
    );
}

#[test]
fn update_names_the_field_without_prefix() {
    let sources = create_request(&req(), &defaults()).unwrap().sources;
    let mut region = region("Usr1.-1", 0, 0, 640, 360);
    region.placeholder_image = b"junk".to_vec();
    let u = proto::UpdateCloudMixerContentRequest {
        mixer_id: "m1".into(),
        layout_config: vec![region],
        ..Default::default()
    };
    let current = current(&sources);
    let e = update_request(&u, current).unwrap_err();
    assert_eq!(
        e.to_string(),
        "layout_config[0].placeholder_image: not a PNG or JPEG image: unknown format"
    );
}
