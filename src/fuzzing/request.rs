//! Harnesses for request bytes: layout preset JSON, Create and Update validation.

use super::*;

/// Canvases a preset is resolved on in [`layout_preset_json`], pixels: tiny, odd, the
/// largest request canvas and the extremes of `u32`.
const CANVASES: &[(u32, u32)] = &[
    (1, 1),
    (2, 2),
    (3, 5),
    (641, 359),
    (1280, 720),
    (3840, 2160),
    (u32::MAX, 1),
    (u32::MAX, u32::MAX),
];

/// Source picture sizes fitted into the regions, pixels (0 has no aspect ratio).
const SOURCE_SIZES: &[(u32, u32)] = &[(0, 0), (1, 1), (640, 480), (1, 4000), (u32::MAX, 3)];

/// A user preset file through [`Preset::parse`]: the input is the file name, a newline,
/// then the JSON text (invalid UTF-8 is skipped, as the loader refuses it). An accepted
/// preset is resolved with 0..=all camids on [`CANVASES`]; each region must keep at least
/// 1x1 pixel inside the canvas, and then goes through the compositor's geometry
/// ([`check_layout`]).
pub fn layout_preset_json(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let (file_name, json) = text.split_once('\n').unwrap_or(("fuzz.json", text));
    let Ok(preset) = Preset::parse(file_name, json) else {
        return false;
    };
    assert!(preset.canvas_width > 0 && preset.canvas_height > 0);
    assert!(!preset.regions.is_empty());
    let camids: Vec<String> = (0..=preset.regions.len())
        .map(|i| format!("c{i}"))
        .collect();
    for &(w, h) in CANVASES {
        for n in [0, 1, preset.regions.len()] {
            let layout = preset
                .layout(&camids[..n], w, h, None)
                .expect("camid count is within the regions and the canvas is non-zero");
            assert_eq!(layout.regions.len(), n);
            for r in &layout.regions {
                assert!(r.width >= 1 && r.height >= 1, "collapsed region {r:?}");
                assert!(
                    u64::from(r.left) + u64::from(r.width) <= u64::from(w)
                        && u64::from(r.top) + u64::from(r.height) <= u64::from(h),
                    "region {r:?} outside the {w}x{h} canvas"
                );
            }
            check_layout(&layout, w, h);
        }
        let too_many = preset.layout(&camids, w, h, Some(true));
        assert!(too_many.is_err(), "more camids than regions accepted");
    }
    true
}

/// The compositor's geometry on every region of `layout` for a `canvas_w` x `canvas_h`
/// canvas: [`geometry::clip`] gives an even-aligned rectangle of at least 2x2 inside the
/// canvas, [`geometry::fit`] one inside the snapped region; draw order is a permutation.
pub fn check_layout(layout: &Layout, canvas_w: u32, canvas_h: u32) {
    let canvas = Rect::new(0, 0, canvas_w, canvas_h);
    for r in &layout.regions {
        let rect = Rect::new(r.left, r.top, r.width, r.height);
        if let Some(c) = geometry::clip(rect, canvas_w, canvas_h) {
            assert!(
                c.is_even_aligned() && c.w >= 2 && c.h >= 2,
                "clip {rect:?} -> {c:?}"
            );
            assert!(canvas.contains(&c), "clip {rect:?} -> {c:?} off canvas");
        }
        let snapped = geometry::clip(rect, u32::MAX, u32::MAX);
        for &(sw, sh) in SOURCE_SIZES {
            let f = geometry::fit(rect, sw, sh, r.keep_aspect_ratio);
            match snapped {
                Some(s) => {
                    assert!(f.is_even_aligned() && f.w >= 2 && f.h >= 2, "fit -> {f:?}");
                    assert!(s.contains(&f), "fit {f:?} outside snapped {s:?}");
                }
                None => assert!(f.is_empty(), "fit of an empty region -> {f:?}"),
            }
        }
    }
    assert_eq!(layout.draw_order().len(), layout.regions.len());
}

/// Recordings root for the validation harnesses, reported as `/nonexistent/recordings`
/// (the handle is the temp dir, opened once); validation is pure, nothing is created.
fn defaults() -> OutputDefaults {
    static ROOT: std::sync::OnceLock<crate::model::RecordingsRoot> = std::sync::OnceLock::new();
    let root = ROOT.get_or_init(|| {
        let dir =
            cap_std::fs::Dir::open_ambient_dir(std::env::temp_dir(), cap_std::ambient_authority())
                .expect("open the temp dir");
        crate::model::RecordingsRoot::from_dir(dir, "/nonexistent/recordings".into())
    });
    OutputDefaults {
        recordings_root: root.clone(),
        x264_preset: "veryfast".to_owned(),
        encoder_threads: 0,
        max_picture_pixels: crate::model::DEFAULT_MAX_PICTURE_PIXELS,
        single_path_template: crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE.to_owned(),
    }
}

/// A gRPC `CreateCloudMixer` request body: decoded with `prost` (undecodable bytes are
/// refused by tonic before validation, so they are skipped) and validated by
/// [`validate::create_request`]. An accepted spec has unique camids, an even canvas
/// within limits, a relative `.mp4` path under the root and every region inside the
/// canvas ([`check_layout`]).
pub fn validate_create_request(data: &[u8]) -> bool {
    let Ok(req) = proto::CreateCloudMixerRequest::decode(data) else {
        return false;
    };
    let defaults = defaults();
    let Ok(spec) = validate::create_request(&req, &defaults) else {
        return false;
    };
    let out = &spec.output;
    assert!(
        out.encoding.width > 0
            && out.encoding.height > 0
            && out.encoding.width % 2 == 0
            && out.encoding.height % 2 == 0
    );
    assert!(out.abs_path.starts_with(defaults.recordings_root.path()));
    assert!(out.rel_path.to_ascii_lowercase().ends_with(".mp4"));
    assert!(!spec.mixer_id.is_empty() && spec.mixer_id != "." && spec.mixer_id != "..");
    assert!(spec.oper_user_id.len() <= validate::strings::MAX_OPER_USER_ID_LEN);
    assert!(!spec.oper_user_id.chars().any(char::is_control));
    assert!(out
        .rel_path
        .split('/')
        .all(|c| c.len() <= validate::strings::MAX_PATH_COMPONENT_LEN));
    check_sources(&spec.sources);
    check_request_layout(&spec.layout, out.encoding.width, out.encoding.height);
    true
}

/// The sources of the mixer an Update is checked against: a VP8 camera, an audio-only
/// source and an H.264 camera (the camids the seeds use).
fn current_sources() -> Vec<SourceSpec> {
    let video = |codec| {
        Some(crate::model::RtpStreamSpec {
            codec,
            payload_type: 96,
            ssrc: None,
        })
    };
    vec![
        SourceSpec {
            camid: "Usr1.-1".to_owned(),
            video: video(VideoCodec::Vp8),
            audio: None,
            transport: Default::default(),
            ..Default::default()
        },
        SourceSpec {
            camid: "Usr2.-1".to_owned(),
            video: None,
            audio: Some(crate::model::RtpStreamSpec {
                codec: crate::model::AudioCodec::Opus,
                payload_type: 111,
                ssrc: Some(7),
            }),
            transport: Default::default(),
            ..Default::default()
        },
        SourceSpec {
            camid: "Usr3.-1".to_owned(),
            video: video(VideoCodec::H264),
            audio: None,
            transport: Default::default(),
            ..Default::default()
        },
    ]
}

/// A gRPC `UpdateCloudMixerContent` request body, decoded with `prost` and validated by
/// [`validate::update_request`] against a 1280x720 mixer with [`current_sources`]. An
/// accepted update leaves unique camids and a layout inside the canvas.
pub fn validate_update_request(data: &[u8]) -> bool {
    let Ok(req) = proto::UpdateCloudMixerContentRequest::decode(data) else {
        return false;
    };
    let sources = current_sources();
    let canvas = validate::Canvas {
        width: 1280,
        height: 720,
        background: Default::default(),
    };
    // The Create default's rule: joins and leaves without a layout fill it again.
    let fill = crate::model::LayoutFill::FromSources {
        preset: None,
        keep_aspect_ratio: Some(true),
        placeholder: None,
    };
    let current = validate::Current {
        canvas,
        sources: &sources,
        layout_fill: &fill,
    };
    let Ok(update) = validate::update_request(&req, current) else {
        return false;
    };
    check_sources(&validate::apply_sources(&sources, &update));
    if let Some(layout) = &update.layout {
        check_request_layout(layout, canvas.width, canvas.height);
    }
    true
}

fn check_sources(sources: &[SourceSpec]) {
    for (i, s) in sources.iter().enumerate() {
        assert!(!s.camid.is_empty(), "empty camid accepted");
        assert!(
            s.video.is_some() || s.audio.is_some(),
            "source without media"
        );
        assert!(
            sources[..i].iter().all(|t| t.camid != s.camid),
            "duplicate camid {:?} accepted",
            s.camid
        );
        let pts = [
            s.video.as_ref().map(|v| v.payload_type),
            s.audio.as_ref().map(|a| a.payload_type),
        ];
        assert!(
            pts.iter().flatten().all(|&pt| pt <= 127),
            "payload type > 127"
        );
    }
}

fn check_request_layout(layout: &Layout, w: u32, h: u32) {
    for Region {
        camid,
        top,
        left,
        width,
        height,
        ..
    } in &layout.regions
    {
        assert!(!camid.is_empty(), "region without camid");
        assert!(*width > 0 && *height > 0, "empty region accepted");
        assert!(
            u64::from(*left) + u64::from(*width) <= u64::from(w)
                && u64::from(*top) + u64::from(*height) <= u64::from(h),
            "region outside the {w}x{h} canvas accepted"
        );
    }
    check_layout(layout, w, h);
}
