//! Compositor tests: solid-colour sources, colours checked at sample points.

use super::*;
use crate::layout::preset;

pub(super) const RED: Yuv = Yuv {
    y: 81,
    u: 90,
    v: 240,
};
pub(super) const BLUE: Yuv = Yuv {
    y: 41,
    u: 240,
    v: 110,
};
/// Full-range (JPEG, YUVJ420P) red: Y=76, Cb=85, Cr=255; limited range: (81, 90, 240).
const RED_FULL: Yuv = Yuv {
    y: 76,
    u: 85,
    v: 255,
};
/// Background used by most tests: pure green (145, 54, 34), distinct from red and blue.
pub(super) const GREEN_RGB: Rgb = Rgb { r: 0, g: 255, b: 0 };
pub(super) const GREEN: Yuv = Yuv {
    y: 145,
    u: 54,
    v: 34,
};

pub(super) fn init() {
    ffmpeg_next::init().expect("ffmpeg initialises");
}

/// A `w` x `h` picture of `format` (3 planes, 4:2:0) filled with plane values `c`.
pub(super) fn solid(format: Pixel, w: u32, h: u32, c: Yuv) -> Video {
    let mut f = Video::new(format, w, h);
    canvas::fill(&mut f, c);
    f
}

pub(super) fn src(frame: Video, seq: u64) -> SourceFrame {
    SourceFrame {
        frame: Arc::new(frame),
        seq,
    }
}

pub(super) fn canvas(w: u32, h: u32) -> Video {
    // Start from garbage-looking content so "every pixel is rewritten" is tested.
    solid(Pixel::YUV420P, w, h, Yuv { y: 1, u: 2, v: 3 })
}

/// (Y, U, V) at luma pixel (x, y).
pub(super) fn at(f: &Video, x: usize, y: usize) -> Yuv {
    Yuv {
        y: f.data(0)[y * f.stride(0) + x],
        u: f.data(1)[(y / 2) * f.stride(1) + x / 2],
        v: f.data(2)[(y / 2) * f.stride(2) + x / 2],
    }
}

#[track_caller]
pub(super) fn assert_px(f: &Video, x: usize, y: usize, want: Yuv, tol: u8) {
    let got = at(f, x, y);
    let ok = got.y.abs_diff(want.y) <= tol
        && got.u.abs_diff(want.u) <= tol
        && got.v.abs_diff(want.v) <= tol;
    assert!(ok, "pixel ({x},{y}): got {got:?}, want {want:?} +-{tol}");
}

pub(super) fn region(
    camid: &str,
    left: u32,
    top: u32,
    w: u32,
    h: u32,
    keep: bool,
    z: Option<i32>,
) -> Region {
    Region {
        camid: camid.to_string(),
        top,
        left,
        width: w,
        height: h,
        keep_aspect_ratio: keep,
        z_order: z,
        placeholder: None,
    }
}

fn ids(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn side_by_side_keep_aspect_direct_copies() {
    init();
    let layout = preset::resolve("side-by-side", &ids(&["a", "b"]), 1280, 720, Some(true)).unwrap();
    let frames = HashMap::from([
        (
            "a".to_string(),
            src(solid(Pixel::YUV420P, 640, 360, RED), 1),
        ),
        (
            "b".to_string(),
            src(solid(Pixel::YUV420P, 480, 360, BLUE), 1),
        ),
    ]);
    let mut c = canvas(1280, 720);
    let mut comp = Compositor::new(1280, 720, GREEN_RGB);
    comp.compose(&layout, &frames, &mut c);

    // Left tile: 16:9 source fills the 640x360 region.
    for (x, y) in [(0, 180), (320, 360), (639, 539)] {
        assert_px(&c, x, y, RED, 0);
    }
    // Right tile: 4:3 source pillarboxed to 480x360 at x = 720.
    for (x, y) in [(720, 180), (960, 360), (1199, 539)] {
        assert_px(&c, x, y, BLUE, 0);
    }
    // Pillarbox bars and outside the regions: background.
    for (x, y) in [(640, 360), (719, 360), (1200, 360), (1279, 539)] {
        assert_px(&c, x, y, GREEN, 0);
    }
    for (x, y) in [(0, 0), (640, 90), (1279, 179), (320, 540), (1279, 719)] {
        assert_px(&c, x, y, GREEN, 0);
    }
    let s = comp.stats();
    assert_eq!((s.direct_copies, s.scaled, s.missing), (2, 0, 0), "{s:?}");
}

#[test]
fn side_by_side_with_scaling_and_full_range_source() {
    init();
    let layout = preset::resolve("side-by-side", &ids(&["a", "b"]), 1280, 720, Some(true)).unwrap();
    let frames = HashMap::from([
        (
            "a".to_string(),
            src(solid(Pixel::YUVJ420P, 1280, 720, RED_FULL), 1),
        ),
        (
            "b".to_string(),
            src(solid(Pixel::YUV420P, 1024, 768, BLUE), 1),
        ),
    ]);
    let mut c = canvas(1280, 720);
    let mut comp = Compositor::new(1280, 720, GREEN_RGB);
    comp.compose(&layout, &frames, &mut c);

    for (x, y) in [(0, 180), (320, 360), (639, 539)] {
        assert_px(&c, x, y, RED, 2);
    }
    for (x, y) in [(720, 180), (960, 360), (1199, 539)] {
        assert_px(&c, x, y, BLUE, 1);
    }
    for (x, y) in [(640, 360), (718, 300), (1200, 360), (640, 100)] {
        assert_px(&c, x, y, GREEN, 0);
    }
    assert_eq!(comp.stats().scaled, 2);
}

#[test]
fn stretch_fills_the_whole_region() {
    init();
    let layout =
        preset::resolve("side-by-side", &ids(&["a", "b"]), 1280, 720, Some(false)).unwrap();
    let frames = HashMap::from([(
        "b".to_string(),
        src(solid(Pixel::YUV420P, 480, 360, BLUE), 1),
    )]);
    let mut c = canvas(1280, 720);
    Compositor::new(1280, 720, GREEN_RGB).compose(&layout, &frames, &mut c);
    for (x, y) in [(640, 180), (641, 181), (960, 360), (1279, 539)] {
        assert_px(&c, x, y, BLUE, 1);
    }
    assert_px(&c, 960, 179, GREEN, 0);
    assert_px(&c, 960, 540, GREEN, 0);
}

#[test]
fn picture_in_picture_small_tile_on_top() {
    init();
    // The small tile is listed first but has the higher z_order: it must be on top.
    let layout = Layout {
        regions: vec![
            region("small", 880, 495, 400, 225, true, Some(1)),
            region("big", 0, 0, 1280, 720, true, None),
        ],
    };
    let frames = HashMap::from([
        (
            "big".to_string(),
            src(solid(Pixel::YUV420P, 1280, 720, RED), 7),
        ),
        (
            "small".to_string(),
            src(solid(Pixel::YUV420P, 640, 360, BLUE), 3),
        ),
    ]);
    let mut c = canvas(1280, 720);
    let mut comp = Compositor::new(1280, 720, GREEN_RGB);
    comp.compose(&layout, &frames, &mut c);
    // Tile snapped to rows 494..720 (see geometry docs).
    for (x, y) in [(880, 494), (1080, 607), (1279, 719)] {
        assert_px(&c, x, y, BLUE, 1);
    }
    for (x, y) in [(0, 0), (640, 360), (879, 600), (1080, 493)] {
        assert_px(&c, x, y, RED, 0);
    }
    let s = comp.stats();
    assert_eq!((s.direct_copies, s.scaled), (1, 1), "{s:?}");
}

#[test]
fn bars_of_an_upper_region_cover_the_lower_one() {
    init();
    let layout = preset::resolve(
        "picture-in-picture",
        &ids(&["big", "small"]),
        1280,
        720,
        Some(true),
    )
    .unwrap();
    // A 4:3 picture in the 400x226 tile: 302x226 at x = 928, bars of background beside it.
    let frames = HashMap::from([
        (
            "big".to_string(),
            src(solid(Pixel::YUV420P, 1280, 720, RED), 1),
        ),
        (
            "small".to_string(),
            src(solid(Pixel::YUV420P, 480, 360, BLUE), 1),
        ),
    ]);
    let mut c = canvas(1280, 720);
    Compositor::new(1280, 720, GREEN_RGB).compose(&layout, &frames, &mut c);
    assert_px(&c, 900, 600, GREEN, 0);
    assert_px(&c, 1250, 600, GREEN, 0);
    assert_px(&c, 1079, 600, BLUE, 1);
    assert_px(&c, 870, 600, RED, 0);
}

#[test]
fn region_without_a_frame_shows_background() {
    init();
    let layout = preset::resolve("side-by-side", &ids(&["a", "b"]), 1280, 720, Some(true)).unwrap();
    let mut frames = HashMap::from([(
        "a".to_string(),
        src(solid(Pixel::YUV420P, 640, 360, RED), 1),
    )]);
    let mut c = canvas(1280, 720);
    let mut comp = Compositor::new(1280, 720, GREEN_RGB);
    comp.compose(&layout, &frames, &mut c);
    assert_px(&c, 320, 360, RED, 0);
    assert_px(&c, 960, 360, GREEN, 0);
    // The same canvas again, now without any picture: the old picture is gone.
    frames.clear();
    comp.compose(&layout, &frames, &mut c);
    assert_px(&c, 320, 360, GREEN, 0);
    assert_eq!(comp.stats().missing, 3);
}

#[test]
fn scaled_pictures_are_cached_per_region() {
    init();
    let mut layout =
        preset::resolve("side-by-side", &ids(&["a", "b"]), 1280, 720, Some(true)).unwrap();
    let red = Arc::new(solid(Pixel::YUV420P, 320, 180, RED));
    let blue = Arc::new(solid(Pixel::YUV420P, 320, 180, BLUE));
    let frame = |f: &Arc<Video>, seq| SourceFrame {
        frame: f.clone(),
        seq,
    };
    let mut frames = HashMap::from([
        ("a".to_string(), frame(&red, 1)),
        ("b".to_string(), frame(&blue, 1)),
    ]);
    let mut c = canvas(1280, 720);
    let mut comp = Compositor::new(1280, 720, GREEN_RGB);
    let mut run =
        |comp: &mut Compositor, layout: &Layout, frames: &HashMap<String, SourceFrame>| {
            comp.compose(layout, frames, &mut c);
            let s = comp.stats();
            (s.scaled, s.cache_hits)
        };
    assert_eq!(run(&mut comp, &layout, &frames), (2, 0));
    assert_eq!(run(&mut comp, &layout, &frames), (2, 2), "nothing changed");
    frames.insert("a".to_string(), frame(&red, 2));
    assert_eq!(
        run(&mut comp, &layout, &frames),
        (3, 3),
        "a has a new picture"
    );
    layout.regions[1].width = 400;
    assert_eq!(
        run(&mut comp, &layout, &frames),
        (4, 4),
        "b's region shrank"
    );
    layout.regions.swap(0, 1);
    layout.regions[0].left = 640;
    layout.regions[1].left = 0;
    assert_eq!(
        run(&mut comp, &layout, &frames),
        (6, 4),
        "regions swapped camids"
    );
}

#[test]
fn grid_on_a_padded_canvas() {
    init();
    // 1000 px: rows are padded, so stride != width in the canvas.
    let (w, h) = (1000, 562);
    let names = ["a", "b", "c", "d"];
    let layout = preset::resolve("grid", &ids(&names), w, h, Some(true)).unwrap();
    let colours = [RED, BLUE, GREEN, Yuv::BLACK];
    let frames: HashMap<String, SourceFrame> = names
        .iter()
        .zip(colours)
        .map(|(n, col)| (n.to_string(), src(solid(Pixel::YUV420P, 640, 360, col), 1)))
        .collect();
    let mut c = canvas(w, h);
    assert_ne!(c.stride(0), w as usize, "test needs a padded canvas");
    let white = Rgb {
        r: 255,
        g: 255,
        b: 255,
    };
    Compositor::new(w, h, white).compose(&layout, &frames, &mut c);
    let centres = [(250, 140), (750, 140), (250, 420), (750, 420)];
    for ((x, y), col) in centres.into_iter().zip(colours) {
        assert_px(&c, x, y, col, 1);
    }
}

#[test]
fn direct_copy_respects_source_stride() {
    init();
    // Left half red, right half blue, 200 px wide (padded rows).
    let mut f = solid(Pixel::YUV420P, 200, 100, RED);
    assert_ne!(f.stride(0), 200, "test needs a padded source");
    canvas::fill_rect(&mut f, Rect::new(100, 0, 100, 100), BLUE);
    let layout = Layout {
        regions: vec![region("a", 100, 50, 200, 100, true, None)],
    };
    let frames = HashMap::from([("a".to_string(), src(f, 1))]);
    let mut c = canvas(640, 360);
    let mut comp = Compositor::new(640, 360, GREEN_RGB);
    comp.compose(&layout, &frames, &mut c);
    assert_eq!(comp.stats().direct_copies, 1);
    assert_px(&c, 100, 50, RED, 0);
    assert_px(&c, 199, 149, RED, 0);
    assert_px(&c, 200, 50, BLUE, 0);
    assert_px(&c, 299, 149, BLUE, 0);
    assert_px(&c, 300, 100, GREEN, 0);
    assert_px(&c, 150, 150, GREEN, 0);
}

#[test]
fn odd_sources_and_regions_outside_the_canvas() {
    init();
    let layout = Layout {
        regions: vec![
            region("odd", 1, 1, 333, 111, true, None),
            region("off", 1200, 600, 400, 400, false, None),
            region("gone", 2000, 0, 10, 10, false, None),
        ],
    };
    let frames = HashMap::from([
        (
            "odd".to_string(),
            src(solid(Pixel::YUV420P, 321, 241, BLUE), 1),
        ),
        (
            "off".to_string(),
            src(solid(Pixel::YUVJ420P, 64, 64, RED_FULL), 1),
        ),
        (
            "gone".to_string(),
            src(solid(Pixel::YUV420P, 64, 64, RED), 1),
        ),
    ]);
    let mut c = canvas(1280, 720);
    Compositor::new(1280, 720, GREEN_RGB).compose(&layout, &frames, &mut c);
    // 321x241 into the snapped 334x112 area: 150x112 at x = 92.
    assert_px(&c, 167, 56, BLUE, 1);
    assert_px(&c, 90, 56, GREEN, 0);
    // Clipped to 80x120 at the bottom-right corner.
    assert_px(&c, 1200, 600, RED, 2);
    assert_px(&c, 1279, 719, RED, 2);
    assert_px(&c, 1199, 719, GREEN, 0);
}

#[test]
fn unusable_source_shows_background() {
    init();
    let layout = Layout {
        regions: vec![region("a", 0, 0, 640, 360, true, None)],
    };
    let frames = HashMap::from([("a".to_string(), src(Video::empty(), 1))]);
    let mut c = canvas(640, 360);
    let mut comp = Compositor::new(640, 360, GREEN_RGB);
    comp.compose(&layout, &frames, &mut c);
    comp.compose(&layout, &frames, &mut c);
    assert_px(&c, 320, 180, GREEN, 0);
    assert_eq!(comp.stats().scale_errors, 2);
}

#[test]
fn background_can_change() {
    init();
    let mut c = canvas(64, 36);
    let mut comp = Compositor::new(64, 36, Rgb::default());
    comp.compose(&Layout::default(), &HashMap::new(), &mut c);
    assert_px(&c, 10, 10, Yuv::BLACK, 0);
    comp.set_background(Rgb { r: 255, g: 0, b: 0 });
    assert_eq!(comp.background(), Rgb { r: 255, g: 0, b: 0 });
    comp.compose(&Layout::default(), &HashMap::new(), &mut c);
    assert_px(&c, 63, 35, RED, 0);
}

#[test]
fn draw_order_matches_layout() {
    init();
    // Three overlapping full-canvas regions; the last drawn wins the whole canvas.
    let layout = Layout {
        regions: vec![
            region("b", 0, 0, 64, 36, false, Some(2)),
            region("a", 0, 0, 64, 36, false, None),
            region("r", 0, 0, 64, 36, false, Some(2)),
        ],
    };
    assert_eq!(layout.draw_order().last().unwrap().camid, "r");
    let frames = HashMap::from([
        (
            "a".to_string(),
            src(solid(Pixel::YUV420P, 64, 36, GREEN), 1),
        ),
        ("b".to_string(), src(solid(Pixel::YUV420P, 64, 36, BLUE), 1)),
        ("r".to_string(), src(solid(Pixel::YUV420P, 64, 36, RED), 1)),
    ]);
    let mut c = canvas(64, 36);
    Compositor::new(64, 36, Rgb::default()).compose(&layout, &frames, &mut c);
    assert_px(&c, 32, 18, RED, 0);
}

#[test]
fn compositor_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Compositor>();
    // Decoder threads hand pictures to the compositing thread.
    assert_send::<SourceFrame>();
}

/// Per-frame cost of composing, every source with a new picture each frame.
/// Run: `cargo test --release --lib compose::tests::bench_compose -- --ignored --nocapture`
#[test]
#[ignore = "benchmark; prints timings"]
fn bench_compose() {
    use ffmpeg_next::software::scaling::Flags;
    init();
    /// (name, canvas, preset, source size, sources)
    type Case = (&'static str, (u32, u32), &'static str, (u32, u32), usize);
    let cases: &[Case] = &[
        (
            "side-by-side 720p<-2x720p",
            (1280, 720),
            "side-by-side",
            (1280, 720),
            2,
        ),
        ("grid 720p<-4xVGA", (1280, 720), "grid", (640, 480), 4),
        (
            "pip 720p<-2x720p",
            (1280, 720),
            "picture-in-picture",
            (1280, 720),
            2,
        ),
        (
            "grid-3x3 1080p<-9x360p",
            (1920, 1080),
            "grid-3x3",
            (640, 360),
            9,
        ),
        (
            "side-by-side 1080p<-2x1080p",
            (1920, 1080),
            "side-by-side",
            (1920, 1080),
            2,
        ),
    ];
    let frames_n = 300u64;
    for &(name, (cw, ch), preset_name, (sw, sh), n) in cases {
        let camids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let layout = preset::resolve(preset_name, &camids, cw, ch, Some(true)).unwrap();
        let pics: Vec<Arc<Video>> = (0..n)
            .map(|i| {
                let mut f = solid(Pixel::YUV420P, sw, sh, BLUE);
                // Some structure so the scaler does real work.
                for (k, b) in f.data_mut(0).iter_mut().enumerate() {
                    *b = ((k * 7 + i * 13) % 219 + 16) as u8;
                }
                Arc::new(f)
            })
            .collect();
        for (label, flags) in [
            ("fast_bilinear", Flags::FAST_BILINEAR),
            ("bilinear", Flags::BILINEAR),
        ] {
            let mut comp = Compositor::new(cw, ch, GREEN_RGB);
            comp.set_scale_flags(flags);
            let mut c = Video::new(Pixel::YUV420P, cw, ch);
            let mut frames = HashMap::new();
            let (t0, cpu0) = (std::time::Instant::now(), thread_cpu_ns());
            for seq in 0..frames_n {
                for (id, p) in camids.iter().zip(&pics) {
                    frames.insert(
                        id.clone(),
                        SourceFrame {
                            frame: p.clone(),
                            seq,
                        },
                    );
                }
                comp.compose(&layout, &frames, &mut c);
            }
            let wall = t0.elapsed().as_secs_f64() * 1e3 / frames_n as f64;
            let cpu = thread_cpu_ns()
                .zip(cpu0)
                .map_or(f64::NAN, |(b, a)| (b - a) as f64 / 1e6 / frames_n as f64);
            println!("{name:30} {label:14} cpu {cpu:>6.3} ms/frame, wall {wall:>6.3} ms/frame");
        }
    }
}

/// CPU time of the calling thread, ns (Linux `/proc/thread-self/schedstat`, first field),
/// so the benchmark is not skewed by other processes on a busy machine.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
