//! Output settings, mixer id, playout delay and path rules.

use std::path::PathBuf;
use std::time::Duration;

use super::*;

#[test]
fn accepts_cloudroom_example_and_applies_defaults() {
    let s = create_request(&req(), &defaults()).unwrap();
    assert_eq!(s.mixer_id, "m1");
    assert_eq!(s.oper_user_id, "alice");
    assert_eq!(s.output.rel_path, "2021-09-24/meeting.mp4");
    assert_eq!(
        s.output.abs_path,
        PathBuf::from("/rec/2021-09-24/meeting.mp4")
    );
    assert_eq!(s.output.encoding.video_bps, DEFAULT_VIDEO_BPS);
    assert_eq!(s.output.encoding.audio_bps, DEFAULT_AUDIO_BPS);
    assert_eq!(s.output.encoding.background, Rgb::default());
    assert_eq!(s.output.x264_preset, "veryfast");
    assert_eq!(
        s.playout_delay.as_millis(),
        u128::from(DEFAULT_PLAYOUT_DELAY_MS)
    );
    assert_eq!(
        s.stale_timeout.as_millis(),
        u128::from(DEFAULT_STALE_TIMEOUT_MS)
    );
    assert_eq!(s.layout.regions.len(), 2);
    assert_eq!(s.layout.regions[1].left, 640);
    assert_eq!(s.sources[0].audio.unwrap().ssrc, Some(5));
}

#[test]
fn video_file_cfg_required() {
    let mut r = req();
    r.video_file_cfg = None;
    rejects(r, "video_file_cfg: must be set");
}

#[test]
fn width_zero_odd_or_too_large() {
    for (w, msg) in [
        (0, "video_file_cfg.v_width: must be > 0"),
        (641, "video_file_cfg.v_width: must be even, got 641"),
        (3842, "video_file_cfg.v_width: must be at most 3840"),
    ] {
        let mut r = req();
        cfg(&mut r).v_width = w;
        rejects(r, msg);
    }
}

#[test]
fn height_zero_odd_or_too_large() {
    for (h, msg) in [
        (0, "video_file_cfg.v_height: must be > 0"),
        (361, "video_file_cfg.v_height: must be even, got 361"),
        (2162, "video_file_cfg.v_height: must be at most 2160"),
    ] {
        let mut r = req();
        cfg(&mut r).v_height = h;
        rejects(r, msg);
    }
}

#[test]
fn fps_zero_or_above_60() {
    for fps in [0, 61] {
        let mut r = req();
        cfg(&mut r).v_fps = fps;
        rejects(r, "video_file_cfg.v_fps: must be 1..=60");
    }
}

#[test]
fn bit_rates_default_and_range() {
    let mut r = req();
    cfg(&mut r).v_bps = 2_000_000;
    cfg(&mut r).a_bps = 96_000;
    let s = create_request(&r, &defaults()).unwrap();
    assert_eq!(
        (s.output.encoding.video_bps, s.output.encoding.audio_bps),
        (2_000_000, 96_000)
    );
    let mut r = req();
    cfg(&mut r).v_bps = 1;
    rejects(r, "video_file_cfg.v_bps:");
    let mut r = req();
    cfg(&mut r).a_bps = 1_000_000;
    rejects(r, "video_file_cfg.a_bps:");
}

#[test]
fn background_color_hex() {
    let mut r = req();
    cfg(&mut r).background_color = "#FF8000".into();
    let s = create_request(&r, &defaults()).unwrap();
    assert_eq!(
        s.output.encoding.background,
        Rgb {
            r: 255,
            g: 128,
            b: 0
        }
    );
    let mut r = req();
    cfg(&mut r).background_color = "red".into();
    rejects(r, "video_file_cfg.background_color: must be \"#RRGGBB\"");
}

#[test]
fn mixer_id_charset_and_length() {
    let mut r = req();
    r.mixer_id = "bad id".into();
    rejects(r, "mixer_id: only letters");
    let mut r = req();
    r.mixer_id = "x".repeat(65);
    rejects(r, "mixer_id: at most 64");
    let mut r = req();
    r.mixer_id = "A.b_c-9".into();
    assert!(create_request(&r, &defaults()).is_ok());
}

#[test]
fn empty_mixer_id_is_generated_and_names_the_default_file() {
    let mut r = req();
    r.mixer_id.clear();
    cfg(&mut r).svr_path_name.clear();
    let s = create_request(&r, &defaults()).unwrap();
    assert!(uuid::Uuid::parse_str(&s.mixer_id).is_ok(), "{}", s.mixer_id);
    assert_eq!(s.output.rel_path, format!("{}.mp4", s.mixer_id));
    assert!(s.output.abs_path.starts_with("/rec"));
}

#[test]
fn svr_path_name_must_stay_under_the_root() {
    for p in [
        "//abs/x.mp4",
        "/../x.mp4",
        "../x.mp4",
        "a/../../x.mp4",
        "a/./x.mp4",
        "a//x.mp4",
        "a\\x.mp4",
    ] {
        let mut r = req();
        cfg(&mut r).svr_path_name = p.into();
        rejects(r, "video_file_cfg.svr_path_name:");
    }
}

#[test]
fn a_leading_slash_is_the_recordings_root() {
    let mut r = req();
    cfg(&mut r).svr_path_name = "/2021-09-24/2021-09-24_13-47-41_Win32_73542046.mp4".into();
    let s = create_request(&r, &defaults()).unwrap();
    assert_eq!(
        s.output.rel_path,
        "2021-09-24/2021-09-24_13-47-41_Win32_73542046.mp4"
    );
    assert_eq!(
        s.output.abs_path,
        PathBuf::from("/rec/2021-09-24/2021-09-24_13-47-41_Win32_73542046.mp4")
    );
}

#[test]
fn svr_path_name_must_end_in_mp4() {
    for p in ["x.mkv", "x", ".mp4", "dir/"] {
        let mut r = req();
        cfg(&mut r).svr_path_name = p.into();
        rejects(r, "video_file_cfg.svr_path_name:");
    }
    let mut r = req();
    cfg(&mut r).svr_path_name = "Upper.MP4".into();
    assert!(create_request(&r, &defaults()).is_ok());
}

#[test]
fn playout_delay_default_and_max() {
    let mut r = req();
    r.playout_delay_ms = 5_000;
    assert_eq!(
        create_request(&r, &defaults()).unwrap().playout_delay,
        Duration::from_millis(5_000)
    );
    r.playout_delay_ms = 5_001;
    rejects(r, "playout_delay_ms: must be at most 5000");
}

#[test]
fn stale_timeout_default_and_range() {
    for (v, want) in [(0, DEFAULT_STALE_TIMEOUT_MS), (100, 100), (60_000, 60_000)] {
        let mut r = req();
        r.stale_timeout_ms = v;
        assert_eq!(
            create_request(&r, &defaults()).unwrap().stale_timeout,
            Duration::from_millis(u64::from(want))
        );
    }
    for v in [99, 60_001] {
        let mut r = req();
        r.stale_timeout_ms = v;
        rejects(
            r,
            &format!("stale_timeout_ms: must be 0 (default 2000) or 100..=60000 ms, got {v}"),
        );
    }
}
