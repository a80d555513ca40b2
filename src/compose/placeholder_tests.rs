//! Placeholder pictures in the compositor: fitted like a source picture, bars in the
//! background colour, converted once per fitted size, replaced by the source's picture
//! as soon as it has one. Colours checked at sample points.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb as Px, RgbImage};

use super::tests::{assert_px, canvas, init, region, solid, src, BLUE, GREEN, GREEN_RGB, RED};
use super::*;
use crate::model::StillImage;

/// A `w` x `h` solid red placeholder, decoded from a PNG as the API does.
fn red_still(w: u32, h: u32) -> StillImage {
    still(w, h, [255, 0, 0])
}

/// 640x360 canvas: "a" on the left half, "b" (with a 16:9 red placeholder) on the right
/// half, both 320x360 and keeping the aspect ratio.
fn layout(keep: bool) -> Layout {
    let mut b = region("b", 320, 0, 320, 360, keep, None);
    b.placeholder = Some(red_still(160, 90));
    Layout {
        regions: vec![region("a", 0, 0, 320, 360, true, None), b],
    }
}

#[test]
fn placeholder_is_fitted_with_bars_in_the_background_colour() {
    init();
    let frames = HashMap::from([(
        "a".to_string(),
        src(solid(Pixel::YUV420P, 320, 360, BLUE), 1),
    )]);
    let mut c = canvas(640, 360);
    let mut comp = Compositor::new(640, 360, GREEN_RGB);
    comp.compose(&layout(true), &frames, &mut c);
    // "a" has a picture: shown as usual.
    assert_px(&c, 160, 180, BLUE, 0);
    // "b" has none: its 16:9 placeholder letterboxed to 320x180 at y = 90.
    for (x, y) in [(322, 92), (480, 180), (637, 267)] {
        assert_px(&c, x, y, RED, 2);
    }
    // Bars above and below keep the background colour.
    for (x, y) in [(480, 0), (480, 88), (480, 272), (639, 359)] {
        assert_px(&c, x, y, GREEN, 0);
    }
    let s = comp.stats();
    assert_eq!((s.missing, s.placeholders, s.scaled), (1, 1, 1), "{s:?}");
}

#[test]
fn placeholder_stretches_without_keep_aspect_ratio() {
    init();
    let mut c = canvas(640, 360);
    Compositor::new(640, 360, GREEN_RGB).compose(&layout(false), &HashMap::new(), &mut c);
    for (x, y) in [(320, 0), (480, 180), (639, 359)] {
        assert_px(&c, x, y, RED, 2);
    }
    // "a" has neither picture nor placeholder: background.
    assert_px(&c, 160, 180, GREEN, 0);
}

#[test]
fn placeholder_is_converted_once_per_fitted_size() {
    init();
    let mut l = layout(true);
    let mut c = canvas(640, 360);
    let mut comp = Compositor::new(640, 360, GREEN_RGB);
    let none = HashMap::new();
    for _ in 0..3 {
        comp.compose(&l, &none, &mut c);
    }
    let s = comp.stats();
    assert_eq!((s.scaled, s.cache_hits, s.placeholders), (1, 2, 3), "{s:?}");
    // The source shows up: its picture replaces the placeholder...
    let blue = HashMap::from([(
        "b".to_string(),
        src(solid(Pixel::YUV420P, 320, 360, BLUE), 1),
    )]);
    comp.compose(&l, &blue, &mut c);
    assert_px(&c, 480, 40, BLUE, 0);
    // ...and when it goes silent again the cached placeholder is back, not rescaled.
    comp.compose(&l, &none, &mut c);
    assert_px(&c, 480, 180, RED, 2);
    assert_px(&c, 480, 40, GREEN, 0);
    assert_eq!(comp.stats().scaled, 1);
    // The same fitted size in a region of another shape: still not rescaled.
    l.regions[1].height = 240;
    comp.compose(&l, &none, &mut c);
    assert_eq!(comp.stats().scaled, 1);
    // A new fitted size (160x90 at 320,135) converts it again.
    l.regions[1].width = 160;
    l.regions[1].height = 360;
    comp.compose(&l, &none, &mut c);
    assert_eq!(comp.stats().scaled, 2);
    assert_px(&c, 400, 180, RED, 2);
    for (x, y) in [(400, 120), (500, 180)] {
        assert_px(&c, x, y, GREEN, 0);
    }
}

/// A `w` x `h` solid picture of `rgb`, decoded from a PNG as the API does.
fn still(w: u32, h: u32, rgb: [u8; 3]) -> StillImage {
    let mut png = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Px(rgb)))
        .write_to(&mut png, ImageFormat::Png)
        .unwrap();
    StillImage::decode(png.get_ref(), GREEN_RGB).unwrap()
}

#[test]
fn background_picture_fills_outside_bars_and_empty_tiles_under_the_borders() {
    init();
    // "a" (left quarter) gets a 4:3 red picture, pillarboxed: bars at x 0..40 and
    // 280..320; "b" (next quarter) has no picture and no placeholder.
    let layout = Layout {
        regions: vec![
            region("a", 0, 0, 320, 180, true, None),
            region("b", 320, 0, 320, 180, true, None),
        ],
    };
    let frames = HashMap::from([(
        "a".to_string(),
        src(solid(Pixel::YUV420P, 160, 120, RED), 1),
    )]);
    let mut c = canvas(640, 360);
    let mut comp = Compositor::new(640, 360, GREEN_RGB);
    comp.set_background_image(Some(still(16, 9, [0, 0, 255])));
    comp.set_region_border(Some((Rgb { r: 255, g: 0, b: 0 }, 4)));
    comp.compose(&layout, &frames, &mut c);
    assert_px(&c, 160, 90, RED, 2);
    // A bar, the empty tile, outside the tiles.
    for (x, y) in [(20, 90), (480, 90), (320, 270)] {
        assert_px(&c, x, y, BLUE, 2);
    }
    // Borders along the inside of both tiles, over bar and background alike.
    for (x, y) in [(1, 90), (318, 90), (160, 1), (322, 90), (480, 178)] {
        assert_px(&c, x, y, RED, 2);
    }
    // Without the picture: the colour again.
    comp.set_background_image(None);
    comp.compose(&layout, &frames, &mut c);
    assert_px(&c, 320, 270, GREEN, 0);
}
